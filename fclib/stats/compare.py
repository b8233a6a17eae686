"""Comparisons of one measure across layers, conditions and networks (chapters 7, 10, 11).

The paper's later claims are comparisons: information *rises with depth* (Fig. A6), response
functions are *disrupted under noise and FGSM* (Figs. 4, 5, A13), STTC distributions are
*largely unchanged* in a network with permuted weights while its groups *fail to form*
(Fig. A17). This module turns the cached per-neuron results of two layers, conditions or
networks into those comparisons:

- :func:`trend` and :func:`spearman_by`: Spearman's rank correlation of a measure with depth,
  and of two columns within each group of a table; :func:`first_to_last`: how much a curve
  changes from its first to its last value;
- :func:`information_by_layer` and :func:`information_vs_degree`: per-layer MI summaries and
  the MI-against-group-size table with its hubs;
- :func:`condition_responses`, :func:`condition_summary` and :func:`spread_by_information`:
  the response functions of a layer pair under a distortion against the original;
- :func:`ks_distance`, :func:`network_properties` and :func:`median_ratio`: trained against
  permuted network.

Spearman's rho is the Pearson correlation of the ranks (ties get their mean rank); the
two-sample Kolmogorov–Smirnov distance is ``sup_x |F_a(x) - F_b(x)|`` of the two empirical
distribution functions (``scipy.stats.ks_2samp``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib._util import as_generator
from fclib.io.populations import LayerPair
from fclib.stats._checks import check_dataset, check_mapping, check_numbers, check_table

__all__ = ["trend", "spearman_by", "first_to_last", "information_by_layer", "information_vs_degree",
           "condition_responses", "condition_summary", "spread_by_information",
           "ks_distance", "network_properties", "median_ratio", "first_biting"]


# --------------------------------------------------------------------------- correlations
def trend(values) -> float:
    """Spearman's rho of ``values`` against their position (0, 1, 2, ...): +1 when they rise
    with every step, -1 when they fall.

    Parameters
    ----------
    values : array_like
        1-D values in order; NaN values are left out.

    Returns
    -------
    float
        rho; NaN with fewer than three finite values."""
    check_numbers(values, "values")
    from scipy.stats import spearmanr

    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if ok.sum() < 3:
        return float("nan")
    return float(spearmanr(np.flatnonzero(ok), v[ok]).statistic)


def spearman_by(table: pd.DataFrame, x: str, y: str, by: str) -> pd.Series:
    """Spearman's rho of columns ``x`` and ``y`` within each group of column ``by``.

    Parameters
    ----------
    table : pandas.DataFrame
        Holds the three columns.
    x, y : str
        The correlated columns (rows with a NaN in either left out).
    by : str
        The grouping column.

    Returns
    -------
    pandas.Series
        rho per group, indexed by the groups in their order of appearance (categories in
        their order); NaN for a group with fewer than three rows."""
    check_table(table, [x, y, by], "table")
    from scipy.stats import spearmanr

    out = {}
    for key, d in table.groupby(by, observed=True, sort=False):
        d = d[[x, y]].dropna()
        out[key] = float(spearmanr(d[x], d[y]).statistic) if len(d) > 2 else float("nan")
    return pd.Series(out, name="Spearman rho", dtype=float)


def first_to_last(table: pd.DataFrame, column: str, by: str) -> pd.Series:
    """Last minus first non-NaN value of ``column`` within each group of ``by`` (rows in
    their order, e.g. co-firing bins).

    Parameters
    ----------
    table : pandas.DataFrame
        Holds both columns.
    column : str
        The values.
    by : str
        The grouping column.

    Returns
    -------
    pandas.Series
        The difference per group; NaN for a group with fewer than two values."""
    check_table(table, [column, by], "table")
    def change(v):
        v = v.dropna()
        return float(v.iloc[-1] - v.iloc[0]) if len(v) > 1 else float("nan")

    return table.groupby(by, observed=True, sort=False)[column].agg(change).astype(float)


# --------------------------------------------------------------------------- information
def information_by_layer(info: dict) -> pd.DataFrame:
    """Per-layer summary of :func:`fclib.stats.information.information` results.

    Parameters
    ----------
    info : dict of str to xarray.Dataset
        A layer name to its information Dataset (the neurons to summarise, e.g. the active
        ones).

    Returns
    -------
    pandas.DataFrame
        Indexed by layer: ``neurons``, ``median MI`` and ``90th pct MI`` (shuffle-corrected,
        bits), ``shuffle bias`` (mean MI of label-shuffled data, the plug-in bias removed)
        and ``max possible`` (log2 of the number of classes)."""
    check_mapping(info, "info", "{layer: information Dataset}")
    rows = {}
    for layer, ds in info.items():
        mi = ds["mi_corrected"]
        rows[layer] = {"neurons": int(ds.sizes["neuron"]),
                       "median MI": float(mi.median()) if mi.size else np.nan,
                       "90th pct MI": float(mi.quantile(0.9)) if mi.size else np.nan,
                       "shuffle bias": float(ds["mi_shuffled"].mean()) if mi.size else np.nan,
                       "max possible": float(np.log2(ds.sizes["class"]))}
    return pd.DataFrame.from_dict(rows, orient="index")


def information_vs_degree(responses: dict, info: dict, hub_quantile: float = 0.9,
                          hub_pair: str | None = None) -> pd.DataFrame:
    """Group size against MI for the target neurons of every layer pair, with hubs.

    Parameters
    ----------
    responses : dict of str to xarray.Dataset
        ``{"L1→L2": Dataset}`` with ``neuron`` and ``degree`` (as
        :meth:`fclib.pipeline.Run.responses` returns).
    info : dict of str to xarray.Dataset
        ``{layer: Dataset}`` with ``mi_corrected`` over ``neuron`` for every target layer.
    hub_quantile : float
        Hubs are above this quantile of both degree and MI
        (:func:`fclib.stats.information.hubs`).
    hub_pair : str, optional
        The layer pair whose hubs are marked; by default the last.

    Returns
    -------
    pandas.DataFrame
        ``layer pair`` (categorical, in the order of ``responses``), ``neuron``, ``degree``,
        ``mi`` and ``hub`` (bool, False outside ``hub_pair``).

    Raises
    ------
    ValueError
        No layer pairs, a ``hub_pair`` not among them, or a target layer without
        information."""
    from fclib.stats.information import hubs

    names = list(responses)
    if not names:
        raise ValueError("no layer pairs given")
    hub_pair = names[-1] if hub_pair is None else hub_pair
    if hub_pair not in responses:
        raise ValueError(f"hub_pair {hub_pair!r} is not one of the layer pairs {names}")
    parts = []
    for k, ds in responses.items():
        target = LayerPair.parse(k).target
        if target not in info:
            raise ValueError(f"no information for {target}, the target layer of {k}")
        neurons = ds["neuron"].values
        mi = info[target]["mi_corrected"].sel(neuron=neurons).values
        part = pd.DataFrame({"layer pair": k, "neuron": neurons,
                             "degree": ds["degree"].values, "mi": mi, "hub": False})
        if k == hub_pair:
            part["hub"] = np.asarray(hubs(part["mi"].to_numpy(), part["degree"].to_numpy(),
                                          hub_quantile), dtype=bool)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["layer pair"] = pd.Categorical(out["layer pair"], categories=names, ordered=True)
    return out


# --------------------------------------------------------------------------- conditions
def condition_responses(reference: xr.Dataset, responses: dict, layer_pair: str = "",
                        selected_only: bool = True) -> pd.DataFrame:
    """The response functions of one layer pair under each condition against the reference.

    Parameters
    ----------
    reference : xarray.Dataset
        The original condition's response Dataset (``relu_slope``, ``intersection``,
        ``selected`` over ``neuron``); its groups are the ones kept.
    responses : dict of str to xarray.Dataset
        ``{condition: Dataset}`` for the same neurons (the reference itself may be one of
        them), with ``relu_r2``, ``relu_slope``, ``n_frames`` and ``n_fire``.
    layer_pair : str
        The ``layer pair`` column's value.
    selected_only : bool
        Keep the neurons selected on the reference only.

    Returns
    -------
    pandas.DataFrame
        One row per (condition, neuron): ``layer pair``, ``condition``, ``neuron``,
        ``relu_r2``, ``slope change`` (``(slope - slope_ref) / slope_ref``) and ``strong
        regime reached`` (share of frames whose co-firing exceeds the neuron's *reference*
        two-line intersection, :func:`fclib.stats.response.fraction_above`).

    Raises
    ------
    ValueError
        A condition holding other neurons than the reference."""
    check_dataset(reference, ["neuron", "relu_slope", "intersection", "selected"], "reference",
                  "fclib.pipeline.Run.response")
    check_mapping(responses, "responses", "{condition: response Dataset}")
    from fclib.stats.response import fraction_above

    ref_neurons = reference["neuron"].values
    slope0 = reference["relu_slope"].values
    keep = reference["selected"].values.astype(bool) if selected_only else \
        np.ones(ref_neurons.size, dtype=bool)
    rows = []
    for c, ds in responses.items():
        if not np.array_equal(ds["neuron"].values, ref_neurons):
            raise ValueError(f"condition {c!r} holds other neurons than the reference; "
                             "compute both from the same groups")
        with np.errstate(invalid="ignore", divide="ignore"):
            change = (ds["relu_slope"].values - slope0) / slope0
        strong = fraction_above(ds[["n_frames", "n_fire"]], reference["intersection"].values)
        rows.append(pd.DataFrame({"layer pair": layer_pair, "condition": c,
                                  "neuron": ref_neurons, "relu_r2": ds["relu_r2"].values,
                                  "slope change": change,
                                  "strong regime reached": np.asarray(strong)})[keep])
    return pd.concat(rows, ignore_index=True)


def condition_summary(table: pd.DataFrame, r2_min: float) -> pd.DataFrame:
    """Per (layer pair, condition) summary of a :func:`condition_responses` table.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`condition_responses` table.
    r2_min : float
        Fits with ``relu_r2`` above it are kept.

    Returns
    -------
    pandas.DataFrame
        Indexed by (layer pair, condition): ``median_r2``, ``kept_r2`` (share of neurons
        with ``relu_r2 > r2_min``), ``median_abs_slope_change`` and ``strong`` (median share
        of frames beyond the reference intersection)."""
    check_table(table, ["layer pair", "condition"], "table", "condition_responses()")
    def share_above(v):
        return float((v > r2_min).mean())

    def median_abs(v):
        v = np.abs(np.asarray(v, dtype=float))
        return float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan

    return table.groupby(["layer pair", "condition"], observed=True, sort=False).agg(
        median_r2=("relu_r2", "median"), kept_r2=("relu_r2", share_above),
        median_abs_slope_change=("slope change", median_abs),
        strong=("strong regime reached", "median"))


def spread_by_information(table: pd.DataFrame, mi: str = "MI", value: str = "slope change",
                          by=("layer pair", "condition")) -> pd.DataFrame:
    """Does a change scatter less for informative neurons? (the paper's Fig. A13)

    Within each group of ``by``: Spearman's rho of ``|value|`` with ``mi`` (``rho``), and the
    interquartile range of ``value`` for the neurons in the lowest third of ``mi``
    (``iqr_low_mi``) and in the highest third (``iqr_high_mi``). Rows with a NaN ``value``
    are left out.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per neuron (and group), with columns ``mi``, ``value`` and ``by``.
    mi : str
        The information column.
    value : str
        The changed quantity.
    by : sequence of str
        The grouping columns.

    Returns
    -------
    pandas.DataFrame
        ``rho``, ``iqr_low_mi``, ``iqr_high_mi`` indexed by ``by``."""
    check_table(table, [mi, value, *([by] if isinstance(by, str) else by)], "table")
    from scipy.stats import spearmanr

    def iqr(v):
        v = np.asarray(v, dtype=float)
        return float(np.subtract(*np.quantile(v, [0.75, 0.25]))) if v.size else np.nan

    rows = {}
    for key, d in table.dropna(subset=[value, mi]).groupby(list(by), observed=True, sort=False):
        if len(d) < 3:
            rows[key] = dict(rho=np.nan, iqr_low_mi=np.nan, iqr_high_mi=np.nan, neurons=len(d))
            continue
        lo, hi = np.quantile(d[mi], [1 / 3, 2 / 3])
        rows[key] = dict(rho=float(spearmanr(d[mi], d[value].abs()).statistic),
                         iqr_low_mi=iqr(d.loc[d[mi] <= lo, value]),
                         iqr_high_mi=iqr(d.loc[d[mi] >= hi, value]), neurons=len(d))
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=list(by)) if len(by) > 1 \
        else pd.Index([k[0] if isinstance(k, tuple) else k for k in out.index], name=by[0])
    return out


# --------------------------------------------------------------------------- networks
def ks_distance(a, b, max_samples: int | None = 200_000, rng=None) -> float:
    """Two-sample Kolmogorov–Smirnov distance between the finite values of ``a`` and ``b``.

    ``sup_x |F_a(x) - F_b(x)|`` of the two empirical distribution functions: 0 for identical
    samples, 1 for samples that do not overlap.

    Parameters
    ----------
    a, b : array_like
        The two samples (non-finite values left out).
    max_samples : int or None
        A sample larger than this is first subsampled without replacement, which keeps the
        statistic within about ``1 / sqrt(max_samples)`` of the full one; ``None``: never.
    rng : numpy.random.Generator or int, optional
        The subsampling's draws (:func:`fclib._util.as_generator`).

    Returns
    -------
    float
        The distance in [0, 1]; NaN when either sample holds no finite value."""
    from scipy.stats import ks_2samp

    gen = as_generator(rng)
    out = []
    for v in (a, b):
        v = np.asarray(v.values if isinstance(v, xr.DataArray) else v, dtype=float).ravel()
        v = v[np.isfinite(v)]
        if max_samples is not None and v.size > max_samples:
            v = gen.choice(v, max_samples, replace=False)
        out.append(v)
    if not (out[0].size and out[1].size):
        return float("nan")
    return float(ks_2samp(out[0], out[1]).statistic)


def network_properties(pairs: xr.Dataset, response: xr.Dataset, information: xr.Dataset,
                       threshold: float, min_frames: int = 10) -> dict:
    """What a network's layer pair shows, for comparing a trained with a permuted network.

    Parameters
    ----------
    pairs : xarray.Dataset
        STTC and z over ``(target, source)`` (:meth:`fclib.pipeline.Run.pairs`).
    response : xarray.Dataset
        The layer pair's response Dataset (``degree``, ``selected``, ``relu_slope``,
        ``n_frames``, ``n_fire`` over ``(neuron, cofiring)``).
    information : xarray.Dataset
        The target layer's information Dataset (``mi_corrected`` over ``neuron``).
    threshold : float
        z threshold of significance (the one the groups were built with).
    min_frames : int
        Co-firing values seen in fewer frames do not count for the highest firing
        probability.

    Returns
    -------
    dict
        ``active targets``; ``median STTC``; ``significant`` (share of pairs with
        ``z > threshold`` and positive STTC); ``with a group`` (share of targets with a
        non-empty 1FC group); ``median group size`` (of those; 0 without any); ``selected
        (of grouped)`` (share of grouped targets whose fit is selected; NaN without any);
        ``median slope x N`` (selected targets); ``median max p`` (highest firing
        probability a grouped target reaches); ``median MI (bits)`` (the targets' corrected
        MI)."""
    check_dataset(pairs, ["sttc", "z"], "pairs", "fclib.pipeline.Run.pairs")
    check_dataset(response, ["degree", "selected", "relu_slope", "n_frames", "n_fire"], "response",
                  "fclib.pipeline.Run.response")
    check_dataset(information, ["mi_corrected"], "information", "fclib.stats.information.information")
    sttc, z = pairs["sttc"].values, pairs["z"].values
    deg = response["degree"].values
    has = deg > 0
    sel = response["selected"].values.astype(bool)
    p = (response["n_fire"] / response["n_frames"].where(response["n_frames"] >= min_frames))
    maxp = p.max("cofiring").values
    slope_n = (response["relu_slope"] * response["degree"]).values[sel]

    def nanmedian(v):
        v = np.asarray(v, dtype=float)
        return float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan

    return {"active targets": int(pairs.sizes["target"]),
            "median STTC": nanmedian(sttc),
            "significant": float(((z > threshold) & (sttc > 0)).mean()) if z.size else np.nan,
            "with a group": float(has.mean()) if has.size else np.nan,
            "median group size": float(np.median(deg[has])) if has.any() else 0.0,
            "selected (of grouped)": float(sel[has].mean()) if has.any() else np.nan,
            "median slope x N": nanmedian(slope_n),
            "median max p": nanmedian(maxp[has]) if has.any() else np.nan,
            "median MI (bits)": nanmedian(
                information["mi_corrected"].sel(neuron=response["neuron"].values).values)}


def median_ratio(table: pd.DataFrame, column: str, numerator: str, denominator: str,
                 rows=None, by: str = "layer pair", between: str = "network") -> float:
    """Median over ``rows`` of ``column``'s ratio ``numerator / denominator`` between two
    groups (e.g. networks "permuted" over "trained").

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with columns ``column``, ``by`` and ``between``.
    column : str
        The compared quantity.
    numerator, denominator : str
        Values of ``between`` to divide.
    rows : sequence, optional
        Values of ``by`` to take (all by default).
    by : str
        The column the ratio is taken per value of.
    between : str
        The column naming the compared groups.

    Returns
    -------
    float
        The median ratio; rows whose ratio is not finite are left out; NaN if none is."""
    check_table(table, [column, by, between], "table")
    wide = table.pivot(index=by, columns=between, values=column)
    if rows is not None:
        wide = wide.loc[list(rows)]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (wide[numerator] / wide[denominator]).to_numpy(dtype=float)
    r = r[np.isfinite(r)]
    return float(np.median(r)) if r.size else float("nan")


def first_biting(strengths, accuracies, clean: float, fraction: float = 0.5):
    """The weakest perturbation that "bites": the smallest of ``strengths`` whose accuracy
    is at most ``fraction`` of the ``clean`` accuracy, or ``None`` when none does.

    Parameters
    ----------
    strengths : perturbation strengths (e.g. FGSM epsilons), any order.
    accuracies : the accuracy at each strength.
    clean : the accuracy without perturbation.
    fraction : the share of the clean accuracy at or below which an attack bites.

    Returns
    -------
    float or None.

    Raises
    ------
    ValueError
        ``strengths`` and ``accuracies`` of different lengths, or ``fraction`` outside (0, 1].
    """
    s = np.asarray(strengths, dtype=float)
    a = np.asarray(accuracies, dtype=float)
    if s.shape != a.shape or s.ndim != 1:
        raise ValueError(f"strengths and accuracies must be 1-D of one length, got {s.shape} "
                         f"and {a.shape}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    ok = a <= fraction * float(clean)
    return float(s[ok].min()) if ok.any() else None
