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

    Parameters
    ----------
    spikes : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)`` (:func:`fclib.stats.response.as_layer`).
    T : int
        Frames per presentation; must divide the frame count.

    Returns
    -------
    xarray.DataArray
        Spikes per image, dim ``neuron``."""
    from fclib.stats.response import as_layer, check_presentations

    spikes = as_layer(spikes)
    T = check_presentations(spikes, T)
    n = spikes.sizes["frame"]
    return spikes.sum("frame", dtype=np.int64) / (n // T)


def layer_summary(recording, silent_threshold: float = SILENT_THRESHOLD) -> pd.DataFrame:
    """One row per layer: neurons, mean/median rate (spikes per image), silent fraction.

    The silent fraction uses the recording's stored per-neuron ``rate``; the paper
    calls a neuron silent below 0.01 spikes per image.

    Parameters
    ----------
    recording : Recording
        An opened recording (:func:`fclib.io.recordings.open_recording`), its layers with a
        ``rate`` coordinate.
    silent_threshold : float
        Rate (spikes per image) below which a neuron is silent.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``layer``: ``channels``, ``height``, ``width``, ``neurons``,
        ``mean_rate``, ``median_rate``, ``active_mean_rate``, ``silent_fraction``.

    Raises
    ------
    TypeError
        ``recording`` is not a Recording."""
    if not hasattr(recording, "layers"):
        raise TypeError(f"recording must be an opened Recording (fclib.io.recordings.open_recording), "
                        f"got {type(recording).__name__}")
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

    Parameters
    ----------
    recording : Recording
        An opened recording (its ``T`` and each layer's ``silent`` coordinate are read).
    layers : sequence of str
        The layers to sample.
    n_neurons : int
        Neurons per layer (active ones when there are enough, else any).
    presentations : sequence of int
        The presentations to keep, in this order.
    rng : numpy.random.Generator or int, optional
        Which neurons are drawn (:func:`fclib._util.as_generator`).

    Returns
    -------
    dict of str to xarray.DataArray
        ``{layer: DataArray(neuron, frame)}`` holding only the requested frames, loaded."""
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
