"""Figures of functional connectivity across training (chapter "When do ensembles form?"):
the quantities of :func:`fclib.stats.emergence.emergence_table` against the epoch, against
accuracy, and the rate calibration of the matched random network."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (WIDTH_IN, figure_legend, legend_above, panel_grid,
                                   series_styles, styled)

__all__ = ["fig_emergence_curves", "fig_emergence_vs_accuracy", "fig_matched_rates"]

_CONTROL = "rate-matched"


def _check(table: pd.DataFrame) -> None:
    need = {"network", "epoch", "accuracy", "layer pair", "quantity", "value"}
    if not need <= set(table.columns):
        raise ValueError(f"table lacks columns {sorted(need - set(table.columns))}; pass "
                         "fclib.stats.emergence.emergence_table's result")


def _quantities(table: pd.DataFrame, quantities) -> list[str]:
    have = (list(table["quantity"].cat.categories) if hasattr(table["quantity"], "cat")
            else list(dict.fromkeys(table["quantity"])))
    have = [q for q in have if q in set(table["quantity"])]
    if quantities is None:
        return have
    missing = [q for q in quantities if q not in have]
    if missing:
        raise ValueError(f"quantities {missing} are not in the table; it has {have}")
    return list(quantities)


def _units(sub: pd.DataFrame) -> list[str]:
    u = sub["layer pair"]
    order = list(u.cat.categories) if hasattr(u, "cat") else list(dict.fromkeys(u))
    present = set(u.astype(str))
    return [x for x in order if x in present]


@styled
def fig_emergence_curves(table: pd.DataFrame, quantities=None, *, ncols: int = 3) -> plt.Figure:
    """Each quantity against the training epoch, one line per layer pair (or layer); the
    first panel is the held-out accuracy.

    Each layer pair (or layer) keeps its colour, line style and marker in every panel
    (:func:`~fclib.figures.series_styles` with ``distinct=True``: Okabe-Ito colours, not a
    ramp whose neighbouring shades cannot be told apart), named in one legend. The epoch-0
    snapshot (the untrained network) is drawn as open markers; the rate-matched random
    network (``network == "rate-matched"``), which has no epoch, as crosses at an extra
    position right of the last epoch. The epoch axis is symmetric-log (0 included). Returns
    a Figure with ``1 + len(quantities)`` panels in use.
    """
    _check(table)
    qs = _quantities(table, quantities)
    trained = table[table["network"] != _CONTROL]
    ctrl = table[table["network"] == _CONTROL]
    epochs = np.sort(trained["epoch"].dropna().unique())
    if epochs.size == 0:
        raise ValueError("the table holds no snapshot (network 'trained' with an epoch)")
    x_ctrl = max(float(epochs.max()) * 4.0, 4.0)  # well right of the last epoch on a log axis
    n = 1 + len(qs)
    nrows, ncols, size = panel_grid(n, ncols, 2.6, min_panel_width=2.3)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.remove()
    # one colour and line style per layer pair (or layer) across all panels, one legend
    all_units = _units(trained)
    unit_style = dict(zip(all_units, series_styles(len(all_units), distinct=True)))

    def setup(ax):
        ax.set_xscale("symlog", linthresh=1.0)
        ticks = list(epochs) + ([x_ctrl] if len(ctrl) else [])
        labels = [f"{e:g}" for e in epochs] + (["matched"] if len(ctrl) else [])
        ax.set_xticks(ticks, labels, rotation=90 if len(ticks) > 4 else 0)
        ax.minorticks_off()
        ax.set_xlabel("epoch")

    ax = flat[0]
    acc = trained.groupby("epoch")["accuracy"].first()
    ax.plot(acc.index, 100 * acc.values, "k-o", ms=4)
    if len(ctrl):
        ax.plot([x_ctrl], [100 * float(ctrl["accuracy"].iloc[0])], "kx", ms=7, mew=2)
    setup(ax)
    ax.set_ylabel("held-out accuracy (%)")
    for ax, q in zip(flat[1:], qs):
        sub = trained[trained["quantity"] == q]
        units = _units(sub)
        for u in units:
            st = unit_style[u]
            c = st["color"]
            s = sub[sub["layer pair"].astype(str) == u].sort_values("epoch")
            ax.plot(s["epoch"], s["value"], lw=1.3, ms=4, label=u, **st,
                    markevery=list(np.flatnonzero(s["epoch"].to_numpy() != 0)))
            z = s[s["epoch"] == 0]
            ax.plot(z["epoch"], z["value"], ls="none", marker=st["marker"], mfc="none", mec=c,
                    ms=5)
            cs = ctrl[(ctrl["quantity"] == q) & (ctrl["layer pair"].astype(str) == u)]
            ax.plot(np.full(len(cs), x_ctrl), cs["value"], "x", color=c, ms=6, mew=1.5)
        setup(ax)
        ax.set_ylabel(q)
    if len(all_units) > 1:
        figure_legend(fig, ncols=min(6, len(all_units)))
    sns.despine(fig)
    return fig


@styled
def fig_emergence_vs_accuracy(table: pd.DataFrame, quantities=None, *, ncols: int = 3) -> plt.Figure:
    """Each quantity's median over layer pairs (or layers) against held-out accuracy: the
    snapshots joined in epoch order (epoch labelled, the untrained network an open circle),
    the rate-matched random network a cross. One panel per quantity."""
    _check(table)
    qs = _quantities(table, quantities)
    med = (table.assign(epoch=table["epoch"].fillna(-1))
           .groupby(["network", "epoch", "quantity"], observed=True)
           .agg(accuracy=("accuracy", "first"), value=("value", "median")).reset_index())
    nrows, ncols, size = panel_grid(len(qs), ncols, 2.6, min_panel_width=2.3)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False)
    flat = axes.ravel()
    for ax in flat[len(qs):]:
        ax.remove()
    for ax, q in zip(flat, qs):
        s = med[(med["quantity"] == q) & (med["network"] != _CONTROL)].sort_values("epoch")
        ax.plot(100 * s["accuracy"], s["value"], "k-", lw=1)
        for _, row in s.iterrows():
            ax.plot(100 * row["accuracy"], row["value"], "o", color="k",
                    mfc="none" if row["epoch"] == 0 else "k", ms=5)
            ax.annotate(f"{row['epoch']:g}", (100 * row["accuracy"], row["value"]),
                        textcoords="offset points", xytext=(3, 3), fontsize=8)
        c = med[(med["quantity"] == q) & (med["network"] == _CONTROL)]
        ax.plot(100 * c["accuracy"], c["value"], "x", color="C3", ms=7, mew=2)
        ax.set(xlabel="held-out accuracy (%)", ylabel=f"{q}\n(median over layer pairs)")
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_matched_rates(report: pd.DataFrame) -> plt.Figure:
    """The rate calibration of the matched random network
    (:func:`fclib.snn.matched.rate_matched`'s report): per spiking layer, the trained
    network's rate, the random network's before and after calibration (spikes per neuron
    per step), and the gain found (lower panel, log scale)."""
    for c in ("target", "rate", "base rate", "gain"):
        if c not in report:
            raise ValueError(f"report lacks column {c!r}; pass rate_matched's report")
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(min(WIDTH_IN, max(5, 0.55 * len(report) + 2)), 4.8),
                                  sharex=True, height_ratios=[2, 1])
    x = np.arange(len(report))
    w = 0.27
    ax.bar(x - w, report["target"], w, color="k", label="trained")
    ax.bar(x, report["base rate"], w, color="0.7", label="random, before")
    ax.bar(x + w, report["rate"], w, color="C3", label="random, rate-matched")
    ax.set_ylabel("spikes per neuron per step")
    legend_above(ax, ncols=3)
    ax2.plot(x, report["gain"], "o-", color="C3")
    ax2.axhline(1, color="0.5", lw=0.8, ls="--")
    ax2.set_yscale("log")
    ax2.set_ylabel("gain")
    ax2.set_xticks(x, [str(i) for i in report.index], rotation=45, ha="right")
    sns.despine(fig)
    fig.tight_layout()
    return fig
