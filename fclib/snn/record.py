"""Record the spikes of every residual-branch spiking layer under a named condition.

For each presentation of the schedule (:func:`fclib.data.presentation_params`) the
model runs ``T`` timesteps; forward hooks on the PLIF layers ``L1``, ``L2``, ... copy the
spikes of the sampled neurons (:func:`fclib.recording.sample_neurons`) and
:class:`fclib.recording.RecordingWriter` streams them to netCDF4 batch by batch, so no
layer's spikes of all frames are ever held in memory at once. An interrupted recording
(a killed process, a crash in an attack) resumes from the last batch on disk.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import data as fdata
from ..recording import SILENT_THRESHOLD, RecordingWriter, sample_neurons
from .models import SEWResNet

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
        model(torch.zeros((1, *image_shape)))
    finally:
        for h in hooks:
            h.remove()
    return shapes


@torch.no_grad()
def record(model: SEWResNet, images: np.ndarray, labels: np.ndarray,
           schedule: dict[str, np.ndarray], path, *, condition: str = "original",
           attrs: dict | None = None, batch_size: int = 256, budget: int = 8192,
           perturb: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
           silent_threshold: float = SILENT_THRESHOLD, progress: bool = True) -> Path:
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
    budget : neuron budget of the sampling rule.

    Returns the path of the finished file. If ``path + ".part"`` holds the first frames
    of this same recording (an earlier run stopped), recording resumes after them.
    """
    path = Path(path)
    model.eval()
    T = model.T
    n_pres = len(schedule["image"])
    shapes = layer_shapes(model, images.shape[1:])
    layers = {}
    for name, shp in shapes.items():
        layers[name] = dict(sample_neurons(shp, budget), shape=shp)
    pres = np.arange(n_pres)
    frames = {
        "image": np.repeat(schedule["image"], T).astype(np.int32),
        "presentation": np.repeat(pres, T).astype(np.int32),
        "step": np.tile(np.arange(T), n_pres).astype(np.int32),
        "label": np.repeat(labels[schedule["image"]], T).astype(np.int32),
    }
    meta = dict(condition=condition, T=T, budget=budget, silent_threshold=silent_threshold,
                sampling="central s x s patch per channel, s = round(sqrt(budget / C)); "
                         "all neurons where C*H*W <= budget",
                layers=list(layers), n_presentations=n_pres)
    meta.update(attrs or {})

    captured: dict[str, torch.Tensor] = {}
    index = {name: (torch.from_numpy(info["channel"]).long(), torch.from_numpy(info["y"]).long(),
                    torch.from_numpy(info["x"]).long()) for name, info in layers.items()}

    def hook(mod, inp, out, name):
        c, y, x = index[name]
        captured[name] = out[:, :, c, y, x]  # (T, N, n_neurons)

    hooks = [m.register_forward_hook(lambda mod, i, o, name=name: hook(mod, i, o, name))
             for name, m in model.spiking_layers().items()]
    try:
        with RecordingWriter(path, layers, frames, meta, T) as writer:
            first = writer.position // T
            bar = tqdm(total=n_pres, initial=first, desc=f"recording {condition}",
                       disable=not progress, unit="img")
            if first:
                bar.write(f"resuming {path.name} at presentation {first} of {n_pres}")
            for start in range(first, n_pres, batch_size):
                stop = min(start + batch_size, n_pres)
                x = torch.from_numpy(fdata.present(images, schedule, start, stop))
                if perturb is not None:
                    y = torch.from_numpy(labels[schedule["image"][start:stop]])
                    x = perturb(x, y, np.arange(start, stop))
                model(x)
                batch = {}
                for name, s in captured.items():
                    if not torch.all((s == 0) | (s == 1)):
                        raise ValueError(f"layer {name} emitted values other than 0/1")
                    # (T, N, n) -> (n, N*T), frame = presentation * T + step
                    batch[name] = s.permute(2, 1, 0).reshape(s.shape[2], -1).to(torch.uint8).numpy()
                writer.write(batch)
                bar.update(stop - start)
            bar.close()
    finally:
        for h in hooks:
            h.remove()
    return path
