"""Figures of the chapter "Functional or stimulus-driven?" (no paper counterpart: the paper
tests significance against circular shifts only)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fclib.figures._common import styled

__all__ = ["edge_survival", "ensembles_by_variant", "significance_by_repeats"]

_NULL_COLOURS = {"circular": "#4c72b0", "stimulus": "#dd8452"}


@styled
def edge_survival(table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Per layer pair (rows of ``table``, from :func:`fclib.stats.ensembles.edge_survival`):
    the share of pairs significant under each null (left) and the share of circular-null
    edges that survive the stimulus-preserving null (right)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    x = np.arange(len(table))
    w = 0.4
    a.bar(x - w / 2, 100 * table["circular_fraction"], w, label="circular null",
          color=_NULL_COLOURS["circular"])
    a.bar(x + w / 2, 100 * table["stimulus_fraction"], w, label="stimulus-preserving null",
          color=_NULL_COLOURS["stimulus"])
    a.set_ylabel(f"pairs with z > {threshold:g} and STTC > 0 (%)")
    a.legend(frameon=False, fontsize=9)
    b.plot(x, 100 * table["survival"], "o-", color="k")
    b.set_ylim(0, 100)
    b.set_ylabel("circular edges surviving (%)")
    for ax in (a, b):
        ax.set_xticks(x, table.index, rotation=45, ha="right", fontsize=8)
        ax.set_xlabel("layer pair")
    fig.tight_layout()
    return fig


_VARIANT_LABELS = {"circular": "circular,\nin-sample", "circular_cv": "circular,\ncross-val.",
                   "stimulus_cv": "stimulus,\ncross-val.", "tuning": "tuning-\nmatched",
                   "random": "random\nmatched"}


@styled
def ensembles_by_variant(results: dict, r2_min: float) -> plt.Figure:
    """Distributions over target neurons (non-empty groups) of the ReLU fit's R², the share of
    frames in the strong regime and the share of strong frames showing the preferred class,
    for each way of choosing the groups (``results``: variant -> list of
    :func:`fclib.stats.ensembles.evaluate_groups` Datasets)."""
    panels = [("relu_r2", "ReLU fit R²", None), ("strong_fraction", "frames in the strong regime", "selected"),
              ("preferred_when_strong", "strong frames of the preferred class", "selected")]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    names = list(results)
    for ax, (var, label, mask) in zip(axes, panels):
        data = []
        for v in names:
            vals = []
            for ds in results[v]:
                keep = np.asarray(ds["degree"].values) > 0
                if mask:
                    keep &= np.asarray(ds[mask].values, dtype=bool)
                x = np.asarray(ds[var].values, dtype=float)[keep]
                vals.append(x[np.isfinite(x)])
            data.append(np.concatenate(vals) if vals else np.array([]))
        ax.boxplot([d if d.size else [np.nan] for d in data], showfliers=False)
        ax.set_xticks(np.arange(1, len(names) + 1), [_VARIANT_LABELS.get(n, n) for n in names],
                      fontsize=8)
        ax.set_ylabel(label + ("" if mask is None else f"\n(R² > {r2_min:g})"))
        if var == "relu_r2":
            ax.axhline(r2_min, ls="--", color="0.5", lw=1)
            ax.set_ylim(-0.5, 1.02)
    fig.tight_layout()
    return fig


@styled
def significance_by_repeats(table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Share of significant pairs under each null against the number of presentations per
    image, at a fixed number of frames (``table``: columns ``repeats``, ``null``,
    ``fraction``)."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for null, sub in table.groupby("null", sort=False):
        sub = sub.sort_values("repeats")
        ax.plot(sub["repeats"], 100 * sub["fraction"], "o-", label=f"{null} null",
                color=_NULL_COLOURS.get(null))
    ax.set_xlabel("presentations per image (same number of frames)")
    ax.set_ylabel(f"pairs with z > {threshold:g} and STTC > 0 (%)")
    ax.set_xticks(sorted(table["repeats"].unique()))
    if len(table):
        ax.legend(frameon=False)
    else:
        ax.text(0.5, 0.5, "no repetition count reached by two stimuli", ha="center",
                va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig
