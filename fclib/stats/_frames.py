"""Selecting frames of a recorded layer fast (shared by the stages and the statistics)."""
from __future__ import annotations

import numba as nb
import numpy as np
import xarray as xr

__all__ = ["take_frames"]


@nb.njit(parallel=True, cache=True)
def _gather(a, cols):
    out = np.empty((a.shape[0], cols.size), dtype=a.dtype)
    for i in nb.prange(a.shape[0]):
        row = a[i]
        for j in range(cols.size):
            out[i, j] = row[cols[j]]
    return out


def take_frames(da, frames):
    """``da.isel(frame=frames)`` for a layer ``DataArray(("neuron", "frame"))``, equal to it
    (values, coordinates, attributes, name), without numpy's slow fancy indexing of the last
    axis: an in-memory layer is gathered row by row in parallel. Anything else (a lazy or
    on-disk array, other dimensions, frames that are not integers or out of range) goes
    through ``isel``, which also raises its errors."""
    cols = np.asarray(frames)
    if (not isinstance(da, xr.DataArray) or da.dims != ("neuron", "frame")
            or cols.ndim != 1 or cols.dtype.kind not in "iu"
            or not isinstance(da.variable._data, np.ndarray)):
        return da.isel(frame=frames)
    n = da.sizes["frame"]
    cols = cols.astype(np.int64)
    if cols.size and (cols.min() < -n or cols.max() >= n):
        return da.isel(frame=frames)
    cols = np.where(cols < 0, cols + n, cols)
    data = _gather(np.ascontiguousarray(da.values), cols)
    coords = {k: (c.isel(frame=cols) if "frame" in c.dims else c) for k, c in da.coords.items()}
    return xr.DataArray(data, dims=da.dims, coords=coords, attrs=dict(da.attrs), name=da.name)
