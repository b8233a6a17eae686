"""Figures of the chapter "Functional or stimulus-driven?" (no paper counterpart: the paper
tests significance against circular shifts only)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fclib.figures._common import (OKABE_ITO, box_ylim, column_figsize, figure_note,
                                   legend_above, no_data_figure, styled)

__all__ = ["fig_edge_survival", "fig_ensembles_by_variant", "fig_significance_by_repeats"]

_NULL_COLOURS = {"circular": OKABE_ITO[0], "stimulus": OKABE_ITO[1]}


@styled
def fig_edge_survival(table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Per layer pair (rows of ``table``, from :func:`fclib.stats.ensembles.edge_survival`):
    the share of pairs significant under each null (left) and the share of circular-null
    edges that survive the stimulus-preserving null (right)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=column_figsize(3.4))
    x = np.arange(len(table))
    w = 0.4
    a.bar(x - w / 2, 100 * table["circular_fraction"], w, label="circular null",
          color=_NULL_COLOURS["circular"])
    a.bar(x + w / 2, 100 * table["stimulus_fraction"], w, label="stimulus-preserving null",
          color=_NULL_COLOURS["stimulus"])
    a.set_ylabel(f"pairs with z > {threshold:g}\nand STTC > 0 (%)")
    legend_above(a, ncols=1)
    b.plot(x, 100 * table["survival"], "o-", color="k")
    b.set_ylim(0, 100)
    b.set_ylabel("circular edges surviving (%)")
    for ax in (a, b):
        ax.set_xticks(x, table.index, rotation=45, ha="right")
        ax.set_xlabel("layer pair")
    fig.tight_layout()
    return fig


_VARIANT_LABELS = {"circular": "circular,\nin-sample", "circular_cv": "circular,\ncross-val.",
                   "stimulus_cv": "stimulus,\ncross-val.", "tuning": "tuning-\nmatched",
                   "random": "random\nmatched"}


@styled
def fig_ensembles_by_variant(results: dict, r2_min: float) -> plt.Figure:
    """Distributions over target neurons (non-empty groups) of the ReLU fit's R², the share of
    frames in the strong regime and the share of strong frames showing the preferred class,
    for each way of choosing the groups (``results``: variant -> list of
    :func:`fclib.stats.ensembles.evaluate_groups` Datasets).

    A way of choosing with no value in any panel (no target with a group) gets no row: a
    note under the panels names it. A row with no value in one panel (no neuron selected)
    says so in that panel. Where no way of choosing has a value, the figure is a sentence
    saying so.
    """
    panels = [("relu_r2", "ReLU fit R²", None),
              ("strong_fraction", "frames in the strong\nregime", "selected"),
              ("preferred_when_strong", "strong frames of the\npreferred class", "selected")]

    def values(v, var, mask):
        vals = []
        for ds in results[v]:
            keep = np.asarray(ds["degree"].values) > 0
            if mask:
                keep &= np.asarray(ds[mask].values, dtype=bool)
            x = np.asarray(ds[var].values, dtype=float)[keep]
            vals.append(x[np.isfinite(x)])
        return np.concatenate(vals) if vals else np.array([])

    data = {v: [values(v, var, mask) for var, _, mask in panels] for v in results}
    names = [v for v in results if any(d.size for d in data[v])]
    left_out = [v for v in results if v not in names]

    def label(n):
        return " ".join(_VARIANT_LABELS.get(n, n).replace("-\n", "-").split())

    if not names:
        return no_data_figure("no target neuron has a group under any way of choosing the "
                              "groups (" + "; ".join(label(v) for v in left_out) + ")")
    # horizontal boxes: the variants are named once, on the left, in words that fit
    fig, axes = plt.subplots(1, 3, figsize=column_figsize(0.45 * len(names) + 1.5), sharey=True)
    pos = np.arange(len(names))
    for k, (ax, (var, title, mask)) in enumerate(zip(axes, panels)):
        cols = [data[v][k] for v in names]
        ax.boxplot([d if d.size else [np.nan] for d in cols], positions=pos, showfliers=False,
                   orientation="horizontal", medianprops=dict(color="k"))
        for p_, d in zip(pos, cols):
            if not d.size:
                ax.text(0.5, p_, "no neuron selected" if mask else "no value", ha="center",
                        va="center", fontsize=8, color="0.3", transform=ax.get_yaxis_transform())
        ax.set_yticks(pos, [label(n) for n in names])
        ax.set_xlabel(title + ("" if mask is None else f" (R² > {r2_min:g})"))
        if var == "relu_r2":
            ax.axvline(r2_min, ls="--", color="0.5", lw=1)
            box_ylim(ax, cols, floor=-1.0, axis="x")
            ax.set_xlim(right=max(1.02, ax.get_xlim()[1]))
    axes[0].invert_yaxis()  # the first variant on top
    if left_out:
        figure_note(fig, "not drawn, no target neuron has a group: "
                    + "; ".join(label(v) for v in left_out))
    fig.tight_layout()
    return fig


@styled
def fig_significance_by_repeats(table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Share of significant pairs under each null against the number of presentations per
    image, at a fixed number of frames (``table``: columns ``repeats``, ``null``,
    ``fraction``)."""
    if not len(table):
        return no_data_figure("no repetition count is reached by two stimuli")
    fig, ax = plt.subplots(figsize=column_figsize(3.2, 0.7))
    for null, sub in table.groupby("null", sort=False):
        sub = sub.sort_values("repeats")
        ax.plot(sub["repeats"], 100 * sub["fraction"], "o-", label=f"{null} null",
                color=_NULL_COLOURS.get(null))
    ax.set_xlabel("presentations per image (same number of frames)")
    ax.set_ylabel(f"pairs with z > {threshold:g}\nand STTC > 0 (%)")
    ax.set_xticks(sorted(table["repeats"].unique()))
    legend_above(ax)
    fig.tight_layout()
    return fig
