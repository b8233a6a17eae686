"""Control groups and a cross-validation split for the 1FC response analysis.

Is a 1FC group functional, or does its target only look coupled to it because both respond
to the same stimuli? Three things can make a response function rise without any functional
coupling, and each has a control here that runs through the same analysis as the real
groups (:func:`fclib.stats.response.cofiring` -> :func:`~fclib.stats.response.response_counts`
-> :func:`~fclib.stats.response.fit_response`):

- *Activity alone*: a group of busy neurons co-fires often, and a busy target fires often.
  :func:`random_matched_groups` draws, for every target, a group of the same size from the
  source layer's analysed (non-silent) neurons, each member replaced by a random neuron of
  the same firing-rate quantile bin: same size, same rate distribution, no selection by
  coupling.
- *Shared tuning*: two neurons that prefer the same classes fire on the same presentations.
  :func:`tuning_matched_groups` gives every target the ``degree`` sources whose class tuning
  (mean spike count per presentation in each class) correlates best with its own, chosen
  by tuning alone. If real groups were only stimulus-driven, these groups should respond
  at least as well.
- *Circularity*: a group is chosen for firing with its target on the very frames its response
  function is then measured on. :func:`image_halves` splits the images into two seeded
  halves (every presentation of an image on one side), so groups and tuning can be found on
  one half and responses measured on the other.

Every control is an edge table in the format of :mod:`fclib.stats.groups` (dim ``edge``:
``target``, ``source``, ``sttc``, ``z``, sorted by target then source; dim ``neuron``:
``degree``), so :func:`~fclib.stats.response.cofiring` takes it unchanged. ``sttc`` and ``z``
are NaN (control pairs were not selected by a test); attrs ``source_layer``,
``target_layer``, ``threshold`` and ``n_source`` are the real groups', ``control`` says which
control it is and ``method`` how it was drawn. A ``shared`` variable on ``neuron`` counts
the members a control group has in common with the real group.
"""
from __future__ import annotations

import numba as nb
import numpy as np
import xarray as xr

from fclib.io.recordings import SILENT_THRESHOLD
from fclib.stats.information import presentation_counts, presentation_labels
from fclib.stats.response import (as_layer, check_groups, check_layer, check_presentations,
                                  check_same_frames, layer_name, neuron_rows)
from fclib._util import as_generator
from fclib.stats._frames import take_neurons
from fclib.stats.groups import group_csr
from fclib.stats.halves import image_halves  # noqa: F401 (public here too)

__all__ = ["random_matched_groups", "tuning_curves", "tuning_similarity",
           "tuning_matched_groups", "image_halves"]

_SIMILARITIES = ("correlation", "cosine")


def _edge_table(groups: xr.Dataset, tid, indptr, src, shared, control: str, method: str,
                edge_vars: dict | None = None, attrs: dict | None = None) -> xr.Dataset:
    """A control edge table in the groups format; ``src`` is sorted within each target here."""
    deg = np.diff(indptr)
    tgt = np.repeat(tid, deg)
    order = np.lexsort((src, tgt))  # target, then source
    n = src.size
    data = {"target": ("edge", tgt[order].astype(np.int64)),
            "source": ("edge", np.asarray(src)[order].astype(np.int64)),
            "sttc": ("edge", np.full(n, np.nan, np.float32)),
            "z": ("edge", np.full(n, np.nan, np.float32))}
    for k, v in (edge_vars or {}).items():
        data[k] = ("edge", np.asarray(v)[order])
    data["degree"] = ("neuron", deg.astype(np.int64))
    data["shared"] = ("neuron", np.asarray(shared, dtype=np.int64))
    keep = {k: groups.attrs[k] for k in ("source_layer", "target_layer", "threshold", "n_source")
            if k in groups.attrs}
    return xr.Dataset(data, coords={"neuron": tid.astype(np.int64)},
                      attrs={**keep, "control": control, "method": method,
                             "real_method": str(groups.attrs.get("method", "")),
                             **(attrs or {})})


def _check_pool(groups: xr.Dataset, ids: np.ndarray, pool: np.ndarray, src: np.ndarray,
                what: str) -> None:
    """Raise unless every real member is an analysed neuron of ``pool`` and the pool is as
    large as the source layer the groups were computed on (``n_source``)."""
    layer = groups.attrs.get("source_layer") or "the source layer"
    missing = ~np.isin(src, ids)
    if missing.any():
        raise ValueError(f"{what} cover {ids.size} neurons but the groups refer to source "
                         f"neurons {np.unique(src[missing])[:5].tolist()}; pass every neuron of "
                         f"{layer} (ids are positions in the recorded layer)")
    silent = ~np.isin(src, pool)
    if silent.any():
        raise ValueError(f"group members {np.unique(src[silent])[:5].tolist()} are silent in "
                         f"{what}; pass the {layer} data of the recording the groups come from")
    if "n_source" in groups.attrs and pool.size != int(groups.attrs["n_source"]):
        raise ValueError(f"{what} hold {pool.size} analysed (non-silent) neurons but the groups "
                         f"were computed on {int(groups.attrs['n_source'])} of {layer}; pass "
                         f"the whole {layer} of the recording the groups come from")


def _rate_pool(groups: xr.Dataset, src: np.ndarray, source_rates,
               active) -> tuple[np.ndarray, np.ndarray]:
    """(ids, rates) of the candidate source neurons, sorted by id."""
    layer = groups.attrs.get("source_layer")
    have = layer_name(source_rates, what="source_rates", use_name=False)
    if layer and have and have != str(layer):
        raise ValueError(f"source_rates are of layer {have} but the groups were computed with "
                         f"source layer {layer}; pass the rates of {layer}")
    rates = np.asarray(source_rates.values if isinstance(source_rates, xr.DataArray)
                       else source_rates, dtype=np.float64)
    if rates.ndim != 1:
        raise ValueError(f"source_rates must be 1-D (one rate per neuron of the source layer), "
                         f"got shape {rates.shape}")
    if isinstance(source_rates, xr.DataArray) and "neuron" in source_rates.coords:
        ids = np.asarray(source_rates["neuron"].values, dtype=np.int64)
    else:
        ids = np.arange(rates.size, dtype=np.int64)
    if active is not None:
        mask = np.asarray(active)
        if mask.dtype != bool or mask.shape != rates.shape:
            raise ValueError(f"active must be a boolean mask with one entry per rate "
                             f"({rates.size}), got {mask.dtype} of shape {mask.shape}")
    elif isinstance(source_rates, xr.DataArray) and "silent" in source_rates.coords:
        mask = ~np.asarray(source_rates["silent"].values, dtype=bool)
    else:  # the recordings' rule
        mask = rates >= SILENT_THRESHOLD
    bad = mask & ~np.isfinite(rates)
    if bad.any():
        raise ValueError(f"source_rates are not finite for neurons {ids[bad][:5].tolist()}")
    _check_pool(groups, ids, ids[mask], src, "source_rates")
    order = np.argsort(ids[mask], kind="stable")
    return ids[mask][order], rates[mask][order]


@nb.njit(cache=True)
def _draw_matched(indptr, pos, bin_of, by_bin, bin_ptr, u, out, shared):
    """Rate-matched random members of every group (kernel of :func:`random_matched_groups`).

    Target i's real members are the candidate positions ``pos[indptr[i]:indptr[i + 1]]``.
    For each bin b its members fall in (bins in increasing order), the ``need`` members of
    bin b are replaced by a partial Fisher-Yates draw from the bin's non-members, consuming
    one uniform ``u[e]`` per output slot ``e``: slot j of the draw swaps in element
    ``j + floor(u * (n_free - j))``. If the bin has fewer non-members than ``need``, all of
    them are taken (in bin order) and the rest is drawn the same way from the target's real
    members of that bin; ``shared[i]`` counts those. Writes candidate positions to ``out``.
    """
    n = bin_of.size
    n_bins = bin_ptr.size - 1
    is_member = np.zeros(n, dtype=np.bool_)
    need = np.zeros(n_bins, dtype=np.int64)
    buf = np.empty(n, dtype=np.int64)
    for i in range(indptr.size - 1):
        lo, hi = indptr[i], indptr[i + 1]
        for e in range(lo, hi):
            is_member[pos[e]] = True
            need[bin_of[pos[e]]] += 1
        k = lo
        for b in range(n_bins):
            m = need[b]
            if m == 0:
                continue
            n_free = 0
            for q in range(bin_ptr[b], bin_ptr[b + 1]):
                c = by_bin[q]
                if not is_member[c]:
                    buf[n_free] = c
                    n_free += 1
            if n_free >= m:
                for j in range(m):
                    r = min(j + int(u[k + j] * (n_free - j)), n_free - 1)
                    t = buf[j]
                    buf[j] = buf[r]
                    buf[r] = t
                    out[k + j] = buf[j]
            else:  # the bin runs out of non-members: refill from this bin's real members
                for j in range(n_free):
                    out[k + j] = buf[j]
                n_own = 0
                for e in range(lo, hi):
                    if bin_of[pos[e]] == b:
                        buf[n_own] = pos[e]
                        n_own += 1
                for j in range(m - n_free):
                    r = min(j + int(u[k + n_free + j] * (n_own - j)), n_own - 1)
                    t = buf[j]
                    buf[j] = buf[r]
                    buf[r] = t
                    out[k + n_free + j] = buf[j]
                shared[i] += m - n_free
            k += m
            need[b] = 0
        for e in range(lo, hi):
            is_member[pos[e]] = False


def random_matched_groups(groups: xr.Dataset, source_rates, rng=None, n_bins: int = 10, *,
                          active=None) -> xr.Dataset:
    """Random groups of the real groups' sizes and firing-rate distribution.

    The analysed source neurons (non-silent) are ranked by firing rate and cut into
    ``n_bins`` equal-count quantile bins (rank ``r`` of ``n`` falls in bin
    ``floor(r * n_bins / n)``; neurons of equal rate are ranked in random order, so ties do
    not split by id). For every target, each member of its real group is replaced by a
    neuron drawn at random from the member's bin, without replacement within the group and
    avoiding the real members. Where a bin holds fewer non-members than the group has members
    in it, all of those are taken and the rest of that bin's quota is filled with real
    members of the same bin (drawn at random); ``shared`` counts these per target. A group
    therefore never comes out short: every target keeps its degree, and each rate bin holds
    as many of its members as of the real group's.

    Parameters
    ----------
    groups : edge table of :func:`fclib.stats.groups.one_fc_groups` (the real groups).
    source_rates : rate of every neuron of the source layer, a 1-D array indexed by neuron id
        (position in the recorded layer), or a DataArray over ``neuron`` such as a recorded
        layer's ``rate`` coordinate (``rec["L1"]["rate"]``), whose ``neuron`` coordinate (if
        any) gives the ids, whose ``silent`` coordinate (if any) marks the neurons left out,
        and whose ``layer`` (if any) must be the groups' ``source_layer``.
    rng : ``numpy.random.Generator``, integer seed or None.
    n_bins : number of rate quantile bins (1 matches group size only).
    active : optional boolean mask over ``source_rates`` of the candidate neurons; by default
        the non-silent ones (the ``silent`` coordinate, else ``rate >= SILENT_THRESHOLD``).
        It must mark as many neurons as the groups' pairs had sources (``n_source``).

    Returns
    -------
    Edge table (see the module docstring): dims ``edge`` and ``neuron`` (the real groups'
    targets), ``degree`` equal to the real degrees, ``shared`` (members also in the real
    group), attrs ``control="random"``, ``method="random_rate_matched"``, ``n_bins``.

    Raises
    ------
    TypeError for an ``rng`` that is neither a Generator nor a seed; ValueError when the rates
    are of another layer, do not cover the groups' sources, or mark a number of analysed
    neurons other than ``n_source``.
    """
    gen = as_generator(rng)
    tid, indptr, src = group_csr(groups)
    ids, rates = _rate_pool(groups, src, source_rates, active)
    n = ids.size
    if not (isinstance(n_bins, (int, np.integer)) and 1 <= n_bins <= max(n, 1)):
        raise ValueError(f"n_bins must be an integer between 1 and the {n} analysed source "
                         f"neurons, got {n_bins!r}")
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((gen.random(n), rates))] = np.arange(n)
    bin_of = rank * int(n_bins) // max(n, 1)  # bin of candidate position i (ids sorted)
    by_bin = np.argsort(bin_of, kind="stable")
    bin_ptr = np.zeros(int(n_bins) + 1, dtype=np.int64)
    np.cumsum(np.bincount(bin_of, minlength=int(n_bins)), out=bin_ptr[1:])
    pos = np.searchsorted(ids, src)  # members' candidate positions, target by target
    out = np.empty(src.size, dtype=np.int64)
    shared = np.zeros(tid.size, dtype=np.int64)
    _draw_matched(indptr, pos, bin_of, by_bin, bin_ptr, gen.random(src.size), out, shared)
    out = ids[out]
    return _edge_table(groups, tid, indptr, out, shared, "random", "random_rate_matched",
                       attrs={"n_bins": int(n_bins)})


def _class_means(spikes: xr.DataArray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean count per presentation in each class present (neuron, class) float64, classes)."""
    counts = presentation_counts(spikes, T)
    labels = presentation_labels(spikes, T)
    classes, inv, n_per = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n_per)[:-1]])
    if counts.shape[0] == 0 or classes.size == 0:
        return np.zeros((counts.shape[0], classes.size)), classes
    sums = np.add.reduceat(counts[:, order], starts, axis=1, dtype=np.int64)
    return sums / n_per[None, :], classes


def _ids(spikes: xr.DataArray) -> np.ndarray:
    return np.asarray(spikes["neuron"].values if "neuron" in spikes.coords
                      else np.arange(spikes.sizes["neuron"]), dtype=np.int64)


def _analysed(spikes: xr.DataArray) -> np.ndarray:
    """Row positions of the non-silent neurons (all rows without a ``silent`` coordinate)."""
    if "silent" in spikes.coords:
        return np.flatnonzero(~np.asarray(spikes["silent"].values, dtype=bool))
    return np.arange(spikes.sizes["neuron"])


def tuning_curves(spikes, T: int) -> xr.DataArray:
    """Class tuning of every neuron: its mean spike count per presentation in each class.

    ``tuning[i, c] = (1 / P_c) * sum over presentations p of class c of count_i(p)``, with
    ``count_i(p)`` the spikes of neuron i in the T frames of presentation p
    (:func:`fclib.stats.information.presentation_counts`) and ``P_c`` the presentations of
    class c (from the ``label`` frame coordinate). Classes without presentations in
    ``spikes`` are left out.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)`` with a ``label`` frame coordinate.
    T : int
        Frames per presentation.

    Returns
    -------
    xarray.DataArray
        ``("neuron", "class")`` float64; coordinates ``neuron`` (ids: the ``neuron``
        coordinate of ``spikes``, else positions) and ``class`` (the labels present)."""
    spikes = as_layer(spikes)
    T = check_presentations(spikes, T, "the")
    means, classes = _class_means(spikes, T)
    return xr.DataArray(means, dims=("neuron", "class"),
                        coords={"neuron": _ids(spikes), "class": classes}, name="tuning")


def _similarity(a: np.ndarray, b: np.ndarray, similarity: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows of a) x (rows of b) similarity of tuning curves, -inf where either is undefined
    (a flat curve for the correlation, an all-zero one for the cosine); and which rows of
    ``a`` are undefined."""
    if similarity == "correlation":
        def unit(x):
            flat = ~(x.max(1, initial=-np.inf) > x.min(1, initial=np.inf))  # exact, no rounding
            c = x - x.mean(1, keepdims=True)
            return c / np.where(flat, 1.0, np.sqrt((c * c).sum(1)))[:, None], flat
    else:
        def unit(x):
            norm = np.sqrt((x * x).sum(1))
            return x / np.where(norm > 0, norm, 1.0)[:, None], ~(norm > 0)
    ua, fa = unit(a)
    ub, fb = unit(b)
    s = np.clip(ua @ ub.T, -1.0, 1.0)
    s[fa, :] = -np.inf
    s[:, fb] = -np.inf
    return s, fa


def _check_similarity(similarity: str) -> None:
    if similarity not in _SIMILARITIES:
        raise ValueError(f"similarity must be one of {_SIMILARITIES}, got {similarity!r}")


def tuning_similarity(source, target, T: int, similarity: str = "correlation") -> xr.DataArray:
    """Similarity of the class tuning of every analysed (target, source) pair.

    ``similarity="correlation"``: Pearson correlation across classes of the two tuning
    curves of :func:`tuning_curves`, ``r = sum_c (a_c - a.) (b_c - b.) /
    sqrt(sum_c (a_c - a.)^2 sum_c (b_c - b.)^2)``; a flat curve (the same mean count in every
    class, a neuron that carries no class information) has no correlation and gets ``-inf``,
    so it is never preferred. ``"cosine"``: cosine of the raw curves (``-inf`` for an all-zero
    one). Silent neurons (``silent`` coordinate) are left out.

    Parameters
    ----------
    source, target : spikes of the two layers, ``DataArray(("neuron", "frame"))`` of the same
        frames with a ``label`` frame coordinate (as recorded layers have).
    T : time steps per presentation.
    similarity : ``"correlation"`` or ``"cosine"`` (above).

    Returns
    -------
    DataArray ``("target", "source")`` float64 with coordinates ``target`` and ``source``
    (neuron ids). It is dense: for layers of thousands of neurons prefer
    :func:`tuning_matched_groups`, which keeps only the best sources of each target.
    """
    _check_similarity(similarity)
    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_same_frames(source, target, "tuning_similarity")
    T = check_presentations(source, T, "source")
    rs, rt = _analysed(source), _analysed(target)
    ts, _ = _class_means(take_neurons(source, rs), T)
    tt, _ = _class_means(take_neurons(target, rt), T)
    return xr.DataArray(_similarity(tt, ts, similarity)[0], dims=("target", "source"),
                        coords={"target": _ids(target)[rt], "source": _ids(source)[rs]},
                        name="tuning_similarity",
                        attrs={"similarity": similarity, "source_layer": layer_name(source) or "",
                               "target_layer": layer_name(target) or ""})


def _top(row: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values of ``row``, ties going to the lower position."""
    if k >= row.size:
        return np.arange(row.size)
    v = np.partition(row, row.size - k)[row.size - k]  # the k-th largest value
    above = np.flatnonzero(row > v)
    return np.concatenate([above, np.flatnonzero(row == v)[:k - above.size]])


def tuning_matched_groups(groups: xr.Dataset, source, target, T: int,
                          similarity: str = "correlation", *, block: int = 1024) -> xr.Dataset:
    """For every target, the sources whose class tuning is most like its own.

    Each analysed target keeps its real degree k and gets the k analysed (non-silent)
    sources of highest :func:`tuning_similarity` with it, chosen by tuning alone (ties go
    to the lower source id). Sources with a flat tuning curve (all-zero for the cosine) come
    last; a target whose own curve is flat has no similarity to anyone, so its group is the
    k lowest source ids: ``flat`` marks these targets, whose control group means nothing and
    should be left out.

    Parameters
    ----------
    groups : edge table of :func:`fclib.stats.groups.one_fc_groups` (the real groups).
    source, target : spikes of the groups' source and target layers, the same frames (e.g.
        one half of :func:`image_halves`, for groups chosen without the frames they are
        tested on), with a ``label`` frame coordinate.
    T : time steps per presentation; the frames must be whole presentations.
    similarity : ``"correlation"`` (Pearson, the default) or ``"cosine"``.
    block : targets whose similarities are held at once (memory: block x sources floats).

    Returns
    -------
    Edge table (see the module docstring) with an extra ``similarity`` per edge (float64) and,
    per target, ``shared`` (members also in the real group) and ``flat``; attrs
    ``control="tuning"``, ``method="tuning_<similarity>"``.

    Raises
    ------
    ValueError when a layer is not the groups' (:func:`fclib.stats.response.check_layer`),
    the two layers' frames differ, T does not divide the frames, or the source layer holds
    another number of analysed neurons than the groups' ``n_source``.
    """
    _check_similarity(similarity)
    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_layer(source, check_groups(groups).attrs, "source")
    check_layer(target, groups.attrs, "target")
    check_same_frames(source, target, "tuning_matched_groups")
    T = check_presentations(source, T, "source")
    tid, indptr, src = group_csr(groups)
    deg = np.diff(indptr)
    rs = _analysed(source)
    sid = _ids(source)[rs]
    order = np.argsort(sid, kind="stable")
    rs, sid = rs[order], sid[order]
    _check_pool(groups, _ids(source), sid, src, "source spikes")
    ts, _ = _class_means(take_neurons(source, rs), T)
    tt, _ = _class_means(take_neurons(target, neuron_rows(target, tid, "target")), T)
    out = np.empty(src.size, dtype=np.int64)
    sim_out = np.empty(src.size, dtype=np.float64)
    flat = np.zeros(tid.size, dtype=bool)
    for b0 in range(0, tid.size, max(int(block), 1)):
        b1 = min(tid.size, b0 + max(int(block), 1))
        s, flat[b0:b1] = _similarity(tt[b0:b1], ts, similarity)
        for j, i in enumerate(range(b0, b1)):
            k = deg[i]
            if k == 0:
                continue
            best = _top(s[j], k)
            lo = indptr[i]
            out[lo:lo + k] = sid[best]
            sim_out[lo:lo + k] = s[j, best]
    # members shared with the real group: edges present in both tables
    edge_of = np.repeat(np.arange(tid.size), deg)
    n_id = int(max(src.max(initial=0), out.max(initial=0))) + 1
    both = np.isin(edge_of * n_id + out, edge_of * n_id + src)
    shared = np.bincount(edge_of[both], minlength=tid.size)
    ds = _edge_table(groups, tid, indptr, out, shared, "tuning", f"tuning_{similarity}",
                     edge_vars={"similarity": sim_out})
    ds["flat"] = ("neuron", flat)
    return ds
