"""Figures of information, semantics and neuron identity (chapters 7-9): the paper's
Figs. A6, A9 and A10."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (by_layer_pair, column_figsize, figure_legend, pair_scatter,
                                   panel_grid, series_styles, styled)

__all__ = ['fig_a6_mi_by_layer', 'fig_a6_mi_vs_degree', 'fig_a10ab_class_similarity',
           'fig_a10cd_similarity_vs_cofiring', 'fig_a9_identity_vs_aggregate']


@styled
def fig_a6_mi_by_layer(table: pd.DataFrame, mi: str = "mi", by: str = "layer") -> plt.Figure:
    """Shuffle-corrected MI of each neuron with the class, one box per layer (paper Fig. A6:
    MI rises as one ascends the layers).

    ``table``: one row per neuron, a categorical column ``by`` (its categories give the
    boxes, in order) and the MI column ``mi`` (bits).
    """
    return by_layer_pair(table, mi, "MI with the class (bits)", by=by, xlabel="layer")


@styled
def fig_a6_mi_vs_degree(table: pd.DataFrame, hub: str | None = "hub") -> plt.Figure:
    """MI against the size of the 1FC group for the target neurons of every layer pair, one
    panel per pair (Spearman's rho in the titles), hubs in red (paper Fig. A6).

    ``table``: as :func:`fclib.stats.compare.information_vs_degree` returns (``layer pair``
    categorical, ``degree``, ``mi``, ``hub``).
    """
    return pair_scatter(table, "degree", "mi", "group size N", "MI (bits)", highlight=hub)


@styled
def fig_a10ab_class_similarity(cosine, rank, names) -> plt.Figure:
    """Cosine similarity of class-name embeddings (matrix) and the distributions of the
    cosine and rank similarity between different classes (Fig. A10 A-B)."""
    cos = np.asarray(cosine)
    rk = np.asarray(rank)
    off = ~np.eye(cos.shape[0], dtype=bool)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=column_figsize(2.9), layout="constrained")
    im = a.imshow(cos, cmap="viridis")
    if len(names) <= 20:
        a.set_xticks(range(len(names)), names, rotation=90)
        a.set_yticks(range(len(names)), names)
    else:
        a.set(xlabel="class", ylabel="class")
    fig.colorbar(im, ax=a, fraction=0.046)
    a.set_title("cosine similarity")
    b.hist(cos[off], bins=20, color="C0", alpha=0.8)
    b.set(xlabel="cosine similarity", ylabel="class pairs", title="different classes")
    c.hist(rk[off], bins=np.linspace(0, 1, 11), color="C2", alpha=0.8)
    c.set(xlabel="semantic rank similarity", title="different classes")
    sns.despine(fig)
    return fig


@styled
def fig_a10cd_similarity_vs_cofiring(curves: pd.DataFrame, chance: dict | None = None) -> plt.Figure:
    """Mean of several measures against the co-firing fraction, one line per layer pair
    (paper Fig. A10 C-D).

    ``curves``: columns ``layer pair``, ``bin`` and one column per measure; ``chance`` maps
    a measure to its chance level (dashed).
    """
    measures = [c for c in curves.columns if c not in ("layer pair", "bin")]
    nrows, ncols, size = panel_grid(len(measures), 3, 2.8, min_panel_width=2.4)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat[len(measures):]:
        ax.remove()
    names = list(dict.fromkeys(curves["layer pair"]))
    styles = series_styles(len(names), ordered=True)
    for ax, m in zip(axes.flat, measures):
        for st, name in zip(styles, names):
            d = curves[curves["layer pair"] == name]
            ax.plot(d["bin"], d[m], marker="o", ms=3, label=name, **st)
        if chance and m in chance:
            ax.axhline(chance[m], color="0.4", ls=(0, (1, 1)), lw=1, label="chance")
        ax.set(xlabel="co-firing / group size", ylabel=m)
    figure_legend(fig, ncols=min(6, len(names) + 1))
    sns.despine(fig)
    return fig


@styled
def fig_a9_identity_vs_aggregate(diff: pd.DataFrame) -> plt.Figure:
    """Balanced accuracy from aggregate co-firing and from member identities, per layer pair
    and classifier, with the paired difference's confidence interval (Fig. A9)."""
    pairs = list(dict.fromkeys(diff["layer pair"]))
    clfs = list(dict.fromkeys(diff["classifier"]))
    nrows, ncols, size = panel_grid(len(pairs), 4, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, sharey=True,
                             layout="constrained")
    for ax in axes.flat[len(pairs):]:
        ax.remove()
    x = np.arange(len(clfs))
    # the y axis starts below chance (0.5) or below the lowest bar, whichever is lower
    low = np.nanmin(np.r_[0.45, diff[["aggregate", "identity"]].to_numpy(dtype=float).ravel() - 0.05])
    for i, (ax, name) in enumerate(zip(axes.flat, pairs)):
        d = diff[diff["layer pair"] == name].set_index("classifier").reindex(clfs)
        ax.bar(x - 0.2, d["aggregate"], 0.4, label="aggregate co-firing", color="C0")
        err = np.vstack([d["difference"] - d["ci_low"], d["ci_high"] - d["difference"]])
        ax.bar(x + 0.2, d["identity"], 0.4, yerr=err, capsize=3, label="member identities",
               color="C1")
        ax.axhline(0.5, color="k", ls="--", lw=0.8, label="chance")
        ax.set_xticks(x, clfs, rotation=30, ha="right")
        ax.set(title=name, ylim=(low, 1.0))
        if i % ncols == 0:
            ax.set_ylabel("balanced accuracy")
    figure_legend(fig)
    sns.despine(fig)
    return fig
