"""Model-side timings of the device check: a SEW-ResNet18 training step on one fixed batch.

Imported by ``benchmarks/gpu_check.py`` (which times real training and recording with
:func:`fclib.snn.train.train` and :func:`fclib.snn.record.record` itself). The step is timed
after warm-up steps, with the device synchronised around the timed region.
"""
from __future__ import annotations

import time

import numpy as np


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def training_step(device: str = "auto", batch: int = 256, *, amp: bool = False,
                  channels_last: bool = False, steps: int = 5, warmup: int = 2,
                  n_train: int = 50_000, arch: dict | None = None, image: int = 32) -> dict:
    """Milliseconds per SGD step at ``batch`` on one fixed random batch (no augmentation, no
    evaluation: the arithmetic of a step alone) of ``arch`` (default SEW-ResNet18 for
    CIFAR-100, T = 4), and the epoch of ``n_train`` images that step time implies."""
    import torch
    import torch.nn.functional as F

    from fclib.snn.device import autocast, prepare_model, resolve_device
    from fclib.snn.models import build_model, sew_resnet18_arch

    dev = resolve_device(device)
    torch.manual_seed(0)
    arch = arch or sew_resnet18_arch(100, 3)
    model = prepare_model(build_model(arch), dev, channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(batch, arch["in_channels"], image, image, device=dev)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, arch["n_classes"], (batch,), device=dev)
    times = []
    for i in range(warmup + steps):
        _sync(dev)
        t0 = time.perf_counter()
        with autocast(dev, amp):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(dev)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    step = float(np.median(times))
    return {"ms_per_step": 1e3 * step, "s_per_epoch": step * int(np.ceil(n_train / batch)),
            "batch": batch, "device": str(dev), "amp": amp, "channels_last": channels_last}
