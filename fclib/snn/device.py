"""Where torch runs: device names, mixed precision and memory format.

``device`` is ``"auto"`` (the first CUDA device when one is present, else the CPU), ``"cpu"``,
``"cuda"`` or ``"cuda:N"``. A device that does not exist is an error naming the devices
that do. ``amp`` turns on bf16 autocast (CUDA only: on the CPU it is ignored, since bf16 CPU
convolutions are slower than fp32 on the machines this book targets), ``channels_last``
the channels-last memory format of the convolutions. Neither is part of a cache key: they
change how fast a result comes, not which (within bf16 rounding where ``amp`` is on).
"""
from __future__ import annotations

import contextlib

import torch

__all__ = ["resolve_device", "available_devices", "autocast", "prepare_model", "to_input"]


def available_devices() -> list[str]:
    """Names of the devices torch can use here: ``["cpu", "cuda:0", ...]``."""
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["cpu", *[f"cuda:{i}" for i in range(n)]]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The :class:`torch.device` for ``device`` (``None`` or ``"auto"``: CUDA when present)."""
    if isinstance(device, torch.device):
        device = str(device)
    if device is None or device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str):
        raise TypeError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        index = 0 if device == "cuda" else int(device[5:])
        have = available_devices()
        if f"cuda:{index}" not in have:
            raise RuntimeError(f"device {device!r} does not exist here; the devices that "
                               f"exist are {have} (use device='auto' or 'cpu')")
        return torch.device(f"cuda:{index}")
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def autocast(device: torch.device, amp: bool):
    """bf16 autocast on a CUDA device when ``amp``; otherwise a no-op context."""
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prepare_model(model: torch.nn.Module, device: torch.device,
                  channels_last: bool = False) -> torch.nn.Module:
    """Move ``model`` to ``device`` (in place) in the requested memory format."""
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def to_input(x: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """A batch of images on ``device`` (non-blocking from pinned memory where it can)."""
    x = x.to(device, non_blocking=True)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x
