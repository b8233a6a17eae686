"""Distorted presentations and a permuted network (paper §3 "Distorted Image Presentation", §A.8).

- :func:`uniform_noise`: ``x + U(-a, a)`` per pixel, clipped to the valid range [0, 1] (the
  paper's equation 3, with the amplitude ``a`` on the 0-1 scale).
- :func:`fgsm`: the fast gradient sign attack ``x + eps * sign(grad_x loss(f(x), y))``,
  clipped to [0, 1], with the gradient taken through the surrogate spike function and the
  true label ``y`` (the paper: ``eps = 4`` on the 0-255 scale, i.e. ``4 / 255`` here),
  optionally only on images of some classes (the paper attacks 30 of CIFAR-100's;
  :func:`attacked_classes`), the others presented clean.
- :func:`permute_weights`: every layer's weights permuted across its edges (seeded), which
  keeps each layer's weight multiset and destroys what was learned.

Each of the first two returns a ``perturb(x, y, index) -> x`` for
:func:`fclib.snn.record.record`, where ``index`` numbers the presentations of the batch.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from fclib._util import seed_of
from fclib.io.recordings import CONDITIONS
from fclib.snn.device import cross_entropy

__all__ = ["uniform_noise", "fgsm", "attacked_classes", "permute_weights", "make_perturb",
           "accuracy"]


def uniform_noise(amplitude: float, rng=0):
    """``perturb(x, y, index)`` adding seeded uniform noise in ``[-amplitude, amplitude]``,
    clipped to [0, 1].

    ``rng``: an int seed or a ``numpy.random.Generator`` (which draws one seed now,
    :func:`fclib._util.seed_of`). Presentation ``i`` gets the draw of the seed
    ``(seed, i)``: the same whatever the batch size, and the same when an interrupted
    recording resumes. Without ``index`` the batch rows are numbered 0, 1, ...
    """
    if amplitude < 0:
        raise ValueError(f"noise amplitude must be >= 0, got {amplitude}")
    seed = seed_of(rng)

    def perturb(x: torch.Tensor, y=None, index=None) -> torch.Tensor:
        index = np.arange(len(x)) if index is None else np.asarray(index)
        if len(index) != len(x):
            raise ValueError(f"index has {len(index)} entries for {len(x)} images")
        shape = tuple(x.shape[1:])
        u = np.stack([np.random.default_rng([seed, int(i)]).random(shape, dtype=np.float32)
                      for i in index])
        noise = (torch.from_numpy(u).to(x.device, x.dtype) * 2 - 1) * amplitude
        return (x + noise).clamp(0.0, 1.0)

    return perturb


def fgsm(model: torch.nn.Module, eps: float, classes=None):
    """``perturb(x, y, index)``: one FGSM step of size ``eps`` against the true labels ``y``.

    With ``classes``, only images whose label is among them are attacked; the rest are
    returned unchanged. The sign of a gradient within rounding of zero can differ between
    devices, and on CUDA between runs unless the recording runs in deterministic mode
    (``record(..., deterministic=True)``), where it repeats exactly.
    """
    if eps < 0:
        raise ValueError(f"FGSM eps must be >= 0, got {eps}")
    keep = None if classes is None else torch.as_tensor(sorted(int(c) for c in classes))

    def perturb(x: torch.Tensor, y: torch.Tensor, index=None) -> torch.Tensor:
        with torch.enable_grad():
            xa = x.detach().clone().requires_grad_(True)
            loss = cross_entropy(model(xa), y)
            (grad,) = torch.autograd.grad(loss, xa)
        step = eps * grad.sign()
        if keep is not None:
            hit = torch.isin(y.long(), keep.to(y.device))
            step = step * hit.to(x.dtype).view(-1, *[1] * (x.dim() - 1))
        return (x + step).clamp(0.0, 1.0).detach()

    return perturb


def attacked_classes(n_classes: int, fgsm_classes: int = 0, rng=0) -> np.ndarray:
    """The classes FGSM attacks: all when ``fgsm_classes`` is 0, else that many, drawn
    without replacement (sorted) from ``default_rng(seed + 13)``, ``seed`` the run's
    (``rng``: an int seed or a Generator, :func:`fclib._util.seed_of`)."""
    k = int(fgsm_classes)
    if k < 0 or k > n_classes:
        raise ValueError(f"fgsm_classes must be in 0..{n_classes}, got {k}")
    if k == 0 or k == n_classes:
        return np.arange(n_classes)
    return np.sort(np.random.default_rng(seed_of(rng) + 13).choice(n_classes, k, replace=False))


def permute_weights(model: torch.nn.Module, rng=0) -> torch.nn.Module:
    """A copy of ``model`` with every weight tensor of a convolution or linear layer
    permuted across its entries (a torch generator seeded with ``rng``, an int seed or a
    numpy Generator that draws one: :func:`fclib._util.seed_of`). Biases, BatchNorm
    statistics and the neurons'
    time constants are kept, so only which input reaches which output is scrambled."""
    gen = torch.Generator().manual_seed(seed_of(rng))
    out = copy.deepcopy(model)
    with torch.no_grad():
        for m in out.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                w = m.weight.data
                perm = torch.randperm(w.numel(), generator=gen).to(w.device)
                m.weight.data = w.flatten()[perm].view_as(w)
    return out


def make_perturb(condition: str, model: torch.nn.Module, *, noise_amplitude: float = 0.5,
                 fgsm_eps: float = 4 / 255, fgsm_classes: int = 0, rng=0):
    """``(model, perturb)`` to record ``condition``: ``original`` (and ``train``, the same
    network on training images), ``noise`` (uniform noise of ``noise_amplitude``), ``fgsm``
    (step ``fgsm_eps`` on ``fgsm_classes`` seeded classes, 0: all) or ``permuted`` (every
    layer's weights permuted, seeded). ``rng``: the run's int seed or a Generator (which
    draws one, :func:`fclib._util.seed_of`); each condition offsets it by its own constant."""
    seed = seed_of(rng)
    if condition in ("original", "train"):
        return model, None
    if condition == "noise":
        return model, uniform_noise(noise_amplitude, seed + 7)
    if condition == "fgsm":
        n_classes = _n_classes(model)
        classes = attacked_classes(n_classes, fgsm_classes, seed)
        return model, fgsm(model, fgsm_eps, None if len(classes) == n_classes else classes)
    if condition == "permuted":
        return permute_weights(model, seed + 11), None
    raise ValueError(f"unknown condition {condition!r}; choose one of {CONDITIONS}")


def _n_classes(model: torch.nn.Module) -> int:
    fc = getattr(model, "fc", None)
    if isinstance(fc, torch.nn.Linear):
        return fc.out_features
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1].out_features


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, perturb=None,
             batch_size: int = 256, device: str = "auto") -> float:
    """Accuracy of ``model`` on images ``x`` (optionally perturbed) with labels ``y``, on
    ``device`` (:func:`fclib.snn.device.resolve_device`; the model is borrowed there and put
    back), in IEEE float32 (:func:`fclib.snn.device.fp32_inference`)."""
    from fclib.snn.device import fp32_inference, on_device, resolve_device

    dev = resolve_device(device)
    hits = torch.zeros((), dtype=torch.long, device=dev)
    with on_device(model, dev), fp32_inference():
        model.eval()
        for s in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.asarray(x[s:s + batch_size], dtype=np.float32)).to(dev)
            yb = torch.from_numpy(np.asarray(y[s:s + batch_size])).to(dev)
            if perturb is not None:
                xb = perturb(xb, yb, np.arange(s, s + len(xb)))
            with torch.no_grad():
                hits += (model(xb).argmax(1) == yb).sum()
    return int(hits) / max(len(x), 1)
