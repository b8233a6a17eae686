"""Firing statistics of a recording: rates per layer, silent fraction, raster samples.

Torch-free; works on any :class:`fclib.io.recordings.Recording` (or any mapping of layer name
to ``DataArray(("neuron", "frame"))``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib.io.recordings import SILENT_THRESHOLD

__all__ = ["firing_rates", "layer_summary", "raster_sample"]


def firing_rates(spikes: xr.DataArray, T: int) -> xr.DataArray:
    """Mean spikes per image of every neuron: ``sum over frames / (n_frames / T)``.

    Returns a DataArray with dim ``neuron``. Raises if the frame count is not a multiple
    of ``T``.
    """
    from fclib.stats.response import as_layer, check_presentations

    spikes = as_layer(spikes)
    T = check_presentations(spikes, T)
    n = spikes.sizes["frame"]
    return spikes.sum("frame", dtype=np.int64) / (n // T)


def layer_summary(recording, silent_threshold: float = SILENT_THRESHOLD) -> pd.DataFrame:
    """One row per layer: neurons, mean/median rate (spikes per image), silent fraction.

    The silent fraction uses the recording's stored per-neuron ``rate``; the paper
    calls a neuron silent below 0.01 spikes per image.
    """
    rows = []
    for name in recording.layers:
        da = recording[name]
        rate = da["rate"].values.astype(float)
        shape = da.attrs.get("layer_shape", [np.nan] * 3)
        rows.append(dict(layer=name, channels=shape[0], height=shape[1], width=shape[2],
                         neurons=rate.size, mean_rate=rate.mean(), median_rate=np.median(rate),
                         active_mean_rate=rate[rate >= silent_threshold].mean()
                         if (rate >= silent_threshold).any() else np.nan,
                         silent_fraction=(rate < silent_threshold).mean()))
    return pd.DataFrame(rows).set_index("layer")


def raster_sample(recording, layers, n_neurons: int, presentations, rng=None) -> dict:
    """Spikes of ``n_neurons`` random active neurons per layer for a few presentations.

    Returns ``{layer: DataArray(neuron, frame)}`` holding only the requested frames
    (presentations in the order given), read lazily from disk.
    """
    from fclib._util import as_generator

    rng = as_generator(rng)
    T = recording.T
    frames = np.concatenate([np.arange(p * T, (p + 1) * T) for p in presentations])
    out = {}
    for name in layers:
        da = recording[name]
        active = np.flatnonzero(~da["silent"].values)
        pool = active if active.size >= n_neurons else np.arange(da.sizes["neuron"])
        pick = np.sort(rng.choice(pool, size=min(n_neurons, pool.size), replace=False))
        out[name] = da.isel(neuron=pick, frame=frames).load()
    return out
