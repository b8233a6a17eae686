"""Figures of response functions, regimes, scaling and robustness (chapters 3-6)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib._util import as_generator
from fclib.figures._common import (by_layer_pair, column_figsize, figure_legend,
                                   legend_above, legend_beside, no_data, panel_grid, series_styles,
                                   response_points, styled)

__all__ = ['fig_response_functions', 'fig_2a_relu_examples', 'fig_2d_relu_r2', 'fig_2d_relu_nrmse',
           'fig_2m_two_line_examples', 'fig_2q_intersection_fraction', 'fig_2q_rise_quantile',
           'fig_a3_slope_scaling', 'fig_a3_collapse', 'fig_collapse_by_exponent',
           'fig_a4_batch_responses', 'fig_a5_slope_differences']


@styled
def fig_response_functions(examples: dict, model: str = "relu", cdf: bool = False,
                       min_frames: int = 10) -> plt.Figure:
    """Response functions of example neurons, one panel each, with their fit (Fig. 2).

    ``examples`` maps a panel title to ``(response Dataset, neuron id)``. Points: firing
    probability at each co-firing value, area growing with the frames behind it (points
    with fewer than ``min_frames`` frames are not drawn). ``model="relu"`` draws the ReLU
    fit, ``"lines"`` the two-line fit and its intersection, each over the co-firing range
    it was fitted on (up to saturation); ``cdf=True`` adds the CDF of the group's co-firing
    on a second axis (Fig. 2 M-P).

    The co-firing axis ends just beyond the largest drawn point (or the fit's range and the
    intersection, if further), not at the largest co-firing value the layer pair could
    reach; where the CDF counts frames beyond it (values seen in fewer than ``min_frames``
    frames), the axis label says what share of the frames lies beyond and how far.
    """
    from fclib.stats.fits import relu, two_lines

    n = len(examples)
    nrows, ncols, size = panel_grid(n, 3, 2.9)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.remove()
    for i, (ax, (title, (ds, neuron))) in enumerate(zip(axes.flat, examples.items())):
        k, p, nf, sel = response_points(ds, neuron, min_frames=min_frames)
        ax.scatter(k, p, s=4 + 30 * np.log10(nf) / np.log10(max(nf.max(), 10)), color="C2",
                   alpha=0.7, lw=0, label="firing probability")
        top = float(sel.saturation_cofiring) if "saturation_cofiring" in sel else np.nan
        xx = np.linspace(0, top if np.isfinite(top) else (k.max() if k.size else 1), 300)
        if model == "relu":
            ax.plot(xx, relu(xx, float(sel.relu_slope), float(sel.relu_threshold)), color="k",
                    lw=1.2, label="ReLU fit")
            fit = f"R² = {float(sel.relu_r2):.2f}"
        else:
            kap = float(sel.intersection)
            ax.plot(xx, two_lines(xx, float(sel.intercept), float(sel.slope_weak),
                                  float(sel.slope_strong), kap), color="k", lw=1.2,
                    label="two-line fit")
            ax.axvline(kap, color="C4", ls="--", lw=1, label="intersection")
            fit = (f"R² = {float(sel.lines_r2):.2f}, "
                   f"at {100 * float(sel.intersection_fraction):.0f} % of N")
        kall, nfall = ds["cofiring"].values, sel["n_frames"].values
        ends = [k.max() if k.size else np.nan, top,  # the points, the fit's range
                float(sel.intersection) if model != "relu" else np.nan]
        right = np.nanmax(ends) if np.isfinite(ends).any() else (
            kall[nfall > 0].max() if (nfall > 0).any() else 1.0)
        right = max(float(right), 1.0)
        xlabel = "co-firing group members"
        if cdf and nfall.sum() > 0 and (nfall[kall > right] > 0).any():
            share = nfall[kall > right].sum() / nfall.sum()
            xlabel += f"\n({100 * share:.2g} % of frames beyond, to {kall[nfall > 0].max():g})"
        ax.set(title=f"{title}: neuron {neuron}\nN = {int(sel.degree)}, {fit}",
               xlabel=xlabel, ylim=(-0.03, 1.03), xlim=(-0.04 * right, 1.04 * right))
        if i % ncols == 0:
            ax.set_ylabel("P(target fires)")
        if cdf:
            c = np.cumsum(nfall) / max(nfall.sum(), 1)
            a2 = ax.twinx()
            a2.plot(kall, c, color="C0", lw=1, ls=":", label="co-firing CDF")
            a2.set_ylim(-0.03, 1.03)
            ax.set_xlim(-0.04 * right, 1.04 * right)  # the twin shares it; keep the data's
            if i % ncols == ncols - 1 or i == n - 1:
                a2.set_ylabel("CDF of co-firing", color="C0")
    figure_legend(fig)
    sns.despine(fig, right=not cdf)
    return fig


@styled
def fig_2a_relu_examples(examples: dict, min_frames: int = 10) -> plt.Figure:
    """Example response functions with their ReLU fits, one axis per entry of ``examples``
    (paper Fig. 2 A-C); see :func:`fig_response_functions`."""
    return fig_response_functions(examples, model="relu", min_frames=min_frames)


@styled
def fig_2d_relu_r2(table: pd.DataFrame, r2_min: float | None = None) -> plt.Figure:
    """R² of the ReLU fit of every analysed target per layer pair (paper Fig. 2 D-L), values
    below -0.5 drawn at -0.5; dashed at the selection threshold ``r2_min``."""
    return by_layer_pair(table, "relu_r2", "ReLU fit R²", hline=r2_min, floor=-1.0)


@styled
def fig_2d_relu_nrmse(table: pd.DataFrame) -> plt.Figure:
    """NRMSE of the ReLU fit of every analysed target per layer pair (paper Fig. 2 D-L)."""
    return by_layer_pair(table, "relu_nrmse", "ReLU fit NRMSE")


@styled
def fig_2m_two_line_examples(examples: dict, min_frames: int = 10) -> plt.Figure:
    """Example response functions with the two-line fit, its intersection and the CDF of the
    group's co-firing on a twin axis (paper Fig. 2 M-P); see :func:`fig_response_functions`."""
    return fig_response_functions(examples, model="lines", cdf=True, min_frames=min_frames)


@styled
def fig_2q_intersection_fraction(selected: pd.DataFrame, band=(0.05, 0.16)) -> plt.Figure:
    """The two-line intersection as a fraction of the group size per layer pair, ``band``
    (the paper's 5-16 %) shaded (paper Fig. 2 Q-S inset)."""
    return by_layer_pair(selected, "intersection_fraction", "intersection / group size N",
                         band=band)


@styled
def fig_2q_rise_quantile(selected: pd.DataFrame, quantile: float = 0.92) -> plt.Figure:
    """The co-firing CDF at the intersection per layer pair, dashed at ``quantile`` (the
    paper's "largest 8 %" of events; paper Fig. 2 Q-T)."""
    return by_layer_pair(selected, "rise_quantile", "co-firing CDF at the intersection",
                         hline=quantile)


@styled
def fig_a3_slope_scaling(table: pd.DataFrame, laws: pd.DataFrame) -> plt.Figure:
    """ReLU slope against 1FC group size per layer pair (log-log) with power-law fits, one
    axis per layer pair of ``laws`` (:func:`fclib.stats.response_tables.power_laws`; paper
    Fig. A3), unused axes switched off."""
    names = list(laws.index)
    nrows, ncols, size = panel_grid(len(names), 4, 2.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, sharex=True, sharey=True)
    for ax, name in zip(axes.flat, names):
        d = table[(table["layer pair"] == name) & table["selected"]]
        law = laws.loc[name]
        if d.empty:
            ax.set_title(name)
            no_data(ax, "no neuron of this layer pair passed the R² selection")
            continue
        ax.scatter(d["degree"], d["relu_slope"], s=4, alpha=0.35, lw=0, color="C0")
        if np.isfinite(law.beta):
            xx = np.geomspace(max(d["degree"].min(), 1), d["degree"].max(), 50)
            ax.plot(xx, 10 ** law.log10_a * xx ** -law.beta, color="C3", lw=1)
        ax.set_title(f"{name}: β = {law.beta:.2f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("group size N")
    for ax in axes[:, 0]:
        ax.set_ylabel("ReLU slope")
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_a3_collapse(ds, exponents: dict, max_neurons: int = 60, min_frames: int = 10,
                    rng=None) -> plt.Figure:
    """Response functions of selected neurons with co-firing rescaled by N^exponent (paper
    Fig. A3).

    One panel per entry of ``exponents`` (title → exponent); lines coloured by group size.
    At most ``max_neurons`` neurons, drawn at random (``rng``) when there are more.
    """
    ids = ds["neuron"].values[ds["selected"].values]
    gen = as_generator(rng)
    if ids.size > max_neurons:
        ids = np.sort(gen.choice(ids, max_neurons, replace=False))
    deg = ds["degree"].sel(neuron=ids).values
    norm = plt.matplotlib.colors.LogNorm(max(deg.min(), 1), max(deg.max(), 2)) if ids.size else None
    cmap = plt.get_cmap("viridis")
    nrows, ncols, size = panel_grid(len(exponents), 3, 2.8)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[len(exponents):]:
        ax.remove()
    for ax, (title, e) in zip(axes.flat, exponents.items()):
        for nid, n in zip(ids, deg):
            k, p, _, _ = response_points(ds, nid, min_frames=min_frames)
            ax.plot(k / max(n, 1) ** e, p, color=cmap(norm(max(n, 1))), lw=0.7, alpha=0.6)
        ax.set(title=title, ylim=(-0.03, 1.03),
               xlabel="co-firing" if e == 0 else f"co-firing / N^{e:.2f}")
    axes[0, 0].set_ylabel("P(target fires)")
    if ids.size:
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes, label="group size N")
    sns.despine(fig)
    return fig


@styled
def fig_collapse_by_exponent(scan: pd.DataFrame) -> plt.Figure:
    """Collapse R² against the exponent e of the rescaling k / N^e, one line per layer pair
    (``scan``: :func:`fclib.stats.response_tables.collapse_scan`)."""
    fig, ax = plt.subplots(figsize=column_figsize(3.2))
    for st, name in zip(series_styles(scan.shape[1], ordered=True), scan.columns):
        ax.plot(scan.index, scan[name], label=name, **st)
    ax.set(xlabel="exponent e of the rescaling k / N^e", ylabel="collapse R²")
    if scan.shape[1]:
        legend_beside(ax, ncols=2 if scan.shape[1] > 12 else 1)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_a4_batch_responses(examples: dict, min_frames: int = 10) -> plt.Figure:
    """One neuron's response function in each batch of held-out images, one axis per entry
    of ``examples`` (paper Fig. A4)."""
    n = len(examples)
    nrows, ncols, size = panel_grid(n, 3, 3.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.remove()
    for i, (ax, (title, (ds, neuron))) in enumerate(zip(axes.flat, examples.items())):
        styles = series_styles(ds.sizes["batch"])
        for b in range(ds.sizes["batch"]):
            k, p, _, sel = response_points(ds, neuron, batch=b, min_frames=min_frames)
            ax.plot(k, p, ".", ms=4, color=styles[b]["color"],
                    label=f"batch {b + 1}: slope {float(sel.batch_relu_slope[b]):.3g}")
        ax.set(xlabel="co-firing group members", ylim=(-0.03, 1.03))
        if i % ncols == 0:
            ax.set_ylabel("P(target fires)")
        # the panel's name heads its legend, above the axes and outside the data
        legend_above(ax, ncols=1, title=f"{title}: neuron {neuron}, "
                     f"N = {int(ds.degree.sel(neuron=neuron))}", markerscale=2)
    sns.despine(fig)
    return fig


@styled
def fig_a5_slope_differences(differences: pd.DataFrame) -> plt.Figure:
    """Relative slope differences between every two batches of images per layer pair (paper
    Fig. A5); ``differences``: the long table of
    :func:`fclib.stats.response_tables.batch_robustness`."""
    return by_layer_pair(differences, "relative slope difference", "(s_i − s_j) / s", hline=0.0)
