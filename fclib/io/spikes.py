"""Your own spike data: spike times (seconds) binned into the 0/1 trains fclib analyses.

Every spike-sorted recording holds, per unit, an array of spike times; fclib's statistics
take binned trains, a bool ``DataArray(("neuron", "frame"))``. :func:`bin_spikes` makes one
from a ragged sequence of spike-time arrays; :func:`from_neo`, :func:`from_pynapple` and
:func:`from_nwb` read the three common containers (each imports its package only when
called: ``neo``, ``pynapple``, ``pynwb``).

Bins and STTC
-------------
Frame ``i`` is the half-open bin ``[t_start + i * bin_size, t_start + (i + 1) * bin_size)``;
a bin holds ``True`` where the unit fired at least once in it (further spikes in the same
bin are counted in the ``n_clipped`` attribute: choose a smaller bin if it is large).

:func:`fclib.sttc` at ``dt = 0`` on these bins equals Elephant's
``elephant.spike_train_correlation.spike_time_tiling_coefficient`` given, for every
occupied bin, one spike at the bin's centre (``t_start + (i + 1/2) * bin_size``), the same
``t_start``/``t_stop`` (``t_stop = t_start + n_frames * bin_size``) and ``dt = bin_size / 2``:
each spike's tile then covers exactly its own bin, and two spikes are within ``dt`` of each
other exactly when they share a bin. (In general fclib's ``dt = d`` frames corresponds to
Elephant's ``dt = (d + 1/2) * bin_size``.) STTC on binned trains is not STTC on the raw
times: spikes closer than a bin but in neighbouring bins do not count as synchronous, and
two in one bin count once.

Trials
------
With ``trial_onsets`` (seconds) only the bins of the trials are kept, trial after trial:
``T = trial_duration / bin_size`` frames from each onset, so frames are presentation-major
as in fclib's own recordings, and the frame coordinates ``presentation`` (trial index),
``step`` (0..T-1), ``image`` and ``label`` (the trial's stimulus, as an integer code into
the ``stimuli`` attribute) and ``stimulus`` (the label as given) let
:func:`fclib.io.recordings.presentation_stimuli` and
:func:`fclib.stats.stimulus.stimulus_null` (whole trials permuted among trials of the same
stimulus), :func:`fclib.stats.controls.tuning_curves` and the other per-presentation
statistics read them. The attribute ``T`` holds the frames per trial.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["bin_spikes", "from_neo", "from_pynapple", "from_nwb"]

_ROUND = 8  # bin positions are rounded to this many decimals: a spike exactly on an edge
            # (0.3 s with 0.1 s bins, 2.9999999999999996 bins in floating point) opens its bin


def _positive(x, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number of seconds, got {x!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {x!r}")
    return v


def _times(spike_times) -> list[np.ndarray]:
    """The spike times of every unit as 1-D float64 arrays; NaN or inf is an error."""
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        if spike_times.ndim == 1:
            raise ValueError("spike_times must hold one array of spike times per unit (a list of "
                             "arrays); got one 1-D array: wrap a single unit as [times]")
        if spike_times.ndim != 2:
            raise ValueError(f"spike_times must be a sequence of 1-D arrays, got shape "
                             f"{spike_times.shape}")
    if isinstance(spike_times, (str, bytes)) or not isinstance(spike_times, (Sequence, np.ndarray)):
        raise TypeError("spike_times must be a sequence (list, tuple) of 1-D arrays of spike "
                        f"times in seconds, one per unit; got {type(spike_times).__name__}")
    out = []
    for u, t in enumerate(spike_times):
        a = np.asarray(t, dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"spike times of unit {u} must be 1-D, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"spike times of unit {u} hold NaN or inf at positions "
                             f"{np.flatnonzero(~np.isfinite(a))[:5].tolist()}; drop them first")
        out.append(a)
    return out


def _bin_index(t: np.ndarray, t_start: float, bin_size: float) -> np.ndarray:
    return np.floor(np.round((t - t_start) / bin_size, _ROUND)).astype(np.int64)


def _stimulus_codes(trial_stimulus, n_trials: int):
    lab = np.asarray(trial_stimulus)
    if lab.shape != (n_trials,):
        raise ValueError(f"trial_stimulus must hold one label per trial ({n_trials}), got shape "
                         f"{lab.shape}")
    stimuli, codes = np.unique(lab, return_inverse=True)
    return stimuli, codes.astype(np.int32), lab


def bin_spikes(spike_times, bin_size: float, t_start: float | None = None,
               t_stop: float | None = None, unit_ids=None, trial_onsets=None,
               trial_stimulus=None, trial_duration: float | None = None,
               name: str | None = None) -> xr.DataArray:
    """Bin spike times (seconds) into 0/1 trains: a bool ``DataArray(("neuron", "frame"))``.

    Parameters
    ----------
    spike_times : sequence of 1-D arrays, one per unit, of spike times in seconds (ragged:
        any lengths, unsorted allowed). NaN or inf is a ``ValueError``.
    bin_size : bin width in seconds (> 0).
    t_start, t_stop : the window binned, ``[t_start, t_stop)``. Default ``t_start``: the
        earliest spike (0 if there is none); default ``t_stop``: just past the last spike, so
        it falls in the last bin. A ``t_stop`` not a whole number of bins after ``t_start``
        is rounded up to one. Spikes outside the window are dropped and counted in the
        ``n_outside`` attribute. Ignored with ``trial_onsets``.
    unit_ids : one id per unit (any values), stored as the ``unit_id`` coordinate; default
        ``0..n-1``. The ``neuron`` coordinate is always the position ``0..n-1`` (the ids
        fclib's pair and group tables use).
    trial_onsets : optional onset (seconds) of every trial (presentation); only the trials'
        bins are kept (see the module docstring). Trials must not overlap.
    trial_stimulus : optional stimulus label of every trial (needs ``trial_onsets``).
    trial_duration : seconds per trial, a whole number of bins; default the shortest gap
        between consecutive onsets.
    name : the population's name (the DataArray's name and ``layer`` attribute).

    Returns
    -------
    DataArray ``("neuron", "frame")`` of bool. Coordinates: ``neuron`` (positions),
    ``unit_id``, ``n_spikes`` (spikes in the window) and ``silent`` (no spike) on
    ``neuron``; ``time`` (bin start, seconds) on ``frame``, plus with trials ``presentation``,
    ``step``, and with stimuli ``image``, ``label`` (integer codes) and ``stimulus`` (the
    labels given). Attributes: ``bin_size``, ``t_start``, ``t_stop``, ``n_outside``,
    ``n_clipped`` (spikes that shared a bin with an earlier one), and with trials ``T`` and
    ``trial_duration``; with stimuli ``stimuli`` (JSON list: the label of each code).

    Raises
    ------
    ValueError for a bin size that is not positive, NaN/inf times, ``t_stop <= t_start``,
    a trial duration that is not a whole number of bins, overlapping trials, or stimulus
    labels without onsets or of the wrong length; TypeError for spike times that are not a
    sequence of arrays.
    """
    bin_size = _positive(bin_size, "bin_size")
    times = _times(spike_times)
    n = len(times)
    if unit_ids is None:
        ids = np.arange(n)
    else:
        ids = np.asarray(unit_ids)
        if ids.shape != (n,):
            raise ValueError(f"unit_ids must hold one id per unit ({n}), got shape {ids.shape}")
    attrs = {"bin_size": bin_size}
    frame_coords = {}
    if trial_onsets is None:
        if trial_stimulus is not None or trial_duration is not None:
            raise ValueError("trial_stimulus and trial_duration need trial_onsets (the onset of "
                             "every trial, in seconds)")
        every = np.concatenate(times) if n else np.zeros(0)
        t0 = (float(every.min()) if every.size else 0.0) if t_start is None else float(t_start)
        if t_stop is None:
            L = int(_bin_index(every.max(initial=t0), t0, bin_size)) + 1 if every.size else 0
        else:
            if not float(t_stop) > t0:
                raise ValueError(f"t_stop ({t_stop}) must be after t_start ({t0})")
            L = int(np.ceil(np.round((float(t_stop) - t0) / bin_size, _ROUND)))
        idx = [_bin_index(t, t0, bin_size) for t in times]
        frame_coords["time"] = ("frame", t0 + bin_size * np.arange(L))
        attrs.update(t_start=t0, t_stop=t0 + L * bin_size)
    else:
        onsets = np.asarray(trial_onsets, dtype=np.float64)
        if onsets.ndim != 1 or onsets.size == 0 or not np.all(np.isfinite(onsets)):
            raise ValueError("trial_onsets must be a non-empty 1-D array of finite onset times "
                             f"(seconds), got {onsets!r:.80}")
        if np.any(np.diff(onsets) < 0):
            raise ValueError("trial_onsets must be in increasing order (frames are kept trial "
                             "after trial)")
        if trial_duration is None:
            if onsets.size < 2:
                raise ValueError("give trial_duration for a single trial")
            trial_duration = float(np.diff(onsets).min())
        dur = _positive(trial_duration, "trial_duration")
        T = int(round(dur / bin_size))
        if T < 1 or abs(T * bin_size - dur) > 1e-6 * bin_size:
            raise ValueError(f"trial_duration ({dur} s) must be a whole number of bins of "
                             f"{bin_size} s")
        if onsets.size > 1 and np.diff(onsets).min() < dur - 1e-9 * dur:
            raise ValueError(f"trials overlap: onsets {np.diff(onsets).min():.6g} s apart but "
                             f"trial_duration is {dur} s")
        P = onsets.size
        L = P * T
        idx = []
        for t in times:
            p = np.searchsorted(onsets, t, side="right") - 1  # the last onset at or before t
            s = np.floor(np.round((t - onsets[np.maximum(p, 0)]) / bin_size, _ROUND)).astype(np.int64)
            inside = (p >= 0) & (s >= 0) & (s < T)
            idx.append(np.where(inside, np.maximum(p, 0) * T + s, -1))
        step = np.tile(np.arange(T), P)
        pres = np.repeat(np.arange(P), T)
        frame_coords.update(time=("frame", onsets[pres] + bin_size * step),
                            presentation=("frame", pres.astype(np.int32)),
                            step=("frame", step.astype(np.int32)))
        attrs.update(T=T, trial_duration=dur, t_start=float(onsets[0]),
                     t_stop=float(onsets[-1] + dur))
        if trial_stimulus is not None:
            stimuli, codes, lab = _stimulus_codes(trial_stimulus, P)
            frame_coords.update(image=("frame", np.repeat(codes, T)),
                                label=("frame", np.repeat(codes, T)),
                                stimulus=("frame", np.repeat(lab, T)))
            attrs["stimuli"] = json.dumps([s.item() if isinstance(s, np.generic) else s
                                           for s in stimuli])
    out = np.zeros((n, L), dtype=bool)
    n_spikes = np.zeros(n, dtype=np.int64)
    n_outside = n_clipped = 0
    for u, i in enumerate(idx):
        keep = i[(i >= 0) & (i < L)]
        n_outside += i.size - keep.size
        n_spikes[u] = keep.size
        uniq = np.unique(keep)
        n_clipped += keep.size - uniq.size
        out[u, uniq] = True
    attrs.update(n_outside=int(n_outside), n_clipped=int(n_clipped))
    if name is not None:
        attrs["layer"] = str(name)
    coords = {"neuron": np.arange(n), "unit_id": ("neuron", ids),
              "n_spikes": ("neuron", n_spikes), "silent": ("neuron", n_spikes == 0),
              **frame_coords}
    return xr.DataArray(out, dims=("neuron", "frame"), coords=coords, attrs=attrs, name=name)


def _require(module: str, func: str):
    """Import an optional extra, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{func} needs the optional package {module.split('.')[0]!r}: "
                          f"pip install {module.split('.')[0]}") from None


def _seconds(x, name: str) -> float:
    """A time or duration in seconds from a float or a ``quantities`` quantity."""
    if hasattr(x, "rescale"):
        return float(x.rescale("s").magnitude)
    return float(x)


def from_neo(spiketrains, bin_size, **kw) -> xr.DataArray:
    """:func:`bin_spikes` of a list of ``neo.SpikeTrain`` (e.g. ``segment.spiketrains``).

    ``bin_size`` is seconds or a ``quantities`` time (``5 * pq.ms``). ``t_start``/``t_stop``
    default to the trains' own (earliest start, latest stop); unit ids to each train's
    ``unit_id`` annotation, else its name, else its position. Other keywords go to
    :func:`bin_spikes`.
    """
    _require("neo", "from_neo")

    trains = list(spiketrains)
    times = [np.asarray(st.rescale("s").magnitude, dtype=np.float64) for st in trains]
    if trains and "trial_onsets" not in kw:
        kw.setdefault("t_start", min(_seconds(st.t_start, "t_start") for st in trains))
        kw.setdefault("t_stop", max(_seconds(st.t_stop, "t_stop") for st in trains))
    if "unit_ids" not in kw:
        kw["unit_ids"] = np.asarray([st.annotations.get("unit_id", st.name if st.name is not None
                                                        else i) for i, st in enumerate(trains)])
    return bin_spikes(times, _seconds(bin_size, "bin_size"), **kw)


def from_pynapple(tsgroup, bin_size: float, **kw) -> xr.DataArray:
    """:func:`bin_spikes` of a ``pynapple.TsGroup`` (times in seconds, pynapple's unit).

    Unit ids are the group's keys; ``t_start``/``t_stop`` default to the start of its first
    and the end of its last ``time_support`` epoch. Other keywords go to :func:`bin_spikes`.
    """
    _require("pynapple", "from_pynapple")

    keys = list(tsgroup.keys())
    times = [np.asarray(tsgroup[k].t, dtype=np.float64) for k in keys]
    if "trial_onsets" not in kw:
        ts = tsgroup.time_support
        if len(ts):
            kw.setdefault("t_start", float(ts.start[0]))
            kw.setdefault("t_stop", float(ts.end[-1]))
    kw.setdefault("unit_ids", np.asarray(keys))
    return bin_spikes(times, bin_size, **kw)


def from_nwb(path: str | os.PathLike, bin_size: float, *, stimulus_column: str | None = None,
             **kw) -> xr.DataArray:
    """:func:`bin_spikes` of the units table of an NWB file.

    Unit ids are the table's ids. With ``stimulus_column`` (a column of the file's trials
    table) the trials become presentations: their ``start_time`` the onsets, that column the
    stimulus labels and the shortest trial the ``trial_duration`` (unless given). Other
    keywords go to :func:`bin_spikes`.
    """
    NWBHDF5IO = _require("pynwb", "from_nwb").NWBHDF5IO

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no NWB file at {path}")
    with NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        if nwb.units is None:
            raise ValueError(f"{path} has no units table (spike-sorted units); nothing to bin")
        units = nwb.units
        times = [np.asarray(units.get_unit_spike_times(i), dtype=np.float64)
                 for i in range(len(units))]
        kw.setdefault("unit_ids", np.asarray(units.id[:]))
        if stimulus_column is not None:
            trials = nwb.trials
            if trials is None or stimulus_column not in trials.colnames:
                have = [] if trials is None else list(trials.colnames)
                raise ValueError(f"{path} has no trials column {stimulus_column!r}; trials "
                                 f"columns: {have}")
            start = np.asarray(trials["start_time"][:], dtype=np.float64)
            stop = np.asarray(trials["stop_time"][:], dtype=np.float64)
            kw.setdefault("trial_onsets", start)
            kw.setdefault("trial_duration", float((stop - start).min()))
            kw.setdefault("trial_stimulus", np.asarray(trials[stimulus_column][:]))
    return bin_spikes(times, bin_size, **kw)
