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

Nothing is lost without a word: more than a small share of spikes outside the window or
sharing a bin, a trial duration inferred from an outlying gap, and a 2-D array of spike times
that looks transposed or zero-padded each give a :class:`SpikeBinningWarning` saying what to
pass instead; spike times and onsets in different units (ms against s) and a train array
past ``max_bytes`` are errors. A pandas Series of per-unit arrays or a long DataFrame
(columns ``unit``, ``time``) is taken as well.

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
import sys
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["bin_spikes", "from_neo", "from_pynapple", "from_nwb", "SpikeBinningWarning",
           "DROPPED_WARN", "CLIPPED_WARN", "MAX_BYTES"]

_ROUND = 8  # bin positions are rounded to this many decimals: a spike exactly on an edge
            # (0.3 s with 0.1 s bins, 2.9999999999999996 bins in floating point) opens its bin

#: Share of the spikes that may fall outside the window (or between trials) before
#: :func:`bin_spikes` warns.
DROPPED_WARN = 0.1
#: Share of the kept spikes that may share a bin with an earlier spike of their unit (and be
#: counted once) before :func:`bin_spikes` warns.
CLIPPED_WARN = 0.05
#: Default ``max_bytes`` of :func:`bin_spikes`: a larger train array is an error.
MAX_BYTES = 2 ** 31


class SpikeBinningWarning(UserWarning):
    """:func:`bin_spikes` lost spikes, or its input looks mis-shaped or in other units.

    The message says what was lost or suspected and what to pass instead; silence it for
    inputs you have checked with ``warnings.filterwarnings("ignore",
    category=fclib.io.SpikeBinningWarning)``.
    """


def _warn(msg: str) -> None:
    """Warn, attributed to the first caller outside :mod:`fclib.io` (the user's line)."""
    here, level, frame = os.path.dirname(__file__), 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame, level = frame.f_back, level + 1
    warnings.warn(msg, SpikeBinningWarning, stacklevel=level)


def _positive(x, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number of seconds, got {x!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {x!r}")
    return v


def _from_pandas(spike_times, unit_ids):
    """A pandas Series of per-unit arrays (its index the unit ids) or a long DataFrame with
    columns ``unit`` and ``time`` (one row per spike) as ``(list of arrays, unit ids)``."""
    if isinstance(spike_times, pd.Series):
        ids = spike_times.index.to_numpy() if unit_ids is None else unit_ids
        return list(spike_times.to_numpy()), ids
    missing = [c for c in ("unit", "time") if c not in spike_times.columns]
    if missing:
        raise ValueError("a DataFrame of spikes must be a long table with columns 'unit' and "
                         f"'time' (seconds), one row per spike; it lacks {missing} (columns: "
                         f"{list(spike_times.columns)[:10]}): rename them, e.g. "
                         "df.rename(columns={'cluster': 'unit', 'spike_time': 'time'})")
    units = spike_times["unit"].to_numpy()
    t = spike_times["time"].to_numpy(dtype=np.float64)
    if unit_ids is None:
        ids = pd.unique(units)
        try:
            ids = np.sort(ids)
        except TypeError:
            pass
    else:
        ids = np.asarray(unit_ids)
        unknown = np.setdiff1d(pd.unique(units).astype(ids.dtype, copy=False), ids)
        if unknown.size:
            raise ValueError(f"the table's units {unknown[:5].tolist()} are not in unit_ids; "
                             "pass every unit of the table (or leave unit_ids out)")
    codes = pd.Index(ids).get_indexer(units)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(ids) + 1))
    return [t[order[bounds[u]:bounds[u + 1]]] for u in range(len(ids))], ids


def _check_rectangle(a: np.ndarray) -> None:
    """Warn about a 2-D array of spike times that looks transposed or zero-padded."""
    n_rows, n_cols = a.shape
    if not a.size or not np.all(np.isfinite(a)):
        return  # NaN is refused per unit, with its position
    if n_rows > n_cols:
        sorted_cols = n_rows > 1 and bool(np.all(np.diff(a, axis=0) >= 0))
        sorted_rows = n_cols > 1 and bool(np.all(np.diff(a, axis=1) >= 0))
        hint = (" (its columns run forward in time, its rows do not)"
                if sorted_cols and not sorted_rows else "")
        _warn(f"spike_times is a 2-D array of shape {a.shape}: read as {n_rows} units of up "
              f"to {n_cols} spikes each{hint}. If rows are spikes and columns units, pass "
              "spike_times.T; a list of per-unit arrays is never ambiguous")
    zeros = (a == 0).sum(axis=1)
    trailing = np.zeros(n_rows, dtype=bool)
    if n_cols > 1:
        trailing = (a[:, -1] == 0) & (a.max(axis=1) > 0)
    padded = (zeros > 1) | trailing
    if padded.any():
        _warn(f"spike_times is a 2-D array and {int(padded.sum())} of its {n_rows} rows hold "
              f"t = 0 more than once or after later spikes (up to {int(zeros.max())} zeros "
              "in a row): zero padding? Every 0 is binned as a spike at t = 0 s. Pass one "
              "array per unit without the padding, e.g. [row[row > 0] for row in spike_times]")


def _times(spike_times) -> list[np.ndarray]:
    """The spike times of every unit as 1-D float64 arrays; NaN or inf is an error."""
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        if spike_times.ndim == 1:
            raise ValueError("spike_times must hold one array of spike times per unit (a list of "
                             "arrays); got one 1-D array: wrap a single unit as [times]")
        if spike_times.ndim != 2:
            raise ValueError(f"spike_times must be a sequence of 1-D arrays, got shape "
                             f"{spike_times.shape}")
        if np.issubdtype(spike_times.dtype, np.number):
            _check_rectangle(np.asarray(spike_times, dtype=np.float64))
    if isinstance(spike_times, (str, bytes)) or not isinstance(spike_times, (Sequence, np.ndarray)):
        raise TypeError("spike_times must be a sequence (list, tuple) of 1-D arrays of spike "
                        "times in seconds, one per unit, a pandas Series of such arrays or a "
                        "DataFrame with columns 'unit' and 'time'; got "
                        f"{type(spike_times).__name__}")
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


def _span(every: np.ndarray) -> str:
    return f"{every.min():,.6g} to {every.max():,.6g}"


def _check_units_against_trials(every: np.ndarray, onsets: np.ndarray, dur: float) -> None:
    """Refuse spike times and trial onsets that look like milliseconds against seconds."""
    if every.size == 0:
        return
    t_end = float(onsets[-1] + dur)
    p = np.searchsorted(onsets, every, side="right") - 1
    inside = np.mean((p >= 0) & (every - onsets[np.maximum(p, 0)] < dur))
    if inside >= 0.5:
        return
    s_hi, o_hi = float(np.abs(every).max()), max(abs(t_end), abs(float(onsets[0])))
    if o_hi > 0 and s_hi / o_hi > 100:
        raise ValueError(
            f"spike times run {_span(every)} but the trials run {onsets[0]:,.6g} to "
            f"{t_end:,.6g} s ({s_hi / o_hi:,.0f}x shorter), so {100 * (1 - inside):.1f} % of "
            "the spikes would be dropped: the spike times look like milliseconds and the "
            "onsets like seconds. bin_spikes takes seconds throughout: pass "
            "[t / 1000 for t in spike_times]")
    if s_hi > 0 and o_hi / s_hi > 100:
        raise ValueError(
            f"trial onsets run {onsets[0]:,.6g} to {onsets[-1]:,.6g} but the spike times only "
            f"{_span(every)} ({o_hi / s_hi:,.0f}x shorter), so {100 * (1 - inside):.1f} % of "
            "the spikes would be dropped: the onsets look like milliseconds and the spike "
            "times like seconds. bin_spikes takes seconds throughout: pass "
            "trial_onsets / 1000 (and trial_duration in seconds)")


def _inferred_duration(onsets: np.ndarray) -> float:
    """The shortest gap between onsets, with a warning naming the onset when it is an
    outlier (much shorter than the median gap)."""
    gaps = np.diff(onsets)
    k = int(np.argmin(gaps))
    g, med = float(gaps[k]), float(np.median(gaps))
    if g < 0.9 * med:
        late = k > 0 and gaps[k - 1] > 1.1 * med
        early = k + 1 < gaps.size and gaps[k + 1] > 1.1 * med
        who = (f"onset {k + 1} ({onsets[k + 1]:.6g} s) looks early" if early and not late else
               f"onset {k} ({onsets[k]:.6g} s) looks late" if late and not early else
               f"onset {k} or {k + 1} looks misplaced")
        _warn(f"trial_duration was inferred as {g:.6g} s, the gap between onsets {k} and "
              f"{k + 1} ({onsets[k]:.6g} s and {onsets[k + 1]:.6g} s), but the median gap is "
              f"{med:.6g} s: {who}. Every trial is cut to {g:.6g} s; pass "
              "trial_duration= (the trials' length in seconds)")
    return g


def _check_size(n: int, L: int, bin_size: float, t0: float, every: np.ndarray,
                max_bytes) -> None:
    """Refuse a train array over ``max_bytes``; warn where the times look like ms."""
    span = L * bin_size
    if max_bytes is not None and n * L > max_bytes:
        raise ValueError(
            f"bin_spikes would make {n:,} units x {L:,} frames of {bin_size:g} s "
            f"({n * L / 1e9:.1f} GB; the spikes span {span:,.6g} s = {span / 3600:.1f} h from "
            f"{t0:,.6g}). Spike times in milliseconds? bin_spikes takes seconds: pass "
            "[t / 1000 for t in spike_times]. Otherwise bin a window (t_start=, t_stop=), "
            "use larger bins, or pass max_bytes=None to allow it")
    active = np.asarray(every)
    if n and active.size and span > 3600:
        rate = active.size / n / span
        if rate < 0.05:
            _warn(f"the spikes span {span:,.6g} s ({span / 3600:.1f} h) and units fire "
                  f"{rate:.3g} spikes/s on average: are the spike times in milliseconds? "
                  "bin_spikes takes seconds: pass [t / 1000 for t in spike_times]")


def _check_losses(n_total: int, n_kept: int, outside: dict, n_clipped: int,
                  kept_times: list, bin_size: float) -> None:
    n_drop = n_total - n_kept
    if n_total and n_drop > DROPPED_WARN * n_total:
        where = ", ".join(f"{v:,} {k}" for k, v in outside.items() if v)
        _warn(f"{n_drop:,} of {n_total:,} spikes ({100 * n_drop / n_total:.1f} %) fall outside "
              f"the binned window and are dropped ({where}); check t_start/t_stop or the trial "
              "onsets and duration, or filter these warnings if that was meant")
    if n_kept and n_clipped > CLIPPED_WARN * n_kept:
        # a spike shares a bin only with one less than a bin after it, so bins shorter than
        # all but a share q of the inter-spike intervals clip at most that share
        isi = np.concatenate([np.diff(np.sort(t)) for t in kept_times] or [np.zeros(0)])
        isi = isi[isi > 0]
        keep = (f"; bins of {np.quantile(isi, CLIPPED_WARN / 5):.3g} s or less would count "
                f"all but {100 * CLIPPED_WARN / 5:g} % (a quantile of the inter-spike "
                f"intervals), {isi.min():.3g} s every spike" if isi.size else "")
        _warn(f"{n_clipped:,} of {n_kept:,} spikes ({100 * n_clipped / n_kept:.1f} %) share a "
              f"{bin_size:g} s bin with an earlier spike of their unit and are counted once "
              f"(trains are 0/1){keep}")


def bin_spikes(spike_times, bin_size: float, t_start: float | None = None,
               t_stop: float | None = None, unit_ids=None, trial_onsets=None,
               trial_stimulus=None, trial_duration: float | None = None,
               name: str | None = None, *, max_bytes: int | None = MAX_BYTES) -> xr.DataArray:
    """Bin spike times (seconds) into 0/1 trains: a bool ``DataArray(("neuron", "frame"))``.

    Parameters
    ----------
    spike_times : the spike times in seconds of every unit: a sequence of 1-D arrays, one
        per unit (ragged: any lengths, unsorted allowed); a pandas Series of such arrays
        (its index gives the unit ids); or a long pandas DataFrame with columns ``unit`` and
        ``time``, one row per spike (units in sorted order, or in the order of
        ``unit_ids``). NaN or inf is a ``ValueError``.
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
    max_bytes : the largest train array (neurons x frames, one byte each) made; more is an
        error (spike times in ms, or a window too long). ``None``: no bound.

    Returns
    -------
    DataArray ``("neuron", "frame")`` of bool. Coordinates: ``neuron`` (positions),
    ``unit_id``, ``n_spikes`` (spikes in the window) and ``silent`` (no spike) on
    ``neuron``; ``time`` (bin start, seconds) on ``frame``, plus with trials ``presentation``,
    ``step``, and with stimuli ``image``, ``label`` (integer codes) and ``stimulus`` (the
    labels given). Attributes: ``bin_size``, ``t_start``, ``t_stop``, ``n_outside``,
    ``n_clipped`` (spikes that shared a bin with an earlier one), and with trials ``T`` and
    ``trial_duration``; with stimuli ``stimuli`` (JSON list: the label of each code).

    Warns
    -----
    SpikeBinningWarning where data is lost or the input looks wrong: more than
    :data:`DROPPED_WARN` of the spikes outside the window or between trials (counted by
    where they fall); more than :data:`CLIPPED_WARN` of the kept spikes sharing a bin (with
    the bin size that would keep them apart); an inferred ``trial_duration`` that comes from
    an outlying gap between onsets (naming the onset); a 2-D array of spike times with more
    rows than columns (transposed?) or repeated zeros (zero padding?); spikes spanning
    hours at rates below 0.05/s (milliseconds?).

    Raises
    ------
    ValueError for a bin size that is not positive, NaN/inf times, ``t_stop <= t_start``,
    a trial duration that is not a whole number of bins, overlapping trials, stimulus
    labels without onsets or of the wrong length, spike times and onsets 100x or more apart
    with most spikes outside the trials (milliseconds against seconds), or a train array
    over ``max_bytes``; TypeError for spike times that are not a sequence of arrays.
    """
    bin_size = _positive(bin_size, "bin_size")
    if isinstance(spike_times, (pd.Series, pd.DataFrame)):
        spike_times, unit_ids = _from_pandas(spike_times, unit_ids)
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
    every = np.concatenate(times) if n else np.zeros(0)
    if trial_onsets is None:
        if trial_stimulus is not None or trial_duration is not None:
            raise ValueError("trial_stimulus and trial_duration need trial_onsets (the onset of "
                             "every trial, in seconds)")
        t0 = (float(every.min()) if every.size else 0.0) if t_start is None else float(t_start)
        if t_stop is None:
            L = int(_bin_index(every.max(initial=t0), t0, bin_size)) + 1 if every.size else 0
        else:
            if not float(t_stop) > t0:
                raise ValueError(f"t_stop ({t_stop}) must be after t_start ({t0})")
            L = int(np.ceil(np.round((float(t_stop) - t0) / bin_size, _ROUND)))
        _check_size(n, L, bin_size, t0, every, max_bytes)
        idx = [_bin_index(t, t0, bin_size) for t in times]
        frame_coords["time"] = ("frame", t0 + bin_size * np.arange(L))
        attrs.update(t_start=t0, t_stop=t0 + L * bin_size)
        outside = {"before t_start": int(np.sum(every < t0)),
                   "at or after t_stop": int(np.sum(_bin_index(every, t0, bin_size) >= L))}
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
            trial_duration = _inferred_duration(onsets)
        dur = _positive(trial_duration, "trial_duration")
        T = int(round(dur / bin_size))
        if T < 1 or abs(T * bin_size - dur) > 1e-6 * bin_size:
            raise ValueError(f"trial_duration ({dur} s) must be a whole number of bins of "
                             f"{bin_size} s")
        if onsets.size > 1 and np.diff(onsets).min() < dur - 1e-9 * dur:
            raise ValueError(f"trials overlap: onsets {np.diff(onsets).min():.6g} s apart but "
                             f"trial_duration is {dur} s")
        _check_units_against_trials(every, onsets, dur)
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
        before = int(np.sum(every < onsets[0]))
        after = int(np.sum(every >= onsets[-1] + dur))
        outside = {"before the first trial": before, "after the last trial": after,
                   "between trials": -1}
    out = np.zeros((n, L), dtype=bool)
    n_spikes = np.zeros(n, dtype=np.int64)
    n_outside = n_clipped = 0
    kept_times = []  # the kept spikes of every unit, for the bin size that keeps them apart
    for u, i in enumerate(idx):
        inside = (i >= 0) & (i < L)
        keep = i[inside]
        n_outside += i.size - keep.size
        n_spikes[u] = keep.size
        uniq = np.unique(keep)
        n_clipped += keep.size - uniq.size
        kept_times.append(times[u][inside])
        out[u, uniq] = True
    if outside.get("between trials") == -1:
        outside["between trials"] = n_outside - sum(v for v in outside.values() if v > 0)
    _check_losses(every.size, every.size - n_outside, outside, n_clipped, kept_times, bin_size)
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

    ``t_start``/``t_stop`` default to the trains' own (earliest start, latest stop); unit ids
    to each train's ``unit_id`` annotation, else its name, else its position.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        The units' trains.
    bin_size : float or quantities.Quantity
        Seconds, or a ``quantities`` time (``5 * pq.ms``).
    **kw
        Other keywords of :func:`bin_spikes`.

    Returns
    -------
    xarray.DataArray
        bool ``(neuron, frame)``, as :func:`bin_spikes` returns.

    Raises
    ------
    TypeError
        ``spiketrains`` are not neo SpikeTrains."""
    if not all(hasattr(st, "rescale") and hasattr(st, "t_start") for st in spiketrains):
        raise TypeError("spiketrains must be neo.SpikeTrain objects (e.g. segment.spiketrains); "
                        "for plain spike times use fclib.io.bin_spikes")
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
    and the end of its last ``time_support`` epoch.

    Parameters
    ----------
    tsgroup : pynapple.TsGroup
        The units' spike times.
    bin_size : float
        Seconds.
    **kw
        Other keywords of :func:`bin_spikes`.

    Returns
    -------
    xarray.DataArray
        bool ``(neuron, frame)``, as :func:`bin_spikes` returns.

    Raises
    ------
    TypeError
        ``tsgroup`` is not a pynapple TsGroup."""
    if not (hasattr(tsgroup, "keys") and hasattr(tsgroup, "time_support")):
        raise TypeError(f"tsgroup must be a pynapple.TsGroup, got {type(tsgroup).__name__}; for "
                        "plain spike times use fclib.io.bin_spikes")
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
    stimulus labels and the shortest trial the ``trial_duration`` (unless given).

    Parameters
    ----------
    path : str or PathLike
        The NWB file.
    bin_size : float
        Seconds.
    stimulus_column : str, optional
        A column of the trials table naming each trial's stimulus.
    **kw
        Other keywords of :func:`bin_spikes`.

    Returns
    -------
    xarray.DataArray
        bool ``(neuron, frame)``, as :func:`bin_spikes` returns.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        No units table, or no trials column ``stimulus_column``."""
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
