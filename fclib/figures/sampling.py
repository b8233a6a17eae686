"""Figures of the chapter "What sampling misses" (:mod:`fclib.stats.sampling`)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import styled

__all__ = ["sampling_ratios_figure"]

_PANELS = {"significant": ("significant fraction", 0),
           "mean_degree": ("mean degree (group size)", 1),
           "relu_slope": ("median ReLU slope", -1),
           "onset_fraction": ("median onset / N", 0)}


@styled
def sampling_ratios_figure(ratios: pd.DataFrame) -> plt.Figure:
    """Each statistic on a sample of the layers relative to its value on the whole layers,
    against the fraction recorded (log axes), one line per layer pair; solid: random
    neurons, dashed: a central spatial patch. Grey dotted: what a statistic that does not
    depend on the sample (``1``), one proportional to it (``f``) or inversely proportional
    (``1 / f``) would show.

    ``ratios``: :func:`fclib.stats.sampling.sampling_ratios`.
    """
    cols = [c for c in _PANELS if c in ratios.columns]
    fig, axes = plt.subplots(1, len(cols), figsize=(3.1 * len(cols), 3.2), sharex=True)
    axes = np.atleast_1d(axes)
    pairs = list(dict.fromkeys(ratios.index.get_level_values("layer pair")))
    colors = dict(zip(pairs, sns.color_palette("viridis", len(pairs))))
    f = np.array(sorted(set(ratios.index.get_level_values("fraction"))))
    for ax, c in zip(axes, cols):
        label, power = _PANELS[c]
        ax.plot(f, f ** power, color="0.6", ls=":", lw=1.2,
                label={0: "1", 1: "f", -1: "1/f"}[power])
        for (pair, how), d in ratios.groupby(level=["layer pair", "how"], sort=False):
            d = d.sort_values("recorded")
            ax.plot(d["recorded"], d[c], marker="o", ms=3, color=colors[pair],
                    ls="-" if how == "random" else "--",
                    label=f"{pair} ({how})")
        ax.set(xscale="log", yscale="log", title=label, xlabel="fraction recorded f")
        ax.set_xticks(f, [f"{v:.2g}" for v in f])
        ax.xaxis.set_minor_locator(mticker.NullLocator())
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.3g"))
        ax.yaxis.set_minor_formatter(mticker.FormatStrFormatter("%.2g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
    axes[0].set_ylabel("sample / whole layer")
    axes[-1].legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    sns.despine(fig)
    fig.tight_layout()
    return fig
