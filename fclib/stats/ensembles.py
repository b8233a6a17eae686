"""The paper's central ensemble results for any set of groups, on any frames.

One function runs the whole per-neuron analysis of the book's chapters 3, 4, 7 and 8 for a
layer pair, given groups (1FC groups under any null, or control groups of the same format,
:mod:`fclib.stats.controls`) and the frames to measure on, so that in-sample, cross-validated
and control analyses are computed by the same code:

- the response function ``p(fire | k)`` of every target against its group's co-firing ``k``
  and its ReLU and two-line fits (:func:`fclib.stats.response.fit_response`): ``relu_r2``,
  ``selected`` (``relu_r2 > r2_min``), ``intersection_fraction`` (the two-line intersection
  over the group size), ``strong_fraction`` (share of frames beyond the intersection);
- class matching in strong frames (:func:`fclib.stats.semantic.strong_regime_match`):
  ``preferred_when_strong``, the share of the target's strong frames whose class is its
  ``preferred`` class (found by the caller, on other frames when cross-validating);
- ``strong_mi``: the mutual information (bits) between the presentation's class and the number
  of the presentation's frames in the strong regime (0..T), minus its mean over ``n_shuffles``
  label permutations: how much class information the rare strong events carry.
"""
from __future__ import annotations

import numba as nb
import numpy as np
import xarray as xr

from fclib._util import as_generator as _rng
from fclib.stats.information import presentation_labels, shuffled_mutual_information
from fclib.stats.response import (as_layer, check_groups, check_presentations, check_same_frames,
                                  cofiring, fit_response, neuron_properties, response_counts)
from fclib.stats._checks import check_dataset
from fclib.stats._frames import take_frames

__all__ = ["evaluate_groups", "evaluate_variant", "VARIANTS", "summarise_groups", "presentation_frames", "edge_survival",
           "significant_fraction", "repeat_subsample"]


def presentation_frames(presentations, T: int) -> np.ndarray:
    """Frame indices of whole presentations (``presentation * T + step``), sorted.

    Parameters
    ----------
    presentations : array_like
        Non-negative integer presentation indices.
    T : int
        Frames per presentation.

    Returns
    -------
    ndarray
        int64 frame indices.

    Raises
    ------
    ValueError
        ``T`` not a positive integer, or presentations that are not non-negative integers."""
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer (time steps per presentation), got {T!r}")
    p = np.asarray(presentations)
    if p.size and (p.dtype.kind not in "iu" or p.min() < 0):
        raise ValueError("presentations must be non-negative integer presentation indices, got "
                         f"{np.unique(p)[:5].tolist()}")
    p = np.unique(p.astype(np.int64))
    return (p[:, None] * int(T) + np.arange(int(T))[None, :]).ravel()



@nb.njit(parallel=True, cache=True)
def _strong_frames(cof, inter, frame_labels, preferred, T):
    """Per target ``t``: frames with ``cof[t, f] > inter[t]`` (none where ``inter[t]`` is not
    finite) counted per presentation of ``T`` frames, in all, and among those whose label is
    ``preferred[t]``. Returns ``(per_presentation (target, presentation), n_strong, n_match)``,
    int64. The naive twin: ``(cof > inter[:, None]).reshape(n, -1, T).sum(2)`` and
    :func:`fclib.stats.semantic.strong_regime_match`."""
    n, L = cof.shape
    per_pres = np.zeros((n, L // T), dtype=np.int64)
    n_strong = np.zeros(n, dtype=np.int64)
    n_match = np.zeros(n, dtype=np.int64)
    for t in nb.prange(n):
        x = inter[t]
        if not np.isfinite(x):
            continue
        p = preferred[t]
        for f in range(L):
            if cof[t, f] > x:
                per_pres[t, f // T] += 1
                n_strong[t] += 1
                if frame_labels[f] == p:
                    n_match[t] += 1
    return per_pres, n_strong, n_match


def evaluate_groups(source: xr.DataArray, target: xr.DataArray, groups: xr.Dataset, T: int, *,
                    preferred, n_classes: int, frames=None, min_frames: int = 10,
                    saturation: float = 0.95, r2_min: float = 0.8, n_shuffles: int = 10,
                    rng=None) -> xr.Dataset:
    """Response functions, regimes, class matching and strong-event information of every
    target of ``groups``, measured on ``frames``.

    Parameters
    ----------
    source, target : recorded layers, ``DataArray(("neuron", "frame"))`` with the ``label``
        frame coordinate.
    groups : edge table of :func:`fclib.stats.groups.one_fc_groups` (or a control).
    T : steps per presentation.
    preferred : ``(neuron,)`` preferred class of each target of ``groups`` (same order as
        ``groups["neuron"]``), or a DataArray indexed by target neuron id.
    n_classes : number of classes.
    frames : frame indices (whole presentations, see :func:`presentation_frames`) to measure
        on; ``None``: all.
    min_frames, saturation, r2_min : as in :func:`fclib.stats.response.fit_response` and
        :func:`fclib.stats.response.neuron_properties`.
    n_shuffles, rng : label permutations for the bias correction of ``strong_mi``.

    Returns
    -------
    Dataset over ``neuron`` (the targets of ``groups``) with ``degree``, ``relu_r2``,
    ``selected``, ``intersection``, ``intersection_fraction``, ``strong_fraction``,
    ``preferred_when_strong`` and ``strong_mi``.

    Raises
    ------
    ValueError
        ``n_classes`` not a positive integer, ``preferred`` not one class in
        ``[0, n_classes)`` per target, or ``frames`` not whole presentations.
    """
    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_same_frames(source, target, "evaluate_groups")
    check_groups(groups)
    T = check_presentations(source, T, "source")
    if frames is not None:
        frames = np.asarray(frames, dtype=np.int64)
        if frames.size % T:
            raise ValueError(f"frames must be whole presentations of T={T}; got {frames.size} frames")
        source, target = take_frames(source, frames), take_frames(target, frames)
    cof = cofiring(source, groups)
    counts = response_counts(cof, target)
    fits = fit_response(counts, min_frames=min_frames, saturation=saturation)
    props = neuron_properties(counts, fits, target, T, r2_min=r2_min)
    tid = cof["neuron"].values
    if isinstance(preferred, xr.DataArray) and "neuron" in preferred.dims:
        pref = preferred.sel(neuron=tid).values
    else:
        pref = np.asarray(preferred)
        if pref.shape != tid.shape:
            raise ValueError(f"preferred must have one class per target ({tid.size}), "
                             f"got shape {pref.shape}")
    frame_labels = np.asarray(target["label"].values, dtype=np.int64)
    inter = np.asarray(props["intersection"].values, dtype=np.float64)
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    pref = np.asarray(pref)
    bad = ~np.isfinite(pref) | (pref != np.round(pref)) | (pref < 0) | (pref >= n_classes) \
        if pref.dtype.kind == "f" else (pref < 0) | (pref >= n_classes)
    if bad.any():
        raise ValueError(f"preferred must be class indices in [0, {n_classes}); got "
                         f"{np.unique(pref[bad])[:10].tolist()}")
    # strong frames (co-firing beyond the intersection): per presentation (0..T) against the
    # class, and the share of them showing the preferred class
    per_pres, n_strong, n_match = _strong_frames(np.ascontiguousarray(cof.values), inter,
                                                 frame_labels, pref.astype(np.int64), T)
    with np.errstate(invalid="ignore", divide="ignore"):
        when_strong = n_match / n_strong
    labels = presentation_labels(target, T)
    mi, sh = shuffled_mutual_information(per_pres, labels, n_classes, n_shuffles, rng)
    out = props[["relu_r2", "selected", "intersection", "intersection_fraction",
                 "strong_fraction"]].copy()
    out["preferred_when_strong"] = ("neuron", when_strong)
    out["strong_mi"] = ("neuron", np.where(np.isfinite(inter), mi - sh, np.nan))
    out = out.assign_coords(degree=("neuron", cof["degree"].values))
    out.attrs.update(source_layer=groups.attrs.get("source_layer", ""),
                     target_layer=groups.attrs.get("target_layer", ""),
                     n_frames=int(cof.sizes["frame"]), n_classes=int(n_classes),
                     r2_min=float(r2_min), control=str(groups.attrs.get("control", "")))
    return out


VARIANTS = ("circular", "circular_cv", "stimulus_cv", "tuning", "random")


def evaluate_variant(source: xr.DataArray, target: xr.DataArray, groups: xr.Dataset, T: int,
                     variant: str, *, fit_frames=None, eval_frames=None, n_classes=None,
                     min_frames: int = 10, saturation: float = 0.95, r2_min: float = 0.8,
                     rng=None) -> xr.Dataset:
    """:func:`evaluate_groups` for one of the book's ways of choosing groups (``variant``).

    Parameters
    ----------
    source, target : recorded layers on the same frames (``label`` frame coordinate).
    groups : the 1FC groups the variant starts from (found on ``fit_frames``).
    T : steps per presentation.
    variant : ``"circular"``, ``"circular_cv"``, ``"stimulus_cv"`` (the groups as given),
        ``"tuning"`` (as many sources per target, chosen by tuning similarity:
        :func:`fclib.stats.controls.tuning_matched_groups`) or ``"random"`` (as many
        rate-matched random sources: :func:`fclib.stats.controls.random_matched_groups`,
        seeded by ``rng``).
    fit_frames : frames the groups and every target's preferred class come from (``None``:
        all).
    eval_frames : frames the responses are measured on (``None``: all).
    n_classes : number of classes (``None``: from the labels).
    min_frames, saturation, r2_min, rng : as in :func:`evaluate_groups`.

    Returns
    -------
    Dataset of :func:`evaluate_groups` with attrs ``variant``.

    Raises
    ------
    ValueError
        an unknown ``variant``.
    """
    from fclib.stats.information import preferred_class

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    tgt_fit = target if fit_frames is None else take_frames(target, fit_frames)
    preferred = preferred_class(tgt_fit, T, n_classes=n_classes)
    if variant == "tuning":
        from fclib.stats.controls import tuning_matched_groups

        groups = tuning_matched_groups(groups, source, target, T)
    elif variant == "random":
        from fclib.stats.controls import random_matched_groups

        groups = random_matched_groups(groups, source["rate"], rng=rng)
    n_classes = int(n_classes if n_classes is not None
                    else presentation_labels(tgt_fit, T).max(initial=-1) + 1)
    ds = evaluate_groups(source, target, groups, T, preferred=preferred,
                         n_classes=n_classes, frames=eval_frames,
                         min_frames=min_frames, saturation=saturation, r2_min=r2_min, rng=rng)
    ds.attrs["variant"] = variant
    return ds


def summarise_groups(ds: xr.Dataset) -> dict:
    """One row of the book's comparison table from :func:`evaluate_groups` results.

    Parameters
    ----------
    ds : xarray.Dataset or sequence of xarray.Dataset
        One :func:`evaluate_groups` result or several, pooled over their neurons.

    Returns
    -------
    dict
        ``neurons`` (targets with a non-empty group), ``median_group_size``,
        ``median_relu_r2``, ``selected`` (share with ``relu_r2 > r2_min``), and over the
        selected neurons ``median_intersection_fraction``, ``median_strong_fraction``,
        ``preferred_when_strong`` (median) with its ``chance`` level ``1 / n_classes``, and
        ``median_strong_mi`` (bits, shuffle-corrected)."""
    for part in (ds if isinstance(ds, (list, tuple)) else [ds]):
        check_dataset(part, ["degree", "selected", "relu_r2"], "ds", "evaluate_groups()")
    parts = ds if isinstance(ds, (list, tuple)) else [ds]
    cat = {v: np.concatenate([np.asarray(p[v].values, dtype=float) for p in parts])
           for v in ("relu_r2", "intersection_fraction", "strong_fraction",
                     "preferred_when_strong", "strong_mi")}
    deg = np.concatenate([np.asarray(p["degree"].values) for p in parts])
    sel = np.concatenate([np.asarray(p["selected"].values, dtype=bool) for p in parts])
    has = deg > 0

    def med(v, mask):
        x = cat[v][mask]
        x = x[np.isfinite(x)]
        return float(np.median(x)) if x.size else float("nan")

    return {"neurons": int(has.sum()),
            "median_group_size": float(np.median(deg[has])) if has.any() else float("nan"),
            "median_relu_r2": med("relu_r2", has),
            "selected": float(sel[has].mean()) if has.any() else float("nan"),
            "median_intersection_fraction": med("intersection_fraction", sel & has),
            "median_strong_fraction": med("strong_fraction", sel & has),
            "preferred_when_strong": med("preferred_when_strong", sel & has),
            "chance": 1.0 / float(parts[0].attrs.get("n_classes", np.nan)),
            "median_strong_mi": med("strong_mi", sel & has)}


def significant_fraction(pairs: xr.Dataset, threshold: float = 4.0) -> float:
    """Share of a layer pair's pairs that are significant positive edges
    (``z > threshold`` and ``sttc > 0``), as the paper counts them.

    Parameters
    ----------
    pairs : xarray.Dataset
        ``sttc`` and ``z`` over ``(target, source)``.
    threshold : float
        z threshold of an edge.

    Returns
    -------
    float
        The share."""
    check_dataset(pairs, ["sttc", "z"], "pairs", "fclib.stats.connectivity.pair_significance")
    sig = (pairs["z"] > threshold) & (pairs["sttc"] > 0)
    return float(sig.mean()) if sig.size else float("nan")


def edge_survival(circular: xr.Dataset, stimulus: xr.Dataset, threshold: float = 4.0) -> dict:
    """How the edges of a layer pair under the circular null fare under the
    stimulus-preserving null.

    Parameters
    ----------
    circular, stimulus : xarray.Dataset
        ``sttc`` and ``z`` over the same ``(target, source)`` pairs under each null
        (:func:`fclib.stats.connectivity.pair_significance`).
    threshold : float
        z threshold of an edge.

    Returns
    -------
    dict
        ``pairs``; ``circular_edges`` and ``stimulus_edges`` (significant positive pairs
        under each, ``z > threshold`` and ``sttc > 0``) and their fractions of all pairs;
        ``surviving`` (edges under both) and ``survival`` (``surviving / circular_edges``);
        ``new_edges`` (stimulus-only); and the median group size (edges per target, targets
        with a non-empty group) under each null.

    Raises
    ------
    ValueError
        A Dataset without ``sttc`` or ``z``, or the two covering different pairs."""
    for name, ds in (("circular", circular), ("stimulus", stimulus)):
        for v in ("sttc", "z"):
            if v not in ds:
                raise ValueError(f"{name} pairs must hold {v!r}; got {list(ds.data_vars)}")
    a = ((circular["z"] > threshold) & (circular["sttc"] > 0)).transpose("target", "source")
    b = ((stimulus["z"] > threshold) & (stimulus["sttc"] > 0)).transpose("target", "source")
    if a.shape != b.shape:
        raise ValueError(f"the two tests cover different pairs: {a.shape} vs {b.shape}")
    for dim in ("target", "source"):
        c = f"{dim}_neuron"
        if c in circular.coords and c in stimulus.coords and not np.array_equal(
                circular[c].values, stimulus[c].values):
            raise ValueError(f"the two tests cover different {dim} neurons")
    a, b = a.values, b.values
    n_a, n_b, both = int(a.sum()), int(b.sum()), int((a & b).sum())

    def med_size(sig):
        d = sig.sum(1)
        return float(np.median(d[d > 0])) if (d > 0).any() else 0.0

    return {"pairs": int(a.size), "circular_edges": n_a, "stimulus_edges": n_b,
            "circular_fraction": n_a / max(a.size, 1), "stimulus_fraction": n_b / max(a.size, 1),
            "surviving": both, "survival": both / n_a if n_a else float("nan"),
            "new_edges": int((b & ~a).sum()),
            "circular_group_size": med_size(a), "stimulus_group_size": med_size(b)}


def repeat_subsample(stimulus, repeats: int, n_presentations: int, rng=None) -> np.ndarray:
    """Presentations such that each chosen stimulus is shown exactly ``repeats`` times and
    ``n_presentations`` are chosen in all: the same number of frames with more or fewer
    repetitions of each image. Stimuli with fewer presentations than ``repeats`` are not
    chosen.

    Parameters
    ----------
    stimulus : array_like
        1-D, the stimulus of every presentation.
    repeats : int
        Presentations of each chosen stimulus (>= 2).
    n_presentations : int
        Presentations in all (a multiple of ``repeats``).
    rng : numpy.random.Generator or int, optional
        Which stimuli and presentations are drawn.

    Returns
    -------
    ndarray
        Sorted presentation indices.

    Raises
    ------
    ValueError
        ``stimulus`` not 1-D, ``repeats`` below 2, ``n_presentations`` not a multiple of
        ``repeats``, or too few stimuli shown ``repeats`` times."""
    stim = np.asarray(stimulus)
    if stim.ndim != 1:
        raise ValueError(f"stimulus must be 1-D (one label per presentation), got shape {stim.shape}")
    if not isinstance(repeats, (int, np.integer)) or repeats < 2:
        raise ValueError(f"repeats must be >= 2 (a stimulus shown once cannot repeat), got {repeats}")
    if n_presentations % repeats:
        raise ValueError(f"n_presentations ({n_presentations}) must be a multiple of repeats "
                         f"({repeats})")
    gen = _rng(rng)
    values, counts = np.unique(stim, return_counts=True)
    ok = values[counts >= repeats]
    need = n_presentations // repeats
    if need > ok.size:
        raise ValueError(f"{need} stimuli shown at least {repeats} times are needed for "
                         f"{n_presentations} presentations; the recording has {ok.size}")
    chosen = gen.choice(ok, need, replace=False)
    out = [gen.choice(np.flatnonzero(stim == v), repeats, replace=False) for v in chosen]
    return np.sort(np.concatenate(out))
