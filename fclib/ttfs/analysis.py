"""Analyses of a TTFS network's spike times: pulse packets, information gain, pathways, 1FC.

Input everywhere: ``times``, a dict ``layer -> (trial, neuron)`` float array of first-spike
times (``inf`` = silent), as made by :func:`fclib.ttfs.network.forward`, and ``labels``
(trial,). The decision of a trial is its earliest output spike.

- **Spread** (:func:`spike_spread`): per trial the interquartile range and the standard
  deviation of a layer's finite spike times, averaged over trials with at least two spikes;
  (i) ``"all"`` spikes; (ii) ``"before decision"``, spikes earlier than the decision; (iii)
  ``"window"``, spikes in ``[decision − window, decision)`` — (ii)'s window shrinks with the
  layer's latency, which biases it, so (iii) fixes the window.
- **Information gain** (:func:`information_gain`): with ``active`` = a spike before the
  decision, IG = 1 − H(C | active) / H(C), H(C) the entropy of the class over all trials and
  H(C | active) the entropy of the class over the trials on which the neuron is active;
  1 = active for one class only, 0 = active as often for each class as the classes occur.
  Neurons active on fewer than ``min_trials`` trials get NaN. The null
  (:func:`information_gain_null`) is the same with the labels permuted (seeded).
- **Pathways** (:func:`class_pathways`): from layer l to the outputs the product of the
  non-negative E→E weight matrices (and finally E→output); for each class the E neurons in
  the top ``top`` fraction of that column. :func:`pathway_specificity` measures, per layer,
  the share of pathway neurons whose preferred class is the pathway's (chance 1/n_classes),
  P(active | class) − P(active | other) of the pathway neurons, and the mean Jaccard overlap
  of the classes' pathways.
- **1FC** (:func:`binned_trains`, :func:`group_pathway_overlap`): each trial's spike times
  binned into frames, trials concatenated, so the book's STTC, nulls and 1FC groups apply
  unchanged (``fclib.stats``, read-only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib._util import as_generator

__all__ = ["decision_times", "active_before", "spike_spread", "information_gain",
           "information_gain_null", "ig_table", "class_pathways", "preferred_class",
           "pathway_specificity", "binned_trains", "group_pathway_overlap", "ig_summary",
           "onefc_pathways"]


def decision_times(output_times) -> np.ndarray:
    """The earliest output spike of each trial (``inf`` where no output spikes)."""
    return np.asarray(output_times, dtype=np.float64).min(axis=1)


def active_before(layer_times, decision) -> np.ndarray:
    """Bool (trial, neuron): the neuron spiked strictly before its trial's decision."""
    t = np.asarray(layer_times, dtype=np.float64)
    return np.isfinite(t) & (t < np.asarray(decision, dtype=np.float64)[:, None])


def _iqr_sd(t: np.ndarray, keep: np.ndarray):
    """Mean over trials (≥ 2 kept spikes) of the IQR and SD of the kept times of each trial."""
    iqr, sd = [], []
    for row, k in zip(t, keep):
        v = row[k]
        if v.size >= 2:
            q1, q3 = np.percentile(v, [25, 75])
            iqr.append(q3 - q1)
            sd.append(v.std())
    if not iqr:
        return np.nan, np.nan, 0
    return float(np.mean(iqr)), float(np.mean(sd)), len(iqr)


def spike_spread(times: dict, window: float = 0.5, decision=None) -> pd.DataFrame:
    """Pulse-packet spread of every layer (module docstring), in units of τ.

    ``decision`` defaults to :func:`decision_times` of ``times["output"]``. Returns a table
    with columns ``layer``, ``spikes`` ("all" | "before decision" | "window"), ``iqr``,
    ``sd`` and ``n_trials`` (trials with at least two such spikes)."""
    if window <= 0:
        raise ValueError(f"window must be > 0 (units of tau), got {window!r}")
    if decision is None:
        decision = decision_times(times["output"])
    d = np.asarray(decision, dtype=np.float64)[:, None]
    rows = []
    for layer, t in times.items():
        t = np.asarray(t, dtype=np.float64)
        fin = np.isfinite(t)
        sel = {"all": fin, "before decision": fin & (t < d),
               "window": fin & (t < d) & (t >= d - window)}
        for name, keep in sel.items():
            iqr, sd, n = _iqr_sd(t, keep)
            rows.append(dict(layer=layer, spikes=name, iqr=iqr, sd=sd, n_trials=n))
    out = pd.DataFrame(rows)
    out["layer"] = pd.Categorical(out["layer"], categories=list(times), ordered=True)
    return out


def _entropy(p: np.ndarray, axis=-1) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=axis)


def information_gain(active, labels, min_trials: int = 10, n_classes: int | None = None):
    """IG = 1 − H(class | active) / H(class) of every neuron (module docstring).

    ``active`` (trial, neuron) bool, ``labels`` (trial,) ints 0..n_classes−1. Returns
    (neuron,) float64, NaN for neurons active on fewer than ``min_trials`` trials."""
    a = np.asarray(active, dtype=bool)
    y = np.asarray(labels)
    if a.ndim != 2 or a.shape[0] != y.shape[0]:
        raise ValueError(f"active must be (trial, neuron) with one row per label; got "
                         f"{a.shape} and {y.shape[0]} labels")
    k = int(n_classes or (y.max() + 1))
    onehot = np.eye(k)[y]                                        # (trial, class)
    h_c = _entropy(onehot.mean(0))
    if h_c == 0:
        raise ValueError("labels hold a single class; information gain is undefined")
    counts = a.T.astype(np.float64) @ onehot                      # (neuron, class)
    n = counts.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ig = 1.0 - _entropy(counts / n[:, None], axis=1) / h_c
    ig[n < min_trials] = np.nan
    return ig


def information_gain_null(active, labels, n_shuffles: int = 20, min_trials: int = 10,
                          rng=None) -> np.ndarray:
    """IG of every neuron with the labels permuted across trials (``n_shuffles`` seeded
    permutations); returns (shuffle, neuron)."""
    gen = as_generator(rng)
    y = np.asarray(labels)
    k = int(y.max() + 1)
    return np.stack([information_gain(active, gen.permutation(y), min_trials, k)
                     for _ in range(n_shuffles)])


def ig_table(times: dict, labels, n_exc: dict, *, min_trials: int = 10, n_shuffles: int = 20,
             rng=None) -> pd.DataFrame:
    """IG and its shuffle null of every neuron of the hidden layers ``n_exc`` names
    (``layer -> number of E neurons``, the first ones). Columns: ``layer``, ``neuron``,
    ``type`` ("E" | "I"), ``n_active``, ``ig``, ``ig_null`` (median over shuffles)."""
    gen = as_generator(rng)
    dec = decision_times(times["output"])
    rows = []
    for layer, ne in n_exc.items():
        act = active_before(times[layer], dec)
        ig = information_gain(act, labels, min_trials)
        null = np.median(information_gain_null(act, labels, n_shuffles, min_trials, gen), axis=0)
        n = act.shape[1]
        rows.append(pd.DataFrame(dict(layer=layer, neuron=np.arange(n),
                                      type=np.where(np.arange(n) < ne, "E", "I"),
                                      n_active=act.sum(0), ig=ig, ig_null=null)))
    out = pd.concat(rows, ignore_index=True)
    out["layer"] = pd.Categorical(out["layer"], categories=list(n_exc), ordered=True)
    return out


def class_pathways(weights, n_exc, top: float = 0.1) -> dict:
    """Class-specific E pathways of every hidden layer from the weights (module docstring).

    ``weights``: the network's matrices (``weights[l]`` from layer l to l+1, l = 0 the input),
    ``n_exc``: E neurons per hidden layer. Returns ``{l: (strength, members)}`` for hidden
    layer ``l`` (1-based): ``strength`` (n_exc_l, n_out) the E-only path products and
    ``members`` (n_out, n_exc_l) bool, the top ``top`` fraction of each class's column."""
    if not 0 < top <= 1:
        raise ValueError(f"top must be in (0, 1], got {top!r}")
    n_hidden = len(weights) - 1
    out = {}
    m = np.clip(weights[-1][: n_exc[-1]], 0.0, None)                 # E_L -> outputs
    for l in range(n_hidden, 0, -1):
        if l < n_hidden:
            m = np.clip(weights[l][: n_exc[l - 1], : n_exc[l]], 0.0, None) @ m
        n_top = max(1, int(round(top * m.shape[0])))
        order = np.argsort(-m, axis=0, kind="stable")[:n_top]         # (n_top, n_out)
        members = np.zeros((m.shape[1], m.shape[0]), dtype=bool)
        for c in range(m.shape[1]):
            members[c, order[:, c]] = True
        out[l] = (m.copy(), members)
    return dict(sorted(out.items()))


def preferred_class(active, labels, n_classes: int | None = None):
    """P(active | class) (neuron, class) and each neuron's preferred class (argmax; −1 for a
    neuron never active)."""
    a = np.asarray(active, dtype=np.float64)
    y = np.asarray(labels)
    k = int(n_classes or (y.max() + 1))
    onehot = np.eye(k)[y]
    p = (a.T @ onehot) / np.maximum(onehot.sum(0), 1)
    pref = np.where(p.max(1) > 0, p.argmax(1), -1)
    return p, pref


def pathway_specificity(pathways: dict, times: dict, labels, layers) -> pd.DataFrame:
    """Per hidden layer: ``preferred = class`` (share of pathway neurons whose preferred class
    is their pathway's; chance 1/n_classes), ``P(active|class) − P(active|other)`` (mean over
    pathway neurons) and ``Jaccard`` (mean overlap of two classes' pathways).

    ``layers`` maps the 1-based hidden index of ``pathways`` to the layer name in ``times``."""
    dec = decision_times(times["output"])
    y = np.asarray(labels)
    rows = []
    for l, (_, members) in pathways.items():
        name = layers[l]
        act = active_before(times[name], dec)[:, : members.shape[1]]
        p, pref = preferred_class(act, y, members.shape[0])
        k = members.shape[0]
        same, diff = [], []
        for c in range(k):
            idx = np.flatnonzero(members[c])
            same.extend(pref[idx] == c)
            other = np.delete(p[idx], c, axis=1).mean(1) if k > 1 else np.zeros(idx.size)
            diff.extend(p[idx, c] - other)
        inter = members.astype(np.float64) @ members.T.astype(np.float64)
        size = members.sum(1)
        union = size[:, None] + size[None, :] - inter
        iu = np.triu_indices(k, 1)
        jac = float(np.mean(inter[iu] / np.maximum(union[iu], 1)))
        rows.append({"layer": name, "preferred = class": float(np.mean(same)),
                     "P(active|class) − P(active|other)": float(np.mean(diff)),
                     "Jaccard": jac, "chance": 1.0 / k})
    return pd.DataFrame(rows)


def binned_trains(layer_times, bin_size: float = 0.1, t_max: float | None = None,
                  name: str = "") -> xr.DataArray:
    """0/1 trains ``("neuron", "frame")`` of one layer: each trial's window [0, t_max) cut into
    bins of ``bin_size``, trials concatenated (frame = trial × bins + bin). Spikes at or after
    ``t_max`` are dropped; ``t_max`` defaults to just past the latest finite spike.
    Coordinates: ``neuron``, ``trial`` and ``bin`` on frames; ``silent`` on neurons."""
    t = np.asarray(layer_times, dtype=np.float64)
    if bin_size <= 0:
        raise ValueError(f"bin_size must be > 0, got {bin_size!r}")
    fin = np.isfinite(t)
    if t_max is None:
        t_max = float(t[fin].max()) + bin_size if fin.any() else bin_size
    n_bins = int(np.ceil(t_max / bin_size))
    n_trials, n = t.shape
    out = np.zeros((n, n_trials * n_bins), dtype=np.uint8)
    b = np.floor(np.where(fin, t, 0.0) / bin_size).astype(np.int64)
    ok = fin & (b < n_bins) & (b >= 0)
    tr, ne = np.nonzero(ok)
    out[ne, tr * n_bins + b[tr, ne]] = 1
    return xr.DataArray(out, dims=("neuron", "frame"), name=name or None,
                        coords=dict(neuron=np.arange(n), silent=("neuron", out.sum(1) == 0),
                                    trial=("frame", np.repeat(np.arange(n_trials), n_bins)),
                                    bin=("frame", np.tile(np.arange(n_bins), n_trials))))


def group_pathway_overlap(groups: xr.Dataset, source_members, target_members) -> dict:
    """Do 1FC groups follow the pathways? For every target neuron in some class's pathway
    (``target_members`` (class, n_target) bool) with a non-empty 1FC group, the share of its
    group (sources in ``groups``, an edge table of :func:`fclib.stats.groups.one_fc_groups`)
    in a pathway of the same class (``source_members`` (class, n_exc_source)), against the
    share of all E sources that are (the chance level); I sources in a group are left out. Returns ``observed``, ``chance``,
    ``n_targets``."""
    src_m = np.asarray(source_members, dtype=bool)
    tgt_m = np.asarray(target_members, dtype=bool)
    tg = groups["target"].values
    sg = groups["source"].values
    obs, chance = [], []
    for j in np.unique(tg):
        if j >= tgt_m.shape[1]:
            continue  # an inhibitory target: no pathway
        classes = np.flatnonzero(tgt_m[:, j])
        if classes.size == 0:
            continue
        mem = sg[tg == j]
        mem = mem[mem < src_m.shape[1]]
        same = src_m[classes].any(0)
        if mem.size == 0:
            continue
        obs.append(same[mem].mean())
        chance.append(same.mean())
    return dict(observed=float(np.mean(obs)) if obs else np.nan,
                chance=float(np.mean(chance)) if chance else np.nan, n_targets=len(obs))


def ig_summary(ig: pd.DataFrame) -> pd.DataFrame:
    """Per layer and type (E/I) of an :func:`ig_table`: neurons analysed, median IG, share with
    IG > 0.9, median and 95th percentile of the shuffle null."""
    d = ig.dropna(subset=["ig"])
    g = d.groupby(["layer", "type"], observed=True)
    return pd.DataFrame({"n": g["ig"].size(), "median IG": g["ig"].median(),
                         "IG > 0.9": g["ig"].apply(lambda v: float((v > 0.9).mean())),
                         "null median": g["ig_null"].median(),
                         "null 95%": g["ig_null"].quantile(0.95)})


def onefc_pathways(times: dict, pathways: dict, layers: dict, *, bin_size: float = 0.1,
                   threshold: float = 4.0) -> pd.DataFrame:
    """The book's 1FC analysis on consecutive hidden layers of a TTFS network, compared with
    the class pathways.

    Each layer's spike times are binned (:func:`binned_trains`, a common window over all
    layers), STTC and the exact circular-shift null are computed for every pair of active
    neurons (:func:`fclib.stats.connectivity.pair_significance`), 1FC groups are the pairs with
    z > ``threshold`` and positive STTC (:func:`fclib.stats.groups.one_fc_groups`), and
    :func:`group_pathway_overlap` asks how much of an E pathway neuron's group lies in a
    pathway of the same class. ``layers`` maps hidden index (1-based) to layer name.
    Columns: ``layer pair``, ``significant`` (share of pairs), ``median group size``,
    ``same-class share`` (observed), ``chance``, ``targets``."""
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    names = [layers[l] for l in sorted(layers)]
    fin = [np.asarray(times[n])[np.isfinite(times[n])] for n in names]
    t_max = max((float(v.max()) for v in fin if v.size), default=0.0) + bin_size
    trains = {n: binned_trains(times[n], bin_size, t_max, name=n) for n in names}
    rows = []
    idx = sorted(layers)
    for a, b in zip(idx[:-1], idx[1:]):
        src, tgt = trains[layers[a]], trains[layers[b]]
        pairs = pair_significance(src, tgt, method="exact")
        groups = one_fc_groups(pairs, threshold)
        ov = group_pathway_overlap(groups, pathways[a][1], pathways[b][1])
        sig = (pairs["z"].values > threshold) & (pairs["sttc"].values > 0)
        rows.append({"layer pair": f"{layers[a]}→{layers[b]}",
                     "significant": float(np.nanmean(sig)) if sig.size else np.nan,
                     "median group size": float(np.median(groups["degree"].values))
                     if groups.sizes.get("neuron", 0) else np.nan,
                     "same-class share": ov["observed"], "chance": ov["chance"],
                     "targets": ov["n_targets"]})
    return pd.DataFrame(rows)
