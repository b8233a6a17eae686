"""Figures of the chapter "What sampling misses" (:mod:`fclib.stats.sampling`)."""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
from matplotlib.lines import Line2D
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import column_figsize, figure_legend, series_styles, styled

__all__ = ["fig_sampling_ratios"]

_PANELS = {"significant": ("significant fraction", 0),
           "mean_degree": ("mean degree (group size)", 1),
           "relu_slope": ("median ReLU slope", -1),
           "onset_fraction": ("median onset / N", 0)}


@styled
def fig_sampling_ratios(ratios: pd.DataFrame) -> plt.Figure:
    """Each statistic on a sample of the layers relative to its value on the whole layers,
    against the fraction recorded (log axes), one line per layer pair; solid: random
    neurons, dashed: a central spatial patch. Grey dotted: what a statistic that does not
    depend on the sample (``1``), one proportional to it (``f``) or inversely proportional
    (``1 / f``) would show.

    ``ratios``: :func:`fclib.stats.sampling.sampling_ratios`.
    """
    cols = [c for c in _PANELS if c in ratios.columns]
    ncols = min(2, len(cols))
    nrows = int(np.ceil(len(cols) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=column_figsize(2.6 * nrows), sharex=True,
                             squeeze=False, layout="constrained")
    for ax in axes.flat[len(cols):]:
        ax.remove()
    axes = axes.ravel()[:len(cols)]
    pairs = list(dict.fromkeys(ratios.index.get_level_values("layer pair")))
    pairs.sort(key=lambda p: [int(x) for x in re.findall(r"\d+", str(p))] or [0])  # L2 before L10
    # distinct colours per layer pair (a ramp only where more than 7 pairs share the axes);
    # the line style tells random neurons (solid) from a spatial patch (dashed)
    colors = {p: st["color"] for p, st in zip(pairs, series_styles(len(pairs), ordered=len(pairs) > 7))}
    f = np.array(sorted(set(ratios.index.get_level_values("fraction"))))
    for ax, c in zip(axes, cols):
        label, power = _PANELS[c]
        reference = {0: "1", 1: "f", -1: "1/f"}[power]
        ax.plot(f, f ** power, color="0.6", ls=":", lw=1.2)
        for (pair, how), d in ratios.groupby(level=["layer pair", "how"], sort=False):
            d = d.sort_values("recorded")
            ax.plot(d["recorded"], d[c], marker="o", ms=3, color=colors[pair],
                    ls="-" if how == "random" else "--")
        ax.set(xscale="log", yscale="log", title=f"{label} (dotted: {reference})",
               xlabel="fraction recorded f")
        ax.set_xticks(f, [f"{v:.2g}" for v in f])
        ax.xaxis.set_minor_locator(mticker.NullLocator())
        # under a decade, about five evenly spaced labelled ticks (a log locator would label
        # none, or 1 three times over 0.99-1.01); over a decade, the powers of ten only
        lo, hi = ax.get_ylim()
        if hi < 10 * lo:
            ax.yaxis.set_major_locator(mticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
            ax.yaxis.set_minor_locator(mticker.NullLocator())
        else:
            ax.yaxis.set_minor_formatter(mticker.NullFormatter())
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.3g"))
    for ax in axes[::ncols]:
        ax.set_ylabel("sample / whole layer")
    # one entry per layer pair (colour) and per way of sampling (line style)
    handles = [Line2D([], [], color=colors[p], marker="o", ms=3) for p in pairs]
    labels = list(pairs)
    hows = list(dict.fromkeys(ratios.index.get_level_values("how")))
    for how in hows:
        handles.append(Line2D([], [], color="0.2", ls="-" if how == "random" else "--"))
        labels.append({"random": "random neurons", "patch": "central spatial patch"}.get(how, how))
    figure_legend(fig, handles, labels, ncols=min(4, len(handles)))
    sns.despine(fig)
    return fig
