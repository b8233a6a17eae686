"""Where torch runs: device names, precision, determinism and memory format.

``device`` is ``"auto"`` (the first CUDA device when one is present, else the CPU), ``"cpu"``,
``"cuda"`` or ``"cuda:N"``. A device that does not exist is an error naming the devices
that do.

Precision. ``amp`` turns on bf16 autocast for *training* on CUDA (on the CPU it is ignored:
bf16 CPU convolutions are slower than fp32 on the machines this book targets); the PLIF
neurons run in float32 even then (:class:`fclib.snn.models.PLIF`), so membranes, thresholds
and resets are never bf16. Recording and evaluation are measurements, not training: they
always run in IEEE float32 (:func:`fp32_inference`: autocast off, TF32 off), so a raster
recorded on CUDA is the CPU's raster up to float32 rounding, whatever ``amp`` or an
enclosing autocast says. On one GPU fp32 inference costs well under a second per 10,000
images; there is nothing to buy with bf16 there.

``deterministic`` (:func:`deterministic`) makes CUDA training reproducible bit for bit: a
resumed run equals an uninterrupted one. ``channels_last`` is the channels-last memory
format of the convolutions. ``amp``, ``channels_last`` and ``deterministic`` are in no cache
key: they change how fast a result comes (and, for a trained model, its float rounding),
never which artefact it is.
"""
from __future__ import annotations

import contextlib
import os

import torch
import torch.nn.functional as F

from fclib._precision import ieee_fp32

__all__ = ["resolve_device", "available_devices", "autocast", "fp32_inference",
           "deterministic", "cross_entropy", "prepare_model", "on_device", "model_device",
           "to_input"]

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


@contextlib.contextmanager
def fp32_inference():
    """IEEE float32 for the block: autocast off on the CPU and CUDA (also one a caller
    opened around this call) and TF32 off (:func:`fclib._precision.ieee_fp32`)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.autocast("cpu", enabled=False))
        if torch.cuda.is_available():  # asking for CUDA autocast without CUDA warns
            stack.enter_context(torch.autocast("cuda", enabled=False))
        stack.enter_context(ieee_fp32())
        yield


# cuBLAS reproducibility needs a fixed workspace (NVIDIA's cuBLAS docs, "Results
# reproducibility"; PyTorch refuses deterministic CUDA matmuls without it).
CUBLAS_WORKSPACE = ":4096:8"


@contextlib.contextmanager
def deterministic(enabled: bool = True):
    """Deterministic algorithms for the block when ``enabled`` (else a no-op).

    Sets ``torch.use_deterministic_algorithms(True)``, ``cudnn.deterministic = True``,
    ``cudnn.benchmark = False`` and restores them on exit. ``CUBLAS_WORKSPACE_CONFIG`` is set
    to ``:4096:8`` when unset and left set (cuBLAS reads it when it makes its handle, so it
    must be in place before the process's first CUDA matrix product; a process that ran one
    earlier without it gets PyTorch's error naming the variable). An operation without a
    deterministic implementation raises ``RuntimeError`` naming it.
    """
    if not enabled:
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    cudnn = torch.backends.cudnn
    old = (torch.are_deterministic_algorithms_enabled(),
           torch.is_deterministic_algorithms_warn_only_enabled(), cudnn.deterministic,
           cudnn.benchmark)
    torch.use_deterministic_algorithms(True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old[0], warn_only=old[1])
        cudnn.deterministic, cudnn.benchmark = old[2], old[3]


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                  reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of ``logits (N, C)`` against class ``labels (N,)`` in float32:
    ``-log_softmax(logits)[i, labels[i]]``, averaged (``"mean"``) or summed (``"sum"``).

    The same value as ``F.cross_entropy``, written with a gather because CUDA's ``nll_loss``
    has no deterministic implementation (``torch.use_deterministic_algorithms`` refuses it),
    and training and FGSM must run in :func:`deterministic` mode."""
    nll = -F.log_softmax(logits.float(), dim=1).gather(1, labels.long()[:, None])[:, 0]
    if reduction == "mean":
        return nll.mean()
    if reduction == "sum":
        return nll.sum()
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    p = next(model.parameters(), None)
    return torch.device("cpu") if p is None else p.device


def _is_channels_last(model: torch.nn.Module) -> bool:
    w = next((p for p in model.parameters() if p.dim() == 4), None)
    return w is not None and w.is_contiguous(memory_format=torch.channels_last) \
        and not w.is_contiguous()


def prepare_model(model: torch.nn.Module, device: torch.device,
                  channels_last: bool = False) -> torch.nn.Module:
    """Move ``model`` to ``device`` (in place) in the requested memory format. For a model
    of one's own (training); a caller's model is borrowed with :func:`on_device`."""
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model


@contextlib.contextmanager
def on_device(model: torch.nn.Module, device: torch.device, channels_last: bool = False):
    """Borrow a caller's ``model`` on ``device`` (in the requested memory format) for the
    block, then put it back where and how it was, also after an error. The model is moved,
    not copied, so closures that hold it (an FGSM perturbation) see it on ``device`` too."""
    home, home_cl = model_device(model), _is_channels_last(model)
    prepare_model(model, device, channels_last)
    try:
        yield model
    finally:
        model.to(home)
        if channels_last != home_cl:
            model.to(memory_format=torch.channels_last if home_cl else torch.contiguous_format)


def to_input(x: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """A batch of images on ``device`` (a plain, synchronous copy: the batch comes from
    pageable memory, where ``non_blocking`` would buy nothing)."""
    x = x.to(device)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x
