"""Co-firing of 1FC groups and the response functions of their target neurons (paper §3, §4).

For a target neuron with 1FC group G (see :mod:`fclib.stats.groups`) and a frame f, the group's
co-firing is ``k_f = sum over s in G of spike_s(f)``: how many members fire in that frame.
The target's response function is its firing probability at each co-firing value,
``p(k) = n_fire(k) / n_frames(k)``, where ``n_frames(k)`` counts the frames with co-firing
``k`` and ``n_fire(k)`` those in which the target fired too. Fits (ReLU, two lines) are
weighted by ``n_frames`` (see :mod:`fclib.stats.fits`).

The groups stay those of the original condition; the spikes may come from any condition
or any subset (batch) of frames.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np
import xarray as xr

if TYPE_CHECKING:
    import pandas as pd

# the input checks live in fclib.stats._checks (which imports neither groups nor fits, so the
# pairs stage's code fingerprint does not change with them); they stay public here
from fclib.stats._checks import (FRAME_COORDS, as_layer, check_groups, check_layer,  # noqa: F401
                                 check_presentations, check_same_frames, check_spike_values,
                                 layer_name, neuron_rows, resolve_T)
from fclib.stats.fits import fit_relu, fit_two_lines
from fclib.stats.groups import group_csr
from fclib.stats.halves import image_batches  # noqa: F401 (public here too)
from fclib.stats.sttc import as_trains
from fclib.stats._checks import check_dataset, check_mapping
from fclib.stats._frames import take_frames, take_neurons

__all__ = ["as_layer", "check_spike_values", "check_presentations", "check_groups", "layer_name", "check_layer", "neuron_rows", "check_same_frames",
           "cofiring", "response_counts", "fit_response", "neuron_properties",
           "image_batches", "batch_slopes", "collapse_r2", "response_curve", "property_table",
           "example_neuron", "resample_batches", "batch_counts", "fraction_above",
           "batch_response_counts", "cross_validated_counts", "response_dataset", "select_fits"]



@nb.njit(parallel=True, cache=True)
def _cofiring_block(ev_ptr, ev_src, t_ptr, t_idx, out):
    """out[f, t] += 1 for every firing source of frame f and every target t whose group holds it."""
    for f in nb.prange(out.shape[0]):
        for e in range(ev_ptr[f], ev_ptr[f + 1]):
            s = ev_src[e]
            for q in range(t_ptr[s], t_ptr[s + 1]):
                out[f, t_idx[q]] += 1


@nb.njit(cache=True)
def _frame_events(trains, f0, f1):
    """The firing sources of every frame of ``trains[:, f0:f1]`` as CSR: those of frame
    ``f0 + i`` are ``ev_src[ev_ptr[i]:ev_ptr[i + 1]]``, ascending (``np.nonzero`` of the
    transposed block, without the transposed copy)."""
    n = trains.shape[0]
    ev_ptr = np.zeros(f1 - f0 + 1, dtype=np.int64)
    for s in range(n):
        for f in range(f0, f1):
            ev_ptr[f - f0 + 1] += trains[s, f]
    for i in range(f1 - f0):
        ev_ptr[i + 1] += ev_ptr[i]
    pos = ev_ptr[:-1].copy()
    ev_src = np.empty(ev_ptr[-1], dtype=np.int32)
    for s in range(n):
        for f in range(f0, f1):
            if trains[s, f]:
                ev_src[pos[f - f0]] = s
                pos[f - f0] += 1
    return ev_ptr, ev_src


# frames summed before the rows of a chunk of targets are written out (the block in L1)
_ROW_FRAMES = 32


@nb.njit(parallel=True, cache=True)
def _cofiring_rows(ev_ptr, ev_src, member, out, f_off):
    """``out[t, f_off + i] = sum of member[c, s, j]`` over the sources ``s`` firing in frame
    ``i`` of the events (``t = c * W + j``, ``member``: ``(chunk, source, W)`` 0/1 uint8).

    Each firing source adds its whole membership row (one contiguous run of ``W`` targets)
    to the frame's counts: a vectorised add in place of one scattered increment per edge.
    Chunks of ``W`` targets run in parallel and keep their rows in cache."""
    n_chunks, _, W = member.shape
    n_t = out.shape[0]
    n_f = ev_ptr.size - 1
    for c in nb.prange(n_chunks):
        t0 = c * W
        w = min(n_t, t0 + W) - t0
        m = member[c]
        acc = np.zeros((_ROW_FRAMES, W), dtype=out.dtype)
        for b0 in range(0, n_f, _ROW_FRAMES):
            b1 = min(n_f, b0 + _ROW_FRAMES)
            for i in range(b0, b1):
                a = acc[i - b0]
                for j in range(W):
                    a[j] = 0
                for e in range(ev_ptr[i], ev_ptr[i + 1]):
                    row = ev_src[e]
                    for j in range(W):
                        a[j] += m[row, j]
            for j in range(w):
                for i in range(b0, b1):
                    out[t0 + j, f_off + i] = acc[i - b0, j]


# Costs of the three exact methods in multiply-adds of a float32 matrix product (the dense
# method's unit), measured on the default profile's L1->L2 (3,337 targets, 3,334 sources,
# 40,000 frames, 2.0 million edges; one thread, CPU seconds): 8.7e9 scattered increments
# ("events") took 9.5 s, 3.5e10 row additions (spikes x targets, "rows") 2.3 s and
# 4.5e11 multiply-adds ("dense") 11.7 s. One scattered increment costs about 40 multiply-adds
# (60 measured earlier with two threads), one row addition about 16 times less.
_SCATTER_COST = 60.0
_ROW_COST = _SCATTER_COST / 16
_ROW_WIDTH = 256  # targets per chunk of the rows method: 256 x sources bytes stay in L2
_ROW_MEMORY = 1 << 29  # "auto" takes the rows method only while its membership fits 512 MiB


def cofiring(source: xr.DataArray, groups: xr.Dataset, *, method: str = "auto",
             block: int = 8192) -> xr.DataArray:
    """Co-firing count of every target's 1FC group in every frame.

    Three exact methods (integer counts: all give the same array): ``"events"`` scatters,
    frame by frame, each firing source into the targets whose group holds it (cost: spikes x
    out-degree); ``"rows"`` adds, for each firing source, its whole 0/1 membership row over a
    chunk of targets (cost: spikes x targets, in vector instructions; memory: sources x
    targets bytes), which wins once groups hold more than a few per cent of the sources;
    ``"dense"`` multiplies the 0/1 membership matrix by blocks of the spike matrix in float32
    (cost: targets x sources x frames, at BLAS speed; exact while groups have fewer than
    2^24 members). ``"auto"`` picks the cheapest from the actual spike and edge counts.

    Parameters
    ----------
    source : xarray.DataArray or array_like
        Spikes of the source layer ``(neuron, frame)`` or a 2-D array; neuron ids are its
        ``neuron`` coordinate or, without one, positions (a whole recorded layer).
    groups : xarray.Dataset
        Edge table from :func:`fclib.stats.groups.one_fc_groups`.
    method : str
        ``"auto"``, ``"events"``, ``"rows"`` or ``"dense"``.
    block : int
        Frames handled at once (bounds the memory of the events and of the dense product).

    Returns
    -------
    xarray.DataArray
        ``("neuron", "frame")`` of int16 (int32 for groups over 32,767), one row per
        analysed target (coordinate ``neuron``: target ids, ``degree``: group size), frame
        coordinates copied from ``source``.

    Raises
    ------
    ValueError
        An unknown ``method``; ``source`` another layer than the groups' ``source_layer``
        (see :func:`check_layer`) or lacking neurons the groups refer to."""
    if method not in ("auto", "events", "rows", "dense"):
        raise ValueError(f"method must be 'auto', 'events', 'rows' or 'dense', got {method!r}")
    source = as_layer(source, "source")
    check_layer(source, check_groups(groups).attrs, "source")
    tid, indptr, src_ids = group_csr(groups)
    uniq, inv = np.unique(src_ids, return_inverse=True)
    rows = neuron_rows(source, uniq, "source")
    trains = as_trains(take_neurons(source, rows).load(), "source")
    L = trains.shape[1]
    tgt_of_edge = np.repeat(np.arange(tid.size), np.diff(indptr))
    dtype = np.int16 if (groups["degree"].values.max(initial=0) < 2**15) else np.int32
    out = np.empty((tid.size, L), dtype=dtype)
    n_chunks = -(-tid.size // _ROW_WIDTH)
    if method == "auto":
        spikes = trains.sum(1, dtype=np.int64)
        out_degree = np.bincount(inv, minlength=uniq.size)
        cost = {"events": float(spikes @ out_degree) * _SCATTER_COST,
                "dense": float(tid.size) * uniq.size * L}
        if n_chunks * _ROW_WIDTH * uniq.size <= _ROW_MEMORY:
            cost["rows"] = float(spikes.sum()) * n_chunks * _ROW_WIDTH * _ROW_COST
        method = min(cost, key=cost.get)
    if method == "dense":
        M = np.zeros((tid.size, uniq.size), dtype=np.float32)
        M[tgt_of_edge, inv] = 1.0
        for f0 in range(0, L, block):
            f1 = min(L, f0 + block)
            out[:, f0:f1] = M @ trains[:, f0:f1].astype(np.float32)
    elif method == "rows":
        member = np.zeros((n_chunks, uniq.size, _ROW_WIDTH), dtype=np.uint8)
        member[tgt_of_edge // _ROW_WIDTH, inv, tgt_of_edge % _ROW_WIDTH] = 1
        for f0 in range(0, L, block):
            ev_ptr, ev_src = _frame_events(trains, f0, min(L, f0 + block))
            _cofiring_rows(ev_ptr, ev_src, member, out, f0)
    else:
        # transpose the membership: for each used source, the targets whose group holds it
        order = np.argsort(inv, kind="stable")
        t_idx = tgt_of_edge[order].astype(np.int64)
        t_ptr = np.zeros(uniq.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(inv, minlength=uniq.size), out=t_ptr[1:])
        for f0 in range(0, L, block):
            f1 = min(L, f0 + block)
            ev_ptr, ev_src = _frame_events(trains, f0, f1)
            buf = np.zeros((f1 - f0, tid.size), dtype=dtype)
            _cofiring_block(ev_ptr, ev_src, t_ptr, t_idx, buf)
            out[:, f0:f1] = buf.T
    coords = {"neuron": tid, "degree": ("neuron", groups["degree"].values)}
    for c in FRAME_COORDS:
        if c in source.coords:
            coords[c] = ("frame", source[c].values)
    return xr.DataArray(out, dims=("neuron", "frame"), coords=coords, name="cofiring",
                        attrs={k: groups.attrs[k] for k in ("source_layer", "target_layer")
                               if k in groups.attrs})


@nb.njit(parallel=True, cache=True)
def _count_kernel(cof, spk, batch, n_frames, n_fire):
    for t in nb.prange(cof.shape[0]):
        for f in range(cof.shape[1]):
            b = batch[f]
            if b < 0:
                continue
            k = cof[t, f]
            n_frames[b, t, k] += 1
            n_fire[b, t, k] += spk[t, f]


def response_counts(cofiring: xr.DataArray, target: xr.DataArray, batch=None) -> xr.Dataset:
    """Frames and target spikes at every co-firing value: the response function's data.

    Parameters
    ----------
    cofiring : xarray.DataArray
        From :func:`cofiring`.
    target : xarray.DataArray or array_like
        Spikes of the target layer (same recording, same frames).
    batch : array_like, optional
        ``(frame,)`` int array assigning frames to batches ``0..B-1``; ``-1`` leaves a frame
        out. Adds a leading ``batch`` dim.

    Returns
    -------
    xarray.Dataset
        ``n_frames`` and ``n_fire`` over ``([batch,] neuron, cofiring)``, int32,
        ``cofiring = 0..max observed``; ``p = n_fire / n_frames`` is the response function.

    Raises
    ------
    TypeError
        ``cofiring`` is not :func:`cofiring`'s DataArray.
    ValueError
        ``target``'s frames differ from the co-firing's, ``target`` is another layer than
        the groups' ``target_layer`` (see :func:`check_layer`), or ``batch`` is not one
        entry per frame."""
    if not isinstance(cofiring, xr.DataArray) or "degree" not in cofiring.coords:
        raise TypeError("cofiring must be the DataArray returned by fclib.stats.response.cofiring "
                        f"(with a degree coordinate); got {type(cofiring).__name__}")
    target = as_layer(target, "target")
    check_same_frames(cofiring, target, "response_counts")
    check_layer(target, cofiring.attrs, "target")
    tid = cofiring["neuron"].values
    spk = as_trains(take_neurons(target, neuron_rows(target, tid, "target")).load(), "target")
    cof = np.ascontiguousarray(cofiring.values)
    L = cof.shape[1]
    if batch is None:
        b = np.zeros(L, dtype=np.int64)
    else:
        b = np.asarray(batch, dtype=np.int64)
        if b.shape != (L,):
            raise ValueError(f"batch must have one entry per frame ({L}), got shape {b.shape}")
    nb_ = int(b.max(initial=-1)) + 1
    K = int(cof.max(initial=0)) + 1
    n_frames = np.zeros((max(nb_, 1), tid.size, K), dtype=np.int32)
    n_fire = np.zeros_like(n_frames)
    _count_kernel(cof, spk, b, n_frames, n_fire)
    dims = ("batch", "neuron", "cofiring")
    ds = xr.Dataset({"n_frames": (dims, n_frames), "n_fire": (dims, n_fire)},
                    coords={"neuron": tid, "cofiring": np.arange(K),
                            "degree": ("neuron", cofiring["degree"].values)},
                    attrs=dict(cofiring.attrs))
    return ds.isel(batch=0) if batch is None else ds


def response_curve(counts: xr.Dataset, min_frames: int = 1) -> xr.DataArray:
    """Firing probability ``n_fire / n_frames``, NaN where fewer than ``min_frames`` frames.

    Parameters
    ----------
    counts : xarray.Dataset
        ``n_frames`` and ``n_fire`` (:func:`response_counts`).
    min_frames : int
        Fewest frames of a defined point.

    Returns
    -------
    xarray.DataArray
        The dims of ``counts``' variables."""
    check_dataset(counts, ["n_frames", "n_fire"], "counts", "response_counts()")
    n = counts["n_frames"]
    return (counts["n_fire"] / n.where(n >= max(min_frames, 1))).rename("p")


def fit_response(counts: xr.Dataset, min_frames: int = 10, saturation: float | None = 0.95,
                 min_points: int = 4, n_sub: int = 4) -> xr.Dataset:
    """ReLU and two-line fits of every response function in ``counts``.

    Points with fewer than ``min_frames`` frames are left out; the rest are weighted by
    their frames. The fits describe the rise: a response that reaches ``saturation``
    (firing probability) is fitted up to the first co-firing value where it does, and the
    ceiling beyond is left out.

    Parameters
    ----------
    counts : xarray.Dataset
        ``n_frames`` and ``n_fire`` over ``(..., cofiring)`` (:func:`response_counts`).
    min_frames : int
        Co-firing values seen in fewer frames are left out.
    saturation : float or None
        Firing probability where the fit stops; ``None`` fits everything.
    min_points, n_sub : as :func:`fclib.stats.fits.fit_two_lines`.

    Returns
    -------
    xarray.Dataset
        Over the non-``cofiring`` dims of ``counts``: ``relu_slope``, ``relu_threshold``,
        ``relu_r2``, ``relu_nrmse``, ``n_points``; ``intercept``, ``slope_weak``,
        ``slope_strong``, ``intersection``, ``lines_r2``, ``lines_nrmse`` (see
        :func:`fclib.stats.fits.fit_relu`, :func:`fclib.stats.fits.fit_two_lines`); and
        ``saturation_cofiring`` (NaN if never reached). The ``nan_reason`` attribute says how
        many fits are NaN and why (too few co-firing values seen in ``min_frames`` frames,
        or no steeper second line)."""
    check_dataset(counts, ["n_frames", "n_fire"], "counts", "response_counts()")
    n = counts["n_frames"].transpose(..., "cofiring")
    lead = n.dims[:-1]
    shape = n.shape[:-1]
    w = n.values.reshape(-1, n.shape[-1]).astype(np.float64)
    fire = counts["n_fire"].transpose(..., "cofiring").values.reshape(w.shape)
    w[w < max(min_frames, 1)] = 0.0
    y = np.divide(fire, w, out=np.zeros_like(w), where=w > 0)
    x = counts["cofiring"].values.astype(np.float64)
    k_sat = np.full(w.shape[0], np.nan)
    if saturation is not None:
        hit = (y >= saturation) & (w > 0)
        rows = np.flatnonzero(hit.any(1))
        first = hit[rows].argmax(1)
        k_sat[rows] = x[first]
        w[x[None, :] > k_sat[:, None]] = 0.0  # NaN compares False: rows never saturating keep all
    r = fit_relu(x, y, w, min_points=min_points)
    h = fit_two_lines(x, y, w, min_points=min_points, n_sub=n_sub)
    out = {"relu_slope": r["slope"], "relu_threshold": r["threshold"], "relu_r2": r["r2"],
           "relu_nrmse": r["nrmse"], "n_points": r["n_points"],
           "intercept": h["intercept"], "slope_weak": h["slope_weak"],
           "slope_strong": h["slope_strong"], "intersection": h["intersection"],
           "lines_r2": h["r2"], "lines_nrmse": h["nrmse"], "saturation_cofiring": k_sat}
    coords = {d: counts[d] for d in lead if d in counts.coords}
    if "degree" in counts.coords:
        coords["degree"] = counts["degree"]
    return xr.Dataset({k: (lead, v.reshape(shape)) for k, v in out.items()}, coords=coords,
                      attrs=dict(counts.attrs, min_frames=int(min_frames),
                                 saturation=np.nan if saturation is None else float(saturation),
                                 nan_reason=_nan_reason(r, h, min_points, min_frames)))


def _nan_reason(r: dict, h: dict, min_points: int, min_frames: int) -> str:
    """Why fits are NaN, in words (the ``nan_reason`` attribute of :func:`fit_response`)."""
    few = np.asarray(r["n_points"]) < max(int(min_points), 4)
    relu, lines = ~np.isfinite(r["slope"]), ~np.isfinite(h["intersection"])
    n = few.size
    if not (relu.any() or lines.any()):
        return ""
    return (f"ReLU fits are NaN for {int(relu.sum())} of {n} and two-line fits (intercept, "
            f"slope_weak, slope_strong, intersection, lines_r2, lines_nrmse) for "
            f"{int(lines.sum())} of {n}: {int((few & lines).sum())} have fewer than "
            f"{max(int(min_points), 4)} co-firing values seen in at least {int(min_frames)} "
            f"frames (n_points; lower min_frames or record more frames), "
            f"{int((~few & lines).sum())} have enough but no steeper second line fits them")


def neuron_properties(counts: xr.Dataset, fits: xr.Dataset, target: xr.DataArray, T: int,
                      r2_min: float = 0.8) -> xr.Dataset:
    """The per-neuron property table of a layer pair (one row per analysed target).

    Variables: the fits of :func:`fit_response`; ``degree`` (group size N); ``rate``
    (spikes per image); ``max_cofiring`` (largest co-firing seen); ``intersection_fraction``
    (the two-line intersection as a fraction of N); ``intersection_of_max`` (as a fraction of
    the largest co-firing seen); ``rise_quantile`` (the co-firing CDF at the intersection,
    ``P(k <= intersection)``); ``strong_fraction`` (frames beyond it, ``1 - rise_quantile``);
    ``selected`` (``relu_r2 > r2_min``).

    Parameters
    ----------
    counts : xarray.Dataset
        :func:`response_counts` of the layer pair.
    fits : xarray.Dataset
        :func:`fit_response` of ``counts``.
    target : xarray.DataArray
        The target layer's spikes.
    T : int or None
        Frames per presentation; ``None`` takes the target's ``T`` attribute (set by
        :func:`fclib.io.bin_spikes`), and a ``T`` that contradicts it is an error.
    r2_min : float
        ReLU R² above which a neuron is selected.

    Returns
    -------
    xarray.Dataset
        Over ``neuron`` (one entry per analysed target), not a table:
        ``neuron_properties(...).to_dataframe()`` gives the pandas table, one row per
        neuron. NaN fits are explained by the ``nan_reason`` attribute (from
        :func:`fit_response`).

    Raises
    ------
    ValueError
        ``T`` not a positive integer, or one that does not divide the frames counted."""
    T = resolve_T(target, T, "target")
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer (time steps per presentation), got {T!r}")
    target = as_layer(target, "target")
    nf = counts["n_frames"].transpose("neuron", "cofiring").values.astype(np.float64)
    fire = counts["n_fire"].transpose("neuron", "cofiring").values
    k = counts["cofiring"].values
    tot = nf.sum(1)
    if tot.size and np.any(tot % T):
        raise ValueError(f"T={T} does not divide the {int(tot.max())} frames counted; the counts "
                         "must cover whole presentations: pass the recording's T")
    cdf = np.cumsum(nf, 1) / np.maximum(tot, 1)[:, None]
    inter = fits["intersection"].values
    ok = np.isfinite(inter)
    idx = np.clip(np.floor(np.where(ok, inter, 0)).astype(int), 0, k.size - 1)
    rise = np.where(ok, cdf[np.arange(len(idx)), idx], np.nan)
    kmax = np.array([k[np.flatnonzero(r)[-1]] if r.any() else 0 for r in nf > 0])
    deg = counts["degree"].values
    ds = fits.copy()
    ds["rate"] = ("neuron", fire.sum(1) / (tot / T))
    ds["max_cofiring"] = ("neuron", kmax)
    ds["intersection_fraction"] = ("neuron", np.where(deg > 0, inter / np.maximum(deg, 1), np.nan))
    ds["intersection_of_max"] = ("neuron", np.where(kmax > 0, inter / np.maximum(kmax, 1), np.nan))
    ds["rise_quantile"] = ("neuron", rise)
    ds["strong_fraction"] = ("neuron", 1.0 - rise)
    ds["selected"] = ("neuron", np.nan_to_num(fits["relu_r2"].values, nan=-np.inf) > r2_min)
    if "layer" in target.coords:
        ds.attrs["target_layer"] = str(np.asarray(target["layer"].values).ravel()[0])
    ds.attrs.update(T=int(T), r2_min=float(r2_min))
    return ds


def batch_slopes(batch_fits: xr.Dataset) -> xr.DataArray:
    """Slope differences between every two batches.

    Parameters
    ----------
    batch_fits : xarray.Dataset
        :func:`fit_response` of batch counts (a ``batch`` dim).

    Returns
    -------
    xarray.DataArray
        Dims ``("pair", "neuron")``; ``pair`` is labelled ``"i-j"``, the value is
        ``slope_i - slope_j`` of the ReLU fit."""
    check_dataset(batch_fits, ["relu_slope"], "batch_fits", "fit_response() of batch counts")
    s = batch_fits["relu_slope"].transpose("batch", "neuron").values
    nb_ = s.shape[0]
    pairs = [(i, j) for i in range(nb_) for j in range(i + 1, nb_)]
    d = np.stack([s[i] - s[j] for i, j in pairs]) if pairs else np.empty((0, s.shape[1]))
    return xr.DataArray(d, dims=("pair", "neuron"),
                        coords={"pair": [f"{i}-{j}" for i, j in pairs],
                                "neuron": batch_fits["neuron"].values}, name="slope_difference")


def collapse_r2(counts: xr.Dataset, exponent: float, neurons=None, min_frames: int = 10,
                n_bins: int = 40) -> float:
    """How well one curve describes all response functions with co-firing rescaled by
    N^exponent.

    Every point ``(k / N^exponent, p)`` with at least ``min_frames`` frames counts equally
    within its neuron, and every neuron counts equally in total. The common curve is the
    weighted mean of ``p`` in ``n_bins`` quantile bins of the rescaled co-firing.

    Parameters
    ----------
    counts : xarray.Dataset
        Response counts with a ``degree`` coordinate on ``neuron``.
    exponent : float
        0 leaves co-firing as counts, 1 makes it the fraction of the group.
    neurons : array_like, optional
        The neurons to take (default all).
    min_frames : int
        Points seen in fewer frames are left out.
    n_bins : int
        Quantile bins of the common curve.

    Returns
    -------
    float
        The fraction of the variance of ``p`` the common curve explains (1: perfect
        collapse)."""
    check_dataset(counts, ["n_frames", "n_fire", "degree"], "counts", "response_counts()")
    c = counts if neurons is None else counts.sel(neuron=neurons)
    nf = c["n_frames"].transpose("neuron", "cofiring").values
    p = np.divide(c["n_fire"].transpose("neuron", "cofiring").values, nf,
                  out=np.zeros(nf.shape), where=nf > 0)
    use = nf >= max(min_frames, 1)
    deg = c["degree"].values.astype(float)
    w = use / np.maximum(use.sum(1, keepdims=True), 1)
    x = c["cofiring"].values[None, :] / np.maximum(deg, 1)[:, None] ** exponent
    x, p, w = x[use], p[use], w[use]
    if x.size < n_bins:
        return np.nan
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    b = np.clip(np.searchsorted(edges, x, "right") - 1, 0, edges.size - 2)
    sw = np.bincount(b, w)
    mean = np.bincount(b, w * p) / np.where(sw > 0, sw, 1)
    pbar = (w * p).sum() / w.sum()
    sst = (w * (p - pbar) ** 2).sum()
    return float(1 - (w * (p - mean[b]) ** 2).sum() / sst) if sst > 0 else np.nan


def property_table(responses: dict) -> "pd.DataFrame":
    """The per-neuron property tables of several layer pairs as one long DataFrame.

    Parameters
    ----------
    responses : dict
        A layer-pair label (``"L1→L2"``) to a Dataset holding the variables of
        :func:`neuron_properties`.

    Returns
    -------
    pandas.DataFrame
        One row per (layer pair, neuron), with a ``layer pair`` column kept in the given
        order (categorical)."""
    check_mapping(responses, "responses", "{layer pair: response Dataset}")
    import pandas as pd

    frames = []
    for name, ds in responses.items():
        cols = [v for v in ds.data_vars if ds[v].dims == ("neuron",)]
        df = ds[cols].to_dataframe().reset_index()
        if "degree" in ds.coords:
            df["degree"] = ds["degree"].values
        df.insert(0, "layer pair", name)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["layer pair"] = pd.Categorical(out["layer pair"], categories=list(responses), ordered=True)
    return out


def example_neuron(ds: xr.Dataset) -> int:
    """The neuron a figure shows: among the selected ones (else all with a fit), the one
    whose fitted ReLU reaches the highest firing probability within its observed co-firing.

    Parameters
    ----------
    ds : xarray.Dataset
        A response Dataset (:func:`response_dataset`).

    Returns
    -------
    int
        The neuron id.

    Raises
    ------
    ValueError
        No neuron has a fit."""
    check_dataset(ds, ["relu_slope", "relu_threshold", "relu_r2"], "ds", "response_dataset()")
    pred = ds["relu_slope"] * np.maximum(0, ds["max_cofiring"] - ds["relu_threshold"])
    pick = ds["selected"] if bool(ds["selected"].any()) else np.isfinite(ds["relu_r2"])
    pred = pred.where(pick)
    if not np.isfinite(pred.values).any():
        raise ValueError(f"no neuron of {ds.attrs.get('target_layer', 'this layer')} has a fit")
    return int(ds["neuron"].values[int(np.nanargmax(pred.values))])


def resample_batches(batch_counts: xr.Dataset, rng=None) -> xr.Dataset:
    """Batch counts redrawn as if every batch shared the pooled response function.

    ``n_fire`` of batch b at co-firing k is drawn from ``Binomial(n_frames_b(k), p(k))`` with
    ``p`` pooled over batches; ``n_frames`` is kept. Fitting these gives the batch-to-batch
    differences that sampling noise alone produces: the reference for the robustness test.

    Parameters
    ----------
    batch_counts : xarray.Dataset
        ``n_frames`` and ``n_fire`` over ``(batch, neuron, cofiring)``.
    rng : numpy.random.Generator or int, optional
        The binomial draws.

    Returns
    -------
    xarray.Dataset
        The same variables and dims, ``n_fire`` redrawn."""
    from fclib._util import as_generator as _rng

    nf = batch_counts["n_frames"].values
    tot = nf.sum(0)
    p = np.divide(batch_counts["n_fire"].values.sum(0), tot, out=np.zeros(tot.shape), where=tot > 0)
    fire = _rng(rng).binomial(nf, np.broadcast_to(p, nf.shape)).astype(np.int32)
    return xr.Dataset({"n_frames": batch_counts["n_frames"],
                       "n_fire": (batch_counts["n_fire"].dims, fire)}, coords=batch_counts.coords)


def batch_counts(response: xr.Dataset) -> xr.Dataset:
    """The per-batch ``n_frames``/``n_fire`` of a cached response Dataset
    (:meth:`fclib.pipeline.Run.response`) under the names :func:`fit_response` reads.

    Parameters
    ----------
    response : xarray.Dataset
        Holds ``batch_n_frames`` and ``batch_n_fire``.

    Returns
    -------
    xarray.Dataset
        ``n_frames`` and ``n_fire`` over ``(batch, neuron, cofiring)``."""
    check_dataset(response, ["batch_n_frames", "batch_n_fire"], "response", "response_dataset()")
    return xr.Dataset({"n_frames": response["batch_n_frames"], "n_fire": response["batch_n_fire"]},
                      coords={c: response.coords[c] for c in ("neuron", "cofiring", "degree")
                              if c in response.coords})


def fraction_above(counts: xr.Dataset, cofiring_threshold) -> xr.DataArray:
    """Share of each neuron's frames whose co-firing exceeds ``cofiring_threshold``.

    Parameters
    ----------
    counts : xarray.Dataset
        Response counts (``n_frames`` over ``(neuron, cofiring)``).
    cofiring_threshold : xarray.DataArray or array_like
        One value per neuron (e.g. the two-line intersection of another condition).

    Returns
    -------
    xarray.DataArray
        Dim ``neuron``; NaN where the threshold is NaN."""
    check_dataset(counts, ["n_frames"], "counts", "response_counts()")
    nf = counts["n_frames"].transpose("neuron", "cofiring").values.astype(float)
    thr = np.asarray(cofiring_threshold, dtype=float)
    above = counts["cofiring"].values[None, :] > thr[:, None]
    frac = (nf * above).sum(1) / np.maximum(nf.sum(1), 1)
    return xr.DataArray(np.where(np.isfinite(thr), frac, np.nan), dims="neuron",
                        coords={"neuron": counts["neuron"].values})


# --------------------------------------------------------------------------- one layer pair
def batch_response_counts(source: xr.DataArray, target: xr.DataArray, groups: xr.Dataset, *,
                          n_batches: int = 4, rng=None) -> xr.Dataset:
    """Response counts of every target of ``groups``, per batch of images.

    The frames are dealt into ``n_batches`` disjoint sets of images (:func:`image_batches`,
    seeded by ``rng``) and :func:`response_counts` counted per set.

    Parameters
    ----------
    source, target : recorded layers, ``DataArray(("neuron", "frame"))`` on the same frames,
        with an ``image`` frame coordinate.
    groups : edge table of :func:`fclib.stats.groups.one_fc_groups` (or a control).
    n_batches : sets of images.
    rng : ``numpy.random.Generator``, integer seed or None.

    Returns
    -------
    Dataset of :func:`response_counts` with a ``batch`` dimension.
    """
    cof = cofiring(source, groups)
    batch = image_batches(cof["image"].values, n_batches, rng=rng)
    return response_counts(cof, target, batch=batch)


def cross_validated_counts(source: xr.DataArray, target: xr.DataArray, fold_groups,
                           fold_images, *, n_batches: int = 4, rng=None) -> xr.Dataset:
    """Batch response counts of two folds, summed: each fold's groups counted only on the
    frames of images that fold's groups were *not* found on.

    Parameters
    ----------
    source, target : recorded layers on the same frames (``image`` frame coordinate).
    fold_groups : two group tables, one per fold.
    fold_images : two arrays of the image ids each fold's groups were found on.
    n_batches, rng : as in :func:`batch_response_counts`.

    Returns
    -------
    Dataset of :func:`response_counts` (``batch``, ``neuron``, ``cofiring``), the folds
    summed (a co-firing value one fold never reached counts 0 frames there); each target's
    ``degree`` is the mean of its two groups' sizes, rounded.

    Raises
    ------
    ValueError
        not exactly two folds.
    """
    if len(fold_groups) != 2 or len(fold_images) != 2:
        raise ValueError(f"cross-validation takes two folds, got {len(fold_groups)} group "
                         f"tables and {len(fold_images)} image sets")
    source, target = source.load(), target.load()
    images = source["image"].values
    parts, degrees = [], []
    for g, fit_images in zip(fold_groups, fold_images):
        ev = np.flatnonzero(~np.isin(images, np.asarray(fit_images)))
        cb = batch_response_counts(take_frames(source, ev), take_frames(target, ev), g,
                                   n_batches=n_batches, rng=rng)
        degrees.append(cb["degree"].values)
        parts.append(cb.drop_vars("degree"))
    cb = xr.concat(parts, "fold", join="outer", fill_value=0).sum("fold").astype(np.int32)
    return cb.assign_coords(degree=("neuron", np.rint(np.mean(degrees, 0)).astype(np.int64)))


def response_dataset(batch_counts: xr.Dataset, target: xr.DataArray, T: int, *,
                     min_frames: int = 10, saturation: float = 0.95,
                     r2_min: float = 0.8) -> xr.Dataset:
    """The response functions, fits and property table of a layer pair from its batch counts
    (:func:`batch_response_counts` or :func:`cross_validated_counts`).

    Parameters
    ----------
    batch_counts : xarray.Dataset
        ``n_frames`` and ``n_fire`` over ``(batch, neuron, cofiring)``.
    target : xarray.DataArray
        The target layer's spikes.
    T : int
        Frames per presentation.
    min_frames, saturation : as :func:`fit_response`.
    r2_min : float
        As :func:`neuron_properties`.

    Returns
    -------
    xarray.Dataset
        ``n_frames``, ``n_fire`` over ``(neuron, cofiring)`` (the batches summed); the
        variables of :func:`neuron_properties` over ``neuron``; ``batch_n_frames``,
        ``batch_n_fire`` over ``(batch, neuron, cofiring)``; ``batch_relu_slope``,
        ``batch_relu_r2`` over ``(batch, neuron)`` (every fit repeated per batch: the
        temporal robustness test)."""
    check_dataset(batch_counts, ["n_frames", "n_fire"], "batch_counts", "batch_response_counts()")
    counts = batch_counts.sum("batch")
    fits = fit_response(counts, min_frames=min_frames, saturation=saturation)
    ds = neuron_properties(counts, fits, target, T, r2_min=r2_min)
    ds = ds.merge(counts.drop_vars("degree"))
    bf = fit_response(batch_counts, min_frames=min_frames, saturation=saturation)
    ds["batch_n_frames"] = batch_counts["n_frames"]
    ds["batch_n_fire"] = batch_counts["n_fire"]
    ds["batch_relu_slope"] = bf["relu_slope"]
    ds["batch_relu_r2"] = bf["relu_r2"]
    return ds


def select_fits(response: xr.Dataset, r2_min: float = 0.8) -> xr.Dataset:
    """``response`` with ``selected`` set to ``relu_r2 > r2_min`` (NaN fits never selected)
    and the threshold in its attrs: the selection of the paper's well-fitted neurons.

    Parameters
    ----------
    response : xarray.Dataset
        Holds ``relu_r2`` over ``neuron``.
    r2_min : float
        The selection's R².

    Returns
    -------
    xarray.Dataset
        A copy with ``selected`` and ``attrs["r2_min"]``."""
    check_dataset(response, ["relu_r2"], "response", "fit_response()")
    response = response.copy()
    response["selected"] = response["relu_r2"].fillna(-np.inf) > r2_min
    response.attrs["r2_min"] = float(r2_min)
    return response
