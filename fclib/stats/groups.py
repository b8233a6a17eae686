"""First-order functionally connected (1FC) groups (paper §3).

A target neuron's 1FC group is the set of neurons of the previous layer whose STTC with it
is significantly positive: ``z > threshold`` (the paper: 4, against circularly shifted
trains) and ``sttc > 0``. Its size is the target's degree of connectivity.

Groups are an edge table, an ``xr.Dataset`` with

- dim ``edge``: ``target`` and ``source`` (neuron ids, i.e. positions in the recorded
  layers), ``sttc`` and ``z`` of every significant pair, sorted by target then source;
- dim ``neuron``: every analysed target neuron (active ones, including those whose group
  is empty) with ``degree``, its group size;

and attrs ``source_layer``, ``target_layer``, ``threshold``, ``method``. They are computed
once, on the original condition, and reused unchanged for every other condition and batch
of frames, as in the paper.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from fclib.io.recordings import save_dataset
from fclib.stats._checks import check_groups

__all__ = ["one_fc_groups", "members", "group_csr", "save_groups", "load_groups"]


def one_fc_groups(pairs: xr.Dataset, threshold: float = 4.0, *,
                  exclude_self: bool | None = None) -> xr.Dataset:
    """1FC groups of every target of a layer pair from its pairwise results.

    Parameters
    ----------
    pairs : Dataset over ``(target, source)`` with ``sttc``, ``z`` and the coordinates
        ``target_neuron``/``source_neuron`` (as made by
        :func:`fclib.stats.connectivity.pair_significance` or the nulls; without them, positions
        are used); or a mapping ``{"sttc": ..., "z": ...}`` of two (target, source) arrays
        of one shape (plain arrays or DataArrays).
    threshold : z above which a positive pair is an edge.
    exclude_self : leave a neuron out of its own group (target id == source id). Needed when
        the pairs are one population against itself (a train's STTC with itself is 1, and
        it would otherwise join every group); wrong for two layers, whose ids are positions
        in different layers. ``None``: exclude where the pairs' attrs say so:
        ``same_population`` (set by :func:`fclib.stats.connectivity.pair_significance` given
        one population twice), or ``source_layer`` and ``target_layer`` naming the same layer.

    Returns
    -------
    The edge table described in the module docstring.

    Raises
    ------
    TypeError
        ``pairs`` neither a Dataset nor a mapping of ``sttc`` and ``z``, or a
        ``threshold`` that is not a number.
    ValueError
        ``pairs`` without ``sttc`` and ``z`` over ``(target, source)``, or a non-finite
        ``threshold``.
    """
    if not isinstance(pairs, xr.Dataset):
        from collections.abc import Mapping

        if not isinstance(pairs, Mapping):
            raise TypeError("pairs must be a Dataset with 'sttc' and 'z' over (target, source) "
                            "(from fclib.stats.connectivity.pair_significance or a null), or a "
                            f"dict of those two arrays; got {type(pairs).__name__}")
        pairs = _pairs_dataset(pairs)
    import numbers

    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number (a z value, e.g. 4.0), got {threshold!r} "
                        f"({type(threshold).__name__})"
                        + ("; convert it with float(...)" if isinstance(threshold, str) else ""))
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number (a z value), got {threshold!r}")
    for v in ("sttc", "z"):
        if v not in pairs:
            raise ValueError(f"pairs must hold {v!r} over ('target', 'source'); got {list(pairs.data_vars)}")
    z = pairs["z"].transpose("target", "source").values
    s = pairs["sttc"].transpose("target", "source").values
    tid = (pairs["target_neuron"].values if "target_neuron" in pairs.coords
           else np.arange(z.shape[0]))
    sid = (pairs["source_neuron"].values if "source_neuron" in pairs.coords
           else np.arange(z.shape[1]))
    sig = (z > threshold) & (s > 0)
    if exclude_self is None:
        a, b = (str(pairs.attrs.get(k, "")) for k in ("source_layer", "target_layer"))
        exclude_self = bool(pairs.attrs.get("same_population", 0)) or (
            a == b and a not in ("", "None"))
    if exclude_self:
        sig &= tid[:, None] != sid[None, :]
    ti, si = np.nonzero(sig)  # row-major: sorted by target, then source
    ds = xr.Dataset(
        {"target": ("edge", tid[ti].astype(np.int64)),
         "source": ("edge", sid[si].astype(np.int64)),
         "sttc": ("edge", s[ti, si].astype(np.float32)),
         "z": ("edge", z[ti, si].astype(np.float32)),
         "degree": ("neuron", sig.sum(1).astype(np.int64))},
        coords={"neuron": tid.astype(np.int64)},
        attrs=dict(source_layer=str(pairs.attrs.get("source_layer", "")),
                   target_layer=str(pairs.attrs.get("target_layer", "")),
                   threshold=float(threshold), method=str(pairs.attrs.get("method", "")),
                   n_source=int(z.shape[1])))
    return ds


def _pairs_dataset(pairs) -> xr.Dataset:
    """A ``{"sttc": ..., "z": ...}`` mapping of (target, source) arrays as a pairs Dataset."""
    missing = [v for v in ("sttc", "z") if v not in pairs]
    if missing:
        raise ValueError(f"pairs must hold 'sttc' and 'z'; missing {missing}")
    out = {}
    for v in ("sttc", "z"):
        x = pairs[v]
        if isinstance(x, xr.DataArray):
            if set(x.dims) != {"target", "source"}:
                raise ValueError(f"pairs[{v!r}] must have dims ('target', 'source'), got {x.dims}")
            out[v] = x.transpose("target", "source")
        else:
            a = np.asarray(x, dtype=np.float64)
            if a.ndim != 2:
                raise ValueError(f"pairs[{v!r}] must be 2-D (targets x sources), got shape {a.shape}")
            out[v] = xr.DataArray(a, dims=("target", "source"))
    if out["sttc"].shape != out["z"].shape:
        raise ValueError(f"pairs['sttc'] has shape {out['sttc'].shape} but pairs['z'] "
                         f"{out['z'].shape}; they must describe the same pairs")
    return xr.Dataset(out)


def members(groups: xr.Dataset, target: int) -> np.ndarray:
    """Source neuron ids in the 1FC group of target neuron ``target``.

    Parameters
    ----------
    groups : xarray.Dataset
        An edge table (:func:`one_fc_groups`).
    target : int
        A target neuron id.

    Returns
    -------
    ndarray
        int64 source ids (empty for an empty group).

    Raises
    ------
    KeyError
        ``target`` was not analysed (silent, or not in this layer)."""
    if target not in set(groups["neuron"].values.tolist()):
        raise KeyError(f"neuron {target} of {groups.attrs.get('target_layer')} was not analysed "
                       "(silent, or not in this layer)")
    t = groups["target"].values
    lo, hi = np.searchsorted(t, target, "left"), np.searchsorted(t, target, "right")
    return groups["source"].values[lo:hi]


def group_csr(groups: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The groups of an edge table as compressed rows.

    Parameters
    ----------
    groups : xr.Dataset
        An edge table of :func:`one_fc_groups` (``target``, ``source`` over ``edge``;
        ``degree`` over ``neuron``).

    Returns
    -------
    (target ids, indptr, source ids), int64: the sources of target ``i`` are
    ``source_ids[indptr[i]:indptr[i + 1]]``.

    Raises
    ------
    ValueError
        If ``groups`` is not such an edge table or its edges disagree with its degrees.
    """
    if not isinstance(groups, xr.Dataset):
        check_groups(groups)
    for v in ("target", "source", "degree"):
        if v not in groups:
            raise ValueError(f"groups must be an edge table of fclib.stats.groups.one_fc_groups "
                             f"(with 'target', 'source', 'degree'); it lacks {v!r}")
    tid = np.asarray(groups["neuron"].values, dtype=np.int64)
    deg = np.asarray(groups["degree"].values, dtype=np.int64)
    indptr = np.zeros(tid.size + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    order = np.argsort(groups["target"].values, kind="stable")
    if not np.array_equal(np.repeat(tid, deg), groups["target"].values[order]):
        raise ValueError("groups: the edge table is inconsistent with its degree table; "
                         "rebuild it with fclib.stats.groups.one_fc_groups")
    return tid, indptr, np.asarray(groups["source"].values, dtype=np.int64)[order]


def save_groups(groups: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write an edge table to netCDF atomically (:func:`fclib.store.atomic_write`).

    Parameters
    ----------
    groups : xarray.Dataset
        An edge table.
    path : str or PathLike
        The file.

    Returns
    -------
    Path
        ``path``."""
    check_groups(groups)
    return save_dataset(groups, path)


def load_groups(path: str | os.PathLike) -> xr.Dataset:
    """Read an edge table written by :func:`save_groups`.

    Parameters
    ----------
    path : str or PathLike
        The file.

    Returns
    -------
    xarray.Dataset
        The edge table."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()
