"""Functional connectivity across training: the 1FC analysis of one recording reduced to a
few numbers per layer pair and per layer, and the tidy table of those numbers over the
training snapshots (book chapter "When do ensembles form?").

For every consecutive layer pair (source ``l-1``, target ``l``) of a recording, the quantities
are computed with the book's own statistics, nothing re-implemented:

- ``significant fraction``: share of the pairs of active neurons that are significant positive
  edges under the exact circular null (``z > threshold`` and STTC > 0;
  :func:`fclib.stats.connectivity.pair_significance`,
  :func:`fclib.stats.ensembles.significant_fraction`), as chapter 02 counts them;
- ``grouped fraction``: share of the active targets with a non-empty 1FC group;
- ``median group size``: median 1FC group size N over targets with a group
  (:func:`fclib.stats.groups.one_fc_groups`);
- ``median ReLU R²`` and ``selected fraction``: the ReLU fit of every grouped target's
  response function ``p(fire | k)`` (chapter 03; selected: ``R² > r2_min``);
- ``median intersection``: the two-line intersection as a fraction of the group size, median
  over the selected targets (chapters 03-04, ``intersection_fraction``);
- ``median strong share``: the share of frames beyond the intersection, median over the
  selected targets (chapter 04's ``strong_fraction``, ``1 - rise_quantile``);

all through :func:`fclib.stats.ensembles.evaluate_groups` and
:func:`fclib.stats.ensembles.summarise_groups` (in-sample, as the paper measures them). Per
layer: ``mean rate`` (spikes per image over the recorded neurons), ``silent fraction`` and
``median MI`` (shuffle-corrected mutual information between a neuron's spike count per
presentation and the class, median over its active neurons; :mod:`fclib.stats.information`).

Degenerate cases: a layer pair with fewer than two active neurons on either side, or without
any significant edge, gets NaN for the quantities that need them (``significant fraction`` is
0 when there are pairs but no edge). A silent layer has NaN ``median MI``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib.io.populations import LayerPair
from fclib.stats.connectivity import active, consecutive_pairs, pair_significance
from fclib.stats.ensembles import evaluate_groups, significant_fraction, summarise_groups
from fclib.stats.groups import one_fc_groups
from fclib.stats.information import information

__all__ = ["PAIR_QUANTITIES", "LAYER_QUANTITIES", "pair_quantities", "layer_quantities",
           "recording_quantities", "emergence_table", "emergence_summary"]

PAIR_QUANTITIES = ("significant fraction", "grouped fraction", "median group size",
                   "median ReLU R²", "selected fraction", "median intersection",
                   "median strong share")
LAYER_QUANTITIES = ("mean rate", "silent fraction", "median MI")


def pair_quantities(source: xr.DataArray, target: xr.DataArray, T: int, *,
                    threshold: float = 4.0, min_frames: int = 10, saturation: float = 0.95,
                    r2_min: float = 0.8, n_classes: int | None = None,
                    pairs: xr.Dataset | None = None) -> dict:
    """The pair quantities (:data:`PAIR_QUANTITIES`) of one layer pair.

    Parameters
    ----------
    source, target : the two layers' spikes, ``DataArray(("neuron", "frame"))`` with a
        ``label`` frame coordinate (as recordings hold).
    T : steps per presentation.
    threshold : z above which a positive pair is an edge (the paper: 4).
    min_frames, saturation, r2_min : as in :func:`fclib.stats.ensembles.evaluate_groups`.
    n_classes : number of classes (default: from the labels).
    pairs : the pairs' ``sttc`` and ``z`` if already computed (exact null); else computed.

    Returns
    -------
    ``{quantity: float}``.
    """
    nan = float("nan")
    out = dict.fromkeys(PAIR_QUANTITIES, nan)
    source, target = _with_silent(source), _with_silent(target)
    n_src, n_tgt = active(source).sizes["neuron"], active(target).sizes["neuron"]
    if n_src < 1 or n_tgt < 1:
        return out
    if pairs is None:
        pairs = pair_significance(source, target, method="exact")
    out["significant fraction"] = significant_fraction(pairs, threshold)
    groups = one_fc_groups(pairs, threshold)
    deg = groups["degree"].values
    out["grouped fraction"] = float((deg > 0).mean()) if deg.size else nan
    if not (deg > 0).any():
        return out
    tgt = target.load()
    if n_classes is None:
        n_classes = int(np.asarray(tgt["label"].values).max()) + 1
    pref = information(active(tgt), T, n_shuffles=0, n_classes=n_classes)["preferred"]
    ev = evaluate_groups(source.load(), tgt, groups, T, preferred=pref, n_classes=n_classes,
                         min_frames=min_frames, saturation=saturation, r2_min=r2_min,
                         n_shuffles=0)
    s = summarise_groups(ev)
    out.update({"median group size": s["median_group_size"],
                "median ReLU R²": s["median_relu_r2"], "selected fraction": s["selected"],
                "median intersection": s["median_intersection_fraction"],
                "median strong share": s["median_strong_fraction"]})
    return out


def layer_quantities(spikes: xr.DataArray, T: int, *, n_classes: int | None = None,
                     n_shuffles: int = 10, rng=None) -> dict:
    """The layer quantities (:data:`LAYER_QUANTITIES`) of one recorded layer.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recorded layer ``(neuron, frame)`` with a ``label`` frame coordinate.
    T : int
        Frames per presentation.
    n_classes : int, optional
        Number of classes (default: from the labels).
    n_shuffles : int
        Label permutations of the MI's bias correction.
    rng : numpy.random.Generator or int, optional
        The permutations' draws.

    Returns
    -------
    dict
        ``mean rate`` (spikes per image, all recorded neurons), ``silent fraction`` (the
        recording's ``silent`` coordinate where present, else no spike at all) and ``median
        MI`` (bits, ``mi_corrected`` of :func:`fclib.stats.information.information`, median
        over the active neurons).

    Raises
    ------
    ValueError
        A frame count that is not a multiple of ``T``."""
    x = spikes.load()
    n_frames = x.sizes["frame"]
    if n_frames % T:
        raise ValueError(f"{n_frames} frames is not a whole number of presentations of T={T}")
    rate = np.asarray(x.sum("frame", dtype=np.int64).values, dtype=float) / (n_frames // T)
    x = _with_silent(x)
    silent = np.asarray(x["silent"].values, dtype=bool)
    out = {"mean rate": float(rate.mean()) if rate.size else float("nan"),
           "silent fraction": float(silent.mean()) if silent.size else float("nan"),
           "median MI": float("nan")}
    act = active(x)
    if act.sizes["neuron"]:
        info = information(act, T, n_shuffles=n_shuffles, rng=rng, n_classes=n_classes)
        out["median MI"] = float(np.median(info["mi_corrected"].values))
    return out


def recording_quantities(recording, *, threshold: float = 4.0, min_frames: int = 10,
                         saturation: float = 0.95, r2_min: float = 0.8, n_shuffles: int = 10,
                         rng=0, layers=None) -> pd.DataFrame:
    """Every quantity of one recording (any snapshot's, or a control network's).

    Parameters
    ----------
    recording : Recording or Mapping
        A :class:`fclib.io.recordings.Recording`, or any mapping of layer name to spikes
        with a ``T`` attribute and ``layers`` (or pass ``layers``).
    threshold : float
        z threshold of the 1FC groups.
    min_frames, saturation, r2_min : as in :func:`fclib.stats.response.fit_response` and
        :func:`fclib.stats.response.neuron_properties`.
    n_shuffles : int
        Label permutations of the MI's bias correction.
    rng : numpy.random.Generator or int
        The permutations' draws.
    layers : sequence of str, optional
        The layers, in forward order (default ``recording.layers``).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``layer pair`` (``"L1→L2"`` for pair quantities, the layer's name for layer
        quantities), ``quantity`` and ``value``; layer pairs in depth order.

    Raises
    ------
    TypeError
        ``recording`` has no ``T`` attribute."""
    if not hasattr(recording, "T"):
        raise TypeError(f"recording must be a Recording or a mapping with a T attribute (frames per "
                        f"presentation), got {type(recording).__name__}")
    layers = list(layers if layers is not None else recording.layers)
    T = int(recording.T)
    names = (getattr(recording, "attrs", {}) or {}).get("class_names") or []
    n_classes = len(names) or None
    if n_classes is None:
        n_classes = 1 + max(int(np.asarray(recording[ly]["label"].values).max()) for ly in layers)
    rows = []
    for ly in layers:
        for q, v in layer_quantities(recording[ly], T, n_classes=n_classes,
                                     n_shuffles=n_shuffles, rng=rng).items():
            rows.append((ly, q, v))
    for s, t in consecutive_pairs(layers):
        q = pair_quantities(recording[s], recording[t], T, threshold=threshold,
                            min_frames=min_frames, saturation=saturation, r2_min=r2_min,
                            n_classes=n_classes)
        rows.extend((str(LayerPair(s, t)), k, v) for k, v in q.items())
    return pd.DataFrame(rows, columns=["layer pair", "quantity", "value"])


def emergence_table(per_network: dict, accuracy: dict) -> pd.DataFrame:
    """The tidy table of the curves: one row per network, epoch, layer pair and quantity.

    Parameters
    ----------
    per_network : dict
        ``{(network, epoch): recording_quantities table}``; ``network`` names the model
        (``"trained"`` for the snapshots; a control such as ``"rate-matched"``) and ``epoch``
        the training epochs behind it (``0``: at initialisation; ``None`` for a network that
        is no snapshot).
    accuracy : dict
        ``{(network, epoch): held-out accuracy}`` for the same keys.

    Returns
    -------
    pandas.DataFrame
        ``network``, ``epoch`` (float, NaN for no snapshot), ``accuracy``, ``layer pair``
        (categorical in depth order, layers before pairs), ``quantity`` and ``value``, sorted
        by network, epoch, layer pair and quantity.

    Raises
    ------
    ValueError
        A key of ``per_network`` without an accuracy, or a table without the columns of
        :func:`recording_quantities`."""
    missing = set(per_network) - set(accuracy)
    if missing:
        raise ValueError(f"no accuracy for {sorted(missing, key=str)}; pass one per network")
    parts = []
    for (net, epoch), tab in per_network.items():
        for c in ("layer pair", "quantity", "value"):
            if c not in tab:
                raise ValueError(f"table of {net!r} epoch {epoch} lacks column {c!r}; "
                                 "pass recording_quantities results")
        parts.append(tab.assign(network=net, epoch=np.nan if epoch is None else float(epoch),
                                accuracy=float(accuracy[(net, epoch)])))
    cols = ["network", "epoch", "accuracy", "layer pair", "quantity", "value"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    units = list(dict.fromkeys(out["layer pair"]))
    order = sorted(units, key=lambda u: (LayerPair.SEP in u, _depth(u)))
    out["layer pair"] = pd.Categorical(out["layer pair"], categories=order, ordered=True)
    out["quantity"] = pd.Categorical(
        out["quantity"], ordered=True,
        categories=[q for q in (*PAIR_QUANTITIES, *LAYER_QUANTITIES) if q in set(out["quantity"])]
        + sorted(set(out["quantity"]) - set(PAIR_QUANTITIES) - set(LAYER_QUANTITIES)))
    return out.sort_values(["network", "epoch", "layer pair", "quantity"],
                           ignore_index=True)


def emergence_summary(table: pd.DataFrame, quantities=None) -> pd.DataFrame:
    """One row per network and epoch of :func:`emergence_table`'s result.

    Parameters
    ----------
    table : pandas.DataFrame
        An :func:`emergence_table` result.
    quantities : sequence of str, optional
        The quantities to summarise (default all).

    Returns
    -------
    pandas.DataFrame
        ``accuracy`` and every quantity's median over the layer pairs (pair quantities) or
        layers (layer quantities), NaN ignored (NaN where all are); indexed by ``(network,
        epoch)``, the snapshots in epoch order (a network that is no snapshot keeps a NaN
        epoch).

    Raises
    ------
    ValueError
        ``table`` lacks a column of :func:`emergence_table`."""
    for c in ("network", "epoch", "accuracy", "layer pair", "quantity", "value"):
        if c not in table:
            raise ValueError(f"table lacks column {c!r}; pass emergence_table's result")
    t = table if quantities is None else table[table["quantity"].isin(list(quantities))]
    keys = ["network", "epoch"]
    med = (t.assign(quantity=t["quantity"].astype(str))
           .groupby([*keys, "quantity"], dropna=False, observed=True)["value"].median()
           .unstack("quantity"))
    acc = t.groupby(keys, dropna=False, observed=True)["accuracy"].first()
    out = med.join(acc)
    order = [q for q in (*PAIR_QUANTITIES, *LAYER_QUANTITIES) if q in out.columns]
    order += [q for q in out.columns if q not in order and q != "accuracy"]
    out = out[["accuracy", *order]]
    out.columns.name = None
    return out.sort_index()


def _with_silent(spikes: xr.DataArray) -> xr.DataArray:
    """``spikes`` with a ``silent`` neuron coordinate: the recording's where it has one,
    else neurons without a single spike."""
    if "silent" in spikes.coords:
        return spikes
    x = spikes.load()
    return x.assign_coords(silent=("neuron", np.asarray(x.sum("frame").values) == 0))


def _depth(unit: str) -> tuple:
    """Sort key of ``"L3"`` or ``"L3→L4"``: the layer numbers."""
    parts = LayerPair.parse(unit) if LayerPair.SEP in unit else (unit,)
    return tuple(int(p[1:]) if p[1:].isdigit() else 0 for p in parts)
