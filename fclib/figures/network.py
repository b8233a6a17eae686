"""Figures of the network and its activity (chapter 1)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import WIDTH_IN, column_figsize, legend_above, styled

__all__ = ['fig_training_curve', 'fig_a1_firing_rates', 'fig_raster', 'fig_presentations']


@styled
def fig_training_curve(history: list[dict]) -> plt.Figure:
    """Loss and accuracy per epoch (training and held-out)."""
    h = pd.DataFrame(history)
    fig, (a, b) = plt.subplots(1, 2, figsize=column_figsize(2.9))
    a.plot(h.epoch + 1, h.loss, label="training")
    a.plot(h.epoch + 1, h.test_loss, ls="--", label="held-out")
    a.set(xlabel="epoch", ylabel="cross-entropy")
    legend_above(a)
    b.plot(h.epoch + 1, h.train_accuracy, label="training (augmented)")
    b.plot(h.epoch + 1, h.test_accuracy, ls="--", label="held-out")
    b.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    legend_above(b)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_a1_firing_rates(summary: pd.DataFrame, rates: dict[str, np.ndarray],
                        silent_threshold: float = 0.01) -> plt.Figure:
    """Per-neuron firing rate distribution per layer and the silent fraction (paper Fig. A1).

    ``summary``: :func:`fclib.stats.activity.layer_summary`; ``rates``: ``{layer: spikes per
    image of every neuron}``. Two axes: rates (violins, log scale) and silent fractions.
    """
    layers = list(summary.index)
    fig, (a, b) = plt.subplots(2, 1, figsize=column_figsize(5.2), sharex=True,
                               gridspec_kw={"height_ratios": [2, 1]})
    eps = 1e-3
    data = [np.maximum(rates[name], eps) for name in layers]
    parts = a.violinplot(data, positions=range(len(layers)), showmedians=True, widths=0.8)
    for body in parts["bodies"]:
        body.set_alpha(0.5)
    a.plot(range(len(layers)), summary.mean_rate, "o", color="k", label="mean")
    a.axhline(silent_threshold, color="C3", lw=1, ls="--",
              label=f"silent below {silent_threshold:g}")
    a.set_yscale("log")
    a.set(ylabel="spikes per image\n(per neuron)")
    legend_above(a)  # above the violins, never over them
    b.bar(range(len(layers)), summary.silent_fraction, color="C3", alpha=0.8)
    b.set(ylabel="silent fraction", ylim=(0, max(0.05, summary.silent_fraction.max() * 1.15)))
    b.set_xticks(range(len(layers)), layers)
    b.set_xlabel("layer")
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_raster(sample: dict, T: int, labels=None) -> plt.Figure:
    """Spike raster: neurons of several layers (rows) over a few presentations."""
    layers = list(sample)
    n_rows = sum(sample[name].sizes["neuron"] for name in layers)
    n_frames = next(iter(sample.values())).sizes["frame"]
    fig, ax = plt.subplots(figsize=column_figsize(0.12 * n_rows + 1.5))
    row = 0
    colors = [f"C{i % 7}" for i in range(len(layers))]
    ticks = []
    for color, name in zip(colors, layers):
        s = sample[name].values
        for i in range(s.shape[0]):
            t = np.flatnonzero(s[i])
            ax.scatter(t, np.full(t.size, row), marker="|", s=40, color=color)
            row += 1
        ticks.append(row - s.shape[0] / 2 - 0.5)
        ax.axhline(row - 0.5, color="0.85", lw=0.5)
    for b in range(0, n_frames + 1, T):
        ax.axvline(b - 0.5, color="0.6", lw=0.6)
    ax.set_yticks(ticks, layers)
    ax.set_ylim(row - 0.5, -0.5)
    ax.set_xlim(-0.5, n_frames - 0.5)
    ax.set_xlabel(f"frame (each image shown for T = {T} steps)")
    if labels is not None:
        for k, lab in enumerate(labels):
            ax.text(k * T + (T - 1) / 2, -1.0, str(lab), ha="center", va="bottom", fontsize=8)
    sns.despine(fig, left=True)
    fig.tight_layout()
    return fig


@styled
def fig_presentations(images: np.ndarray, titles=None, ncols: int = 8) -> plt.Figure:
    """A grid of presented images ``(n, C, H, W)``."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    side = min(1.2, WIDTH_IN / ncols)  # a panel's side in inches: the grid fits the column
    fig, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, (side + 0.15) * nrows),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            img = images[k]
            ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0),
                      cmap="gray_r" if img.shape[0] == 1 else None, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=8)
    fig.tight_layout()
    return fig
