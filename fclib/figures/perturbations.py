"""Figures of the perturbed inputs and networks (chapters 10-12): the paper's Figs. 4, 5 and
A11-A17, and the adversarial-input detector."""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (OKABE_ITO, WIDTH_IN, box_ylim, column_figsize,
                                   figure_legend, figure_note, legend_above, legend_beside,
                                   no_data, panel_grid, series_styles, styled, wrap_labels)

__all__ = ['fig_a11_perturbed_images', 'fig_a12_firing_rates', 'fig_4_5_responses_under_distortion',
           'fig_a13_slope_change_vs_mi', 'fig_a14_a16_last_layer', 'fig_network_activity',
           'fig_a17_sttc_distributions', 'fig_a17_properties', 'fig_detector_roc',
           'fig_accuracy_sweeps']


def _some_minor(v, _pos):
    """Label of a minor tick of a log axis: 2, 3 and 5 times a power of ten only."""
    if v <= 0:
        return ""
    mantissa = v / 10 ** np.floor(np.log10(v))
    return f"{v:g}" if any(np.isclose(mantissa, m) for m in (2, 3, 5)) else ""


def _show(ax, img):
    img = np.asarray(img, dtype=float)
    if img.ndim == 3:  # (C, H, W)
        img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    ax.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


@styled
def fig_a11_perturbed_images(images: dict, labels: dict | None = None) -> plt.Figure:
    """The same images under each condition, one row per condition (paper Fig. A11 B).

    ``images`` maps a condition to an array ``(n, C, H, W)`` (or ``(n, H, W)``) of the same
    ``n`` images; ``labels`` optionally maps a condition to its row label (e.g. with its
    accuracy).
    """
    conds = list(images)
    n = len(images[conds[0]])
    if any(len(v) != n for v in images.values()):
        raise ValueError("every condition needs the same number of images")
    side = min(1.2, (WIDTH_IN - 0.9) / n)  # room on the left for the row labels
    fig, axes = plt.subplots(len(conds), n, figsize=(side * n + 0.9, (side + 0.1) * len(conds)),
                             squeeze=False)
    for row, c in zip(axes, conds):
        for ax, img in zip(row, images[c]):
            _show(ax, img)
        row[0].set_ylabel((labels or {}).get(c, c), fontsize=9)
    sns.despine(fig, left=True, bottom=True)
    fig.tight_layout()
    return fig


def _condition_colours(conds) -> dict:
    """One colour per condition, the same in every figure of the chapter (the first, the
    original images, blue): :func:`~fclib.figures.series_styles`' distinct colours."""
    return {c: st["color"] for c, st in zip(conds, series_styles(len(conds), distinct=True))}


@styled
def fig_a12_firing_rates(rates: pd.DataFrame, ylabel: str = "mean spikes per image") -> plt.Figure:
    """Mean firing rate per layer (rows of ``rates``), one line per condition (columns)
    (paper Fig. A12: noise lowers the rates). Conditions differ in colour, line style and
    marker: an attack that barely changes the rates draws its line on the original's."""
    fig, ax = plt.subplots(figsize=column_figsize(3.0))
    x = np.arange(len(rates))
    for st, c in zip(series_styles(rates.shape[1], distinct=True), rates.columns):
        ax.plot(x, rates[c].to_numpy(dtype=float), label=str(c), **st)
    ax.set_xticks(x, [str(i) for i in rates.index], rotation=45, ha="right")
    ax.set(ylabel=ylabel, xlabel="layer")
    legend_beside(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_4_5_responses_under_distortion(table: pd.DataFrame, r2_min: float | None = None
                                       ) -> plt.Figure:
    """ReLU R², relative slope change against the original, and share of frames beyond the
    original two-line intersection, per layer pair and condition (paper Figs. 4 and 5).

    ``table``: as :func:`fclib.stats.compare.condition_responses` returns (columns
    ``layer pair``, ``condition``, ``relu_r2``, ``slope change``, ``strong regime reached``);
    ``r2_min`` draws the selection threshold on the R² panel.
    """
    cols = ["relu_r2", "slope change", "strong regime reached"]
    labels = ["ReLU $R^2$", "relative slope change", "frames beyond the\noriginal intersection"]
    limits = [(-1.0, None), (-1.5, 1.5), (None, None)]  # where whiskers beyond are cut (noted)
    conds = list(dict.fromkeys(table["condition"]))
    pairs = list(table["layer pair"].cat.categories) if hasattr(table["layer pair"], "cat") \
        else list(dict.fromkeys(table["layer pair"]))
    fig, axes = plt.subplots(3, 1, figsize=column_figsize(7.0), sharex=True, layout="constrained")
    palette = _condition_colours(conds)
    for ax, col, lab, (floor, ceiling) in zip(axes, cols, labels, limits):
        sns.boxplot(data=table, x="layer pair", y=col, hue="condition", order=pairs,
                    hue_order=conds, palette=palette, showfliers=False, ax=ax)
        ax.set(ylabel=lab, xlabel="")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        groups = [g[col].to_numpy(dtype=float) for _, g in table.groupby(["layer pair", "condition"],
                                                                        observed=True)]
        box_ylim(ax, groups, floor, ceiling)
    if r2_min is not None:
        axes[0].axhline(r2_min, color="k", ls=":", lw=0.8)
    axes[-1].set_xlabel("layer pair")
    axes[-1].tick_params(axis="x", rotation=45)
    figure_legend(fig, *axes[0].get_legend_handles_labels())
    sns.despine(fig)
    return fig


@styled
def fig_a13_slope_change_vs_mi(table: pd.DataFrame, conditions=None) -> plt.Figure:
    """Relative slope change against each neuron's MI on the original images, one panel per
    layer pair, one colour per condition (paper Fig. A13).

    ``table``: columns ``layer pair``, ``condition``, ``MI`` and ``slope change``;
    ``conditions``: those drawn (by default all but ``original``). The slope axis ends at
    ±1.5 or just beyond the largest change, but not beyond ±5; changes beyond are drawn at
    the edge and a note under the panels gives their number.
    """
    pairs = list(dict.fromkeys(table["layer pair"]))
    all_conds = list(dict.fromkeys(table["condition"]))
    if conditions is None:
        conditions = [c for c in all_conds if c != "original"]
    colours = _condition_colours(list(dict.fromkeys(all_conds + list(conditions))))
    nrows, ncols, size = panel_grid(len(pairs), 4, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(pairs):]:
        ax.remove()
    drawn = table[table["condition"].isin(conditions)]["slope change"].to_numpy(dtype=float)
    drawn = drawn[np.isfinite(drawn)]
    lim = 1.5 if not drawn.size else float(min(max(1.5, np.abs(drawn).max() * 1.05), 5.0))
    for i, (ax, k) in enumerate(zip(axes.flat, pairs)):
        mine = table[(table["layer pair"] == k) & table["condition"].isin(conditions)]
        if not np.isfinite(mine["slope change"].to_numpy(dtype=float)).any():
            ax.set_title(k)
            no_data(ax, "no neuron of this layer pair has a slope under a perturbation")
            continue
        for c in conditions:
            d = table[(table["layer pair"] == k) & (table["condition"] == c)]
            d = d.dropna(subset=["slope change"])
            ax.scatter(d["MI"], np.clip(d["slope change"], -lim, lim), s=5, alpha=0.4,
                       color=colours[c], label=c, rasterized=True)
        ax.axhline(0, color="k", lw=0.6)
        ax.set(title=k, xlabel="MI (bits, corrected)", ylim=(-1.04 * lim, 1.04 * lim))
        if i % ncols == 0:
            ax.set_ylabel("relative slope change")
    beyond = int((np.abs(drawn) > lim).sum())
    if beyond:
        figure_note(fig, f"{beyond:,} of {drawn.size:,} neurons with a change beyond ±{lim:g}, "
                         "drawn at the edge")
    figure_legend(fig, markerscale=2.5)
    sns.despine(fig)
    return fig


@styled
def fig_a14_a16_last_layer(table: pd.DataFrame, chance: float | None = None,
                           title: str = "") -> plt.Figure:
    """The last layer pair's neurons under each condition: share of frames in the strong
    regime, share of those frames showing the preferred class, entropy of the spike count
    and corrected MI with the class (paper Figs. A14-A16).

    ``table``: one row per (condition, neuron) with ``condition``, ``strong share``,
    ``preferred class when strong``, ``entropy`` and ``MI``; ``chance`` is drawn (dotted) on
    the preferred-class panel.
    """
    cols = ["strong share", "preferred class when strong", "entropy", "MI"]
    fig, axes = plt.subplots(2, 2, figsize=column_figsize(5.0), layout="constrained")
    conds = list(dict.fromkeys(table["condition"]))
    for ax, col in zip(axes.flat, cols):
        sns.boxplot(data=table, x="condition", y=col, order=conds, color=OKABE_ITO[5],
                    showfliers=False, ax=ax)
        ax.set(xlabel="", ylabel="", title=col)
        ax.set_xticks(range(len(conds)), wrap_labels(conds, 14))
    if chance is not None:
        axes[0, 1].axhline(chance, color="k", ls=":", lw=0.8)
    if title:
        fig.suptitle(title)
    sns.despine(fig)
    return fig


@styled
def fig_network_activity(rates: pd.DataFrame, silent: pd.DataFrame) -> plt.Figure:
    """Mean firing rate (left) and share of silent neurons (right) per layer (rows), one line
    per network (columns)."""
    fig, axes = plt.subplots(1, 2, figsize=column_figsize(3.0), layout="constrained")
    for ax, d, lab in zip(axes, (rates, silent), ("mean spikes per image", "silent fraction")):
        x = np.arange(len(d))
        for st, n in zip(series_styles(d.shape[1]), d.columns):
            ax.plot(x, d[n].to_numpy(dtype=float), marker="o", label=str(n), **st)
        ax.set_xticks(x, [str(i) for i in d.index], rotation=45, ha="right")
        ax.set(ylabel=lab, xlabel="layer")
    figure_legend(fig)
    sns.despine(fig)
    return fig


@styled
def fig_a17_sttc_distributions(sttc: dict, bins=None) -> plt.Figure:
    """STTC distributions of several layer pairs, one panel per pair, one line per network
    (paper Fig. A17); by default in bins of 0.01 from -0.3 (or below, to the lowest value)
    to 1.

    ``sttc`` maps a layer pair to ``{network: array of STTC values}`` (NaN ignored).
    """
    if bins is None:  # 0.01 wide from -0.3 (or the lowest value) to 1: no value left out
        lows = [np.nanmin(np.asarray(v, dtype=float)) for d in sttc.values() for v in d.values()
                if np.isfinite(np.asarray(v, dtype=float)).any()]
        lo = min([-0.3] + [np.floor(x * 100) / 100 for x in lows])
        bins = np.linspace(lo, 1, int(round((1 - lo) * 100)) + 1)
    pairs = list(sttc)
    nrows, ncols, size = panel_grid(len(pairs), 3, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(pairs):]:
        ax.remove()
    for i, (ax, k) in enumerate(zip(axes.flat, pairs)):
        if not any(np.isfinite(np.asarray(v, dtype=float)).any() for v in sttc[k].values()):
            ax.set_title(k)
            no_data(ax, "no pair of this layer pair has a defined STTC")
            continue
        styles = series_styles(len(sttc[k]))
        for st, (n, v) in zip(styles, sttc[k].items()):
            v = np.asarray(v, dtype=float).ravel()
            v = v[np.isfinite(v)]
            if v.size:
                ax.hist(v, bins=bins, histtype="step", density=True, color=st["color"],
                        ls=st["ls"], label=n)
        ax.set(yscale="log", title=k, xlabel="STTC")
        if i % ncols == 0:
            ax.set_ylabel("density")
    figure_legend(fig)
    sns.despine(fig)
    return fig


@styled
def fig_a17_properties(table: pd.DataFrame, columns, labels: dict | None = None,
                       log=("median group size",)) -> plt.Figure:
    """Per layer pair, one panel per property, one line per network (paper Fig. A17).

    ``table``: one row per (network, layer pair), columns ``network``, ``layer pair``
    (categorical, in order) and the properties named in ``columns``; ``labels`` maps a
    column to its panel title; columns in ``log`` get a log scale.
    """
    columns = list(columns)
    names = list(table["layer pair"].cat.categories) if hasattr(table["layer pair"], "cat") \
        else list(dict.fromkeys(table["layer pair"]))
    # many layer pairs need wider panels for their names
    nrows, ncols, size = panel_grid(len(columns), 3 if len(names) <= 6 else 2, 2.6,
                                    min_panel_width=2.4)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[len(columns):]:
        ax.remove()
    nets = list(dict.fromkeys(table["network"]))
    styles = series_styles(len(nets))
    for ax, col in zip(axes.flat, columns):
        for st, n in zip(styles, nets):
            d = table[table["network"] == n].set_index("layer pair").reindex(names)
            ax.plot(range(len(names)), d[col].to_numpy(dtype=float), marker="o", label=n, **st)
        ax.set_title((labels or {}).get(col, col))
        if col in log:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))  # 2, not 2×10⁰
            ax.yaxis.set_minor_formatter(mticker.FuncFormatter(_some_minor))
        # every panel names its layer pairs: a reader reads one panel at a time
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    figure_legend(fig)
    sns.despine(fig)
    return fig


@styled
def fig_detector_roc(results: dict, clean=None, adversarial=None, feature: str = "") -> plt.Figure:
    """ROC curves of detectors on held-out images (left) and, with ``clean`` and
    ``adversarial`` values of one feature, its distribution under both (right).

    ``results`` maps a detector's name to a :func:`fclib.stats.detect.detect` result.
    """
    two = clean is not None and adversarial is not None
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=column_figsize(3.6, 1.0 if two else 0.6),
                             squeeze=False)
    ax = axes[0, 0]
    for st, (name, d) in zip(series_styles(len(results)), results.items()):
        ax.plot(d["fpr"], d["tpr"], label=f"{name}: AUC {d['auc']:.3f}", **st)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate\n(held-out images)")
    legend_above(ax, ncols=1)
    if two:
        ax = axes[0, 1]
        for v, col, ls, lab in ((clean, "C0", "-", "clean"), (adversarial, "C3", "--", "FGSM")):
            ax.hist(np.asarray(v, dtype=float), bins=60, histtype="step", density=True, color=col,
                    ls=ls, label=lab)
        ax.set(xlabel=feature, ylabel="density")
        legend_above(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_accuracy_sweeps(sweeps: dict, clean: float, marks: dict | None = None) -> plt.Figure:
    """Held-out accuracy against the strength of each perturbation, one panel each.

    ``sweeps`` maps a panel title to a ``pandas.Series`` (strength -> accuracy); ``clean``
    is the unperturbed accuracy (solid line; dashed: half of it); ``marks`` optionally maps a
    title to strengths to mark (vertical dotted lines, e.g. the paper's and the analysed one).
    """
    nrows, ncols, size = panel_grid(len(sweeps), 3, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[len(sweeps):]:
        ax.remove()
    for ax, (title, ser) in zip(axes.flat, sweeps.items()):
        ax.plot(ser.index.to_numpy(dtype=float), 100 * ser.to_numpy(dtype=float), "o-",
                color="C0", label="perturbed")
        ax.axhline(100 * clean, color="k", lw=1, label="clean")
        ax.axhline(50 * clean, color="k", lw=1, ls="--", label="half of clean")
        for x in (marks or {}).get(title, []):
            ax.axvline(x, color="C3", ls=":", lw=1)
        ax.set_xlabel(title)
        ax.set_ylabel("held-out accuracy (%)")
        ax.set_ylim(0, 100)
    figure_legend(fig)
    return fig
