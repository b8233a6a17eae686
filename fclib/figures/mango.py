"""Figures of the MANGO chapter (the MANGO paper: gradient-free most exciting inputs across
training)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from fclib.figures._common import (WIDTH_IN, column_figsize, figure_legend, figure_note,
                                   legend_above, legend_beside, no_data_figure, series_styles,
                                   styled)
from fclib.stats.mei import PAPER_TABLE1

__all__ = ["fig_mango_convergence", "mango_table1", "fig_mango_entropy", "fig_mango_selective",
           "fig_mango_emergence", "fig_mango_specialisation", "fig_mango_diversity", "fig_mango_complexity",
           "fig_mei_gallery", "fig_generator_comparison", "fig_mango_labelled"]


@styled
def fig_mango_convergence(table: pd.DataFrame, trace: np.ndarray, formation: dict | None = None
                      ) -> plt.Figure:
    """The MANGO paper's Fig. 4: best activation against evaluations per method (mean ± s.e. over
    units and layers), and one MEI forming (``formation`` from
    :func:`fclib.snn.mei.mei_formation`)."""
    n_img = 0 if formation is None else len(formation["evaluations"])
    fig = plt.figure(figsize=column_figsize(3.2))
    gs = fig.add_gridspec(2, 2 + max(n_img, 1) // 2 + 1, width_ratios=[2.5, 0.2] + [1] * (
        max(n_img, 1) // 2 + 1))
    ax = fig.add_subplot(gs[:, 0])
    t = table.reset_index(drop=True)
    ev = np.arange(1, trace.shape[1] + 1)
    groups = list(t.groupby("method", sort=False))
    for st, (m, g) in zip(series_styles(len(groups)), groups):
        tr = trace[g.index.to_numpy()]
        mu = tr.mean(0)
        se = tr.std(0, ddof=1) / np.sqrt(len(tr)) if len(tr) > 1 else 0 * mu
        ax.plot(ev, mu, label=m, lw=1.3, **st)
        ax.fill_between(ev, mu - se, mu + se, alpha=0.2, lw=0, color=st["color"])
    ax.set(xscale="log", xlabel="evaluations", ylabel="best activation A so far")
    legend_above(ax, ncols=min(3, len(groups)))
    if formation is not None:
        for k in range(n_img):
            a = fig.add_subplot(gs[k % 2, 2 + k // 2])
            a.imshow(formation["image"][k], cmap="gray", vmin=0, vmax=1)
            a.set_title(f"{formation['evaluations'][k]}: {formation['activation'][k]:.2f}",
                        fontsize=8)
            a.axis("off")
    sns.despine(ax=ax)
    fig.tight_layout()
    return fig


def mango_table1(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 1 replica: our mean activation (and wall seconds) at each budget beside the MANGO
    paper's, one row per method (``ours`` from :func:`fclib.stats.mei.method_table`)."""
    cols = [c for c in ours.columns if c.startswith(("act", "time")) and not c.endswith("se")]
    paper = PAPER_TABLE1  # every budget of the MANGO paper, also those beyond this run's
    out = pd.concat({"this run": ours[cols + ["calls"]].astype(float),
                     "MANGO paper": paper}, axis=1)
    return out.reindex(list(dict.fromkeys(list(ours.index) + list(PAPER_TABLE1.index))))


@styled
def fig_mango_entropy(sel: pd.DataFrame, early: int, late: int) -> plt.Figure:
    """The MANGO paper's Fig. 6: class entropy of MEIs at an early and a late epoch, per layer
    depth."""
    fig, axes = plt.subplots(1, 2, figsize=column_figsize(3.0), sharey=True)
    layers = list(dict.fromkeys(sel["layer"]))
    for ax, e in zip(axes, (early, late)):
        s = sel[sel["epoch"] == e]
        data = [s.loc[s["layer"] == l, "entropy"].to_numpy() for l in layers]
        ax.boxplot([d if d.size else [np.nan] for d in data], positions=range(len(layers)),
                   showfliers=False, medianprops=dict(color="k"))
        ax.set_xticks(range(len(layers)), layers, rotation=90)
        ax.set(title=f"epoch {e}", xlabel="layer", ylim=(0, 1.02))
    axes[0].set_ylabel("class entropy / ln C")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def _heat(ax, piv, title):
    im = ax.imshow(piv.to_numpy(dtype=float), aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(piv.shape[1]), piv.columns)
    ax.set_yticks(range(piv.shape[0]), piv.index)
    ax.set(xlabel="epoch", ylabel="layer (lower = deeper)", title=title)
    return im


@styled
def fig_mango_selective(sel: pd.DataFrame) -> plt.Figure:
    """The MANGO paper's Fig. 7: share of units with a strong MEI (left) and of selective units
    (right), epoch × layer. A heat map whose shares are all zero says nothing and is not
    drawn: a note under the other says why; where neither has a unit, the figure is a
    sentence saying so."""
    order = list(dict.fromkeys(sel["layer"]))
    shown, none = [], []
    for col, title, why in (("strong", "A ≥ 0.75", "no unit reached A ≥ 0.75 at any epoch"),
                            ("selective", "selective", "no unit is class-selective at any epoch")):
        piv = sel.pivot_table(index="layer", columns="epoch", values=col, aggfunc="mean"
                              ).reindex(order) if len(sel) else pd.DataFrame()
        if np.nan_to_num(piv.to_numpy(dtype=float)).any():
            shown.append((piv, title))
        else:  # all zero or missing: a blank heat map says nothing
            none.append(why)
    if not shown:
        return no_data_figure("; ".join(none))
    fig, axes = plt.subplots(1, len(shown), figsize=column_figsize(3.4, 1.0 if len(shown) == 2 else 0.6),
                             squeeze=False, layout="constrained")
    for ax, (piv, title) in zip(axes.flat, shown):
        im = _heat(ax, piv, title)
    fig.colorbar(im, ax=axes, shrink=0.8, label="share of units")
    if none:
        figure_note(fig, f"not drawn: {none[0]}")
    return fig


@styled
def fig_mango_emergence(sel: pd.DataFrame, first: pd.DataFrame, accuracy: dict) -> plt.Figure:
    """The MANGO paper's Figs. 8–9: first epoch with a strong MEI per layer; MEI activation
    against epoch per layer beside the held-out accuracy (``accuracy``: epoch → accuracy).
    Where no unit reached a strong MEI the first panel is not drawn (a note under the
    other says so); where there is no MEI activation either, the figure is a sentence."""
    order = list(dict.fromkeys(sel["layer"]))
    f = first.dropna(subset=["first_strong_epoch"])
    f = f[f["layer"].isin(order)]
    if not len(sel):
        return no_data_figure("no MEI was computed" + (
            "" if len(f) else " and no unit reached A ≥ 0.75 at any epoch"))
    two = bool(len(f))
    fig, axes = plt.subplots(1, 1 + two, figsize=column_figsize(3.4, 1.0 if two else 0.6),
                             squeeze=False, layout="constrained")
    axes = axes.ravel()
    if two:
        x = [order.index(l) for l in f["layer"]]
        axes[0].scatter(np.asarray(x) + np.random.default_rng(0).uniform(-0.15, 0.15, len(x)),
                        f["first_strong_epoch"], s=14, alpha=0.7)
        axes[0].set_xticks(range(len(order)), order, rotation=90)
        axes[0].set(xlabel="layer", ylabel="first epoch with A ≥ 0.75")
    else:
        figure_note(fig, "not drawn: the first epoch with A ≥ 0.75 per layer (MANGO Fig. 8); "
                         "no unit reached A ≥ 0.75 at any epoch")
    ax = axes[-1]
    styles = series_styles(len(order), ordered=True)
    mean = sel.groupby(["layer", "epoch"])["activation"].mean()
    for i, l in enumerate(order):
        s = mean.loc[l]
        ax.plot(s.index, s.to_numpy(), color=styles[i]["color"], lw=1,
                label=f"layer {l}" if i in (0, len(order) - 1) else None)
    ax.set(xlabel="epoch", ylabel="MEI activation\n(mean over units)")
    ax2 = ax.twinx()
    ep = sorted(accuracy)
    acc, = ax2.plot(ep, [accuracy[e] for e in ep], "k--", lw=1.2, label="held-out accuracy")
    ax2.set_ylabel("held-out accuracy")
    h, lab = ax.get_legend_handles_labels()
    legend_above(ax, h + [acc], lab + ["held-out accuracy"], ncols=2)
    return fig


@styled
def fig_mango_specialisation(spec: pd.DataFrame) -> plt.Figure:
    """The MANGO paper's Fig. 10 (left): labile, stable and non-specialised shares per layer;
    where no unit is labile or stable, the figure is a sentence saying so instead of bars of
    one colour."""
    specialised = spec.drop(columns=[c for c in spec.columns if c.startswith("non")])
    if not np.nan_to_num(specialised.to_numpy(dtype=float)).any():
        return no_data_figure("no unit is labile or stable in any layer: every unit is "
                              "non-specialised")
    fig, ax = plt.subplots(figsize=column_figsize(3.0))
    bottom = np.zeros(len(spec))
    for col, c in zip(spec.columns, ("C3", "C0", "0.7")):
        ax.bar(range(len(spec)), spec[col], bottom=bottom, color=c, label=col)
        bottom += spec[col].to_numpy()
    ax.set_xticks(range(len(spec)), spec.index, rotation=90)
    ax.set(ylabel="share of units", xlabel="layer", ylim=(0, 1))
    legend_beside(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


@styled
def fig_mango_diversity(dist: pd.DataFrame) -> plt.Figure:
    """The MANGO paper's Fig. 11: mean Euclidean and cosine distance between a unit's MEI
    latents, per layer, one line per epoch."""
    fig, axes = plt.subplots(1, 2, figsize=column_figsize(3.2), layout="constrained")
    order = list(dict.fromkeys(dist["layer"]))
    epochs = sorted(dist["epoch"].unique())
    styles = series_styles(len(epochs), ordered=True)
    for ax, col in zip(axes, ("euclidean", "cosine")):
        for st, e in zip(styles, epochs):
            s = dist[dist["epoch"] == e].groupby("layer")[col].mean().reindex(order)
            ax.plot(range(len(order)), s.to_numpy(), marker="o", ms=3, label=f"epoch {e}", **st)
        ax.set_xticks(range(len(order)), order, rotation=90)
        ax.set(ylabel=f"{col} distance", xlabel="layer")
    figure_legend(fig, ncols=min(6, len(epochs)))
    sns.despine(fig)
    return fig


@styled
def fig_mango_complexity(comp: pd.DataFrame) -> plt.Figure:
    """The MANGO paper's Fig. 12: JPEG and ZIP size over raw size of MEIs against epoch, per layer
    (``comp``: columns epoch, layer, jpeg, zip)."""
    fig, axes = plt.subplots(1, 2, figsize=column_figsize(3.2), sharex=True, layout="constrained")
    order = list(dict.fromkeys(comp["layer"]))
    styles = series_styles(len(order), ordered=True)
    for ax, col in zip(axes, ("jpeg", "zip")):
        m = comp.groupby(["layer", "epoch"])[col].mean()
        for i, l in enumerate(order):
            ax.plot(m.loc[l].index, m.loc[l].to_numpy(), lw=1,
                    label=f"layer {l}" if i in (0, len(order) - 1) else None, **styles[i])
        ax.set(xlabel="epoch", ylabel=f"{col.upper()} size / raw size")
    figure_legend(fig)  # the ramp's ends: the first and the deepest layer
    sns.despine(fig)
    return fig


@styled
def fig_mei_gallery(table: pd.DataFrame, images: np.ndarray, n_per_layer: int = 3,
                class_names=None) -> plt.Figure:
    """MEIs per layer (rows), the best of each unit's methods, titled with activation and
    the network's class (probability)."""
    t = table.reset_index(drop=True)
    best = t.loc[t.groupby(["layer", "channel"], sort=False)["activation"].idxmax()]
    order = list(dict.fromkeys(best["layer"]))
    side = min(1.4, WIDTH_IN / n_per_layer)
    fig, axes = plt.subplots(len(order), n_per_layer, figsize=(side * n_per_layer, (side + 0.2) * len(order)),
                             squeeze=False)
    for r, l in enumerate(order):
        rows = best[best["layer"] == l].head(n_per_layer)
        for c in range(n_per_layer):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(rows):
                row = rows.iloc[c]
                ax.imshow(images[row.name], cmap="gray", vmin=0, vmax=1)
                name = class_names[int(row["class"])] if class_names else int(row["class"])
                ax.set_title(f"{l}/{int(row['channel'])} A={row['activation']:.2f}\n"
                             f"{name} ({row['probability']:.2f})", fontsize=8)
    fig.tight_layout()
    return fig


@styled
def fig_generator_comparison(results: dict) -> plt.Figure:
    """MEIs of the same units through each generator (``results``: name → search result),
    with each generator's mean MEI activation per layer."""
    names = list(results)
    fig, axes = plt.subplots(1, 1 + len(names), figsize=column_figsize(3.0),
                             gridspec_kw={"width_ratios": [2] + [1] * len(names)})
    order = None
    for k, n in enumerate(names):
        t = results[n]["table"].reset_index(drop=True)
        m = t.groupby("layer", sort=False)["activation"].mean()
        order = order or list(m.index)
        axes[0].plot(range(len(order)), m.reindex(order).to_numpy(), "o-", label=n)
        best = t.loc[t["activation"].idxmax()]
        axes[1 + k].imshow(results[n]["image"][best.name], cmap="gray", vmin=0, vmax=1)
        axes[1 + k].set_title(f"{n}: {best['layer']}/{int(best['channel'])} "
                              f"A={best['activation']:.2f}", fontsize=8)
        axes[1 + k].axis("off")
    axes[0].set_xticks(range(len(order)), order, rotation=90)
    axes[0].set(ylabel="MEI activation", xlabel="layer")
    legend_above(axes[0], ncols=1)
    fig.tight_layout()
    return fig


@styled
def fig_mango_labelled(comparisons: dict) -> plt.Figure:
    """Neuron-level MEIs of labelled neurons, one column per comparison (``comparisons``:
    title → ``(per_neuron, names)`` with ``per_neuron`` from
    :func:`fclib.stats.mei.compare_labelled` and ``names`` the (True, False) label names).
    Top: MEI activation; bottom: evaluations to first reach it. Rate-matched pairs are joined
    by grey lines; black bars: means."""
    metrics = [("activation", "MEI activation A (neuron)"),
               ("evaluations", "evaluations to reach it")]
    fig, axes = plt.subplots(2, len(comparisons), figsize=(min(WIDTH_IN, 3.2 * len(comparisons)), 5),
                             squeeze=False, sharey="row", sharex="col")
    for c, (title, (per, names)) in enumerate(comparisons.items()):
        jit = np.random.default_rng(0).uniform(-0.08, 0.08, len(per))
        xpos = np.where(per["label"].to_numpy(dtype=bool), 0.0, 1.0) + jit
        for r, (col, ylabel) in enumerate(metrics):
            ax = axes[r, c]
            for _, g in per.assign(xp=xpos).groupby("pair"):
                if len(g) == 2:
                    ax.plot(g["xp"], g[col], color="0.75", lw=0.8, zorder=1)
            ax.scatter(xpos, per[col], c=np.where(per["label"], "C3", "C0"), s=18, zorder=2)
            for k, lab in enumerate((True, False)):
                a = per.loc[per["label"] == lab, col]
                if len(a):
                    ax.hlines(a.mean(), k - 0.25, k + 0.25, color="k", lw=2, zorder=3)
            if c == 0:
                ax.set_ylabel(ylabel)
        axes[0, c].set_title(title)
        axes[1, c].set_xticks([0, 1], [f"{names[0]}\n(n={int(per['label'].sum())})",
                                       f"{names[1]}\n(n={int((~per['label'].astype(bool)).sum())})"])
        axes[1, c].set_xlim(-0.5, 1.5)
    fig.tight_layout()
    return fig
