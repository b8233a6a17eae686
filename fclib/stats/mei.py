"""Tables of most exciting inputs (MEIs) across training, following the MANGO paper (§4:
Pospelov et al., "Fast gradient-free activation maximization for neurons in spiking neural
networks").

Torch-free: these functions take the table of :func:`fclib.snn.mei.search_meis` (one row per
epoch, unit — ``layer``, ``channel`` — and method, with ``activation``, ``class``,
``probability``, ``entropy``) and its aligned arrays.

* class entropy of an MEI: ``H(p) / ln C`` of the softmax ``p`` of the T-averaged logits;
* strong MEI: ``A >= 0.75``; selective unit (at an epoch): the three TT variants' MEIs share
  the arg-max class, that class's probability is ``>= 0.75`` and ``A >= 0.75`` (the paper says
  "all three maximization techniques"; we require all three probabilities and activations);
* labile unit: selective for >= 2 classes across epochs; stable: exactly one; non-specialised:
  never selective;
* diversity: mean pairwise Euclidean and cosine distance between a unit's MEI latents;
* complexity: JPEG and ZIP (deflate) size over raw 8-bit size;
* beyond the MANGO paper, neuron-level MEIs of labelled neurons: the hubs of the last layer pair (top
  ``1 - quantile`` of both 1FC degree and MI, :func:`fclib.stats.information.hubs`, as in
  the information chapter) against the other analysed targets (:func:`hub_table`), and 1FC
  group members (source neurons in the group of at least one target) against active
  sources in no group (:func:`member_table`); :func:`pick_labelled` draws a few of each,
  rate-matched, and :func:`compare_labelled` summarises their MEIs.
"""
from __future__ import annotations

import io
import itertools
import zlib

import numpy as np
import pandas as pd

from fclib.stats._checks import check_numbers, check_table

__all__ = ["class_entropy", "selectivity", "specialisation", "first_strong_epoch",
           "latent_distances", "complexity", "method_table", "PAPER_TABLE1", "TT_METHODS",
           "neuron_coords", "hub_table", "member_table", "pick_labelled", "compare_labelled"]

TT_METHODS = ("TT", "TT-s", "TT-b")

#: The MANGO paper's Table 1 (mean activation over all units and layers, ±0.001; time in the
#: paper's unit).
PAPER_TABLE1 = pd.DataFrame(
    {"act 1e2": [0.384, 0.393, 0.411, 0.418, 0.392],
     "act 1e3": [0.468, 0.574, 0.581, 0.579, 0.564],
     "act 1e4": [0.537, 0.755, 0.675, 0.662, 0.679],
     "time 1e2": [10.202, 12.947, 3.267, 3.321, 3.724],
     "time 1e3": [91.123, 163.45, 14.456, 14.283, 15.236],
     "time 1e4": [861.266, 1685.464, 219.277, 383.852, 127.406]},
    index=pd.Index(["RS", "NG", "TT", "TT-b", "TT-s"], name="method"))

def class_entropy(p) -> np.ndarray:
    """``-Σ p ln p / ln C`` over the last axis (0: one class certain, 1: uniform).

    Parameters
    ----------
    p : array_like
        Class probabilities ``(..., C)``.

    Returns
    -------
    ndarray
        The normalised entropy, shape ``p.shape[:-1]``."""
    check_numbers(p, "p", minimum=0)
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(-1)
    return h / np.log(p.shape[-1])


def selectivity(table: pd.DataFrame, act_min: float = 0.75, prob_min: float = 0.75,
                methods=TT_METHODS) -> pd.DataFrame:
    """Per epoch and unit: ``activation`` (max over methods), ``strong`` (any MEI with
    A >= act_min), ``selective`` (the criterion of the module docstring) and
    ``selective_class`` (-1 if not).

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`fclib.snn.mei.search_meis` table.
    act_min : float
        Activation of a strong MEI.
    prob_min : float
        Class probability every method's MEI must reach for a selective unit.
    methods : sequence of str
        The methods that must agree.

    Returns
    -------
    pandas.DataFrame
        ``epoch``, ``layer``, ``channel``, ``activation``, ``strong``, ``selective``,
        ``selective_class`` and ``entropy`` (mean over the methods)."""
    check_table(table, ["method", "epoch", "layer", "channel", "class", "probability", "activation"],
                "table", "fclib.snn.mei.search_meis()")
    t = table[table["method"].isin(methods)]
    rows = []
    for (e, layer, ch), g in t.groupby(["epoch", "layer", "channel"], sort=False):
        classes = g["class"].to_numpy()
        sel = (len(g) == len(methods) and len(set(classes)) == 1
               and bool((g["probability"] >= prob_min).all())
               and bool((g["activation"] >= act_min).all()))
        rows.append(dict(epoch=e, layer=layer, channel=ch, activation=g["activation"].max(),
                         strong=bool((g["activation"] >= act_min).any()), selective=sel,
                         selective_class=int(classes[0]) if sel else -1,
                         entropy=g["entropy"].mean()))
    return pd.DataFrame(rows)


def specialisation(sel: pd.DataFrame) -> pd.DataFrame:
    """Fractions of labile, stable and non-specialised units per layer (from
    :func:`selectivity` across epochs).

    Parameters
    ----------
    sel : pandas.DataFrame
        A :func:`selectivity` table over several epochs.

    Returns
    -------
    pandas.DataFrame
        Indexed by layer: ``labile``, ``stable``, ``non-specialised``."""
    check_table(sel, ["layer", "channel", "selective", "selective_class"], "sel", "selectivity()")
    n = (sel[sel["selective"]].groupby(["layer", "channel"], sort=False)["selective_class"]
         .nunique())
    units = sel[["layer", "channel"]].drop_duplicates()
    k = units.set_index(["layer", "channel"]).index.map(lambda u: int(n.get(u, 0)))
    kind = np.where(k >= 2, "labile", np.where(k == 1, "stable", "non-specialised"))
    out = pd.crosstab(units["layer"].to_numpy(), kind, normalize="index")
    out = out.reindex(columns=["labile", "stable", "non-specialised"], fill_value=0.0)
    out.index.name = "layer"
    return out.reindex(list(dict.fromkeys(units["layer"])))


def first_strong_epoch(sel: pd.DataFrame) -> pd.DataFrame:
    """Per unit, the first epoch with a strong MEI (NaN if none).

    Parameters
    ----------
    sel : pandas.DataFrame
        A :func:`selectivity` table.

    Returns
    -------
    pandas.DataFrame
        ``layer``, ``channel``, ``first_strong_epoch``; one row per unit."""
    check_table(sel, ["epoch", "layer", "channel", "strong"], "sel", "selectivity()")
    s = sel[sel["strong"]].groupby(["layer", "channel"], sort=False)["epoch"].min()
    units = sel[["layer", "channel"]].drop_duplicates()
    units["first_strong_epoch"] = [s.get((l, c), np.nan) for l, c in units.itertuples(False)]
    return units.reset_index(drop=True)


def latent_distances(table: pd.DataFrame, latents: np.ndarray, methods=TT_METHODS
                     ) -> pd.DataFrame:
    """Mean pairwise Euclidean and cosine distance between a unit's MEI latents (one per
    method), per epoch and unit.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`fclib.snn.mei.search_meis` table.
    latents : ndarray
        ``(rows, d)`` latent grid indices aligned with ``table``.
    methods : sequence of str
        The methods compared.

    Returns
    -------
    pandas.DataFrame
        ``epoch``, ``layer``, ``channel``, ``euclidean``, ``cosine``."""
    check_table(table, ["method", "epoch", "layer", "channel"], "table", "fclib.snn.mei.search_meis()")
    t = table.reset_index(drop=True)
    t = t[t["method"].isin(methods)]
    rows = []
    for (e, layer, ch), g in t.groupby(["epoch", "layer", "channel"], sort=False):
        z = np.asarray(latents, dtype=float)[g.index.to_numpy()]
        eu, co = [], []
        for a, b in itertools.combinations(range(len(z)), 2):
            eu.append(np.linalg.norm(z[a] - z[b]))
            nrm = np.linalg.norm(z[a]) * np.linalg.norm(z[b])
            co.append(1.0 - z[a] @ z[b] / nrm if nrm > 0 else np.nan)
        rows.append(dict(epoch=e, layer=layer, channel=ch, euclidean=np.mean(eu) if eu else np.nan,
                         cosine=np.nanmean(co) if co else np.nan))
    return pd.DataFrame(rows)


def complexity(images: np.ndarray, quality: int = 75) -> pd.DataFrame:
    """JPEG (Pillow, ``quality``) and ZIP (deflate, level 9) size over raw size of images,
    converted to 8-bit grey.

    Parameters
    ----------
    images : ndarray
        ``(n, H, W)`` in [0, 1].
    quality : int
        JPEG quality.

    Returns
    -------
    pandas.DataFrame
        One row per image: ``jpeg``, ``zip``.

    Raises
    ------
    ValueError
        ``images`` not ``(n, H, W)``."""
    if np.ndim(images) != 3:
        raise ValueError(f"images must be (n, H, W) grey images in [0, 1], got shape {np.shape(images)}")
    from PIL import Image

    out = []
    for im in np.asarray(images):
        u8 = np.clip(np.round(im * 255), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(u8, mode="L").save(buf, format="JPEG", quality=quality)
        out.append((buf.tell() / u8.size, len(zlib.compress(u8.tobytes(), 9)) / u8.size))
    return pd.DataFrame(out, columns=["jpeg", "zip"])


def method_table(table: pd.DataFrame, trace: np.ndarray, elapsed: np.ndarray,
                 budgets=(100, 1000, 10_000)) -> pd.DataFrame:
    """The MANGO paper's Table 1 from a search: per method, mean (± s.e.) best activation and
    wall seconds after each budget (budgets above the search's are left out), and network
    calls.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`fclib.snn.mei.search_meis` table.
    trace, elapsed : ndarray
        ``(rows, budget)`` best activation so far and wall seconds, aligned with ``table``.
    budgets : sequence of int
        Evaluations at which to read them.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``method``: ``act 1e2``, ``act 1e2 se``, ``time 1e2`` (and so on per
        budget), ``calls`` and ``units``."""
    check_table(table, ["method", "n_calls"], "table", "fclib.snn.mei.search_meis()")
    t = table.reset_index(drop=True)
    budgets = [b for b in budgets if b <= trace.shape[1]]
    rows = {}
    for m, g in t.groupby("method", sort=False):
        i = g.index.to_numpy()
        r = {}
        for b in budgets:
            a = trace[i, b - 1]
            r[f"act {b:.0e}".replace("e+0", "e")] = a.mean()
            r[f"act {b:.0e} se".replace("e+0", "e")] = a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.nan
            r[f"time {b:.0e}".replace("e+0", "e")] = elapsed[i, b - 1].mean()
        r["calls"] = g["n_calls"].mean()
        r["units"] = len(g)
        rows[m] = r
    out = pd.DataFrame(rows).T
    out.index.name = "method"
    return out


def neuron_coords(spikes) -> pd.DataFrame:
    """``channel``, ``y``, ``x`` and ``rate`` of every recorded neuron of one layer.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recording's layer ``(neuron, frame)`` with those coordinates on ``neuron``.

    Returns
    -------
    pandas.DataFrame
        Indexed by neuron id.

    Raises
    ------
    ValueError
        ``spikes`` without the coordinates of a recorded layer."""
    missing = [c for c in ("channel", "y", "x", "rate") if c not in spikes.coords]
    if missing:
        raise ValueError(f"spikes lack the neuron coordinates {missing} of a recorded layer "
                         "(fclib.io.recordings.open_recording)")
    ids = spikes["neuron"].values if "neuron" in spikes.coords else np.arange(spikes.sizes["neuron"])
    return pd.DataFrame({c: spikes[c].values for c in ("channel", "y", "x", "rate")},
                        index=pd.Index(ids, name="neuron"))


def hub_table(layer: str, coords: pd.DataFrame, degree: pd.Series, mi: pd.Series,
              quantile: float = 0.9) -> pd.DataFrame:
    """Hub labels of the analysed target neurons of a layer pair.

    Parameters
    ----------
    layer : str
        The target layer's name.
    coords : pandas.DataFrame
        One row per recorded neuron of the target layer, indexed by neuron id, with
        ``channel``, ``y``, ``x`` and ``rate`` (:func:`neuron_coords`).
    degree : pandas.Series
        1FC group size of every analysed target, indexed by neuron id (as
        ``Run.groups(...)["degree"]``).
    mi : pandas.Series
        Shuffle-corrected MI indexed by neuron id.
    quantile : float
        Hubs are at or above this quantile of both (:func:`fclib.stats.information.hubs`).

    Returns
    -------
    pandas.DataFrame
        One row per analysed target: ``neuron``, ``layer``, ``channel``, ``y``, ``x``,
        ``rate``, ``degree``, ``mi`` and ``label`` (True: hub)."""
    check_table(coords, ["channel", "y", "x", "rate"], "coords", "neuron_coords()")
    from fclib.stats.information import hubs

    ids = np.asarray(degree.index)
    out = coords.loc[ids, ["channel", "y", "x", "rate"]].copy()
    out["degree"] = np.asarray(degree, dtype=float)
    out["mi"] = mi.reindex(ids).to_numpy(dtype=float)
    out["label"] = np.asarray(hubs(out["mi"].to_numpy(), out["degree"].to_numpy(), quantile),
                              dtype=bool)
    out.index.name = "neuron"
    out.insert(0, "layer", layer)
    return out.reset_index()


def member_table(layer: str, coords: pd.DataFrame, sources, edge_sources,
                 quantile: float | None = None) -> pd.DataFrame:
    """1FC membership of the active source neurons of a layer pair.

    Parameters
    ----------
    layer : str
        The source layer's name.
    coords : pandas.DataFrame
        As in :func:`hub_table`, for the source layer.
    sources : array_like
        Ids of the active source neurons.
    edge_sources : array_like
        The ``source`` of every edge of the groups.
    quantile : float, optional
        Given (for when every source is a member): label True at or above the ``quantile``
        of ``n_targets`` and False at or below the ``1 - quantile`` one (the neurons between
        are left out).

    Returns
    -------
    pandas.DataFrame
        ``neuron``, ``layer``, ``channel``, ``y``, ``x``, ``rate``, ``n_targets`` (out-degree:
        the number of groups it is in) and ``label`` (without ``quantile``: True for a member
        of at least one group, False for a neuron in none)."""
    check_table(coords, ["channel", "y", "x", "rate"], "coords", "neuron_coords()")
    ids = np.asarray(sources)
    out = coords.loc[ids, ["channel", "y", "x", "rate"]].copy()
    counts = pd.Series(np.asarray(edge_sources)).value_counts()
    out["n_targets"] = counts.reindex(ids).fillna(0).to_numpy(dtype=int)
    n = out["n_targets"].to_numpy()
    if quantile is None:
        out["label"] = n > 0
    else:
        hi, lo = np.quantile(n, quantile), np.quantile(n, 1 - quantile)
        out = out[(n >= hi) | (n <= lo)].copy()
        out["label"] = out["n_targets"].to_numpy() >= hi
    out.index.name = "neuron"
    out.insert(0, "layer", layer)
    return out.reset_index()


def pick_labelled(table: pd.DataFrame, n: int, rng=None) -> pd.DataFrame:
    """Up to ``n`` neurons of each label, rate-matched: ``n`` of the rarer label drawn at
    random, then for each (in random order) the neuron of the other label with the nearest
    ``rate`` not taken yet.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`hub_table` or :func:`member_table` (``label``, ``rate``, ...).
    n : int
        Neurons per label.
    rng : numpy.random.Generator or int, optional
        The draws (:func:`fclib._util.as_generator`).

    Returns
    -------
    pandas.DataFrame
        The picked rows with ``pair`` (the matched pair)."""
    check_table(table, ["label", "rate"], "table", "hub_table() or member_table()")
    from fclib._util import as_generator

    rng = as_generator(rng)
    t = table.reset_index(drop=True)
    pos, neg = t.index[t["label"]].to_numpy(), t.index[~t["label"]].to_numpy()
    rare, other = (pos, neg) if len(pos) <= len(neg) else (neg, pos)
    pick = rng.choice(rare, min(n, len(rare), len(other)), replace=False)
    left = list(other)
    rows, pair = [], []
    for k, i in enumerate(pick):
        d = np.abs(t.loc[left, "rate"].to_numpy() - t.loc[i, "rate"])
        j = left.pop(int(np.argmin(d)))
        rows += [i, j]
        pair += [k, k]
    out = t.loc[rows].copy()
    out["pair"] = pair
    return out.sort_values(["label", "pair"], ascending=[False, True]).reset_index(drop=True)


def compare_labelled(picked: pd.DataFrame, table: pd.DataFrame, trace: np.ndarray,
                     preferred=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Neuron-level MEIs of labelled neurons (:func:`pick_labelled`) side by side.

    Parameters
    ----------
    picked : pandas.DataFrame
        A :func:`pick_labelled` result.
    table, trace : pandas.DataFrame, ndarray
        A :func:`fclib.snn.mei.search_meis` result over the neurons of ``picked`` (one
        method).
    preferred : Mapping, optional
        Preferred class per neuron id (from the recorded responses).

    Returns
    -------
    per_neuron : pandas.DataFrame
        ``label``, ``rate``, MEI ``activation``, ``evaluations`` (to first reach it) and MEI
        ``class`` (``match``: equal to the preferred class).
    summary : pandas.DataFrame
        Per label: ``n``, mean ``activation`` and its s.e., ``% full`` (MEIs with ``A = 1``:
        a spike at every step), mean ``evaluations``, mean recorded ``rate``, ``% match``."""
    check_table(picked, ["layer", "channel", "y", "x", "label", "rate"], "picked", "pick_labelled()")
    t = table.reset_index(drop=True)
    trace = np.asarray(trace, dtype=float).reshape(len(t), -1)
    ev = np.argmax(trace >= trace[:, -1:], axis=1) + 1 if len(t) else np.zeros(0, int)
    key = ["layer", "channel", "y", "x"]
    if not len(t):
        t = pd.DataFrame({c: pd.Series(dtype=float) for c in key + ["activation", "class",
                                                                    "probability"]})
    per = picked.merge(t.assign(evaluations=ev)[key + ["activation", "evaluations", "class",
                                                       "probability"]], on=key, how="left")
    if preferred is not None:
        pref = pd.Series(preferred)
        per["preferred"] = pref.reindex(per["neuron"]).to_numpy()
        per["match"] = per["class"] == per["preferred"]
    g = per.groupby("label", sort=False)
    summ = pd.DataFrame({"n": g.size(), "activation": g["activation"].mean(),
                         "activation se": g["activation"].std(ddof=1) / np.sqrt(g.size()),
                         "% full": 100 * g["activation"].apply(lambda a: (a >= 1).mean()),
                         "evaluations": g["evaluations"].mean(), "rate": g["rate"].mean()})
    if preferred is not None:
        summ["% match"] = 100 * g["match"].mean()
    return per, summ.sort_index(ascending=False)
