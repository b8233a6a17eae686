"""The example recording of the own-data pages: spike times a participant loads as their own.

``data/example_recording.npz`` (tracked in the repository, remade by
``data/make_example_recording.py``) holds a simulated population
(:func:`fclib.stats.simulate.simulate_recording`, seeded) in the form a spike sorter's output
takes once flattened, so that loading it is the step a participant repeats with their own
files:

========================  ====================================================================
``spike_times``           float64, seconds: every spike, unit after unit, sorted within a unit
``unit``                  int32, the unit of each spike (0 .. n_units - 1, non-decreasing)
``trial_onsets``          float64, seconds: the onset of every trial
``trial_stimulus``        int64, the stimulus shown in every trial
``trial_duration``        float64 scalar, seconds per trial
``preferred``             int64 per unit: its preferred stimulus, -1 untuned (the answer)
``planted``               int64 ``(n, 2)``: driver, target of every planted coupling (the answer)
========================  ====================================================================
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fclib.pipeline.stages import default_data_dir
from fclib.stats.simulate import simulate_recording
from fclib.store import atomic_write

__all__ = ["EXAMPLE_FILE", "EXAMPLE_PARAMS", "example_arrays", "make_example_recording",
           "example_recording"]

EXAMPLE_FILE = "example_recording.npz"
#: The simulation behind the example: 120 units, 8 stimuli x 24 trials of 0.25 s (48 s).
EXAMPLE_PARAMS = dict(n_units=120, n_stimuli=8, n_repeats=24, trial_duration=0.25, rate=5.0,
                      tuned_fraction=0.5, tuned_rate=40.0, n_targets=10, n_drivers=5,
                      coupling=0.3, jitter=0.002, rng=2026)


def example_arrays() -> dict[str, np.ndarray]:
    """The arrays of the example file (see the module docstring), computed."""
    sim = simulate_recording(**EXAMPLE_PARAMS)
    times = sim["spike_times"]
    return {"spike_times": np.concatenate(times).astype(np.float64),
            "unit": np.repeat(np.arange(len(times), dtype=np.int32), [len(t) for t in times]),
            "trial_onsets": np.asarray(sim["trial_onsets"], dtype=np.float64),
            "trial_stimulus": np.asarray(sim["trial_stimulus"], dtype=np.int64),
            "trial_duration": np.float64(sim["trial_duration"]),
            "preferred": np.asarray(sim["preferred"], dtype=np.int64),
            "planted": np.asarray(sim["planted"], dtype=np.int64)}


def make_example_recording(path: str | os.PathLike) -> Path:
    """Write the example recording to ``path`` (compressed ``.npz``, written beside and
    renamed into place); return ``path``."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"the example recording is an .npz file; got {path}")
    arrays = example_arrays()
    with atomic_write(path) as tmp, open(tmp, "wb") as f:  # an open file: np.savez adds no suffix
        np.savez_compressed(f, **arrays)
    return path


def example_recording(data_dir: str | os.PathLike | None = None) -> Path:
    """The example recording's path in ``data_dir`` (default: the book's ``data/``, see
    :func:`fclib.pipeline.stages.default_data_dir`), written there first where it is missing (a
    notebook opened outside a checkout, e.g. on Colab)."""
    path = Path(data_dir if data_dir is not None else default_data_dir()) / EXAMPLE_FILE
    if not path.exists():
        make_example_recording(path)
    return path
