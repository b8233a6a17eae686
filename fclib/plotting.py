"""Figure functions; each returns a matplotlib Figure (seaborn style)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = ["training_curve", "firing_rates", "raster", "presentations", "sttc_vs_null",
           "significance_by_pair", "degree_distributions", "null_agreement",
           "false_positive_rates",
           "response_functions", "by_layer_pair", "slope_scaling", "collapse", "batch_responses",
           "pair_scatter", "class_similarity", "similarity_curves", "identity_vs_aggregate",
           "structural_edges"]

sns.set_theme(context="notebook", style="ticks")


def training_curve(history: list[dict]) -> plt.Figure:
    """Loss and accuracy per epoch (training and held-out)."""
    h = pd.DataFrame(history)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(h.epoch + 1, h.loss, label="training")
    a.plot(h.epoch + 1, h.test_loss, label="held-out")
    a.set(xlabel="epoch", ylabel="cross-entropy")
    a.legend(frameon=False)
    b.plot(h.epoch + 1, h.train_accuracy, label="training (augmented)")
    b.plot(h.epoch + 1, h.test_accuracy, label="held-out")
    b.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    b.legend(frameon=False)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def firing_rates(summary: pd.DataFrame, rates: dict[str, np.ndarray],
                 silent_threshold: float = 0.01) -> plt.Figure:
    """Per-neuron firing rate distribution per layer and the silent fraction (Fig. A1)."""
    layers = list(summary.index)
    fig, (a, b) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True,
                               gridspec_kw={"height_ratios": [2, 1]})
    eps = 1e-3
    data = [np.maximum(rates[name], eps) for name in layers]
    parts = a.violinplot(data, positions=range(len(layers)), showmedians=True, widths=0.8)
    for body in parts["bodies"]:
        body.set_alpha(0.5)
    a.plot(range(len(layers)), summary.mean_rate, "o", color="k", label="mean")
    a.axhline(silent_threshold, color="tab:red", lw=1, ls="--", label="silent threshold")
    a.set_yscale("log")
    a.set(ylabel="spikes per image\n(per neuron)")
    a.legend(frameon=False, loc="upper right")
    b.bar(range(len(layers)), summary.silent_fraction, color="tab:red", alpha=0.7)
    b.set(ylabel="silent fraction", ylim=(0, max(0.05, summary.silent_fraction.max() * 1.15)))
    b.set_xticks(range(len(layers)), layers)
    b.set_xlabel("layer")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def raster(sample: dict, T: int, labels=None) -> plt.Figure:
    """Spike raster: neurons of several layers (rows) over a few presentations."""
    layers = list(sample)
    n_rows = sum(sample[name].sizes["neuron"] for name in layers)
    n_frames = next(iter(sample.values())).sizes["frame"]
    fig, ax = plt.subplots(figsize=(9, 0.12 * n_rows + 1.5))
    row = 0
    colors = sns.color_palette("husl", len(layers))
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


def presentations(images: np.ndarray, titles=None, ncols: int = 8) -> plt.Figure:
    """A grid of presented images ``(n, C, H, W)``."""
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.3 * nrows), squeeze=False)
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


def sttc_vs_null(observed: dict, null: dict, bins: int = 80) -> plt.Figure:
    """Observed STTC distribution against its shift-null sample, per layer pair (Fig. 1 A-C)."""
    names = list(observed)
    fig, axes = plt.subplots(1, len(names), figsize=(3.3 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        obs, nul = np.asarray(observed[name]), np.asarray(null[name])
        ax.set(title=name, xlabel="STTC")
        if obs.size == 0 or nul.size == 0:
            ax.text(0.5, 0.5, "no active pairs", ha="center", transform=ax.transAxes)
            continue
        lo = min(obs.min(), nul.min())
        hi = max(obs.max(), nul.max())
        edges = np.linspace(lo, hi, bins + 1)
        ax.hist(nul, edges, color="0.6", alpha=0.7, label="shifted (null)", density=True)
        ax.hist(obs, edges, histtype="step", color="tab:blue", lw=1.5, label="observed",
                density=True)
        ax.set_yscale("log")
    axes[0, 0].set_ylabel("density")
    axes[0, 0].legend(frameon=False, fontsize=8)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def significance_by_pair(summary: pd.DataFrame, threshold: float) -> plt.Figure:
    """Fraction of significantly positive and negative pairs per layer pair."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    x = np.arange(len(summary))
    ax.bar(x - 0.2, 100 * summary.frac_pos, 0.4, label=f"z > {threshold:g}", color="tab:blue")
    ax.bar(x + 0.2, 100 * summary.frac_neg, 0.4, label=f"z < -{threshold:g}", color="tab:orange")
    ax.set_xticks(x, summary.index, rotation=45, ha="right")
    ax.set(ylabel="% of pairs", xlabel="source → target layer")
    ax.legend(frameon=False)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def degree_distributions(degrees: dict) -> plt.Figure:
    """Distribution of the degree of connectivity (1FC group size) per layer pair."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    colors = sns.color_palette("viridis", len(degrees))
    for c, (name, d) in zip(colors, degrees.items()):
        d = np.sort(np.asarray(d))
        if d.size:
            ax.step(d, 1 - np.arange(d.size) / d.size, where="post", color=c, label=name)
    ax.set_xscale("symlog", linthresh=1)
    ax.set(xlabel="degree of connectivity (significant positive sources)",
           ylabel="fraction of targets ≥ degree")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def null_agreement(z_exact: np.ndarray, z_shifts: np.ndarray, threshold: float) -> plt.Figure:
    """z of the exact all-shift null against z of the 150-shift test, pair by pair."""
    ok = np.isfinite(z_exact) & np.isfinite(z_shifts)
    x, y = z_exact[ok], z_shifts[ok]
    fig, ax = plt.subplots(figsize=(4.2, 4))
    if x.size == 0:
        ax.text(0.5, 0.5, "no pairs with a defined z", ha="center", transform=ax.transAxes)
        return fig
    ax.hexbin(x, y, gridsize=60, bins="log", cmap="Blues", mincnt=1)
    lim = [min(x.min(), y.min()), max(x.max(), y.max())]
    ax.plot(lim, lim, color="k", lw=0.8)
    for t in (threshold, -threshold):
        ax.axvline(t, color="tab:red", lw=0.6, ls="--")
        ax.axhline(t, color="tab:red", lw=0.6, ls="--")
    ax.set(xlabel="z, exact all-shift null", ylabel="z, 150 random shifts")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def false_positive_rates(null_z: dict, marks=(3.0, 4.0, 5.0), alpha: float | None = None,
                         thresholds: dict | None = None) -> plt.Figure:
    """Survival curve of z on uncoupled surrogates, one line per test, against a normal tail.

    ``null_z``: ``{test name: z values}`` from data with no coupling, so the curve at ``z``
    is the test's false-positive rate at threshold ``z``. ``thresholds``: ``{test: z}``
    marked on the curves (the calibrated thresholds at rate ``alpha``).
    """
    from scipy.stats import norm

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    z_grid = np.linspace(0, max([6.0] + [float(np.max(z)) for z in null_z.values() if np.size(z)]), 400)
    ax.plot(z_grid, norm.sf(z_grid), color="0.4", ls=":", lw=1, label="standard normal")
    for c, (name, z) in zip(sns.color_palette("deep"), null_z.items()):
        z = np.sort(np.asarray(z, dtype=float))
        if not z.size:
            continue
        rate = 1 - np.searchsorted(z, z_grid, side="right") / z.size
        ax.step(z_grid, np.where(rate > 0, rate, np.nan), where="post", color=c,
                label=f"{name} ({z.size:,} pairs)")
        if thresholds and np.isfinite(thresholds.get(name, np.nan)):
            ax.plot(thresholds[name], alpha, "o", color=c, ms=5)
    for m in marks:
        ax.axvline(m, color="0.8", lw=0.6, zorder=0)
    if alpha is not None:
        ax.axhline(alpha, color="tab:red", lw=0.6, ls="--")
    ax.set_yscale("log")
    n_max = max([np.size(z) for z in null_z.values()] + [1])
    ax.set_ylim(0.3 / n_max, 1.5)  # no sample resolves a rate below 1 / its size
    ax.set(xlabel="threshold z", ylabel="false-positive rate (z above it)")
    ax.legend(frameon=False, fontsize=8)
    sns.despine(fig)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- response functions
def _points(ds, neuron, batch=None, min_frames=1):
    sel = ds.sel(neuron=neuron)
    nf = (sel["batch_n_frames"].isel(batch=batch) if batch is not None else sel["n_frames"]).values
    fire = (sel["batch_n_fire"].isel(batch=batch) if batch is not None else sel["n_fire"]).values
    k = ds["cofiring"].values
    ok = nf >= max(min_frames, 1)
    return k[ok], fire[ok] / nf[ok], nf[ok], sel


def response_functions(examples: dict, model: str = "relu", cdf: bool = False,
                       min_frames: int = 10) -> plt.Figure:
    """Response functions of example neurons, one panel each, with their fit (Fig. 2).

    ``examples`` maps a panel title to ``(response Dataset, neuron id)``. Points: firing
    probability at each co-firing value, area growing with the frames behind it (points
    with fewer than ``min_frames`` frames are not drawn). ``model="relu"`` draws the ReLU
    fit, ``"lines"`` the two-line fit and its intersection, each over the co-firing range
    it was fitted on (up to saturation); ``cdf=True`` adds the CDF of the group's co-firing
    on a second axis (Fig. 2 M-P).
    """
    from .fits import relu, two_lines

    n = len(examples)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.2), squeeze=False)
    for ax, (title, (ds, neuron)) in zip(axes[0], examples.items()):
        k, p, nf, sel = _points(ds, neuron, min_frames=min_frames)
        ax.scatter(k, p, s=4 + 30 * np.log10(nf) / np.log10(max(nf.max(), 10)), color="tab:green",
                   alpha=0.7, lw=0, label="firing probability")
        top = float(sel.saturation_cofiring) if "saturation_cofiring" in sel else np.nan
        xx = np.linspace(0, top if np.isfinite(top) else (k.max() if k.size else 1), 300)
        if model == "relu":
            ax.plot(xx, relu(xx, float(sel.relu_slope), float(sel.relu_threshold)), color="k",
                    lw=1.2, label=f"ReLU, R² = {float(sel.relu_r2):.2f}")
        else:
            kap = float(sel.intersection)
            ax.plot(xx, two_lines(xx, float(sel.intercept), float(sel.slope_weak),
                                  float(sel.slope_strong), kap), color="k", lw=1.2,
                    label=f"two lines, R² = {float(sel.lines_r2):.2f}")
            ax.axvline(kap, color="tab:purple", ls="--", lw=1,
                       label=f"intersection: {100 * float(sel.intersection_fraction):.0f} % of N")
        ax.set(title=f"{title}\nneuron {neuron}, N = {int(sel.degree)}",
               xlabel="co-firing members of the 1FC group", ylim=(-0.03, 1.03))
        if cdf:
            nfall = sel["n_frames"].values
            c = np.cumsum(nfall) / max(nfall.sum(), 1)
            a2 = ax.twinx()
            a2.plot(ds["cofiring"].values, c, color="tab:blue", lw=1, label="co-firing CDF")
            a2.set_ylim(-0.03, 1.03)
            a2.set_ylabel("CDF of co-firing events", color="tab:blue")
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("P(target fires)")
    sns.despine(fig, right=not cdf)
    fig.tight_layout()
    return fig


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


def slope_scaling(table: pd.DataFrame, laws: pd.DataFrame) -> plt.Figure:
    """ReLU slope against 1FC group size per layer pair (log-log) with power-law fits."""
    names = list(laws.index)
    ncols = min(4, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.4 * nrows), squeeze=False,
                             sharex=True, sharey=True)
    for ax, name in zip(axes.flat, names):
        d = table[(table["layer pair"] == name) & table["selected"]]
        ax.scatter(d["degree"], d["relu_slope"], s=3, alpha=0.3, lw=0)
        law = laws.loc[name]
        if np.isfinite(law.beta):
            xx = np.geomspace(max(d["degree"].min(), 1), d["degree"].max(), 50)
            ax.plot(xx, 10 ** law.log10_a * xx ** -law.beta, color="tab:red", lw=1)
        ax.set_title(f"{name}: β = {law.beta:.2f}", fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("group size N")
    for ax in axes[:, 0]:
        ax.set_ylabel("ReLU slope")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def collapse(ds, exponents: dict, max_neurons: int = 60, min_frames: int = 10,
             rng=None) -> plt.Figure:
    """Response functions of selected neurons with co-firing rescaled by N^exponent.

    One panel per entry of ``exponents`` (title → exponent); lines coloured by group size.
    At most ``max_neurons`` neurons, drawn at random (``rng``) when there are more.
    """
    ids = ds["neuron"].values[ds["selected"].values]
    gen = np.random.default_rng(rng)
    if ids.size > max_neurons:
        ids = np.sort(gen.choice(ids, max_neurons, replace=False))
    deg = ds["degree"].sel(neuron=ids).values
    norm = plt.matplotlib.colors.LogNorm(max(deg.min(), 1), max(deg.max(), 2)) if ids.size else None
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(exponents), figsize=(3.4 * len(exponents), 3.1), squeeze=False)
    for ax, (title, e) in zip(axes[0], exponents.items()):
        for nid, n in zip(ids, deg):
            k, p, _, _ = _points(ds, nid, min_frames=min_frames)
            ax.plot(k / max(n, 1) ** e, p, color=cmap(norm(max(n, 1))), lw=0.7, alpha=0.6)
        ax.set(title=title, ylim=(-0.03, 1.03),
               xlabel="co-firing" if e == 0 else f"co-firing / N^{e:.2f}")
    axes[0, 0].set_ylabel("P(target fires)")
    if ids.size:
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0, -1], label="N")
    sns.despine(fig)
    return fig


def batch_responses(examples: dict, min_frames: int = 10) -> plt.Figure:
    """One neuron's response function in each batch of held-out images (Fig. A4)."""
    n = len(examples)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.1), squeeze=False)
    for ax, (title, (ds, neuron)) in zip(axes[0], examples.items()):
        colors = sns.color_palette("Set1", ds.sizes["batch"])
        for b in range(ds.sizes["batch"]):
            k, p, _, sel = _points(ds, neuron, batch=b, min_frames=min_frames)
            ax.plot(k, p, ".", ms=3, color=colors[b],
                    label=f"batch {b + 1}: slope {float(sel.batch_relu_slope[b]):.4f}")
        ax.set(title=f"{title}\nneuron {neuron}, N = {int(ds.degree.sel(neuron=neuron))}",
               xlabel="co-firing members of the 1FC group", ylim=(-0.03, 1.03))
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    axes[0, 0].set_ylabel("P(target fires)")
    sns.despine(fig)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- information, semantics
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


def class_similarity(cosine, rank, names) -> plt.Figure:
    """Cosine similarity of class-name embeddings (matrix) and the distributions of the
    cosine and rank similarity between different classes (Fig. A10 A-B)."""
    cos = np.asarray(cosine)
    rk = np.asarray(rank)
    off = ~np.eye(cos.shape[0], dtype=bool)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(11, 3.4))
    im = a.imshow(cos, cmap="viridis")
    if len(names) <= 20:
        a.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        a.set_yticks(range(len(names)), names, fontsize=7)
    fig.colorbar(im, ax=a, fraction=0.046)
    a.set_title("cosine similarity")
    b.hist(cos[off], bins=20, color="tab:blue", alpha=0.8)
    b.set(xlabel="cosine similarity", ylabel="class pairs", title="between different classes")
    c.hist(rk[off], bins=np.linspace(0, 1, 11), color="tab:green", alpha=0.8)
    c.set(xlabel="semantic rank similarity", title="between different classes")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def similarity_curves(curves: pd.DataFrame, chance: dict | None = None) -> plt.Figure:
    """Mean of several measures against the co-firing fraction, one line per layer pair.

    ``curves``: columns ``layer pair``, ``bin`` and one column per measure; ``chance`` maps
    a measure to its chance level (dashed).
    """
    measures = [c for c in curves.columns if c not in ("layer pair", "bin")]
    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.3), squeeze=False)
    names = list(dict.fromkeys(curves["layer pair"]))
    colors = sns.color_palette("viridis", len(names))
    for ax, m in zip(axes[0], measures):
        for col, name in zip(colors, names):
            d = curves[curves["layer pair"] == name]
            ax.plot(d["bin"], d[m], "o-", ms=3, color=col, label=name)
        if chance and m in chance:
            ax.axhline(chance[m], color="k", ls="--", lw=0.8, label="chance")
        ax.set(xlabel="co-firing / group size", ylabel=m)
    axes[0, -1].legend(frameon=False, fontsize=7, ncol=2)
    sns.despine(fig)
    fig.tight_layout()
    return fig


def identity_vs_aggregate(diff: pd.DataFrame) -> plt.Figure:
    """Balanced accuracy from aggregate co-firing and from member identities, per layer pair
    and classifier, with the paired difference's confidence interval (Fig. A9)."""
    pairs = list(dict.fromkeys(diff["layer pair"]))
    clfs = list(dict.fromkeys(diff["classifier"]))
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.3), squeeze=False,
                             sharey=True)
    x = np.arange(len(clfs))
    for ax, name in zip(axes[0], pairs):
        d = diff[diff["layer pair"] == name].set_index("classifier").reindex(clfs)
        ax.bar(x - 0.2, d["aggregate"], 0.4, label="aggregate co-firing", color="tab:blue")
        err = np.vstack([d["difference"] - d["ci_low"], d["ci_high"] - d["difference"]])
        ax.bar(x + 0.2, d["identity"], 0.4, yerr=err, capsize=3, label="member identities",
               color="tab:orange")
        ax.axhline(0.5, color="k", ls="--", lw=0.8)
        ax.set_xticks(x, clfs, rotation=30, ha="right", fontsize=8)
        ax.set(title=name, ylim=(0.4, 1.0))
    axes[0, 0].set_ylabel("balanced accuracy")
    axes[0, 0].legend(frameon=False, fontsize=7, loc="lower left")
    sns.despine(fig)
    fig.tight_layout()
    return fig


def structural_edges(edges: pd.DataFrame, summary: pd.DataFrame) -> plt.Figure:
    """STTC of structural and non-structural 1FC edges per layer pair (left) and the
    normalised degree of each kind (right; Figs. A7-A8).

    ``edges``: columns ``layer pair``, ``kind`` and ``sttc``; ``summary``: indexed by layer
    pair with ``structural degree / receptive field`` and ``non-structural degree / rest``.
    """
    from matplotlib import cbook
    from matplotlib.patches import Patch

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    # box statistics from numpy, not seaborn: a default run has ~10 million edges
    pairs = list(pd.unique(edges["layer pair"]))
    pair_of = pd.Categorical(edges["layer pair"], categories=pairs).codes
    sttc = edges["sttc"].to_numpy(dtype=float)
    kinds = [("structural", "C0", -0.2), ("non-structural", "C1", 0.2)]
    for kind, colour, dx in kinds:
        is_kind = (edges["kind"] == kind).to_numpy()
        stats, pos = [], []
        for i in range(len(pairs)):
            v = sttc[is_kind & (pair_of == i)]
            v = v[np.isfinite(v)]
            if v.size:
                st = cbook.boxplot_stats(v, whis=1.5)[0]
                st["fliers"] = []
                stats.append(st)
                pos.append(i + dx)
        if stats:
            a.bxp(stats, positions=pos, widths=0.36, showfliers=False, patch_artist=True,
                  boxprops=dict(facecolor=colour, alpha=0.8), medianprops=dict(color="k"))
    a.set_xticks(range(len(pairs)), pairs, rotation=45, ha="right")
    a.set(ylabel="STTC of 1FC edges", xlabel="")
    a.legend([Patch(color=c, alpha=0.8) for _, c, _ in kinds], [k for k, _, _ in kinds],
             frameon=False, fontsize=8)
    x = np.arange(len(summary))
    b.bar(x - 0.2, summary["structural degree / receptive field"], 0.4, label="structural")
    b.bar(x + 0.2, summary["non-structural degree / rest"], 0.4, label="non-structural")
    b.set_xticks(x, summary.index, rotation=45, ha="right")
    b.set(ylabel="normalised degree")
    b.legend(frameon=False, fontsize=8)
    sns.despine(fig)
    fig.tight_layout()
    return fig
