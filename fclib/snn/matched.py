"""A random network whose firing rates are matched, layer by layer, to a trained one's.

Why: the permuted-weight network of chapter 11 and the network at initialisation are mostly
silent, so "functional connectivity is shaped by learning" cannot be told apart from "a
network without activity has no functional connectivity". This module makes the control
that separates the two: a network that has learned nothing but fires as much as the
trained one, layer by layer.

The choice (documented here, used by the book):

- start from a network of the trained architecture that has learned nothing — by default
  the trained network with every weight tensor permuted across its entries
  (:func:`fclib.snn.perturb.permute_weights`: each layer keeps its weight multiset, its
  BatchNorm statistics and affine, its neurons' time constants);
- then, for every spiking (PLIF) layer in forward order — the stem, the two residual-branch
  layers of each block and the shortcut's — one scalar gain ``g`` on that layer's input
  current, found by bisection on ``log g`` so that the layer's mean firing rate on a
  calibration batch equals the trained network's on the same batch within ``tolerance``
  (relative). Earlier layers are calibrated first, so every layer is matched given the
  activity it really receives.

The gain is applied as the threshold ``v_threshold / g``. For SpikingJelly's LIF neurons with
hard reset to ``v_reset = 0`` the membrane is linear in the input between spikes, so dividing
the threshold by ``g`` is exactly multiplying the BatchNorm affine (weight and bias) that
feeds the layer by ``g``: a per-layer excitability, nothing per neuron, no weight learned.
The mean rate is monotone in ``g`` in practice (it is a mean of step functions of ``g``), so
bisection converges; where even ``g_max`` cannot reach the trained rate (a layer whose input
currents are never positive) the layer is left at ``g_max`` and reported as not matched.
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pandas as pd
import torch
from spikingjelly.activation_based import neuron

from fclib.snn.device import fp32_inference, model_device, on_device, resolve_device
from fclib.snn.perturb import permute_weights

__all__ = ["spiking_nodes", "node_rates", "rate_matched", "permuted_rate_matched"]


def spiking_nodes(model: torch.nn.Module, example: torch.Tensor) -> "OrderedDict[str, torch.nn.Module]":
    """Every spiking neuron layer of ``model`` in the order a forward pass calls them,
    named by module path (``"stem.2"``, ``"blocks.0.sn1"``, ...)."""
    order: list[str] = []
    named = {m: n for n, m in model.named_modules() if isinstance(m, neuron.BaseNode)}
    hooks = [m.register_forward_hook(lambda mod, i, o: order.append(named[mod]))
             for m in named]
    try:
        with torch.no_grad(), fp32_inference():
            model.eval()(example[:1].to(model_device(model)))
    finally:
        for h in hooks:
            h.remove()
    mods = dict(model.named_modules())
    return OrderedDict((n, mods[n]) for n in dict.fromkeys(order))


@torch.no_grad()
def node_rates(model: torch.nn.Module, images: torch.Tensor, nodes=None) -> pd.Series:
    """Mean firing rate (spikes per neuron per step) of every spiking layer on ``images``
    ``(N, C, H, W)``, indexed by module path in forward order."""
    nodes = nodes or spiking_nodes(model, images)
    rates = {}
    names = {m: n for n, m in nodes.items()}
    hooks = [m.register_forward_hook(lambda mod, i, o: rates.__setitem__(
        names[mod], float(o.float().mean()))) for m in nodes.values()]
    try:
        with fp32_inference():
            model.eval()(images.to(model_device(model)))
    finally:
        for h in hooks:
            h.remove()
    return pd.Series({n: rates[n] for n in nodes}, name="rate")


def _capture_input(model, node, images) -> torch.Tensor:
    box = {}
    h = node.register_forward_pre_hook(lambda mod, inp: box.__setitem__("x", inp[0].detach()))
    try:
        with fp32_inference():
            model.eval()(images.to(model_device(model)))
    finally:
        h.remove()
    return box["x"]


def _rate_at(node, x: torch.Tensor, v0: float, gain: float) -> float:
    node.reset()
    node.v_threshold = v0 / gain
    with fp32_inference():
        out = node(x)
    node.reset()
    return float(out.float().mean())


@torch.no_grad()
def rate_matched(trained: torch.nn.Module, base: torch.nn.Module, images, *,
                 tolerance: float = 0.02, gain_range=(1e-3, 1e3), max_iter: int = 60,
                 device: str = "auto"):
    """``base`` with one threshold gain per spiking layer so that every layer's mean rate on
    ``images`` matches ``trained``'s (see the module docstring).

    Parameters
    ----------
    trained : the network whose rates are the targets (eval mode, unchanged).
    base : a network of the same architecture (e.g. permuted or freshly initialised); a
        calibrated copy is returned, ``base`` is unchanged.
    images : calibration batch ``(N, C, H, W)`` (array or tensor, on any device).
    tolerance : relative tolerance on each layer's mean rate (an absolute ``1e-4`` floor for
        near-silent targets).
    gain_range : the bracket of the bisection on ``log g``.
    max_iter : bisection steps per layer at most.
    device : where the calibration runs (:func:`fclib.snn.device.resolve_device`): give the
        device the matched network will be recorded on, since a rate measured on one device
        is that device's (float32 rounding differs between devices). ``trained`` is borrowed
        there and put back; the returned copy is left on ``device``. Forward passes run in
        IEEE float32 (:func:`fclib.snn.device.fp32_inference`), as recording does.

    Returns
    -------
    ``(model, report)``: the calibrated copy (eval mode) and a DataFrame indexed by layer
    (module path, forward order) with ``target`` and ``rate`` (spikes per neuron per step on
    ``images``), ``base rate`` (before calibration), ``gain`` and ``matched`` (bool).
    """
    x = images.float() if torch.is_tensor(images) else torch.as_tensor(
        np.asarray(images, dtype=np.float32))
    if x.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(x.shape)}")
    lo0, hi0 = (float(v) for v in gain_range)
    if not 0 < lo0 < 1 < hi0:
        raise ValueError(f"gain_range must bracket 1 with 0 < low < 1 < high, got {gain_range}")
    dev = resolve_device(device)
    model = copy.deepcopy(base).to(dev).eval()
    with on_device(trained, dev):
        return _calibrate(trained.eval(), model, x.to(dev), tolerance, lo0, hi0, max_iter)


def _calibrate(trained, model, x, tolerance, lo0, hi0, max_iter):
    t_nodes = spiking_nodes(trained, x)
    nodes = spiking_nodes(model, x)
    if list(t_nodes) != list(nodes):
        raise ValueError("trained and base networks differ in their spiking layers: "
                         f"{list(t_nodes)} vs {list(nodes)}; pass networks of one architecture")
    target = node_rates(trained, x, t_nodes)
    before = node_rates(model, x, nodes)
    rows = {}
    for name, node in nodes.items():
        v0 = float(node.v_threshold)
        want = float(target[name])
        tol = max(tolerance * want, 1e-4)
        inp = _capture_input(model, node, x)
        lo, hi = np.log(lo0), np.log(hi0)
        r_lo, r_hi = _rate_at(node, inp, v0, lo0), _rate_at(node, inp, v0, hi0)
        if r_hi < want - tol:      # cannot fire enough: take the most excitable setting
            g, rate = hi0, r_hi
        elif r_lo > want + tol:    # fires too much even at the lowest gain
            g, rate = lo0, r_lo
        else:
            g, rate = 1.0, _rate_at(node, inp, v0, 1.0)
            for _ in range(max_iter):
                if abs(rate - want) <= tol:
                    break
                mid = 0.5 * (lo + hi)
                g = float(np.exp(mid))
                rate = _rate_at(node, inp, v0, g)
                if rate < want:
                    lo = mid
                else:
                    hi = mid
        node.v_threshold = v0 / g
        node.reset()
        rows[name] = {"target": want, "rate": rate, "base rate": float(before[name]),
                      "gain": g, "matched": abs(rate - want) <= tol}
    report = pd.DataFrame.from_dict(rows, orient="index")
    report.index.name = "layer"
    report.attrs.update(tolerance=float(tolerance), n_images=int(x.shape[0]))
    return model, report


def permuted_rate_matched(trained: torch.nn.Module, images, *, rng=0, **kw):
    """:func:`rate_matched` with the trained network's weights permuted
    (:func:`fclib.snn.perturb.permute_weights` with ``rng``, an int seed or a Generator) as
    the base."""
    return rate_matched(trained, permute_weights(trained, rng), images, **kw)
