"""Figures of the page "Your own recording": binned spike times, planted couplings found
or not under each null, and the response functions of the recovered 1FC groups."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import xarray as xr

from fclib.figures._common import column_figsize, figure_legend, legend_beside, panel_grid, styled

__all__ = ["fig_own_raster", "fig_planted_recovery", "fig_own_response_functions"]

_COLOURS = {"planted": "C3", "shared tuning": "C0", "other": "0.6"}
_STYLES = {"planted": "-", "shared tuning": "--", "other": ":"}


@styled
def fig_own_raster(spikes: xr.DataArray, n_units: int = 60, n_trials: int = 8) -> plt.Figure:
    """The first ``n_trials`` trials of the first ``n_units`` units as binned by
    :func:`fclib.io.bin_spikes` (black: a spike in the bin); trials separated by lines and
    labelled with their stimulus."""
    T = int(spikes.attrs.get("T", spikes.sizes["frame"]))
    n_trials = max(1, min(n_trials, spikes.sizes["frame"] // T))
    x = spikes.isel(neuron=slice(0, n_units), frame=slice(0, n_trials * T))
    fig, ax = plt.subplots(figsize=column_figsize(3.2))
    ax.imshow(x.values, aspect="auto", cmap="Greys", interpolation="nearest",
              extent=(-0.5, x.sizes["frame"] - 0.5, x.sizes["neuron"] - 0.5, -0.5))
    for p in range(1, n_trials):
        ax.axvline(p * T - 0.5, color="C1", lw=0.8)
    if "stimulus" in x.coords:
        stim = np.asarray(x["stimulus"].values)[::T]
        for p, s in enumerate(stim):
            ax.text(p * T + T / 2, -1.5, f"stim {s}", ha="center", va="bottom", fontsize=8)
    ax.set(xlabel=f"frame (bins of {spikes.attrs.get('bin_size', '?')} s)", ylabel="unit")
    fig.tight_layout()
    return fig


@styled
def fig_planted_recovery(pairs: dict, truth: xr.DataArray, threshold: float = 4.0,
                         bins: int = 60) -> plt.Figure:
    """One panel per null (``{name: pairs Dataset}``): the distribution of ``z`` of the
    planted, shared-tuning and other pairs (:func:`fclib.stats.simulate.pair_truth`), each
    normalised to its own count, with the significance threshold; values beyond the x axis
    are drawn in its last bin."""
    nrows, ncols, size = panel_grid(len(pairs), 3, 2.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(pairs):]:
        ax.remove()
    zs = {}
    for name, ds in pairs.items():
        ti = ds["target_neuron"].values if "target_neuron" in ds.coords else np.arange(ds.sizes["target"])
        si = ds["source_neuron"].values if "source_neuron" in ds.coords else np.arange(ds.sizes["source"])
        zs[name] = (ds["z"].transpose("target", "source").values,
                    truth.values[np.ix_(ti, si)])
    finite = np.concatenate([z[np.isfinite(z) & (lab != "")].ravel() for z, lab in zs.values()])
    hi = float(np.quantile(finite, 0.9995)) if finite.size else threshold + 1
    edges = np.linspace(min(-6.0, float(finite.min(initial=0))), max(hi, threshold + 2), bins + 1)
    for ax, (name, (z, lab)) in zip(axes.flat, zs.items()):
        for c, colour in _COLOURS.items():
            v = z[(lab == c) & np.isfinite(z)]
            if v.size:
                ax.hist(np.clip(v, edges[0], edges[-1]), edges, weights=np.full(v.size, 1 / v.size),
                        histtype="step", color=colour, ls=_STYLES[c], lw=1.3, label=c)
        ax.axvline(threshold, color="k", ls="--", lw=0.8)
        ax.set(title=f"{name} null", xlabel="z", yscale="log")
    axes[0, 0].set_ylabel("share of pairs of the class")
    figure_legend(fig)
    sns.despine(fig)
    return fig


@styled
def fig_own_response_functions(counts: xr.Dataset, neurons, min_frames: int = 10) -> plt.Figure:
    """Response functions ``p(k) = n_fire / n_frames`` of the given target neurons against
    the co-firing ``k`` of their 1FC groups (:func:`fclib.stats.response.response_counts`);
    points seen in fewer than ``min_frames`` frames are left out, marker area grows with the
    frames. ``neurons``: one target neuron id or a list of them (ids of ``counts``'s
    ``neuron`` coordinate)."""
    if not isinstance(counts, xr.Dataset) or not {"n_frames", "n_fire"} <= set(counts.data_vars):
        raise TypeError("counts must be the Dataset of fclib.stats.response.response_counts "
                        f"(n_frames, n_fire over neuron x cofiring); got {type(counts).__name__}")
    neurons = [neurons] if np.ndim(neurons) == 0 else list(np.asarray(neurons).ravel())
    have = counts["neuron"].values
    missing = [n for n in neurons if n not in have]
    if missing:
        raise ValueError(f"neurons {missing[:5]} are not target neurons of counts; it has "
                         f"{have.size} (e.g. {have[:5].tolist()})")
    fig, ax = plt.subplots(figsize=column_figsize(3.2))
    k = counts["cofiring"].values
    for n in neurons:
        nf = counts["n_frames"].sel(neuron=n).values
        fire = counts["n_fire"].sel(neuron=n).values
        ok = nf >= max(min_frames, 1)
        deg = int(counts["degree"].sel(neuron=n)) if "degree" in counts.coords else None
        line, = ax.plot(k[ok], fire[ok] / nf[ok], "-", lw=1,
                        label=f"unit {n}" + ("" if deg is None else f" (group of {deg})"))
        ax.scatter(k[ok], fire[ok] / nf[ok], s=4 + 30 * np.log10(nf[ok]), color=line.get_color())
    ax.set(xlabel="co-firing k (group members firing in the bin)",
           ylabel="P(target fires | k)", ylim=(0, 1))
    legend_beside(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig
