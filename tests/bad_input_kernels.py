"""Bad input to the STTC, null, stimulus-null and MI functions: the rows of the bad-input
table (``tests/test_bad_input.py`` runs them with the other modules' rows). ``CASES`` is a
module-level list of ``(id, call, exception, message regex)``."""

import numpy as np
import xarray as xr

import fclib
from fclib.stats import information as fi
from fclib.stats import nulls, stimulus as st
from fclib.stats.sttc import cofiring_counts

L, T = 40, 4
X = (np.random.default_rng(0).random((3, L)) < 0.3).astype(np.uint8)
NAN = np.where(X, np.nan, 0.0)
STIM = np.repeat([0, 1], L // T // 2)
COUNTS = np.ones((2, 4), dtype=int)


def _spikes(x=X):
    return xr.DataArray(x, dims=("neuron", "frame"),
                        coords={"label": ("frame", np.repeat(STIM, T))})


NEED_01 = r"must be 0/1 spike trains; found values"
SAME_FRAMES = r"source has 40 frames but target has 20; they must be the same frames"
RNG = r"rng must be a numpy"

CASES = [
    # fclib.sttc
    ("sttc-dt-negative", lambda: fclib.sttc(X, X, dt=-1), ValueError, r"dt must be an int >= 0"),
    ("sttc-dt-float", lambda: fclib.sttc(X, X, dt=1.5), ValueError, r"dt must be an int .*got 1\.5"),
    ("sttc-dt-bool", lambda: fclib.sttc(X, X, dt=True), ValueError, r"dt must be an int"),
    ("sttc-dt-too-long", lambda: fclib.sttc(X, X, dt=L), ValueError,
     r"dt = 40 frames must be smaller than n_frames = 40"),
    ("sttc-nan", lambda: fclib.sttc(NAN, X), ValueError, NEED_01 + r" \[nan\] \(NaN"),
    ("sttc-values", lambda: fclib.sttc(X * 2, X), ValueError, NEED_01 + r" \[2\]"),
    ("sttc-frames", lambda: fclib.sttc(X, X[:, :20]), ValueError, SAME_FRAMES),
    ("sttc-1d", lambda: fclib.sttc(X[0], X), ValueError, r"must be 2-D \(neurons x frames\)"),
    ("sttc-dims", lambda: fclib.sttc(xr.DataArray(X, dims=("cell", "time")), X), ValueError,
     r"must have dims \('neuron', 'frame'\)"),
    ("sttc-target-dims", lambda: fclib.sttc(X, xr.DataArray(X, dims=("cell", "time"))),
     ValueError, r"target must have dims \('neuron', 'frame'\)"),
    ("zscore-dims", lambda: fclib.sttc_zscore(xr.DataArray(X, dims=("neuron", "time")), X),
     ValueError, r"source must have dims \('neuron', 'frame'\)"),
    ("sttc-empty-source", lambda: fclib.sttc(X[:0], X), ValueError,
     r"source has no neurons \(shape \(0, 40\)\)"),
    ("sttc-empty-target", lambda: fclib.sttc(X, X[:0]), ValueError, r"target has no neurons"),
    ("sttc-backend", lambda: fclib.sttc(X, X, backend="gpu"), ValueError,
     r"backend must be 'auto', 'numba' or 'torch'"),
    # fclib.sttc_zscore, every method
    ("zscore-n_shifts-float", lambda: fclib.sttc_zscore(X, X, method="shifts", n_shifts=2.5),
     ValueError, r"n_shifts must be an int .*got 2\.5"),
    ("zscore-n_shifts-1", lambda: fclib.sttc_zscore(X, X, method="shifts", n_shifts=1),
     ValueError, r"n_shifts must be an int >= 2"),
    ("zscore-rng-type", lambda: fclib.sttc_zscore(X, X, method="shifts", rng="abc", min_shift=5),
     TypeError, RNG),
    ("zscore-exact-rng", lambda: fclib.sttc_zscore(X, X, method="exact", rng=0), ValueError,
     r"the exact null draws no random numbers"),
    ("zscore-stimulus-rng", lambda: fclib.sttc_zscore(X, X, method="stimulus", stimulus=STIM,
                                                      T=T, rng=0), ValueError,
     r"exact stimulus null draws no random numbers"),
    ("zscore-dt-negative", lambda: fclib.sttc_zscore(X, X, method="shifts", dt=-1), ValueError,
     r"dt must be an int >= 0"),
    ("zscore-dt-too-long", lambda: fclib.sttc_zscore(X, X, method="shifts", dt=L), ValueError,
     r"smaller than n_frames = 40"),
    ("zscore-exact-dt", lambda: fclib.sttc_zscore(X, X, method="exact", dt=1), ValueError,
     r"derived for dt = 0"),
    ("zscore-empty", lambda: fclib.sttc_zscore(X[:0], X), ValueError, r"source has no neurons"),
    ("zscore-frames", lambda: fclib.sttc_zscore(X, X[:, :20]), ValueError, SAME_FRAMES),
    ("zscore-nan", lambda: fclib.sttc_zscore(NAN, X), ValueError, NEED_01),
    ("zscore-stimulus-T0", lambda: fclib.sttc_zscore(X, X, method="stimulus", stimulus=STIM,
                                                     T=0), ValueError,
     r"T \(frames per presentation\) must be an int >= 1"),
    # the Dataset-level nulls
    ("exact_null-frames", lambda: nulls.exact_null(X, X[:, :20]), ValueError, SAME_FRAMES),
    ("exact_null-values", lambda: nulls.exact_null(X, X * 3), ValueError, NEED_01 + r" \[3\]"),
    ("shift_null-frames", lambda: nulls.shift_null(X, X[:, :20]), ValueError, SAME_FRAMES),
    ("shift_null-n_shifts", lambda: nulls.shift_null(X, X, n_shifts="150"), ValueError,
     r"n_shifts must be an int"),
    ("shift_null-rng", lambda: nulls.shift_null(X, X, rng=1.5, min_shift=5), TypeError, RNG),
    ("shift_null-min_shift", lambda: nulls.shift_null(X, X, min_shift=30), ValueError,
     r"min_shift must be in \[1, L/2 = 20\]"),
    ("surrogate-rng", lambda: nulls.surrogate_uncoupled(X, rng="abc"), TypeError, RNG),
    ("false_positive_rate-frames", lambda: nulls.false_positive_rate(X, X[:, :20]), ValueError,
     SAME_FRAMES),
    ("uncoupled_null_z-frames", lambda: nulls.uncoupled_null_z(X, X[:, :20]), ValueError,
     SAME_FRAMES),
    # the stimulus null
    ("stimulus_null-T0", lambda: st.stimulus_null(X, X, STIM, 0), ValueError,
     r"T \(frames per presentation\) must be an int >= 1, got 0"),
    ("stimulus_null-T-float", lambda: st.stimulus_null(X, X, STIM, 2.5), ValueError,
     r"must be an int >= 1, got 2\.5"),
    ("stimulus_null-T-not-dividing", lambda: st.stimulus_null(X, X, STIM, 3), ValueError,
     r"40 frames is not a whole number of presentations of T=3"),
    ("stimulus_null-labels", lambda: st.stimulus_null(X, X, STIM[:5], T), ValueError,
     r"one label per presentation: n_frames // T = 40 // 4 = 10 labels"),
    ("stimulus_null-frames", lambda: st.stimulus_null(X, X[:, :20], STIM, T), ValueError,
     SAME_FRAMES),
    ("stimulus_null-nan", lambda: st.stimulus_null(NAN, X, STIM, T), ValueError, NEED_01),
    ("stimulus_permutation-n_shuffles", lambda: st.stimulus_permutation_null(X, X, STIM, T,
                                                                         n_shuffles=2.5),
     ValueError, r"n_shuffles must be an int >= 2"),
    ("stimulus_permutation-rng", lambda: st.stimulus_permutation_null(X, X, STIM, T, rng="abc"),
     TypeError, r"rng must be a numpy.random.Generator"),
    ("surrogate_within_stimulus-T", lambda: st.surrogate_within_stimulus(X, STIM, 3), ValueError,
     r"not a whole number of presentations of T=3"),
    # co-firing counts
    ("cofiring_counts-frames", lambda: cofiring_counts(X, X[:, :20]), ValueError,
     r"source has 20 frames but target has 40"),
    ("cofiring_counts-1d", lambda: cofiring_counts(X[0], X), ValueError, r"must be 2-D"),
    # information
    ("joint_histogram-labels", lambda: fi.joint_histogram(COUNTS, [0, 1, 2, 3], 3), ValueError,
     r"labels must be class indices 0\.\.2 \(n_classes=3\); found \[3\]"),
    ("joint_histogram-n_classes", lambda: fi.joint_histogram(COUNTS, [0, 0, 0, 0], 0),
     ValueError, r"n_classes must be an int >= 1"),
    ("mutual_information-labels", lambda: fi.mutual_information(COUNTS, [0, 1, 2, 3], 3),
     ValueError, r"labels must be class indices 0\.\.2"),
    ("mutual_information-negative", lambda: fi.mutual_information(-COUNTS, [0, 1, 2, 3]),
     ValueError, r"counts must be non-negative"),
    ("mutual_information-nan", lambda: fi.mutual_information(np.full((2, 4), np.nan),
                                                             [0, 1, 2, 3]),
     ValueError, r"whole spike counts; found NaN"),
    ("mutual_information-label-float", lambda: fi.mutual_information(COUNTS, [0, 1.5, 2, 3]),
     ValueError, r"integer class indices; found \[1\.5\]"),
    ("presentation_counts-T0", lambda: fi.presentation_counts(X, 0), ValueError,
     r"T must be an int >= 1"),
    ("presentation_counts-T-not-dividing", lambda: fi.presentation_counts(X, 3), ValueError,
     r"40 frames is not a whole number of presentations of T=3"),
    ("information-T0", lambda: fi.information(_spikes(), 0), ValueError, r"T must be an int >= 1"),
    ("information-labels", lambda: fi.information(_spikes(), T, n_classes=1), ValueError,
     r"labels must be class indices 0\.\.0 \(n_classes=1\)"),
    ("information-empty", lambda: fi.information(_spikes(X[:0]), T), ValueError,
     r"spikes has no neurons"),
    ("information-nan", lambda: fi.information(_spikes(NAN), T), ValueError, NEED_01),
]
