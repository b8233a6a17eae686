"""A simulated recording with known answers: Poisson units, planted couplings, shared tuning.

What a neuroscientist would check before trusting an analysis on their own data: does it
find couplings that are there, and does it leave alone pairs that are only tuned alike?
:func:`simulate_recording` makes spike times (seconds) of ``n_units`` units over trials
of ``n_stimuli`` stimuli, each shown ``n_repeats`` times in random order, back to back:

* every unit fires as a homogeneous Poisson process at ``rate`` (Hz); a ``tuned_fraction``
  of the units has a preferred stimulus (uniform over stimuli) during whose trials it fires
  at ``tuned_rate`` instead. Two units tuned to the same stimulus are correlated through
  the stimulus only: conditionally on the stimulus sequence they are independent.
* ``n_targets`` target units each get ``n_drivers`` distinct driver units (drawn from the
  other units, tuned or not): every spike of a driver is copied into the target with
  probability ``coupling``, ``jitter`` seconds later at most (uniform). These
  (driver -> target) pairs are the planted couplings, and a target's drivers are its true
  1FC group: its firing probability rises with the number of drivers firing.

:func:`pair_truth` labels every pair, and :func:`planted_recovery` counts, for a pairs
Dataset of any null, how many planted pairs are significant and how many pairs that share
only tuning are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib._util import as_generator
from fclib.stats._checks import check_mapping

__all__ = ["simulate_recording", "pair_truth", "planted_recovery", "group_recovery", "PAIR_CLASSES"]

PAIR_CLASSES = ("planted", "shared tuning", "other")


def _count(x, name: str, low: int = 1) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)) or x < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    return int(x)


def simulate_recording(n_units: int = 300, n_stimuli: int = 8, n_repeats: int = 40,
                       trial_duration: float = 0.25, rate: float = 5.0,
                       tuned_fraction: float = 0.5, tuned_rate: float = 40.0,
                       n_targets: int = 20, n_drivers: int = 5, coupling: float = 0.3,
                       jitter: float = 0.002, rng=None) -> dict:
    """Spike times of a simulated population with planted couplings and stimulus tuning
    (the model is in the module docstring).

    Parameters
    ----------
    n_units : int
        Units in the population.
    n_stimuli, n_repeats : int
        Stimuli, and trials of each (in a random order).
    trial_duration : float
        Seconds per trial.
    rate : float
        Baseline rate, spikes per second.
    tuned_fraction : float
        Share of units tuned to one stimulus, in [0, 1].
    tuned_rate : float
        A tuned unit's rate during its preferred stimulus, spikes per second.
    n_targets, n_drivers : int
        Units driven, and drivers of each (``n_drivers < n_targets <= n_units``).
    coupling : float
        Probability that a driver's spike makes its target spike, in [0, 1].
    jitter : float
        Largest delay of a driven spike, seconds, in [0, trial_duration).
    rng : numpy.random.Generator or int, optional
        Every draw (:func:`fclib._util.as_generator`).

    Returns
    -------
    dict
        ``spike_times`` (list of ``n_units`` sorted float64 arrays, seconds),
        ``trial_onsets`` (seconds), ``trial_stimulus`` (stimulus index of every trial),
        ``trial_duration``, ``preferred`` (``(n_units,)`` preferred stimulus, -1 untuned)
        and ``planted`` (``(n_targets * n_drivers, 2)`` int: driver, target).

    Raises
    ------
    ValueError
        A count below its minimum, a rate that is not positive, ``tuned_fraction`` or
        ``coupling`` outside [0, 1], ``jitter`` outside [0, trial_duration), or
        ``n_drivers``/``n_targets`` that do not fit ``n_units``.
    """
    n_units, n_stimuli = _count(n_units, "n_units", 2), _count(n_stimuli, "n_stimuli")
    n_repeats = _count(n_repeats, "n_repeats")
    n_targets, n_drivers = _count(n_targets, "n_targets", 0), _count(n_drivers, "n_drivers", 0)
    if n_drivers >= n_units or n_targets > n_units:
        raise ValueError(f"n_drivers ({n_drivers}) must be below and n_targets ({n_targets}) at "
                         f"most n_units ({n_units})")
    for v, name in ((trial_duration, "trial_duration"), (rate, "rate"), (tuned_rate, "tuned_rate")):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be positive, got {v!r}")
    for v, name in ((tuned_fraction, "tuned_fraction"), (coupling, "coupling")):
        if not 0 <= v <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    if not 0 <= jitter < trial_duration:
        raise ValueError(f"jitter must be in [0, trial_duration), got {jitter!r}")
    gen = as_generator(rng)
    stim = gen.permutation(np.repeat(np.arange(n_stimuli), n_repeats))
    P = stim.size
    onsets = np.arange(P) * float(trial_duration)
    preferred = np.full(n_units, -1, dtype=np.int64)
    tuned = gen.choice(n_units, int(round(tuned_fraction * n_units)), replace=False)
    preferred[tuned] = gen.integers(0, n_stimuli, tuned.size)
    times = []
    for u in range(n_units):
        r = np.where(stim == preferred[u], tuned_rate, rate)
        k = gen.poisson(r * trial_duration)
        t = np.repeat(onsets, k) + gen.random(k.sum()) * trial_duration
        times.append(t)
    targets = gen.choice(n_units, n_targets, replace=False)
    planted = []
    for t in targets:
        drivers = gen.choice(np.setdiff1d(np.arange(n_units), [t]), n_drivers, replace=False)
        for d in drivers:
            src = times[d]
            keep = gen.random(src.size) < coupling
            copy = src[keep] + gen.random(int(keep.sum())) * jitter
            times[t] = np.concatenate([times[t], copy])
            planted.append((int(d), int(t)))
    end = P * float(trial_duration)
    times = [np.sort(t[t < end]) for t in times]
    return {"spike_times": times, "trial_onsets": onsets, "trial_stimulus": stim,
            "trial_duration": float(trial_duration), "preferred": preferred,
            "planted": np.asarray(planted, dtype=np.int64).reshape(-1, 2)}


def pair_truth(preferred, planted, n_units: int | None = None) -> xr.DataArray:
    """What every (target, source) pair of a simulated population is, by construction:
    ``"planted"`` (either unit drives the other), ``"shared tuning"`` (both tuned to the
    same stimulus, no planted link), ``"other"``; the diagonal is ``""``.

    Parameters
    ----------
    preferred : array_like
        ``(n_units,)`` preferred stimulus, -1 untuned (:func:`simulate_recording`).
    planted : array_like
        ``(n_pairs, 2)`` int: driver, target.
    n_units : int, optional
        Units (default ``len(preferred)``).

    Returns
    -------
    xarray.DataArray
        ``("target", "source")`` of str with coordinates ``target`` and ``source`` (unit
        positions).

    Raises
    ------
    ValueError
        ``planted`` is not ``(n, 2)``."""
    if np.ndim(planted) != 2 or np.shape(planted)[1] != 2:
        raise ValueError(f"planted must be (n, 2) (driver, target) pairs, got shape {np.shape(planted)}")
    pref = np.asarray(preferred)
    n = pref.size if n_units is None else int(n_units)
    planted = np.asarray(planted, dtype=np.int64).reshape(-1, 2)
    out = np.full((n, n), "other", dtype=object)
    same = (pref[:, None] == pref[None, :]) & (pref[:, None] >= 0)
    out[same] = "shared tuning"
    out[planted[:, 1], planted[:, 0]] = "planted"
    out[planted[:, 0], planted[:, 1]] = "planted"
    np.fill_diagonal(out, "")
    return xr.DataArray(out.astype(str), dims=("target", "source"),
                        coords={"target": np.arange(n), "source": np.arange(n)}, name="truth")


def planted_recovery(pairs: dict, truth: xr.DataArray, threshold: float = 4.0) -> pd.DataFrame:
    """Significant pairs of each class of :func:`pair_truth` under each null.

    Parameters
    ----------
    pairs : ``{null name: Dataset}`` of pairwise results over one population against itself
        (``sttc``, ``z``; ``target_neuron``/``source_neuron`` coordinates where silent units
        were dropped), e.g. from :func:`fclib.stats.connectivity.pair_significance`.
    truth : from :func:`pair_truth`.
    threshold : a pair is significant where ``z > threshold`` and ``sttc > 0`` (as a 1FC
        edge, :func:`fclib.stats.groups.one_fc_groups`).

    Returns
    -------
    DataFrame indexed by null: for each class, ``<class>`` (significant unordered pairs:
    either orientation significant), ``<class> total`` (pairs of that class), and
    ``<class> fraction``.
    """
    check_mapping(pairs, "pairs", "{null name: pairs Dataset}")
    n = truth.sizes["target"]
    rows = {}
    for name, ds in pairs.items():
        sig = np.zeros((n, n), dtype=bool)
        ti = ds["target_neuron"].values if "target_neuron" in ds.coords else np.arange(ds.sizes["target"])
        si = ds["source_neuron"].values if "source_neuron" in ds.coords else np.arange(ds.sizes["source"])
        z = ds["z"].transpose("target", "source").values
        s = ds["sttc"].transpose("target", "source").values
        sig[np.ix_(ti, si)] = (z > threshold) & (s > 0)
        either = sig | sig.T
        upper = np.triu(np.ones((n, n), dtype=bool), 1)
        row = {}
        for c in PAIR_CLASSES:
            m = upper & (truth.values == c)
            row[c] = int((either & m).sum())
            row[f"{c} total"] = int(m.sum())
            row[f"{c} fraction"] = row[c] / row[f"{c} total"] if row[f"{c} total"] else np.nan
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def group_recovery(groups: xr.Dataset, planted) -> pd.DataFrame:
    """How well each planted target's 1FC group (:func:`fclib.stats.groups.one_fc_groups`)
    matches its drivers.

    Parameters
    ----------
    groups : xarray.Dataset
        The population's 1FC groups (against itself).
    planted : array_like
        ``(n_pairs, 2)`` int: driver, target.

    Returns
    -------
    pandas.DataFrame
        One row per planted target: ``target``, ``drivers`` (planted), ``found`` (drivers in
        the group), ``extra`` (members that are not drivers) and ``degree``. A target left
        out of ``groups`` (silent) gets ``found = extra = degree = 0``.

    Raises
    ------
    ValueError
        ``planted`` is not ``(n, 2)``."""
    if np.ndim(planted) != 2 or np.shape(planted)[1] != 2:
        raise ValueError(f"planted must be (n, 2) (driver, target) pairs, got shape {np.shape(planted)}")
    planted = np.asarray(planted, dtype=np.int64).reshape(-1, 2)
    t = groups["target"].values
    s = groups["source"].values
    rows = []
    for target in np.unique(planted[:, 1]):
        drivers = set(planted[planted[:, 1] == target, 0].tolist())
        members = set(s[t == target].tolist())
        rows.append(dict(target=int(target), drivers=len(drivers),
                         found=len(drivers & members), extra=len(members - drivers),
                         degree=len(members)))
    return pd.DataFrame(rows, columns=["target", "drivers", "found", "extra", "degree"])
