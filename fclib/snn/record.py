"""Record the spikes of every residual-branch spiking layer under a named condition.

For each presentation of the schedule (:func:`fclib.io.datasets.presentation_params`) the
model runs ``T`` timesteps; forward hooks on the PLIF layers ``L1``, ``L2``, ... copy the
spikes of the sampled neurons (:func:`fclib.io.recordings.sample_neurons`) and
:class:`fclib.io.recordings.RecordingWriter` streams them to netCDF4 batch by batch, so no
layer's spikes of all frames are ever held in memory at once. An interrupted recording
(a killed process, a crash in an attack) resumes from the last batch on disk.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from fclib._util import progress_bar

from fclib.io import datasets as fdata
from fclib.io.recordings import SILENT_THRESHOLD, RecordingWriter, sample_neurons
from fclib.snn.device import (deterministic as deterministic_mode, fp32_inference, model_device,
                              on_device, resolve_device, to_input)
from fclib.snn.models import SEWResNet

__all__ = ["record", "layer_shapes", "file_hash"]


def file_hash(path, n: int = 16) -> str:
    """First ``n`` hex digits of a file's SHA-256 (identifies a checkpoint)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


@torch.no_grad()
def layer_shapes(model: SEWResNet, image_shape: tuple[int, int, int]) -> dict[str, tuple]:
    """``(C, H, W)`` of every residual-branch spiking layer, from one dry forward pass."""
    shapes = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: shapes.__setitem__(
        name, tuple(out.shape[2:]))) for name, m in model.spiking_layers().items()]
    try:
        model.eval()
        with fp32_inference():
            model(torch.zeros((1, *image_shape), device=model_device(model)))
    finally:
        for h in hooks:
            h.remove()
    return shapes


def _read_back(captured: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The captured spikes of every layer as host ``uint8 (n, N*T)`` arrays (frame =
    presentation * T + step), in one device-to-host copy; a value other than 0/1 is an error
    naming the layer (checked on the device, read back with the spikes)."""
    names = list(captured)
    flat, bad, sizes = [], [], []
    for name in names:
        s = captured[name]
        b = s.to(torch.uint8)
        bad.append(((b.to(s.dtype) != s) | (b > 1)).any())
        # (T, N, n) -> (n, N*T)
        flat.append(b.permute(2, 1, 0).reshape(-1))
        sizes.append((b.shape[2], b.shape[0] * b.shape[1]))
    host = torch.cat(flat + [torch.stack(bad).to(torch.uint8)]).cpu().numpy()
    flags = host[-len(names):]
    if flags.any():
        wrong = [n for n, f in zip(names, flags) if f]
        raise ValueError(f"layer(s) {wrong} emitted values other than 0/1; spiking layers must "
                         "emit binary spikes (check the model's neurons)")
    out, i = {}, 0
    for name, (n, f) in zip(names, sizes):
        out[name] = host[i:i + n * f].reshape(n, f)
        i += n * f
    return out


@torch.no_grad()
def record(model: SEWResNet, images: np.ndarray, labels: np.ndarray,
           schedule: dict[str, np.ndarray], path, *, condition: str = "original",
           attrs: dict | None = None, batch_size: int = 256, budget: int | None = 8192,
           perturb: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
           silent_threshold: float = SILENT_THRESHOLD, device: str = "auto",
           amp: bool = False, channels_last: bool = False, deterministic: bool = False,
           progress: bool = True) -> Path:
    """Present ``images`` as ``schedule`` says and write the spikes to ``path``.

    Parameters
    ----------
    model : trained :class:`SEWResNet`.
    images, labels : held-out images ``(n, C, H, W)`` and their labels.
    schedule : presentation schedule (``image``, ``dy``, ``dx``, ``rotation``, ``scale``).
    path : the netCDF4 file to write; it appears only when complete.
    condition : name stored in the file (``original``, ``noise``, ...).
    perturb : optional ``f(x, y, index) -> x`` applied to each batch of presented images
        (noise, adversarial attacks); ``index`` holds the batch's presentation numbers, so
        a seeded perturbation draws the same for a presentation however batches fall.
    budget : neuron budget of the sampling rule; ``None``: every neuron of every layer.
    device, channels_last : where inference runs (:mod:`fclib.snn.device`); the model is
        borrowed there for the call and put back where it was afterwards. Spikes leave the
        device as uint8, one copy of all layers per batch (the only read-back of a batch),
        and are compressed and written on a thread while the next batch runs.
    amp : not used for recording, which always runs in IEEE float32 with autocast and TF32
        off (:func:`fclib.snn.device.fp32_inference`), so the raster does not depend on
        ``amp``, on an autocast the caller opened, or on the device beyond float32 rounding.
        Accepted so that a run's runtime settings pass through unchanged; nothing is
        recorded in bf16, so no bf16 recording can be served as the fp32 one.
    deterministic : deterministic algorithms (:func:`fclib.snn.device.deterministic`); the
        FGSM perturbation's gradient, whose sign is taken, is then reproducible on CUDA.

    Returns the path of the finished file. If ``path + ".part"`` holds the first frames
    of this same recording (an earlier run stopped), recording resumes after them.
    """
    path = Path(path)
    dev = resolve_device(device)
    with on_device(model, dev, channels_last), deterministic_mode(deterministic), \
            fp32_inference():
        return _record(model, images, labels, schedule, path, dev, condition=condition,
                       attrs=attrs, batch_size=batch_size, budget=budget, perturb=perturb,
                       silent_threshold=silent_threshold, channels_last=channels_last,
                       progress=progress)


def _record(model, images, labels, schedule, path: Path, dev: torch.device, *, condition,
            attrs, batch_size, budget, perturb, silent_threshold, channels_last,
            progress) -> Path:
    model.eval()
    T = model.T
    n_pres = len(schedule["image"])
    shapes = layer_shapes(model, images.shape[1:])
    layers = {}
    for name, shp in shapes.items():
        layers[name] = dict(sample_neurons(shp, int(np.prod(shp)) if budget is None else budget),
                            shape=shp)
    pres = np.arange(n_pres)
    frames = {
        "image": np.repeat(schedule["image"], T).astype(np.int32),
        "presentation": np.repeat(pres, T).astype(np.int32),
        "step": np.tile(np.arange(T), n_pres).astype(np.int32),
        "label": np.repeat(labels[schedule["image"]], T).astype(np.int32),
    }
    meta = dict(condition=condition, T=T, budget=-1 if budget is None else budget,
                silent_threshold=silent_threshold,
                sampling="all neurons of every layer" if budget is None else
                         "central s x s patch per channel, s = round(sqrt(budget / C)); "
                         "all neurons where C*H*W <= budget",
                layers=list(layers), n_presentations=n_pres)
    meta.update(attrs or {})

    captured: dict[str, torch.Tensor] = {}
    index = {}  # flat (c, y, x) index of the recorded neurons; None where all are recorded
    for name, info in layers.items():
        _, h, w = info["shape"]
        flat = (info["channel"].astype(np.int64) * h + info["y"]) * w + info["x"]
        all_of_them = flat.size == int(np.prod(info["shape"])) and np.array_equal(
            flat, np.arange(flat.size))
        index[name] = None if all_of_them else torch.from_numpy(flat).to(dev)

    capturing = [True]  # off during a perturbation's own passes (FGSM's gradient)

    def hook(mod, inp, out, name):
        if not capturing[0]:
            return
        flat = out.flatten(2)  # (T, N, C*H*W), channel-major like the sampling rule
        idx = index[name]
        captured[name] = flat if idx is None else flat.index_select(2, idx)  # (T, N, n)

    hooks = [m.register_forward_hook(lambda mod, i, o, name=name: hook(mod, i, o, name))
             for name, m in model.spiking_layers().items()]
    io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fclib-record-writer")
    pending = None
    try:
        with RecordingWriter(path, layers, frames, meta, T,
                             frame_chunk=min(4096, batch_size * T)) as writer:
            try:
                first = writer.position // T
                bar = progress_bar(total=n_pres, initial=first, desc=f"recording {condition}",
                                   progress=progress, unit="img")
                if first:
                    bar.write(f"resuming {path.name} at presentation {first} of {n_pres}")
                for start in range(first, n_pres, batch_size):
                    stop = min(start + batch_size, n_pres)
                    x = to_input(torch.from_numpy(fdata.present(images, schedule, start, stop)),
                                 dev, channels_last)
                    if perturb is not None:
                        y = torch.from_numpy(labels[schedule["image"][start:stop]]).to(dev)
                        capturing[0] = False
                        try:
                            x = perturb(x, y, np.arange(start, stop))
                        finally:
                            capturing[0] = True
                    model(x)
                    batch = _read_back(captured)
                    captured.clear()
                    if pending is not None:
                        pending.result()  # one batch is compressed and written while the next runs
                    pending = io.submit(writer.write, batch)
                    bar.update(stop - start)
                if pending is not None:
                    pending.result()
                bar.close()
            finally:  # the writer thread must be done before the file is closed
                if pending is not None:
                    wait([pending])
    finally:
        io.shutdown(wait=True)
        for h in hooks:
            h.remove()
    return path
