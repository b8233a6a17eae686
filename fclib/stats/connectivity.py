"""Pairwise functional connectivity between consecutive layers (paper Fig. 1).

The second half summarises, per layer pair, the response functions of the targets to their
1FC groups (:mod:`fclib.stats.response`): fit quality, the two regimes, the scaling of the
slope with group size, the collapse and the robustness across batches of images (chapters
3-6).

Works on any recording whose layers are ``DataArray(("neuron", "frame"))`` with a boolean
``silent`` coordinate (as written by :mod:`fclib.io.recordings`); the STTC and z come from
:mod:`fclib.stats.sttc` and :mod:`fclib.stats.nulls`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib._util import as_generator as _rng
from fclib.stats.nulls import exact_null, shift_null
from fclib.stats.sttc import as_trains, sttc
from fclib.stats._checks import check_dataset, check_mapping

__all__ = ["active", "consecutive_pairs", "pair_significance", "null_stimulus", "pair_summary", "degree", "null_sample", "summaries", "tail_quantiles"]


def active(spikes: xr.DataArray, load: bool = False) -> xr.DataArray:
    """The non-silent neurons of a layer (the paper excludes silent ones everywhere).

    The result carries a ``neuron`` coordinate holding each neuron's position in the full
    layer, so results over active neurons (``target_neuron``/``source_neuron`` in pairwise
    results) can be joined back to the recording.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recorded layer ``(neuron, frame)``; its ``silent`` coordinate on ``neuron``
        says which neurons go (without one, every neuron is kept).
    load : bool
        Return them read into memory: equal to ``active(spikes).load()``, but a layer still
        on disk is read as one span of rows (:func:`fclib.stats._frames.take_neurons`), not
        row by row as netCDF reads scattered rows (2.5 times faster on the default profile).

    Returns
    -------
    xarray.DataArray
        The active neurons ``(neuron, frame)``."""
    from fclib.stats._checks import as_layer
    from fclib.stats._frames import take_neurons

    spikes = as_layer(spikes, allow_empty=True)
    if "neuron" not in spikes.coords:
        spikes = spikes.assign_coords(neuron=np.arange(spikes.sizes["neuron"]))
    if "silent" not in spikes.coords:
        return spikes.compute() if load else spikes
    rows = np.flatnonzero(~spikes["silent"].values)
    return take_neurons(spikes, rows).load() if load else spikes.isel(neuron=rows)


def consecutive_pairs(layers) -> list[tuple[str, str]]:
    """``[(source, target), ...]`` for consecutive layers: ``[("L1", "L2"), ...]``.

    Parameters
    ----------
    layers : sequence of str
        Layer names in forward order.

    Returns
    -------
    list of (str, str)
        One pair per consecutive two layers.

    Raises
    ------
    TypeError
        ``layers`` is a string, not a sequence of names."""
    if isinstance(layers, str):
        raise TypeError(f"layers must be a sequence of layer names, got the string {layers!r}")
    layers = list(layers)
    return list(zip(layers[:-1], layers[1:]))


def pair_significance(source: xr.DataArray, target: xr.DataArray, method: str = "exact",
                      **kw) -> xr.Dataset:
    """STTC and z of every active (target, source) pair of a layer pair.

    Silent neurons are dropped first.

    Parameters
    ----------
    source, target : xarray.DataArray
        The two layers ``(neuron, frame)`` on the same frames.
    method : str
        ``"exact"``: :func:`fclib.stats.nulls.exact_null`; ``"shifts"``: the paper's
        random-shift test (:func:`fclib.stats.nulls.shift_null`); ``"stimulus"``: the
        stimulus-preserving null (:func:`fclib.stats.stimulus.stimulus_null`, which needs
        ``stimulus=`` and ``T=``).
    **kw
        Passed on to that null.

    Returns
    -------
    xarray.Dataset
        ``sttc`` and ``z`` over ``(target, source)``; where ``source`` and ``target`` are the
        same object (one population against itself) its attrs gain ``same_population=1``.

    Raises
    ------
    ValueError
        An unknown ``method``."""
    from fclib.stats._checks import as_layer, check_same_frames

    if method not in ("exact", "shifts", "stimulus"):
        raise ValueError(f"method must be 'exact', 'shifts' or 'stimulus', got {method!r}")
    same = source is target
    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_same_frames(source, target, "pair_significance")
    src, tgt = active(source, load=True), active(target, load=True)
    if method == "exact":
        ds = exact_null(src, tgt, **kw)
    elif method == "shifts":
        ds = shift_null(src, tgt, **kw)
    elif method == "stimulus":
        from fclib.stats.stimulus import stimulus_null

        ds = stimulus_null(src, tgt, **kw)
    else:
        raise ValueError(f"method must be 'exact', 'shifts' or 'stimulus', got {method!r}")
    ds.attrs.update(source_layer=str(source.name), target_layer=str(target.name))
    if same:  # one population against itself: one_fc_groups keeps neurons out of their own group
        ds.attrs["same_population"] = 1
    return ds


def null_stimulus(spikes: xr.DataArray, T: int, by: str = "image") -> tuple[np.ndarray, str]:
    """The stimulus labels the stimulus-preserving null permutes presentations within.

    ``by="image"``: the image of every presentation; a recording that shows every image once
    (no image repeats, so no permutation is possible) falls back to ``"class"``.

    Parameters
    ----------
    spikes : a recorded layer (``image`` and ``label`` frame coordinates).
    T : steps per presentation.
    by : ``"image"`` or ``"class"``.

    Returns
    -------
    ``(labels, by)``: one label per presentation, and what they are (``"image"`` or
    ``"class"``, after the fall-back).

    Raises
    ------
    ValueError
        ``by`` not ``"image"`` or ``"class"``, or frames not in presentation order
        (:func:`fclib.io.recordings.presentation_stimuli`).
    """
    from fclib.io.recordings import presentation_stimuli

    stim = presentation_stimuli(spikes, T, by)
    if by == "image" and np.unique(stim, return_counts=True)[1].max() < 2:
        by, stim = "class", presentation_stimuli(spikes, T, "class")
    return stim, by


def degree(z: xr.DataArray, sttc_values: xr.DataArray | None = None,
           threshold: float = 4.0) -> xr.DataArray:
    """Degree of connectivity: significant positive sources per target (``z > threshold``).

    Parameters
    ----------
    z : xarray.DataArray
        z over ``(target, source)``.
    sttc_values : xarray.DataArray, optional
        With it, a pair counts only where its STTC is also positive.
    threshold : float
        z threshold of significance.

    Returns
    -------
    xarray.DataArray
        int, dim ``target``.

    Raises
    ------
    TypeError
        ``z`` is not a DataArray over ``(target, source)``."""
    if not isinstance(z, xr.DataArray) or "source" not in z.dims:
        raise TypeError(f"z must be a DataArray over (target, source), such as pairs['z'], got "
                        f"{type(z).__name__}")
    sig = z > threshold
    if sttc_values is not None:
        sig = sig & (sttc_values > 0)
    return sig.sum("source")


def pair_summary(ds: xr.Dataset, threshold: float = 4.0) -> dict:
    """Counts and fractions of significant pairs of one layer pair.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`pair_significance` result.
    threshold : float
        z threshold of significance.

    Returns
    -------
    dict
        ``source``, ``target`` (layer names), ``n_source``, ``n_target``, ``n_pairs`` (with a
        defined z), ``n_pos``/``n_neg`` and ``frac_pos``/``frac_neg`` (``z > threshold`` /
        ``z < -threshold``), ``mean_sttc``, ``mean_degree``/``median_degree`` of the targets
        and ``frac_targets_with_group``."""
    check_dataset(ds, ["sttc", "z"], "ds", "pair_significance()")
    z = ds["z"].values
    ok = np.isfinite(z)
    n = int(ok.sum())
    pos = int((z[ok] > threshold).sum())
    neg = int((z[ok] < -threshold).sum())
    deg = degree(ds["z"], ds["sttc"], threshold).values
    return dict(source=ds.attrs.get("source_layer"), target=ds.attrs.get("target_layer"),
                n_source=ds.sizes["source"], n_target=ds.sizes["target"], n_pairs=n,
                n_pos=pos, n_neg=neg, frac_pos=pos / n if n else np.nan,
                frac_neg=neg / n if n else np.nan,
                mean_sttc=float(np.nanmean(ds["sttc"].values)),
                mean_degree=float(deg.mean()) if deg.size else np.nan,
                median_degree=float(np.median(deg)) if deg.size else np.nan,
                frac_targets_with_group=float((deg > 0).mean()) if deg.size else np.nan)


def null_sample(source: xr.DataArray, target: xr.DataArray, min_shift: int = 20,
                rng=None) -> np.ndarray:
    """STTC of every active pair with the source circularly shifted by one random offset.

    One draw from each pair's shift null: its histogram is the null distribution the
    observed STTC distribution is compared with (Fig. 1 A-C).

    Parameters
    ----------
    source, target : xarray.DataArray
        The two layers ``(neuron, frame)``.
    min_shift : int
        Smallest shift, frames (in [0, n_frames / 2]).
    rng : numpy.random.Generator or int, optional
        The shifts' draws (:func:`fclib._util.as_generator`).

    Returns
    -------
    ndarray
        1-D STTC values of the shifted pairs.

    Raises
    ------
    ValueError
        ``min_shift`` outside [0, n_frames / 2]."""
    from fclib.stats._checks import as_layer, check_same_frames

    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_same_frames(source, target, "null_sample")
    gen = _rng(rng)
    src = as_trains(active(source, load=True))
    L = src.shape[1]
    if not isinstance(min_shift, (int, np.integer)) or min_shift < 0 or L - min_shift < min_shift:
        raise ValueError(f"min_shift must be an int in [0, n_frames / 2] = [0, {L // 2}], "
                         f"got {min_shift!r}")
    s = int(gen.integers(min_shift, L - min_shift + 1))
    tgt = active(target, load=True)
    if src.shape[0] == 0 or tgt.sizes["neuron"] == 0:  # a silent layer: no pair to draw
        return np.empty(0)
    v = sttc(xr.DataArray(np.roll(src, s, axis=1), dims=("neuron", "frame")), tgt).values
    return v[np.isfinite(v)]


def summaries(results: dict, threshold: float = 4.0) -> pd.DataFrame:
    """:func:`pair_summary` of several layer pairs as a table indexed by ``source→target``.

    Parameters
    ----------
    results : dict
        ``{anything: pair_significance Dataset}``.
    threshold : float
        z threshold of significance.

    Returns
    -------
    pandas.DataFrame
        One row per layer pair, the columns of :func:`pair_summary`."""
    check_mapping(results, "results", "{layer pair: pair_significance Dataset}")
    rows = [pair_summary(ds, threshold) for ds in results.values()]
    return pd.DataFrame(rows).set_index(pd.Index([f"{r['source']}→{r['target']}" for r in rows],
                                                 name="layer pair"))


def tail_quantiles(observed: dict, null: dict, q=(0.001, 0.999)) -> pd.DataFrame:
    """Tail quantiles of the observed STTC and of its null sample, per layer pair.

    Parameters
    ----------
    observed, null : dict
        ``{layer pair: 1-D STTC values}`` (e.g. :func:`null_sample`).
    q : sequence of float
        The quantiles.

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair with ``observed`` and ``null`` columns per quantile, named as
        percentiles (``"observed 99.9th pct"``); ``NaN`` for an empty sample.

    Raises
    ------
    ValueError
        ``observed`` and ``null`` hold different layer pairs."""
    if set(observed) != set(null):
        raise ValueError(f"observed and null must hold the same layer pairs; got {sorted(observed)} and "
                         f"{sorted(null)}")
    rows = {}
    for name in observed:
        row = {}
        for quant in q:
            lab = f"{100 * quant:g}th pct"
            for what, d in (("observed", observed), ("null", null)):
                v = np.asarray(d[name], dtype=float)
                v = v[np.isfinite(v)]
                row[f"{what} {lab}"] = float(np.quantile(v, quant)) if v.size else np.nan
        rows[name] = row
    out = pd.DataFrame(rows).T
    out.index.name = "layer pair"
    return out
