"""Figures of the chapter "Synchronization and semantization" (paper 002's system)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (WIDTH_IN, column_figsize, figure_legend, legend_above, no_data,
                                   panel_grid, styled)

__all__ = ["fig_ttfs_training", "fig_ttfs_raster", "fig_ttfs_spread", "fig_ttfs_information_gain",
           "fig_ttfs_pathways"]


@styled
def fig_ttfs_training(history: dict) -> plt.Figure:
    """Loss and accuracies per epoch (``history`` of :func:`fclib.ttfs.network.train_network`)."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=column_figsize(2.8))
    ep = np.arange(1, len(history["loss"]) + 1)
    a0.plot(ep, history["loss"], color="k")
    a0.set(xlabel="epoch", ylabel="training loss")
    a1.plot(ep, np.asarray(history["train_acc"]) * 100, label="training (jittered)")
    if len(history.get("test_acc", [])):
        a1.plot(ep, np.asarray(history["test_acc"]) * 100, ls="--", label="held-out")
    a1.set(xlabel="epoch", ylabel="accuracy (%)")
    legend_above(a1)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_ttfs_raster(times: dict, n_exc: dict, trial: int, titles=("untrained", "trained")) -> plt.Figure:
    """Spike raster of one trial, layer by layer, for each network of ``times``
    (``{name: {layer: (trial, neuron)}}``); E black, I red, the decision as a dashed line."""
    nets = list(times)
    nrows, ncols, size = panel_grid(len(nets), 3, 3.4)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, sharey=True, squeeze=False)
    for ax in axes.flat[len(nets):]:
        ax.remove()
    for ax, name in zip(axes.flat, nets):
        lay = times[name]
        dec = np.min(lay["output"][trial])
        for i, (layer, t) in enumerate(lay.items()):
            row = t[trial]
            ok = np.isfinite(row)
            exc = np.arange(row.size) < n_exc.get(layer, row.size)
            y = i + np.linspace(-0.35, 0.35, row.size)
            ax.scatter(row[ok & exc], y[ok & exc], s=3, color="k", lw=0)
            ax.scatter(row[ok & ~exc], y[ok & ~exc], s=3, color="C3", lw=0)
        if np.isfinite(dec):
            ax.axvline(dec, color="C0", ls="--", lw=0.8)
        ax.set_yticks(range(len(lay)), list(lay))
        ax.set(xlabel="time (τ)", title=name)
    axes[0, 0].invert_yaxis()
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_ttfs_spread(spread: pd.DataFrame, reference: dict | None = None,
                    measure: str = "iqr") -> plt.Figure:
    """Spread of spike times per layer: one panel per spike selection ("all", "before decision",
    "window"), one line per network (column ``network``); ``reference`` (layer -> value) is
    drawn dashed on the "before decision" panel."""
    kinds = ["all", "before decision", "window"]
    fig, axes = plt.subplots(1, 3, figsize=column_figsize(3.0), sharey=True, layout="constrained")
    for ax, kind in zip(axes, kinds):
        d = spread[spread["spikes"] == kind]
        for net, g in d.groupby("network", sort=False, observed=True):
            g = g.sort_values("layer")
            ax.plot(g["layer"].astype(str), g[measure], marker="o", label=net)
        if reference is not None and kind == "before decision":
            ax.plot(list(reference), list(reference.values()), color="gray", ls="--", marker="x",
                    label="reference (MNIST)")
        ax.set(title=kind, xlabel="layer")
        ax.tick_params(axis="x", rotation=45)
    axes[0].set_ylabel({"iqr": "IQR of spike times (τ)", "sd": "SD of spike times (τ)"}[measure])
    figure_legend(fig)
    sns.despine(fig)
    return fig


@styled
def fig_ttfs_information_gain(ig: pd.DataFrame, reference: dict | None = None) -> plt.Figure:
    """Histograms of IG per hidden layer (columns), E and I (rows), trained network; the
    shuffle null as a grey step line; ``reference`` ({"E": [...], "I": [...]} medians per layer)
    marked as a dashed vertical line."""
    layers = list(ig["layer"].cat.categories)
    fig, axes = plt.subplots(2, len(layers), figsize=(min(WIDTH_IN, 2.4 * len(layers)), 4.2),
                             sharex=True, squeeze=False)
    every = np.r_[ig["ig"].dropna().to_numpy(dtype=float), ig["ig_null"].dropna().to_numpy(dtype=float)]
    lo = min(-0.1, float(every.min(initial=0)))   # the bins hold every value
    hi = max(1.0, float(every.max(initial=0)))
    bins = np.linspace(lo, hi, int(np.ceil((hi - lo) / 0.05)) + 1)
    for j, layer in enumerate(layers):
        for i, kind in enumerate(["E", "I"]):
            ax = axes[i, j]
            d = ig[(ig["layer"] == layer) & (ig["type"] == kind)]
            v = d["ig"].dropna().to_numpy()
            nv = d["ig_null"].dropna().to_numpy()
            color = "k" if kind == "E" else "C3"
            if not v.size and not nv.size:
                ax.set_title(f"{layer} {kind}")
                no_data(ax, f"no {kind} neuron of {layer} has an IG")
                continue
            if v.size:
                ax.hist(v, bins=bins, color=color, alpha=0.6, density=True)
                ax.axvline(np.median(v), color=color, lw=1.2)
            if nv.size:
                ax.hist(nv, bins=bins, histtype="step", color="gray", density=True)
            if reference is not None and j < len(reference.get(kind, [])):
                ax.axvline(reference[kind][j], color="C0", ls="--", lw=1)
            ax.set_title(f"{layer} {kind} (n={v.size})")
            ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("information gain")
    sns.despine(fig, left=True)
    fig.tight_layout()
    return fig


@styled
def fig_ttfs_pathways(spec: pd.DataFrame) -> plt.Figure:
    """Per hidden layer, trained against untrained (column ``network``): share of pathway
    neurons preferring their pathway's class (chance dashed), P(active|class) −
    P(active|other), and the mean Jaccard overlap of the classes' pathways."""
    cols = ["preferred = class", "P(active|class) − P(active|other)", "Jaccard"]
    fig, axes = plt.subplots(1, 3, figsize=column_figsize(3.0), layout="constrained")
    for ax, col in zip(axes, cols):
        for net, g in spec.groupby("network", sort=False):
            ax.plot(g["layer"].astype(str), g[col], marker="o", label=net)
        if col == "preferred = class":
            ax.axhline(float(spec["chance"].iloc[0]), color="gray", ls="--", lw=0.8,
                       label="chance")
        ax.set(title=col, xlabel="layer")
    figure_legend(fig)
    sns.despine(fig)
    return fig
