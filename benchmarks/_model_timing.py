"""Model-side timings of the device check: a SEW-ResNet18 training step and a recording.

Imported by ``benchmarks/gpu_check.py``; each function returns a dict of figures (seconds or
milliseconds) measured on the given device with the given options, after warm-up steps, with
the device synchronised around the timed region.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def training_step(device: str = "auto", batch: int = 256, *, amp: bool = False,
                  channels_last: bool = False, steps: int = 5, warmup: int = 2,
                  n_train: int = 50_000) -> dict:
    """Milliseconds per SGD step of SEW-ResNet18 (CIFAR-100 shape, T = 4) at ``batch``, and
    the epoch time it implies for ``n_train`` images."""
    import torch
    import torch.nn.functional as F

    from fclib.snn.device import autocast, prepare_model, resolve_device
    from fclib.snn.models import build_model, sew_resnet18_arch

    dev = resolve_device(device)
    torch.manual_seed(0)
    model = prepare_model(build_model(sew_resnet18_arch(100, 3)), dev, channels_last).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(batch, 3, 32, 32, device=dev)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 100, (batch,), device=dev)
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


def recording(device: str = "auto", n_images: int = 10_000, *, budget: int = 8192,
              batch: int = 250, amp: bool = False) -> dict:
    """Seconds to record ``n_images`` presentations (T = 4) of all 16 spiking layers of an
    untrained SEW-ResNet18 with the paper's sampling rule, written and compressed to netCDF4
    as the pipeline does (inference overlapping compression)."""
    import torch

    from fclib.io import datasets as fdata
    from fclib.snn.models import build_model, sew_resnet18_arch
    from fclib.snn.record import record

    torch.manual_seed(0)
    model = build_model(sew_resnet18_arch(100, 3))
    rng = np.random.default_rng(0)
    images = rng.random((min(n_images, 1000), 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 100, len(images))
    sched = fdata.presentation_params(n_images, len(images), 0, jitter=False)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        path = record(model, images, labels, sched, Path(d) / "rec.nc", batch_size=batch,
                      budget=budget, device=device, amp=amp, progress=False)
        sec = time.perf_counter() - t0
        size = path.stat().st_size
    return {"s": sec, "n_images": n_images, "ms_per_image": 1e3 * sec / n_images,
            "file_mb": size / 2 ** 20, "device": device}
