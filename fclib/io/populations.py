"""Your own binned populations as one recording file, and reading any population file back.

:func:`save_recording` writes ``{name: DataArray(("neuron", "frame")), ...}`` (populations
binned by :func:`fclib.io.bin_spikes`, of any sizes, on the same frames) to one netCDF4
file, a group per population as in fclib's own recordings (:mod:`fclib.io.recordings`), so
``fclib sttc`` and :func:`fclib.io.recordings.open_recording` read it. Everything binning
attached survives: the trains (bool), the ``neuron`` coordinates (``unit_id``, ``n_spikes``,
``silent``), the frame coordinates (``time``, ``presentation``, ``step``, ``image``,
``label``, ``stimulus``) and the attributes (``T``, ``bin_size``, ``stimuli``, ...).

:func:`load_recording` reads such a file, fclib's own recordings, a single DataArray saved
with ``DataArray.to_netcdf`` and files with one group per population; whatever it cannot
read it names, with what it expected and how to write it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xarray as xr

from fclib.store import atomic_write

__all__ = ["save_recording", "load_recording", "LayerPair"]

class LayerPair(NamedTuple):
    """A pair of populations (layers): ``source`` projects to ``target``.

    A tuple, so ``s, t = pair`` unpacks it. ``str(pair)`` is ``"source→target"``, the label
    that tables, xarray coordinates and glued values show; :meth:`parse` reads such a label
    back.

    Examples
    --------
    >>> LayerPair.parse("L1→L2")
    LayerPair(source='L1', target='L2')
    >>> str(LayerPair("L1", "L2"))
    'L1→L2'
    """

    source: str
    target: str

    #: The separator of the label.
    SEP = "→"

    def __str__(self) -> str:
        return f"{self.source}{self.SEP}{self.target}"

    @classmethod
    def parse(cls, pair) -> "LayerPair":
        """The pair a label ``"source→target"`` names (a ``LayerPair`` or a 2-tuple of names
        is taken as it is).

        Parameters
        ----------
        pair : str, LayerPair or tuple
            ``"L1→L2"``, or ``(source, target)``.

        Returns
        -------
        LayerPair

        Raises
        ------
        ValueError
            When ``pair`` is not two non-empty names joined by one ``→``.
        """
        if isinstance(pair, tuple) and len(pair) == 2 and all(
                isinstance(p, str) and p for p in pair):
            return cls(*pair)
        parts = pair.split(cls.SEP) if isinstance(pair, str) else ()
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"pair must be a layer pair 'source{cls.SEP}target' such as "
                             f"'L1{cls.SEP}L2' (or a (source, target) tuple), got {pair!r}")
        return cls(*parts)


_FORMAT = "fclib populations 1"
_HDF5 = b"\x89HDF\r\n\x1a\n"
_WRITE_HOW = ("write your binned trains with fclib.io.save_recording({'A': a, 'B': b}, "
              "'populations.nc'), a and b DataArrays ('neuron', 'frame') such as "
              "fclib.io.bin_spikes makes")


def _attr(v):
    """An attribute value netCDF can store (numbers, strings; the rest as JSON)."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (str, int, float)):
        return v
    return json.dumps(v, default=str)


def _population(name, x) -> xr.DataArray:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"population names must be non-empty strings without '/', got {name!r}")
    if not isinstance(x, xr.DataArray):
        a = np.asarray(x)
        if a.ndim != 2:
            raise ValueError(f"population {name!r} must be a DataArray ('neuron', 'frame') or a "
                             f"2-D array (neurons x frames), got {type(x).__name__} of shape "
                             f"{a.shape}")
        x = xr.DataArray(a, dims=("neuron", "frame"))
    if set(x.dims) != {"neuron", "frame"}:
        raise ValueError(f"population {name!r} must have dims ('neuron', 'frame'), got {x.dims}; "
                         "rename them (e.g. .rename(unit='neuron', time='frame'))")
    x = x.transpose("neuron", "frame")
    v = np.asarray(x.values)
    if v.dtype != bool:
        if not (np.issubdtype(v.dtype, np.number) and np.all((v == 0) | (v == 1))):
            raise ValueError(f"population {name!r} must hold 0/1 trains; found values "
                             f"{np.setdiff1d(np.unique(v), [0, 1])[:5].tolist()} (counts? pass "
                             "counts > 0)")
        x = x.copy(data=v.astype(np.uint8))
    coords = {}
    for c, val in x.coords.items():
        if val.ndim != 1:
            raise ValueError(f"population {name!r}: coordinate {c!r} has dims {val.dims}; only "
                             "coordinates on 'neuron' or 'frame' can be stored")
        if val.dtype == object:
            val = val.astype(str)
        coords[c] = val
    return xr.DataArray(x.values, dims=("neuron", "frame"), coords=coords,
                        attrs={k: _attr(v) for k, v in x.attrs.items() if v is not None})


def save_recording(populations: Mapping, path, *, attrs: dict | None = None) -> Path:
    """Write binned populations to one netCDF4 recording (a group per population).

    Each group also holds what :func:`fclib.io.recordings.open_recording` expects of fclib's
    own recordings (``layer_shape``; ``rate``, spikes per presentation, and ``silent`` on
    ``neuron``); the root holds ``T`` where every population has the same one.

    Parameters
    ----------
    populations : Mapping or xarray.Dataset
        ``{name: DataArray(("neuron", "frame"))}`` (bool or 0/1; a 2-D array is taken as
        neurons x frames), all on the same frames; e.g. the output of
        :func:`fclib.io.bin_spikes` for each population. An ``xr.Dataset`` of such variables
        is taken as well.
    path : str or PathLike
        The file to write (``.nc``). Written to a temporary name and renamed into place, so a
        failure leaves nothing behind and an existing file unchanged.
    attrs : dict, optional
        Attributes of the whole recording (strings, numbers; others stored as JSON).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    TypeError
        ``populations`` is not a non-empty mapping of populations.
    ValueError
        A bad population name, dims other than ``(neuron, frame)``, values
        other than 0/1, or populations on different frames."""
    if not isinstance(populations, Mapping) or not len(populations):
        raise TypeError("populations must be a non-empty dict {name: DataArray ('neuron', "
                        f"'frame')}}; got {type(populations).__name__}")
    pops = {name: _population(name, x) for name, x in populations.items()}
    frames = {name: x.sizes["frame"] for name, x in pops.items()}
    if len(set(frames.values())) != 1:
        raise ValueError(f"populations must share their frames (one recording); frame counts "
                         f"{frames}")
    Ts = {x.attrs.get("T") for x in pops.values()}
    root = {k: _attr(v) for k, v in (attrs or {}).items() if v is not None}
    root.update(fclib_format=_FORMAT, layers=json.dumps(list(pops)))
    if len(Ts) == 1 and None not in Ts:
        root["T"] = int(Ts.pop())
    path = Path(path)
    with atomic_write(path) as tmp:
        xr.Dataset(attrs=root).to_netcdf(tmp, mode="w", engine="netcdf4")
        for name, x in pops.items():
            n_pres = x.sizes["frame"] // int(x.attrs.get("T", 1)) or 1
            count = np.asarray(x.values, dtype=np.int64).sum(axis=1)
            coords = {"rate": ("neuron", (count / n_pres).astype(np.float32))}
            if "silent" not in x.coords:
                coords["silent"] = ("neuron", count == 0)
            ds = x.assign_coords(coords).to_dataset(name="spikes")
            ds.attrs = dict(x.attrs, layer=name, layer_shape=json.dumps([x.sizes["neuron"]]))
            ds.to_netcdf(tmp, mode="a", group=name, engine="netcdf4",
                         encoding={"spikes": {"zlib": True, "complevel": 1}})
    return path


def _kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_HDF5):
        return "netcdf4"
    if head[:3] == b"CDF":
        return "netcdf3"
    what = ("a zip archive (.npz?)" if head[:2] == b"PK" else
            "a NumPy .npy file" if head[:6] == b"\x93NUMPY" else
            "a pickle" if head[:1] == b"\x80" else "not netCDF")
    raise ValueError(f"{path} is {what}, not a netCDF file; fclib reads populations from "
                     f"netCDF: {_WRITE_HOW}")


def _spikes_of(ds: xr.Dataset, where: str, path: Path) -> str:
    """The name of the one ``(neuron, frame)`` variable of ``ds``."""
    if "spikes" in ds.data_vars and set(ds["spikes"].dims) == {"neuron", "frame"}:
        return "spikes"
    found = [v for v in ds.data_vars if set(ds[v].dims) == {"neuron", "frame"}]
    if len(found) == 1:
        return found[0]
    have = ", ".join(f"{v} {ds[v].dims}" for v in ds.data_vars) or "no variables"
    why = "several" if found else "no"
    raise ValueError(f"{where} of {path} holds {why} variable(s) with dims ('neuron', 'frame') "
                     f"(it has: {have}); fclib expects one 0/1 train array per population: "
                     f"{_WRITE_HOW}")


def _decoded(da: xr.DataArray) -> xr.DataArray:
    """Trains as written (bool stays bool), 0/1 integers as uint8."""
    if da.dtype != bool and np.issubdtype(da.dtype, np.integer):
        da = da.astype(np.uint8)
    da.attrs = {k: v.item() if isinstance(v, np.generic) else v for k, v in da.attrs.items()}
    return da


def load_recording(path) -> dict[str, xr.DataArray]:
    """Every population of a population file: ``{name: DataArray(("neuron", "frame"))}``.

    Reads files of :func:`save_recording`, fclib's own recordings (lazily, as
    :func:`fclib.io.recordings.open_recording`; their ``T`` attached as an attribute), a
    DataArray saved with ``DataArray.to_netcdf`` (named after its ``layer`` attribute or its
    name) and netCDF files with one group per population holding one ``(neuron, frame)``
    variable.

    Parameters
    ----------
    path : str or PathLike
        The netCDF file.

    Returns
    -------
    dict of str to xarray.DataArray
        The populations by name, dims ``(neuron, frame)``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        A file of none of these layouts (says what was expected and how to write it)."""
    import netCDF4

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no population file at {path}")
    _kind(path)
    try:
        with netCDF4.Dataset(path) as nc:
            groups = list(nc.groups)
            root = {k: nc.getncattr(k) for k in nc.ncattrs()}
            is_fclib = bool(groups) and root.get("fclib_format") != _FORMAT and all(
                "spikes" in nc.groups[g].variables and "layer_shape" in nc.groups[g].ncattrs()
                for g in groups)
    except OSError as e:
        raise ValueError(f"{path} is not a readable netCDF file ({e}); {_WRITE_HOW}") from None
    if is_fclib:
        from fclib.io.recordings import open_recording

        rec = open_recording(path)
        return {name: rec[name].assign_attrs(T=rec.T) for name in rec.layers}
    out = {}
    if groups:
        for g in groups:
            ds = xr.open_dataset(path, group=g, engine="netcdf4")
            var = _spikes_of(ds, f"group {g!r}", path)
            da = ds[var].load()
            da.attrs = {**{k: v for k, v in ds.attrs.items() if k != "layer_shape"},
                        **da.attrs}
            da.name = g
            if "T" in root and "T" not in da.attrs:
                da.attrs["T"] = int(root["T"])
            out[g] = _decoded(da)
            ds.close()
        return out
    with xr.open_dataset(path, engine="netcdf4") as ds:
        found = [v for v in ds.data_vars if set(ds[v].dims) == {"neuron", "frame"}]
        if not found:
            _spikes_of(ds, "the file", path)
        for v in found:
            da = ds[v].load()
            name = str(da.attrs.get("layer") or ("spikes" if v.startswith("__xarray") else v))
            da.name = name
            out[name] = _decoded(da)
    return out
