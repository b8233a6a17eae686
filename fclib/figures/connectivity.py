"""Figures of pairwise STTC, its nulls and 1FC edges (chapter 2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (axes_note, bulk_range, column_figsize, figure_legend,
                                   legend_above, legend_beside, no_data, no_data_figure,
                                   panel_grid, series_styles, styled)

__all__ = ['fig_1a_sttc_distributions', 'fig_1i_significant_pairs', 'fig_degree_distributions',
           'fig_null_agreement', 'fig_false_positive_rates', 'fig_a7_structural_edges']


@styled
def fig_1a_sttc_distributions(observed: dict, null: dict, bins: int = 80) -> plt.Figure:
    """Observed STTC distribution against its shift-null sample, one axis per layer pair
    (paper Fig. 1 A-C). ``observed``/``null``: ``{layer pair: STTC values}``."""
    names = list(observed)
    nrows, ncols, size = panel_grid(len(names), 4, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[len(names):]:
        ax.remove()
    for i, (ax, name) in enumerate(zip(axes.flat, names)):
        obs, nul = np.asarray(observed[name]), np.asarray(null[name])
        ax.set(title=name, xlabel="STTC")
        if obs.size == 0 or nul.size == 0:
            no_data(ax, "no pair of this layer pair has a defined STTC (no active pairs)")
            continue
        lo = min(obs.min(), nul.min())
        hi = max(obs.max(), nul.max())
        edges = np.linspace(lo, hi, bins + 1)
        ax.hist(nul, edges, color="0.6", alpha=0.7, label="shifted (null)", density=True)
        ax.hist(obs, edges, histtype="step", color="C0", lw=1.5, label="observed",
                density=True)
        ax.set_yscale("log")
        if i % ncols == 0:
            ax.set_ylabel("density")
    figure_legend(fig)
    return fig


@styled
def fig_1i_significant_pairs(summary: pd.DataFrame, threshold: float) -> plt.Figure:
    """Percentage of significantly positive (``z > threshold``) and negative pairs per layer
    pair (paper Fig. 1 I-L); ``summary``: :func:`fclib.stats.connectivity.summaries`."""
    fig, ax = plt.subplots(figsize=column_figsize(3.0))
    x = np.arange(len(summary))
    ax.bar(x - 0.2, 100 * summary.frac_pos, 0.4, label=f"z > {threshold:g}", color="C0")
    ax.bar(x + 0.2, 100 * summary.frac_neg, 0.4, label=f"z < -{threshold:g}", color="C1")
    ax.set_xticks(x, summary.index, rotation=45, ha="right")
    ax.set(ylabel="% of pairs", xlabel="source → target layer")
    legend_above(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_degree_distributions(degrees: dict, threshold: float | None = None) -> plt.Figure:
    """Distribution of the degree of connectivity (1FC group size) per layer pair, as
    complementary CDFs on one axis; ``threshold`` (the z of membership) labels the x axis."""
    fig, ax = plt.subplots(figsize=column_figsize(3.4))
    for st, (name, d) in zip(series_styles(len(degrees), ordered=True), degrees.items()):
        d = np.sort(np.asarray(d))
        if d.size:
            ax.step(d, 1 - np.arange(d.size) / d.size, where="post", label=name, **st)
    ax.set_xscale("symlog", linthresh=1)
    what = "significant positive sources" if threshold is None else f"sources with z > {threshold:g}"
    ax.set(xlabel=f"degree of connectivity ({what})",
           ylabel="fraction of targets ≥ degree")
    legend_beside(ax, ncols=2 if len(degrees) > 12 else 1)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_null_agreement(z_exact: np.ndarray, z_shifts: np.ndarray, threshold: float,
                   n_shifts: int = 150, quantile: float = 0.99) -> plt.Figure:
    """z of the exact all-shift null against z of the ``n_shifts``-shift test, pair by pair,
    with dashed lines at ``+-threshold``.

    Both axes span the bulk of the z values (:func:`~fclib.figures.bulk_range` with
    ``quantile``, and the thresholds): the z of a nearly silent pair, whose null has almost
    no spread, can run to 1e9 and would squeeze every other pair into a corner. Pairs beyond
    are drawn at the edge, and a note above the axes says how many.
    """
    z_exact, z_shifts = np.asarray(z_exact, dtype=float), np.asarray(z_shifts, dtype=float)
    ok = np.isfinite(z_exact) & np.isfinite(z_shifts)
    x, y = z_exact[ok], z_shifts[ok]
    if x.size == 0:
        return no_data_figure("no pair has a defined z under both tests")
    fig, ax = plt.subplots(figsize=(4.2, 4))
    lo, hi = bulk_range(np.r_[x, y], quantile, include=(-threshold, threshold))
    beyond = int(((x < lo) | (x > hi) | (y < lo) | (y > hi)).sum())
    x, y = np.clip(x, lo, hi), np.clip(y, lo, hi)
    pad = 0.03 * (hi - lo)
    ax.hexbin(x, y, gridsize=60, bins="log", cmap="Blues", mincnt=1,
              extent=(lo - pad, hi + pad, lo - pad, hi + pad))
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
    for t in (threshold, -threshold):
        ax.axvline(t, color="C3", lw=0.6, ls="--")
        ax.axhline(t, color="C3", lw=0.6, ls="--")
    ax.set(xlim=(lo - pad, hi + pad), ylim=(lo - pad, hi + pad),
           xlabel="z, exact all-shift null", ylabel=f"z, {n_shifts} random shifts")
    if beyond:
        axes_note(ax, f"{beyond:,} of {x.size:,} pairs lie outside {lo:.3g} to {hi:.3g}: "
                      "drawn at the edge", width=62)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_false_positive_rates(null_z: dict, marks=(3.0, 4.0, 5.0), alpha: float | None = None,
                         thresholds: dict | None = None, z_max: float = 15.0) -> plt.Figure:
    """Survival curve of z on uncoupled surrogates, one line per test, against a normal tail.

    ``null_z``: ``{test name: z values}`` from data with no coupling, so the curve at ``z``
    is the test's false-positive rate at threshold ``z``. ``thresholds``: ``{test: z}``
    marked on the curves (the calibrated thresholds at rate ``alpha``).

    The z axis runs from 0 to the largest z, the ``marks`` or the thresholds, but not beyond
    ``z_max`` (at least 6; a normal z passes 15 at a rate of 4e-51), while the z of a nearly
    silent pair, whose null has almost no spread, can run to 1e9.
    Where z lie beyond, the curves end at the edge at the share of z beyond it (a
    threshold beyond is marked at the edge) and a note above the axes gives their number.
    """
    from scipy.stats import norm

    fig, ax = plt.subplots(figsize=column_figsize(3.4))
    finite = {name: np.sort(np.asarray(z, dtype=float)[np.isfinite(np.asarray(z, dtype=float))])
              for name, z in null_z.items()}
    thr = {k: float(v) for k, v in (thresholds or {}).items() if np.isfinite(v)}
    top = max([6.0, *marks, *thr.values()] + [float(z[-1]) for z in finite.values() if z.size])
    top = min(top, max(z_max, 6.0))
    z_grid = np.linspace(0, top, 400)
    ax.plot(z_grid, norm.sf(z_grid), color="0.4", ls=":", lw=1, label="standard normal")
    notes = []
    for st, (name, z) in zip(series_styles(len(null_z)), finite.items()):
        c = st["color"]
        if not z.size:
            continue
        rate = 1 - np.searchsorted(z, z_grid, side="right") / z.size
        ax.step(z_grid, np.where(rate > 0, rate, np.nan), where="post", label=f"{name} ({z.size:,} pairs)",
                **st)
        beyond = int((z > top).sum())
        if beyond:
            notes.append(f"{name}: {beyond:,} of {z.size:,}")
        if name in thr:
            ax.plot(min(thr[name], top), alpha, ">" if thr[name] > top else "o", color=c, ms=5)
            if thr[name] > top:
                notes.append(f"threshold of {name} at {thr[name]:.3g}")
    for m in marks:
        ax.axvline(m, color="0.8", lw=0.6, zorder=0)
    if alpha is not None:
        ax.axhline(alpha, color="C3", lw=0.6, ls="--")
    ax.set_yscale("log")
    n_max = max([np.size(z) for z in null_z.values()] + [1])
    ax.set_ylim(0.3 / n_max, 1.5)  # no sample resolves a rate below 1 / its size
    ax.set_xlim(-0.02 * top, 1.02 * top)
    ax.set(xlabel="threshold z", ylabel="false-positive rate (z above it)")
    if notes:
        axes_note(ax, f"beyond z = {top:g}, drawn at the edge: " + "; ".join(notes))
    legend_beside(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_a7_structural_edges(edges: pd.DataFrame, summary: pd.DataFrame) -> plt.Figure:
    """STTC of structural and non-structural 1FC edges per layer pair (left) and the
    normalised degree of each kind (right; paper Figs. A7-A8).

    ``edges``: columns ``layer pair``, ``kind`` and ``sttc``
    (:func:`fclib.stats.structure.structural_edge_table`); ``summary``: indexed by layer
    pair with ``structural degree / receptive field`` and ``non-structural degree / rest``
    (:func:`fclib.stats.structure.structural_summary`).
    """
    from matplotlib import cbook
    from matplotlib.patches import Patch

    fig, (a, b) = plt.subplots(1, 2, figsize=column_figsize(3.2), gridspec_kw={"width_ratios": [3, 2]})
    # box statistics from numpy, not seaborn: a default run has ~10 million edges
    pairs = list(pd.unique(edges["layer pair"]))
    pair_of = pd.Categorical(edges["layer pair"], categories=pairs).codes
    sttc = edges["sttc"].to_numpy(dtype=float)
    kinds = [("structural", "C0", -0.2), ("non-structural", "C1", 0.2)]
    for kind, colour, dx in kinds:
        is_kind = (edges["kind"] == kind).to_numpy()
        stats, pos = [], []
        for i in range(len(pairs)):
            v = sttc[is_kind & (pair_of == i)]
            v = v[np.isfinite(v)]
            if v.size:
                st = cbook.boxplot_stats(v, whis=1.5)[0]
                st["fliers"] = []
                stats.append(st)
                pos.append(i + dx)
        if stats:
            a.bxp(stats, positions=pos, widths=0.36, showfliers=False, patch_artist=True,
                  boxprops=dict(facecolor=colour, alpha=0.8), medianprops=dict(color="k"))
    a.set_xticks(range(len(pairs)), pairs, rotation=45, ha="right")
    a.set(ylabel="STTC of 1FC edges", xlabel="")
    legend_above(a, [Patch(color=c, alpha=0.8) for _, c, _ in kinds], [k for k, _, _ in kinds])
    x = np.arange(len(summary))
    b.bar(x - 0.2, summary["structural degree / receptive field"], 0.4, label="structural")
    b.bar(x + 0.2, summary["non-structural degree / rest"], 0.4, label="non-structural")
    b.set_xticks(x, summary.index, rotation=45, ha="right")
    b.set(ylabel="normalised degree")  # colours as in the left panel's legend
    sns.despine(fig)
    fig.tight_layout()
    return fig
