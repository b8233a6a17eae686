"""What a sample of a layer misses: the analysis redone on fractions of the recorded neurons.

The paper records about 8,000 neurons of each 65,536-neuron layer (a central spatial patch,
:func:`fclib.io.recordings.sample_neurons`), i.e. 1/8 of the layer, and finds groups,
degrees and response functions in that sample. Where every neuron is recorded, the same
analysis can be repeated on seeded subsets of a fraction ``f`` of both layers of a pair,
and each number compared with its value on the whole layer:

* a pair's significance depends on its two trains only, so the share of significant pairs
  should not change with ``f`` (only its sampling error grows);
* a 1FC group is the significant sources *that were recorded*, so its size (the degree)
  should shrink in proportion to ``f``;
* the response function's x axis is the group's co-firing, which shrinks with the group:
  the ReLU slope (firing probability per co-firing member) should grow about as ``1 / f``,
  while the onset as a fraction of the group size ``N`` should stay put.

:func:`sampling_effects` measures all of them; :func:`sampling_ratios` sets them against
the whole layer. The edges come from :func:`fclib.stats.edges.significant_edges` (the exact
null) and the responses from :mod:`fclib.stats.response`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib._util import as_generator
from fclib.stats import response as fr
from fclib.stats.connectivity import active
from fclib.stats.edges import edge_summary, groups_from_edges, significant_edges
from fclib.stats._checks import check_table

__all__ = ["recorded_share", "subsample", "sampling_effects", "sampling_ratios"]


def recorded_share(spikes: xr.DataArray) -> float:
    """The share of its layer's neurons a recorded layer holds: recorded neurons over
    ``C x H x W``.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recorded layer with the ``layer_shape`` attribute a recording gives each layer.

    Returns
    -------
    float
        The share, in (0, 1].

    Raises
    ------
    ValueError
        No ``layer_shape`` attribute."""
    shape = spikes.attrs.get("layer_shape")
    if shape is None:
        raise ValueError("spikes need the 'layer_shape' attribute of a recorded layer "
                         "(fclib.io.recordings.open_recording)")
    return spikes.sizes["neuron"] / int(np.prod(shape))


def subsample(spikes: xr.DataArray, fraction: float, *, how: str = "random",
              rng=None) -> xr.DataArray:
    """The neurons of a recorded layer that a sample of ``fraction`` of it would hold.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recorded layer ``(neuron, frame)``.
    fraction : float
        In (0, 1]; 1 returns ``spikes``.
    how : str
        ``"random"``: ``round(fraction * n)`` neurons drawn without replacement, in their
        recorded order. ``"patch"``: the paper's kind of sample, a central ``s x s`` spatial
        patch of every channel with ``s = round(sqrt(fraction) * min(H, W))`` (at least 1),
        using the ``y``/``x`` neuron coordinates; the fraction kept is then ``s^2 / (H W)``.
    rng : numpy.random.Generator or int, optional
        The random draw.

    Returns
    -------
    xarray.DataArray
        The kept neurons ``(neuron, frame)``.

    Raises
    ------
    ValueError
        ``fraction`` outside (0, 1], an unknown ``how``, or ``how="patch"`` without ``y``/``x``
        coordinates."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    n = spikes.sizes["neuron"]
    if fraction == 1:
        return spikes
    if how == "random":
        k = max(1, int(round(fraction * n)))
        keep = np.sort(as_generator(rng).choice(n, k, replace=False))
    elif how == "patch":
        if not {"y", "x"} <= set(spikes.coords):
            raise ValueError("how='patch' needs the y and x neuron coordinates of a recording")
        y, x = spikes["y"].values, spikes["x"].values
        h, w = int(y.max()) + 1, int(x.max()) + 1
        s = max(1, int(round(np.sqrt(fraction) * min(h, w))))
        y0, x0 = (h - s) // 2, (w - s) // 2
        keep = np.flatnonzero((y >= y0) & (y < y0 + s) & (x >= x0) & (x < x0 + s))
    else:
        raise ValueError(f"how must be 'random' or 'patch', got {how!r}")
    return spikes.isel(neuron=keep)


def _median(v) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else np.nan


def sampling_effects(source: xr.DataArray, target: xr.DataArray, T: int,
                     fractions=(0.125, 0.25, 0.5, 1.0), *, how="random",
                     n_draws: int = 1, threshold: float = 4.0, min_frames: int = 10,
                     saturation: float = 0.95, r2_min: float = 0.8, rng=None,
                     client=None) -> pd.DataFrame:
    """The connectivity and response statistics of a layer pair on samples of its layers.

    For every fraction (and ``n_draws`` seeded draws of it; one for ``1``), both layers are
    reduced with :func:`subsample`, silent neurons dropped, and the pair analysed as the
    book does: edges under the exact null at ``threshold``
    (:func:`fclib.stats.edges.significant_edges`, on ``client`` if given), 1FC groups,
    co-firing, response counts and ReLU / two-line fits (:func:`fclib.stats.response.fit_response`).

    Parameters
    ----------
    source, target : recorded layers ``DataArray(("neuron", "frame"))`` (named, with
        ``neuron`` ids and, for ``how="patch"``, ``y``/``x`` coordinates); loaded into
        memory whole (``L`` bytes per neuron).
    T : time steps per presentation (the recording's ``T``).
    fractions : the shares of each layer kept (1: the whole layer).
    how : ``"random"``, ``"patch"`` (:func:`subsample`) or a sequence of them: the rows of
        each in turn, with the whole layer (fraction 1, the same for every ``how``) analysed
        once and its row repeated under each.
    n_draws : draws per fraction below 1 (``how="random"``; a patch is fixed: one).
    threshold : z threshold of an edge.
    min_frames, saturation, r2_min : as in :func:`fclib.stats.response.fit_response` and
        :func:`fclib.stats.response.neuron_properties`.
    rng : numpy Generator or int seed of the draws.
    client : a ``distributed.Client`` for the edges (:func:`fclib.stats.distributed.connect`).

    Returns
    -------
    DataFrame, one row per (fraction, draw): ``layer pair``, ``how``, ``fraction`` (asked),
    ``recorded`` (the share of the source layer kept), ``draw``, ``n_source``,
    ``n_target`` (active neurons), ``significant`` (share of pairs with
    ``z > threshold``), ``negative`` (``z < -threshold``), ``mean_degree``,
    ``median_degree``, ``with_group`` (share of targets with a non-empty group),
    ``selected`` (share of targets with a ReLU fit of ``R^2 > r2_min``), ``relu_slope`` and
    ``onset_fraction`` (medians over the selected targets of the ReLU slope and of the
    two-line intersection as a fraction of the group size).

    Raises
    ------
    ValueError
        An unknown ``how``, or a fraction outside (0, 1] (:func:`subsample`).
    """
    rng = as_generator(rng)
    hows = [how] if isinstance(how, str) else list(how)
    for h in hows:
        if h not in ("random", "patch"):
            raise ValueError(f"how must be 'random' or 'patch', got {h!r}")
    pair = f"{source.name}→{target.name}"
    source, target = source.load(), target.load()  # subsets of a file-backed layer read slowly
    rows, whole = [], None
    for h in hows:
        for f in fractions:
            for d in range(1 if f == 1 or h == "patch" else int(n_draws)):
                if f == 1 and whole is not None:
                    rows.append({**whole, "how": h})
                    continue
                src = subsample(source, f, how=h, rng=rng)
                tgt = subsample(target, f, how=h, rng=rng)
                row = {"layer pair": pair, "how": h, "fraction": float(f), "draw": d,
                       **_sample_row(src, tgt, T, threshold, min_frames, saturation, r2_min,
                                     client),
                       "recorded": src.sizes["neuron"] / source.sizes["neuron"]}
                if f == 1:
                    whole = row
                rows.append(row)
    columns = ["layer pair", "how", "fraction", "recorded", "draw", "n_source", "n_target",
               "significant", "negative", "mean_degree", "median_degree", "with_group",
               "selected", "relu_slope", "onset_fraction"]
    return pd.DataFrame(rows, columns=columns)


def _sample_row(src, tgt, T, threshold, min_frames, saturation, r2_min, client) -> dict:
    """The statistics of one sample of a layer pair (:func:`sampling_effects`)."""
    src_a, tgt_a = active(src, load=True), active(tgt, load=True)
    e = significant_edges(src_a, tgt_a, threshold, client=client)
    s = edge_summary(e)
    g = groups_from_edges(e, threshold)
    counts = fr.response_counts(fr.cofiring(src_a, g), tgt_a)
    fits = fr.fit_response(counts, min_frames=min_frames, saturation=saturation)
    props = fr.neuron_properties(counts, fits, tgt_a, T, r2_min=r2_min)
    sel = props["selected"].values
    return {"n_source": s["n_source"], "n_target": s["n_target"],
            "significant": s["frac_pos"], "negative": s["frac_neg"],
            "mean_degree": s["mean_degree"], "median_degree": s["median_degree"],
            "with_group": s["frac_targets_with_group"],
            "selected": float(sel.mean()) if sel.size else np.nan,
            "relu_slope": _median(props["relu_slope"].values[sel]),
            "onset_fraction": _median(props["intersection_fraction"].values[sel])}


def sampling_ratios(table: pd.DataFrame,
                    columns=("significant", "mean_degree", "relu_slope", "onset_fraction")
                    ) -> pd.DataFrame:
    """Each statistic of :func:`sampling_effects` (mean over draws) divided by its value on
    the whole layer (``fraction == 1``) of the same layer pair and ``how``.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`sampling_effects` table.
    columns : sequence of str
        The statistics.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(layer pair, how, fraction)`` with one column per statistic and
        ``recorded``; ``NaN`` where the whole-layer value is 0 or missing."""
    check_table(table, ["layer pair", "how", "fraction"], "table", "sampling_effects()")
    keys = ["layer pair", "how", "fraction"]
    mean = table.groupby(keys)[["recorded", *columns]].mean()
    full = mean.xs(1.0, level="fraction")
    out = mean.copy()
    for c in columns:
        ref = full[c].reindex(mean.index.droplevel("fraction")).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out[c] = np.where(ref != 0, mean[c].to_numpy() / ref, np.nan)
    return out
