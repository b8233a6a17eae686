"""Structural vs non-structural edges (paper §5, §A.5, Figs. A7-A8).

A source neuron is *structurally* connected to a target neuron of the next layer when its
spikes reach the target directly through the convolution between them: the source's
position lies in the target's receptive field in the source layer. Channels do not matter
(every convolution here mixes all input channels).

In a SEW-ResNet the residual-branch spiking layers come in pairs per block
(``sn1 -> conv2 -> sn2``), and the output of a block (``sn2`` ADDed to the shortcut) feeds the
next block's ``conv1``. So between consecutive layers there is always exactly one 3x3
convolution with padding 1: stride 1 inside a block, and the next block's stride (2 where a
stage begins) from one block to the next. The shortcut (ADD) routes *older* layers forward,
never the source layer around the convolution, so it adds no direct edge between consecutive
layers. For a convolution of kernel ``k``, stride ``s`` and padding ``p``, the target at row
``y_t`` sees source rows ``s*y_t - p ... s*y_t - p + k - 1`` (and the same for columns).
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import xarray as xr

from fclib.stats.response import as_layer, check_groups, check_layer
from fclib.stats._checks import check_mapping

__all__ = ["conv_geometry", "structural_mask", "label_edges", "structural_summary",
           "structural_edge_table"]


def conv_geometry(arch: dict) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The convolution geometry between consecutive residual-branch spiking layers of a
    SEW-ResNet (see :mod:`fclib.snn.models`).

    Parameters
    ----------
    arch : dict
        The architecture dict.

    Returns
    -------
    dict
        ``{(source, target): (kernel, stride, padding)}`` for every consecutive pair.

    Raises
    ------
    ValueError
        ``arch`` has no list of blocks per stage."""
    blocks = arch.get("blocks") if isinstance(arch, dict) else None
    if not isinstance(blocks, (list, tuple)) or not all(isinstance(b, numbers.Integral) for b in blocks):
        raise ValueError(f"arch must be a SEW-ResNet architecture dict whose 'blocks' lists the blocks "
                         f"per stage (fclib.snn.models), got blocks={blocks!r}")
    strides = []
    for stage, n in enumerate(arch["blocks"]):
        strides += [2 if (stage > 0 and b == 0) else 1 for b in range(n)]
    out = {}
    for b, stride in enumerate(strides):
        l1, l2 = 2 * b + 1, 2 * b + 2
        out[(f"L{l1}", f"L{l2}")] = (3, 1, 1)  # sn1 -> conv2 -> sn2
        if b + 1 < len(strides):
            out[(f"L{l2}", f"L{l2 + 1}")] = (3, strides[b + 1], 1)  # block out -> next conv1
    return out


def structural_mask(target_yx, source_yx, kernel: int, stride: int, padding: int) -> np.ndarray:
    """Boolean ``(target, source)``: is the source inside the target's receptive field?

    Parameters
    ----------
    target_yx, source_yx : array_like
        ``(n, 2)`` arrays of (row, column) in their maps.
    kernel, stride, padding : int
        The convolution between the two maps.

    Returns
    -------
    ndarray
        bool ``(n_target, n_source)``.

    Raises
    ------
    ValueError
        positions that are not ``(n, 2)``."""
    for yx, name in ((target_yx, "target_yx"), (source_yx, "source_yx")):
        if np.ndim(yx) != 2 or np.shape(yx)[1] != 2:
            raise ValueError(f"{name} must be (n, 2) (row, column) positions, got shape {np.shape(yx)}")
    t = np.asarray(target_yx, dtype=np.int64).reshape(-1, 2)
    s = np.asarray(source_yx, dtype=np.int64).reshape(-1, 2)
    lo = stride * t - padding  # (n_t, 2): first source row/column seen
    d = s[None, :, :] - lo[:, None, :]
    return np.all((d >= 0) & (d < kernel), axis=2)


def label_edges(groups: xr.Dataset, source: xr.DataArray, target: xr.DataArray,
                geometry: tuple[int, int, int]) -> xr.Dataset:
    """The edge table of :func:`fclib.stats.groups.one_fc_groups` with a boolean
    ``structural`` variable on ``edge``, and ``n_structural``/``n_receptive`` (structural
    group members and active source neurons in the receptive field) on ``neuron``.

    Parameters
    ----------
    groups : xarray.Dataset
        The layer pair's edge table.
    source, target : xarray.DataArray
        The recorded layers the groups were computed on (coordinates ``y`` and ``x`` per
        neuron).
    geometry : (int, int, int)
        ``(kernel, stride, padding)`` of the pair (:func:`conv_geometry`).

    Returns
    -------
    xarray.Dataset
        The edge table; its attrs gain ``kernel``, ``stride``, ``padding`` and
        ``n_active_source`` (active neurons of the source layer).

    Raises
    ------
    ValueError
        Where the groups (attrs ``source_layer``, ``target_layer``) and the layers
        (:func:`fclib.stats.response.layer_name`) both name a layer and the names differ
        (layers of one network often have the same size, so a wrong layer would otherwise
        run silently)."""
    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_layer(source, check_groups(groups).attrs, "source")
    check_layer(target, groups.attrs, "target")
    k, s, p = geometry
    sy, sx = source["y"].values, source["x"].values
    ty, tx = target["y"].values, target["x"].values
    e_t, e_s = groups["target"].values, groups["source"].values
    d_y = sy[e_s] - (s * ty[e_t] - p)
    d_x = sx[e_s] - (s * tx[e_t] - p)
    structural = (d_y >= 0) & (d_y < k) & (d_x >= 0) & (d_x < k)
    out = groups.copy()
    out["structural"] = ("edge", structural)
    tid = groups["neuron"].values
    pos = np.searchsorted(tid, e_t)
    out["n_structural"] = ("neuron", np.bincount(pos[structural], minlength=tid.size))
    active = ~source["silent"].values if "silent" in source.coords else np.ones(sy.size, bool)
    rf = structural_mask(np.stack([ty[tid], tx[tid]], 1),
                         np.stack([sy[active], sx[active]], 1), k, s, p)
    out["n_receptive"] = ("neuron", rf.sum(1))
    out.attrs.update(kernel=k, stride=s, padding=p, n_active_source=int(active.sum()))
    return out


def structural_summary(labelled: dict) -> pd.DataFrame:
    """Structural and non-structural edges of several layer pairs (paper Figs. A7-A8).

    Parameters
    ----------
    labelled : dict
        ``{layer pair: edge table from label_edges}``.

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair: ``edges``, ``structural share of edges``; ``median STTC,
        structural`` / ``median STTC, non-structural``; ``structural degree / receptive
        field`` (the mean over targets of structural members divided by the active sources
        in the target's receptive field, ``max(., 1)``); ``non-structural degree / rest``
        (the mean of the other members divided by the remaining active sources,
        ``max(., 1)``); ``ratio`` (the first normalised degree over the second, ``NaN``
        where the second is 0). Medians and shares are ``NaN`` where a layer pair has no
        edge of the kind."""
    check_mapping(labelled, "labelled", "{layer pair: label_edges() table}")
    rows = {}
    for name, g in labelled.items():
        st = g["structural"].values.astype(bool)
        sttc = g["sttc"].values
        n_src = int(g.attrs["n_active_source"])
        deg, n_st, n_rf = g["degree"].values, g["n_structural"].values, g["n_receptive"].values
        per_rf = float(np.mean(n_st / np.maximum(n_rf, 1))) if deg.size else np.nan
        per_rest = float(np.mean((deg - n_st) / np.maximum(n_src - n_rf, 1))) if deg.size else np.nan
        rows[name] = {"edges": int(st.size),
                      "structural share of edges": float(st.mean()) if st.size else np.nan,
                      "median STTC, structural": float(np.median(sttc[st])) if st.any() else np.nan,
                      "median STTC, non-structural":
                          float(np.median(sttc[~st])) if (~st).any() else np.nan,
                      "structural degree / receptive field": per_rf,
                      "non-structural degree / rest": per_rest,
                      "ratio": per_rf / per_rest if per_rest > 0 else np.nan}
    out = pd.DataFrame(rows).T
    out.index.name = "layer pair"
    return out.astype({"edges": int}) if len(out) else out


def structural_edge_table(labelled: dict) -> pd.DataFrame:
    """Every edge of several layer pairs, the input of the figure of Fig. A7.

    Parameters
    ----------
    labelled : dict
        ``{layer pair: edge table from label_edges}``.

    Returns
    -------
    pandas.DataFrame
        ``layer pair``, ``sttc``, ``kind`` (``"structural"`` / ``"non-structural"``)."""
    check_mapping(labelled, "labelled", "{layer pair: label_edges() table}")
    parts = [pd.DataFrame({"layer pair": name, "sttc": g["sttc"].values,
                           "kind": np.where(g["structural"].values, "structural",
                                            "non-structural")})
             for name, g in labelled.items()]
    if not parts:
        return pd.DataFrame(columns=["layer pair", "sttc", "kind"])
    return pd.concat(parts, ignore_index=True)
