"""Per-layer-pair summary tables of the response properties (chapters 3-6): ReLU fit
quality, where the strong regime starts, slope scaling and collapse, robustness across
batches of images. Each takes the property tables and responses of
:func:`fclib.stats.response.property_table` / ``Run.responses`` and returns a DataFrame.

Kept apart from :mod:`fclib.stats.connectivity` so that the pairs' code fingerprint (the
cache key of every pair file) does not depend on the response code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fclib._util import as_generator as _rng
from fclib.stats._checks import check_mapping, check_table

__all__ = ["relu_fit_summary", "regime_summary", "power_laws", "collapse_scan", "collapse_summary", "batch_robustness"]


def _per_pair(table: pd.DataFrame):
    return table.groupby("layer pair", observed=True)


def relu_fit_summary(table: pd.DataFrame, responses: dict, min_frames: int = 10,
                     high: float = 0.9) -> pd.DataFrame:
    """Quality of the ReLU fits per layer pair (paper Fig. 2 D-L).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`fclib.stats.response.property_table` of ``responses``.
    responses : dict
        ``{layer pair: response Dataset}``, the same order.
    min_frames : int
        Co-firing values seen in fewer frames do not count for the peak.
    high : float
        The peak firing probability counted in ``above <high>``.

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair: ``neurons``, ``selected`` (share with the selection's R²),
        ``median_r2``, ``median_nrmse``, ``median_slope``, ``peak_p_max`` (the highest
        firing probability at a co-firing value seen in at least ``min_frames`` frames) and
        ``above <high>`` (neurons whose peak exceeds ``high``).

    Raises
    ------
    ValueError
        ``table`` does not hold one row per neuron of ``responses``."""
    from fclib.stats.response import response_curve

    peak = np.concatenate([response_curve(ds, min_frames).max("cofiring").values
                           for ds in responses.values()]) if responses else np.zeros(0)
    if peak.size != len(table):
        raise ValueError(f"table has {len(table)} rows but the responses {peak.size} neurons; "
                         "pass property_table(responses)")
    t = table.assign(peak_p=peak)
    return _per_pair(t).agg(
        neurons=("neuron", "size"), selected=("selected", "mean"),
        median_r2=("relu_r2", "median"), median_nrmse=("relu_nrmse", "median"),
        median_slope=("relu_slope", "median"), peak_p_max=("peak_p", "max"),
        **{f"above {high:g}": ("peak_p", lambda v: int((v > high).sum()))})


def regime_summary(selected: pd.DataFrame, band=(0.05, 0.16)) -> pd.DataFrame:
    """Medians of the two-regime properties per layer pair (paper Fig. 2 Q-T).

    Parameters
    ----------
    selected : pandas.DataFrame
        Rows of :func:`fclib.stats.response.property_table` (the selected neurons).
    band : (float, float)
        The intersection fractions counted ``in band`` (the paper's 5-16 %).

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair: ``neurons`` and the medians of ``intersection_fraction``,
        ``rise_quantile``, ``strong_fraction``, ``intersection_of_max`` and ``lines_r2``;
        ``two_regimes``: the share of neurons with a two-line fit whose second line is the
        steeper; ``in band``: the share whose intersection fraction lies in ``band``."""
    check_table(selected, ["layer pair"], "selected", "fclib.stats.response.property_table()")
    lo, hi = band
    return _per_pair(selected).agg(
        neurons=("neuron", "size"),
        intersection_fraction=("intersection_fraction", "median"),
        rise_quantile=("rise_quantile", "median"),
        strong_fraction=("strong_fraction", "median"),
        intersection_of_max=("intersection_of_max", "median"),
        lines_r2=("lines_r2", "median"),
        two_regimes=("intersection", lambda v: float(v.notna().mean())),
        **{"in band": ("intersection_fraction", lambda v: float(v.between(lo, hi).mean()))})


def power_laws(selected: pd.DataFrame, names=None) -> pd.DataFrame:
    """Power law ``slope = a N^-beta`` of the ReLU slope against the 1FC group size N, per
    layer pair (paper Fig. A3), by :func:`fclib.stats.fits.fit_power_law`.

    Parameters
    ----------
    selected : pandas.DataFrame
        Rows of :func:`fclib.stats.response.property_table` (the selected neurons).
    names : sequence of str, optional
        The layer pairs, in order (default: those of ``selected``).

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair: the fit's columns, ``falls`` / ``rises`` (beta more than two
        standard errors above / below zero) and ``span``: the 95th over the 5th percentile
        of N (at least 1), how far the group sizes reach."""
    check_table(selected, ["layer pair"], "selected", "fclib.stats.response.property_table()")
    from fclib.stats.fits import fit_power_law

    names = list(selected["layer pair"].unique()) if names is None else list(names)
    rows = {}
    for name in names:
        d = selected[selected["layer pair"] == name]
        law = dict(fit_power_law(d["degree"], d["relu_slope"]))
        n = d["degree"].astype(float)
        law["span"] = (float(n.quantile(0.95) / max(n.quantile(0.05), 1)) if len(n)
                       else np.nan)
        rows[name] = law
    out = pd.DataFrame(rows).T.astype(float)
    out["falls"] = out["beta"] - 2 * out["beta_se"] > 0
    out["rises"] = out["beta"] + 2 * out["beta_se"] < 0
    out.index.name = "layer pair"
    return out


def collapse_scan(responses: dict, exponents, min_frames: int = 10) -> pd.DataFrame:
    """Collapse R² (:func:`fclib.stats.response.collapse_r2`) of the selected neurons of
    each layer pair against the exponent ``e`` of the rescaling ``k / N^e``.

    Parameters
    ----------
    responses : dict
        ``{layer pair: response Dataset}``.
    exponents : sequence of float
        The exponents scanned.
    min_frames : int
        As :func:`fclib.stats.response.collapse_r2`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``exponent``, one column per layer pair."""
    check_mapping(responses, "responses", "{layer pair: response Dataset}")
    from fclib.stats.response import collapse_r2

    grid = np.asarray(exponents, dtype=float)
    out = {}
    for name, ds in responses.items():
        ids = ds["neuron"].values[ds["selected"].values]
        out[name] = [collapse_r2(ds, float(e), ids, min_frames) for e in grid]
    return pd.DataFrame(out, index=pd.Index(grid, name="exponent"))


def collapse_summary(responses: dict, laws: pd.DataFrame, scan: pd.DataFrame,
                     min_frames: int = 10) -> pd.DataFrame:
    """How well one curve of rescaled co-firing describes a layer pair's response functions.

    Parameters
    ----------
    responses : dict
        ``{layer pair: response Dataset}``.
    laws : pandas.DataFrame
        :func:`power_laws`.
    scan : pandas.DataFrame
        :func:`collapse_scan` (must include exponent 0).
    min_frames : int
        As :func:`fclib.stats.response.collapse_r2`.

    Returns
    -------
    pandas.DataFrame
        Indexed by layer pair: the collapse R² of ``raw co-firing`` (e = 0), ``fraction of
        group`` (e = 1) and ``k / N^beta`` (e = the fitted beta), that ``beta``, ``gain``
        (``k / N^beta`` minus raw), and the scan's ``best exponent`` and ``best collapse``
        (``NaN`` where no exponent gives a finite R²).

    Raises
    ------
    ValueError
        ``scan`` lacks exponent 0."""
    from fclib.stats.response import collapse_r2

    if 0.0 not in scan.index:
        raise ValueError("scan must include exponent 0 (raw co-firing)")
    rows = {}
    for name, ds in responses.items():
        ids = ds["neuron"].values[ds["selected"].values]
        b = float(laws.loc[name, "beta"])
        col = scan[name].to_numpy(dtype=float)
        fin = np.isfinite(col)
        raw = float(scan.loc[0.0, name])
        fitted = collapse_r2(ds, b, ids, min_frames) if np.isfinite(b) else np.nan
        rows[name] = {"raw co-firing": raw,
                      "fraction of group": collapse_r2(ds, 1.0, ids, min_frames),
                      "k / N^beta": fitted, "beta": b, "gain": fitted - raw,
                      "best exponent": float(scan.index[np.nanargmax(col)]) if fin.any() else np.nan,
                      "best collapse": float(np.nanmax(col)) if fin.any() else np.nan}
    out = pd.DataFrame(rows).T.astype(float)
    out.index.name = "layer pair"
    return out


def batch_robustness(responses: dict, min_frames: int = 10, saturation: float | None = 0.95,
                     outlier: float = 0.5, rng=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slope differences between disjoint batches of images, observed and under resampling
    (paper Figs. A4-A5).

    For the selected neurons of each layer pair, the relative difference
    ``(s_i - s_j) / s`` of the ReLU slopes fitted on batches ``i < j`` (``s``: the slope on
    all frames; :func:`fclib.stats.response.batch_slopes`). As a reference, the same on
    batches redrawn from each neuron's pooled response
    (:func:`fclib.stats.response.resample_batches`, refitted with ``min_frames`` and
    ``saturation``): the spread a response identical in every batch would show.

    Parameters
    ----------
    responses : dict
        ``{layer pair: response Dataset}`` with batch counts.
    min_frames, saturation : as :func:`fclib.stats.response.fit_response`.
    outlier : float
        Absolute relative difference counted as an outlier.
    rng : numpy.random.Generator or int, optional
        The resampling's draws.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by layer pair: ``neurons``, ``median |diff|`` and ``median |diff|,
        resampled``, ``outliers`` and ``outliers, resampled`` (share of differences above
        ``outlier`` in absolute value), ``median diff`` and ``ratio`` (observed over
        resampled median absolute difference).
    differences : pandas.DataFrame
        Long: ``layer pair`` (categorical, in order), ``relative slope difference``, every
        observed difference."""
    from fclib.stats.response import batch_counts, batch_slopes, fit_response, resample_batches

    rng = _rng(rng)
    rows, long = {}, []
    for name, ds in responses.items():
        keep = ds["selected"].values
        s = ds["relu_slope"].values[keep]
        obs = batch_slopes(ds[["batch_relu_slope"]].rename(batch_relu_slope="relu_slope")
                           ).values[:, keep] / s
        resampled = fit_response(resample_batches(batch_counts(ds), rng),
                                 min_frames=min_frames, saturation=saturation)
        ref = batch_slopes(resampled).values[:, keep] / s
        with np.errstate(invalid="ignore"):
            stats = {"neurons": int(keep.sum()),
                     "median |diff|": _nanstat(np.nanmedian, np.abs(obs)),
                     "median |diff|, resampled": _nanstat(np.nanmedian, np.abs(ref)),
                     "outliers": _share_above(obs, outlier),
                     "outliers, resampled": _share_above(ref, outlier),
                     "median diff": _nanstat(np.nanmedian, obs)}
        stats["ratio"] = (stats["median |diff|"] / stats["median |diff|, resampled"]
                          if stats["median |diff|, resampled"] > 0 else np.nan)
        rows[name] = stats
        long.append(pd.DataFrame({"layer pair": name, "relative slope difference": obs.ravel()}))
    summary = pd.DataFrame(rows).T
    summary.index.name = "layer pair"
    diffs = (pd.concat(long, ignore_index=True) if long
             else pd.DataFrame({"layer pair": [], "relative slope difference": []}))
    diffs["layer pair"] = pd.Categorical(diffs["layer pair"], categories=list(responses),
                                         ordered=True)
    return summary, diffs


def _nanstat(f, v) -> float:
    v = np.asarray(v, dtype=float)
    return float(f(v)) if np.isfinite(v).any() else np.nan


def _share_above(v, limit: float) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float((np.abs(v) > limit).mean()) if v.size else np.nan
