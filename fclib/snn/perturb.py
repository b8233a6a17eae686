"""Distorted presentations and a permuted network (paper §3 "Distorted Image Presentation", §A.8).

- :func:`uniform_noise`: ``x + U(-a, a)`` per pixel, clipped to the valid range [0, 1] (the
  paper's equation 3, with the amplitude ``a`` on the 0-1 scale).
- :func:`fgsm`: the fast gradient sign attack ``x + eps * sign(grad_x loss(f(x), y))``,
  clipped to [0, 1], with the gradient taken through the surrogate spike function and the
  true label ``y`` (the paper: ``eps = 4`` on the 0-255 scale, i.e. ``4 / 255`` here).
- :func:`permute_weights`: every layer's weights permuted across its edges (seeded), which
  keeps each layer's weight multiset and destroys what was learned.

Each of the first two returns a ``perturb(x, y) -> x`` for :func:`fclib.snn.record.record`.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from ..profiles import CONDITIONS

__all__ = ["uniform_noise", "fgsm", "permute_weights", "make_perturb", "accuracy"]


def uniform_noise(amplitude: float, seed: int = 0):
    """``perturb(x, y)`` adding seeded uniform noise in ``[-amplitude, amplitude]``, clipped.

    The generator advances batch by batch, so one recording gets one fixed noise draw.
    """
    if amplitude < 0:
        raise ValueError(f"noise amplitude must be >= 0, got {amplitude}")
    gen = torch.Generator().manual_seed(int(seed))

    def perturb(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        noise = (torch.rand(x.shape, generator=gen, dtype=x.dtype) * 2 - 1) * amplitude
        return (x + noise).clamp(0.0, 1.0)

    return perturb


def fgsm(model: torch.nn.Module, eps: float):
    """``perturb(x, y)``: one FGSM step of size ``eps`` against the true labels ``y``."""
    if eps < 0:
        raise ValueError(f"FGSM eps must be >= 0, got {eps}")

    def perturb(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            xa = x.detach().clone().requires_grad_(True)
            loss = F.cross_entropy(model(xa), y.long())
            (grad,) = torch.autograd.grad(loss, xa)
        return (x + eps * grad.sign()).clamp(0.0, 1.0).detach()

    return perturb


def permute_weights(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """A copy of ``model`` with every weight tensor of a convolution or linear layer
    permuted across its entries (seeded). Biases, BatchNorm statistics and the neurons'
    time constants are kept, so only which input reaches which output is scrambled."""
    gen = torch.Generator().manual_seed(int(seed))
    out = copy.deepcopy(model)
    with torch.no_grad():
        for m in out.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                w = m.weight.data
                m.weight.data = w.flatten()[torch.randperm(w.numel(), generator=gen)].view_as(w)
    return out


def make_perturb(condition: str, model: torch.nn.Module, cfg: dict):
    """``(model, perturb)`` to record ``condition``: ``original``, ``noise``, ``fgsm`` or
    ``permuted`` (parameters ``noise_amplitude``, ``fgsm_eps``, ``seed`` of ``cfg``)."""
    if condition == "original":
        return model, None
    if condition == "noise":
        return model, uniform_noise(cfg["noise_amplitude"], cfg["seed"] + 7)
    if condition == "fgsm":
        return model, fgsm(model, cfg["fgsm_eps"])
    if condition == "permuted":
        return permute_weights(model, cfg["seed"] + 11), None
    raise ValueError(f"unknown condition {condition!r}; choose one of {CONDITIONS}")


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, perturb=None,
             batch_size: int = 256) -> float:
    """Accuracy of ``model`` on images ``x`` (optionally perturbed) with labels ``y``."""
    model.eval()
    hits = 0
    for s in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.asarray(x[s:s + batch_size], dtype=np.float32))
        yb = torch.from_numpy(np.asarray(y[s:s + batch_size]))
        if perturb is not None:
            xb = perturb(xb, yb)
        with torch.no_grad():
            hits += int((model(xb).argmax(1) == yb).sum())
    return hits / max(len(x), 1)
