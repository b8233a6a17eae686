"""Significant edges of a layer pair at full layer size, streamed by tiles.

A dense ``(target, source)`` matrix of two 65,536-neuron layers holds 4.3 x 10^9 pairs
(17 GB per float32 variable). :func:`significant_edges` never builds one: the trains of
both layers are read block by block and bit-packed (``L / 8`` bytes per neuron), then
tiles of ``block[0]`` targets x ``block[1]`` sources go through the same kernels as the
dense path (:mod:`fclib.stats.sttc`'s packed AND + popcount counts and
:mod:`fclib.stats.nulls`' exact all-shift null or its random-shift null), and each tile
keeps only

* the pairs beyond the threshold, of **both signs** (``z > threshold`` or
  ``z < -threshold``; the sign of an edge is the sign of its ``z``);
* per target: pairs with a defined z, pairs above and below the threshold, the sum of
  STTC and of the null's mean and sd (the null's moments summary);
* fixed-bin histograms of STTC and z (:data:`STTC_BINS`, :data:`Z_BINS`).

Memory is the packed trains of both layers plus one tile (about 40 bytes per pair of a
tile, plus the exact null's folded power spectra, ``2 L`` bytes per neuron of the tile).

Tiles are independent tasks: they run in this process or on a ``distributed.Client``
(:mod:`fclib.stats.distributed`), and with ``path`` every finished tile is written to
``<path>.blocks/`` (netCDF4, ``.part`` then renamed), so an interrupted run resumes from
the tiles on disk; the merged table is renamed into place at ``path`` when complete and
the tiles are removed.

:func:`groups_from_edges` turns the edge table into 1FC groups identical to
:func:`fclib.stats.groups.one_fc_groups` on the dense pairs, and :func:`edge_summary`
into :func:`fclib.stats.connectivity.pair_summary`'s numbers, so everything downstream of
the groups reads edge lists.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import xarray as xr

from fclib._util import as_generator, progress_bar
from fclib.io.recordings import save_dataset
from fclib.stats import nulls, sttc
from fclib.stats._checks import check_dataset

__all__ = ["significant_edges", "groups_from_edges", "edge_summary", "clear_cache", "STTC_BINS", "Z_BINS"]

#: STTC histogram bin edges (width 0.01 on [-1, 1]).
STTC_BINS = np.linspace(-1.0, 1.0, 201)
#: z histogram bin edges: width 0.1 on [-20, 60], with open-ended outer bins.
Z_BINS = np.concatenate([[-np.inf], np.linspace(-20.0, 60.0, 801), [np.inf]])

_PER_TARGET = ("n_defined", "n_pos", "n_neg", "n_sttc", "sttc_sum", "null_mean_sum",
               "null_sd_sum")


# --------------------------------------------------------------------------- reading layers
def _ids(x, n: int) -> np.ndarray:
    if isinstance(x, xr.DataArray) and "neuron" in x.coords:
        return np.asarray(x["neuron"].values).astype(np.int64)
    return np.arange(n, dtype=np.int64)


def _n_frames(x) -> int:
    return x.sizes["frame"] if isinstance(x, xr.DataArray) else np.shape(x)[1]


def _packed_layers(source, target, read_block: int):
    """Bit-packed trains ``(n, ceil(L / 64))`` of both layers, read ``read_block`` neurons
    at a time (a file- or dask-backed layer is never loaded whole), and ``L``."""
    if isinstance(source, xr.DataArray) and (source.ndim != 2 or set(source.dims) != {"neuron", "frame"}):
        sttc.as_trains(source, "source")  # raises the usual error
    L = _n_frames(source)
    src = [sttc.pack_trains(s) for _, s in _blocks(source, read_block, L, "source")]
    tgt = [sttc.pack_trains(t) for _, t in sttc.target_blocks(target, read_block, L)]
    n_words = -(-L // 64)
    cat = (lambda parts: np.concatenate(parts) if parts else np.zeros((0, n_words), np.uint64))
    return cat(src), cat(tgt), L


def _blocks(x, block: int, n_frames: int, name: str):
    if not isinstance(x, xr.DataArray):  # in memory: checked (and its orientation) once
        x = sttc.as_trains(x, name)
    n = x.sizes["neuron"] if isinstance(x, xr.DataArray) else np.shape(x)[0]
    for i0 in range(0, n, block):
        part = x.isel(neuron=slice(i0, i0 + block)) if isinstance(x, xr.DataArray) \
            else np.asarray(x)[i0:i0 + block]
        yield i0, sttc.as_trains(part, name, warn_orientation=False)


def _unpack(bits: np.ndarray, L: int) -> np.ndarray:
    return np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little", count=L)


# --------------------------------------------------------------------------- one tile
_SPECTRA = {}  # the source block's spectra of the last tile (one entry; see _source_spectra)
_SPECTRA_LOCK = threading.Lock()


def _source_spectra(key: str, bits: np.ndarray, L: int) -> np.ndarray:
    """Folded power spectra of a source block, kept for the next tile of the same block
    (tiles run source block by source block); one block is kept per process."""
    with _SPECTRA_LOCK:
        hit = _SPECTRA.get(key)
    if hit is not None:
        return hit
    spec = nulls.power_spectra(_unpack(bits, L))
    with _SPECTRA_LOCK:
        _SPECTRA.clear()
        _SPECTRA[key] = spec
    return spec


def clear_cache() -> None:
    """Drop the cached source spectra of this process."""
    with _SPECTRA_LOCK:
        _SPECTRA.clear()


def _exact_tile(tgt_bits, src_bits, L, src_key):
    """``sttc, z, null_mean, null_sd`` (float32, ``(targets, sources)``) of one tile under
    the exact null: the dense path's kernels (:func:`fclib.stats.nulls.exact_null`) on
    packed trains."""
    tgt = _unpack(tgt_bits, L)
    n_t, n_s = tgt_bits.shape[0], src_bits.shape[0]
    n_a = tgt.sum(axis=1, dtype=np.int64).astype(np.float64)
    n_b = np.bitwise_count(src_bits).sum(axis=1, dtype=np.int64).astype(np.float64)
    c0 = np.empty((n_t, n_s), dtype=np.int64)
    sttc.and_popcount(tgt_bits, sttc.transpose_bits(src_bits), c0)
    rb = _source_spectra(src_key, src_bits, L)
    m = nulls.power_spectra(tgt) @ rb.T
    s = np.empty((n_t, n_s), dtype=np.float32)
    z = np.empty_like(s)
    mom = np.empty((4, n_t, n_s), dtype=np.float32)
    nulls.exact_z(c0, m, n_a, n_b, L, s, z, mom)
    return s, z, mom[0], mom[1]


def _public_tile(tgt_bits, src_bits, L, method, params):
    """One tile through the public dense functions (the shift null; the exact null on
    another backend)."""
    tgt, src = (xr.DataArray(_unpack(b, L), dims=("neuron", "frame")) for b in (tgt_bits, src_bits))
    if method == "exact":
        ds = nulls.exact_null(src, tgt, moments=True, **params)
    else:
        p = dict(params)
        state = p.pop("rng_state")
        g = np.random.Generator(getattr(np.random, state["bit_generator"])())
        g.bit_generator.state = state  # the same shifts for every tile, as the dense call
        ds = nulls.shift_null(src, tgt, rng=g, **p)
    return tuple(ds[v].values.astype(np.float32) for v in ("sttc", "z", "null_mean", "null_sd"))


def _compute_tile(tgt_bits, src_bits, L, t0, s0, spec):
    """Everything a tile contributes (a dict of small arrays): its edges (global positions),
    its targets' counts and sums, and its histograms. ``spec``: the run's parameters."""
    backend = sttc.resolve_backend(spec["backend"])[0]  # where the tile runs: a GPU worker
    if spec["method"] == "exact" and backend == "numba":  # picks torch under "auto"
        s, z, nm, nsd = _exact_tile(tgt_bits, src_bits, L, spec["src_key"] + f"-{s0}")
    else:
        params = dict(spec["params"], backend=backend) if spec["backend_kw"] else spec["params"]
        s, z, nm, nsd = _public_tile(tgt_bits, src_bits, L, spec["method"], params)
    thr = spec["threshold"]
    defined = np.isfinite(z)
    ti, si = np.nonzero(defined & ((z > thr) | (z < -thr)))
    zd = np.where(defined, z, 0)
    out = {"ti": (ti + t0).astype(np.int64), "si": (si + s0).astype(np.int64),
           "sttc": s[ti, si], "z": z[ti, si],
           "n_defined": defined.sum(1).astype(np.int64),
           "n_pos": (zd > thr).sum(1).astype(np.int64),
           "n_neg": (zd < -thr).sum(1).astype(np.int64),
           "n_sttc": np.isfinite(s).sum(1).astype(np.int64),
           "sttc_sum": np.nansum(s, axis=1, dtype=np.float64),
           "null_mean_sum": np.where(defined, nm, 0).sum(1, dtype=np.float64),
           "null_sd_sum": np.where(defined, nsd, 0).sum(1, dtype=np.float64),
           "sttc_hist": np.histogram(s[np.isfinite(s)], STTC_BINS)[0].astype(np.int64),
           "z_hist": np.histogram(z[defined], Z_BINS)[0].astype(np.int64)}
    return out


# --------------------------------------------------------------------------- tiles on disk
def _tile_name(i: int, j: int) -> str:
    return f"tile-{i:06d}-{j:06d}.nc"


def _tile_dataset(res: dict, key: str) -> xr.Dataset:
    data = {k: ("edge", res[k]) for k in ("ti", "si", "sttc", "z")}
    data.update({k: ("row", res[k]) for k in _PER_TARGET})
    data.update(sttc_hist=("sttc_bin", res["sttc_hist"]), z_hist=("z_bin", res["z_hist"]))
    return xr.Dataset(data, attrs={"fclib_edges_key": key})


def _read_tile(path: Path, key: str) -> dict:
    with xr.open_dataset(path, engine="netcdf4") as ds:
        if ds.attrs.get("fclib_edges_key") != key:
            raise ValueError(f"{path} was made from other trains or parameters than this call; "
                             f"delete the folder {path.parent} (or pass another path) to start "
                             "afresh")
        return {k: ds[k].values for k in ds.data_vars}


# --------------------------------------------------------------------------- the public API
def _check_args(method, threshold, dt, rng, n_shifts, path, block, backend):
    if method not in ("exact", "shifts"):
        raise ValueError(f"method must be 'exact' or 'shifts', got {method!r}")
    if backend not in ("auto", "numba", "torch"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite z >= 0, got {threshold!r}")
    if not isinstance(dt, (int, np.integer)) or dt < 0:
        raise ValueError(f"dt must be a non-negative int number of frames, got {dt!r}")
    if method == "exact":
        nulls.check_exact_args(dt, rng)
    elif n_shifts < 2:
        raise ValueError(f"n_shifts must be >= 2, got {n_shifts}")
    if method == "shifts" and rng is None and path is not None:
        raise ValueError("method='shifts' with path= needs rng= (a seed), so that a resumed run "
                         "draws the same shifts")
    bt, bs = (block, block) if np.ndim(block) == 0 else tuple(block)
    if int(bt) < 1 or int(bs) < 1:
        raise ValueError(f"block must be a positive number of neurons (or a pair), got {block!r}")
    return int(bt), int(bs)


def _key(src_bits, tgt_bits, src_ids, tgt_ids, L, spec_public) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in (src_bits, tgt_bits, src_ids, tgt_ids):
        h.update(np.ascontiguousarray(a).view(np.uint8))
        h.update(np.asarray(a.shape, np.int64).tobytes())
    h.update(json.dumps({"L": L, **spec_public}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def significant_edges(source, target, threshold: float = 4.0, method: str = "exact", *,
                      block=(2048, 8192), client=None, path=None, n_shifts: int = 150,
                      min_shift: int = 20, rng=None, dt: int = 0, backend: str = "auto",
                      progress: bool = False) -> xr.Dataset:
    """The pairs of a layer pair whose STTC is significant, without an N x N matrix.

    Parameters
    ----------
    source, target : spikes ``DataArray(("neuron", "frame"))`` (file- or dask-backed layers
        are read a block at a time) or 0/1 arrays ``(neurons, frames)``, the same frames.
        Neuron ids are the ``neuron`` coordinate (positions without one). Silent neurons
        may be included: their pairs have no z and are never edges (the dense path drops
        them first, :func:`fclib.stats.connectivity.active`).
    threshold : an edge has ``z > threshold`` or ``z < -threshold``.
    method : ``"exact"`` (the exact all-shift circular null, dt = 0;
        :func:`fclib.stats.nulls.exact_null`) or ``"shifts"`` (``n_shifts`` random circular
        shifts of at least ``min_shift`` frames, the same shifts for every tile, drawn from
        ``rng`` exactly as :func:`fclib.stats.nulls.shift_null` draws them).
    block : tile size, ``(targets, sources)`` or one int for both. Memory per tile is about
        40 bytes per pair plus ``2 L`` bytes per neuron of the tile.
    client : a ``distributed.Client`` (:func:`fclib.stats.distributed.connect`): tiles run as
        its tasks; ``None``: in this process.
    path : netCDF4 file of the result. Finished tiles go to ``<path>.blocks/``; a rerun with
        the same inputs resumes from them and an existing complete file of the same inputs
        is read back instead of recomputed (files and tiles of other inputs are refused).
    n_shifts, min_shift, rng : the ``"shifts"`` null's number of shifts, smallest shift
        (frames, in [1, L/2]) and their draws (a Generator or an int seed).
    dt : the STTC's synchrony window, frames (``"shifts"`` only; the exact null is dt = 0).
    progress : show a progress bar over the tiles.
    backend : ``"auto"``, ``"numba"`` or ``"torch"``, resolved where each tile runs
        (:func:`fclib.stats.sttc.resolve_backend`: ``"auto"`` is torch on a worker with a
        CUDA device); numba runs the exact null on the packed tiles, torch through
        :func:`fclib.stats.nulls.exact_null` / :func:`~fclib.stats.nulls.shift_null`.

    Returns
    -------
    Dataset with dim ``edge`` (sorted by target, then source): ``target``, ``source``
    (neuron ids), ``sttc``, ``z`` (float32; the sign of ``z`` is the edge's sign); dim
    ``neuron`` (every target, coordinate = its id): ``n_defined`` (pairs with a z),
    ``n_pos``/``n_neg`` (pairs above ``threshold`` / below ``-threshold``), ``n_sttc``,
    ``sttc_sum``, ``null_mean_sum``, ``null_sd_sum`` (sums over the pairs with a z of the
    null's STTC mean and sd); ``sttc_hist`` over ``sttc_bin`` and ``z_hist`` over ``z_bin``
    (counts between the edges ``sttc_edges``/``z_edges``, :data:`STTC_BINS`,
    :data:`Z_BINS`); attrs ``threshold``, ``method``, ``n_source``, ``n_target``,
    ``n_frames``, ``source_layer``, ``target_layer`` (DataArray names), ``signs``.

    Raises
    ------
    ValueError
        An unknown ``method`` or ``backend``, a negative or non-finite ``threshold``, a bad
        ``dt``, ``n_shifts`` or ``block``, ``method="shifts"`` with ``path`` but no ``rng``,
        fewer than 2 frames for the exact null, ``min_shift`` outside [1, L/2], or a
        ``path`` that holds the edges of other trains or parameters.
    """
    bt, bs = _check_args(method, threshold, dt, rng, n_shifts, path, block, backend)
    path = None if path is None else Path(path)
    src_bits, tgt_bits, L = _packed_layers(source, target, max(bt, bs))
    if method == "exact" and L < 2:
        raise ValueError(f"the exact null needs at least 2 frames, got {L}")
    if method == "shifts" and not 1 <= min_shift <= L // 2:
        raise ValueError(f"min_shift must be in [1, L/2 = {L // 2}], got {min_shift}")
    src_ids, tgt_ids = _ids(source, src_bits.shape[0]), _ids(target, tgt_bits.shape[0])
    params = {}
    if method == "shifts":
        g = as_generator(rng)
        params = dict(n_shifts=int(n_shifts), min_shift=int(min_shift), dt=int(dt),
                      rng_state=g.bit_generator.state)
        g.integers(min_shift, L - min_shift + 1, size=n_shifts)  # the caller's rng advances as in the dense call
    fn = nulls.exact_null if method == "exact" else nulls.shift_null
    backend_kw = "backend" in inspect.signature(fn).parameters
    spec_public = dict(method=method, threshold=float(threshold), block=[bt, bs],
                       params=params, sttc_bins=STTC_BINS.tolist(), z_bins=Z_BINS[1:-1].tolist())
    key = _key(src_bits, tgt_bits, src_ids, tgt_ids, L, spec_public)
    spec = dict(method=method, threshold=float(threshold), params=params, backend=backend,
                backend_kw=backend_kw, src_key=key)
    if path is not None and path.exists():
        with xr.open_dataset(path, engine="netcdf4") as ds:
            if ds.attrs.get("fclib_edges_key") != key:
                raise ValueError(f"{path} holds the edges of other trains or parameters; delete "
                                 "it or pass another path")
            return ds.load()
    tiles = [(i, j) for j in range(0, src_bits.shape[0], bs) for i in range(0, tgt_bits.shape[0], bt)]
    folder = None if path is None else path.with_name(path.name + ".blocks")
    done = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for i, j in tiles:
            f = folder / _tile_name(i, j)
            if f.exists():
                done[(i, j)] = _read_tile(f, key)
    todo = [t for t in tiles if t not in done]

    def finish(t, res):
        if folder is not None:
            save_dataset(_tile_dataset(res, key), folder / _tile_name(*t))
        done[t] = res

    args = lambda t: (tgt_bits[t[0]:t[0] + bt], src_bits[t[1]:t[1] + bs], L, t[0], t[1], spec)
    try:
        if client is None:
            for t in progress_bar(todo, desc="edge tiles", progress=progress):
                finish(t, _compute_tile(*args(t)))
        else:
            from fclib.stats.distributed import run_tiles

            run_tiles(client, _compute_tile, todo, args, finish, key, progress=progress)
    finally:
        clear_cache()
    out = _merge([(t[0], done[t]) for t in tiles], src_ids, tgt_ids)
    name = lambda x: str(x.name) if isinstance(x, xr.DataArray) and x.name is not None else ""
    out.attrs.update(threshold=float(threshold), method=method, n_source=int(src_ids.size),
                     n_target=int(tgt_ids.size), n_frames=int(L), source_layer=name(source),
                     target_layer=name(target), fclib_edges_key=key,
                     signs="z > threshold or z < -threshold; an edge's sign is the sign of z")
    if method == "shifts":
        out.attrs.update(n_shifts=int(n_shifts), min_shift=int(min_shift), dt=int(dt))
    if path is not None:
        save_dataset(out, path)
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _merge(parts: list[tuple[int, dict]], src_ids: np.ndarray, tgt_ids: np.ndarray) -> xr.Dataset:
    """The edge table from tiles ``(first target row, tile result)``."""
    cat = lambda k, dt: (np.concatenate([p[k] for _, p in parts]).astype(dt) if parts
                         else np.zeros(0, dt))
    ti, si = cat("ti", np.int64), cat("si", np.int64)
    order = np.lexsort((si, ti))  # by target, then source
    per = {k: np.zeros(tgt_ids.size, np.float64 if k.endswith("_sum") else np.int64)
           for k in _PER_TARGET}
    sttc_hist = np.zeros(STTC_BINS.size - 1, np.int64)
    z_hist = np.zeros(Z_BINS.size - 1, np.int64)
    for t0, p in parts:
        n = p["n_defined"].size
        for k in _PER_TARGET:
            per[k][t0:t0 + n] += p[k]
        sttc_hist += p["sttc_hist"]
        z_hist += p["z_hist"]
    return xr.Dataset(
        {"target": ("edge", tgt_ids[ti[order]]), "source": ("edge", src_ids[si[order]]),
         "sttc": ("edge", cat("sttc", np.float32)[order]),
         "z": ("edge", cat("z", np.float32)[order]),
         **{k: ("neuron", v) for k, v in per.items()},
         "sttc_hist": ("sttc_bin", sttc_hist), "z_hist": ("z_bin", z_hist),
         "sttc_edges": ("sttc_edge", STTC_BINS), "z_edges": ("z_edge", Z_BINS)},
        coords={"neuron": tgt_ids})


def groups_from_edges(edges: xr.Dataset, threshold: float = 4.0) -> xr.Dataset:
    """1FC groups from an edge table: what :func:`fclib.stats.groups.one_fc_groups` gives
    on the dense pairs of the same layer pair (edges with ``z > threshold`` and
    ``sttc > 0``; every target of the table, with its ``degree``).

    Parameters
    ----------
    edges : xarray.Dataset
        A :func:`significant_edges` result.
    threshold : float
        z above which a positive pair is an edge; at least the table's own (the edges below
        it were not kept).

    Returns
    -------
    xarray.Dataset
        The edge table of :func:`fclib.stats.groups.one_fc_groups`.

    Raises
    ------
    ValueError
        ``threshold`` below the table's own."""
    check_dataset(edges, ["target", "source", "sttc", "z"], "edges", "significant_edges()")
    have = float(edges.attrs.get("threshold", np.nan))
    if not threshold >= have:
        raise ValueError(f"the edge table keeps |z| > {have:g} only; groups at threshold "
                         f"{threshold!r} need significant_edges(..., threshold<={threshold!r})")
    z, s = edges["z"].values, edges["sttc"].values
    sig = (z > threshold) & (s > 0)
    tid = edges["neuron"].values.astype(np.int64)
    tgt = edges["target"].values[sig].astype(np.int64)
    pos = np.searchsorted(tid, tgt) if np.all(np.diff(tid) > 0) else \
        np.argsort(tid)[np.searchsorted(np.sort(tid), tgt)]
    return xr.Dataset(
        {"target": ("edge", tgt), "source": ("edge", edges["source"].values[sig].astype(np.int64)),
         "sttc": ("edge", s[sig].astype(np.float32)), "z": ("edge", z[sig].astype(np.float32)),
         "degree": ("neuron", np.bincount(pos, minlength=tid.size).astype(np.int64))},
        coords={"neuron": tid},
        attrs=dict(source_layer=str(edges.attrs.get("source_layer", "")),
                   target_layer=str(edges.attrs.get("target_layer", "")),
                   threshold=float(threshold), method=str(edges.attrs.get("method", "")),
                   n_source=int(edges.attrs["n_source"])))


def edge_summary(edges: xr.Dataset, threshold: float | None = None) -> dict:
    """:func:`fclib.stats.connectivity.pair_summary`'s counts and fractions from an edge
    table.

    ``mean_sttc`` is the mean over pairs with a defined STTC; ``mean_null_mean`` and
    ``mean_null_sd`` summarise the null's moments over the pairs with a z.

    Parameters
    ----------
    edges : xarray.Dataset
        A :func:`significant_edges` result.
    threshold : float, optional
        Default the table's own; a higher one recounts from the edges.

    Returns
    -------
    dict
        The keys of :func:`fclib.stats.connectivity.pair_summary`, with ``mean_null_mean``
        and ``mean_null_sd``."""
    check_dataset(edges, ["z", "n_defined", "n_pos", "n_neg"], "edges", "significant_edges()")
    thr = float(edges.attrs["threshold"]) if threshold is None else float(threshold)
    g = groups_from_edges(edges, thr)
    n = int(edges["n_defined"].sum())
    if thr == float(edges.attrs["threshold"]):
        pos, neg = int(edges["n_pos"].sum()), int(edges["n_neg"].sum())
    else:
        z = edges["z"].values
        pos, neg = int((z > thr).sum()), int((z < -thr).sum())
    deg = g["degree"].values
    n_sttc = int(edges["n_sttc"].sum())
    return dict(source=edges.attrs.get("source_layer"), target=edges.attrs.get("target_layer"),
                n_source=int(edges.attrs["n_source"]), n_target=int(edges.sizes["neuron"]),
                n_pairs=n, n_pos=pos, n_neg=neg, frac_pos=pos / n if n else np.nan,
                frac_neg=neg / n if n else np.nan,
                mean_sttc=float(edges["sttc_sum"].sum()) / n_sttc if n_sttc else np.nan,
                mean_degree=float(deg.mean()) if deg.size else np.nan,
                median_degree=float(np.median(deg)) if deg.size else np.nan,
                frac_targets_with_group=float((deg > 0).mean()) if deg.size else np.nan,
                mean_null_mean=float(edges["null_mean_sum"].sum()) / n if n else np.nan,
                mean_null_sd=float(edges["null_sd_sum"].sum()) / n if n else np.nan)
