"""Figure helpers shared by several chapters' figures, and the book's style."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = ['book_style', 'styled', 'by_layer_pair', 'pair_scatter']


def book_style() -> dict:
    """The book's matplotlib style (seaborn "ticks" in the "notebook" context) as rc
    parameters. Figure functions draw inside ``plt.rc_context(book_style())``; nothing is
    changed globally."""
    return {**sns.axes_style("ticks"), **sns.plotting_context("notebook")}


def styled(func):
    """Decorator: draw ``func``'s figure in the book's style without touching global state."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(book_style()):
            return func(*args, **kwargs)
    return wrapper


# --------------------------------------------------------------------------- response functions
def _points(ds, neuron, batch=None, min_frames=1):
    sel = ds.sel(neuron=neuron)
    nf = (sel["batch_n_frames"].isel(batch=batch) if batch is not None else sel["n_frames"]).values
    fire = (sel["batch_n_fire"].isel(batch=batch) if batch is not None else sel["n_fire"]).values
    k = ds["cofiring"].values
    ok = nf >= max(min_frames, 1)
    return k[ok], fire[ok] / nf[ok], nf[ok], sel


@styled
def by_layer_pair(table: pd.DataFrame, column: str, ylabel: str, *, band=None,
                  hline=None, log: bool = False, clip=None, by: str = "layer pair",
                  xlabel: str = "source → target layer") -> plt.Figure:
    """Distribution of one per-neuron property across layer pairs (box plots).

    ``by`` names a categorical column (its categories in order give the boxes);
    ``band=(lo, hi)`` shades the paper's range; ``hline`` draws a reference line.
    """
    fig, ax = plt.subplots(figsize=(9, 3.2))
    names = list(table[by].cat.categories)
    data = []
    for name in names:
        v = table.loc[table[by] == name, column].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if clip is not None:
            v = np.clip(v, *clip)
        data.append(v if v.size else np.array([np.nan]))
    if band is not None:
        ax.axhspan(*band, color="tab:orange", alpha=0.15, lw=0, label="paper")
    if hline is not None:
        ax.axhline(hline, color="tab:red", ls="--", lw=0.8)
    ax.boxplot(data, positions=range(len(names)), widths=0.6, showfliers=False,
               medianprops=dict(color="k"))
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    if log:
        ax.set_yscale("log")
    ax.set(ylabel=ylabel, xlabel=xlabel)
    if band is not None:
        ax.legend(frameon=False, fontsize=8)
    sns.despine(fig)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- information, semantics
@styled
def pair_scatter(table: pd.DataFrame, x: str, y: str, xlabel: str, ylabel: str, *,
                 highlight: str | None = None, logx: bool = False, by: str = "layer pair",
                 ncols: int = 4) -> plt.Figure:
    """One scatter panel per layer pair (the categories of ``by``); ``highlight`` names a
    boolean column drawn in red on top. Panel titles give Spearman's rho."""
    from scipy.stats import spearmanr

    names = list(table[by].cat.categories)
    ncols = min(ncols, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.4 * nrows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, names):
        d = table[table[by] == name]
        ax.scatter(d[x], d[y], s=3, alpha=0.3, lw=0)
        if highlight is not None:
            h = d[d[highlight].astype(bool)]
            ax.scatter(h[x], h[y], s=6, color="tab:red", lw=0, label=highlight)
        rho = spearmanr(d[x], d[y], nan_policy="omit").statistic if len(d) > 2 else np.nan
        ax.set_title(f"{name}: ρ = {rho:.2f}", fontsize=9)
        if logx:
            ax.set_xscale("log")
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    if highlight is not None:
        axes.flat[len(names) - 1].legend(frameon=False, fontsize=7)
    sns.despine(fig)
    fig.tight_layout()
    return fig
