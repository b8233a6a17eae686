"""Bad input, as a table: every public function of fclib.stats and fclib.io given a bad
input, and fclib's own message it must raise. The rows of sttc, nulls, stimulus and
information are in ``bad_input_kernels.py``, those of the tables' helpers (compare, mei,
response tables, emergence, ...), simulate and fclib.io in ``bad_input_more.py``; the rest
here. ``test_every_public_function_has_a_row`` reads the ``__all__`` of every public module
of fclib.stats and fclib.io and fails on a function no row calls.

A second test checks that a plain (neuron, frame) array and the equivalent DataArray give the
same result wherever a function takes spikes.
"""
import warnings

import numpy as np
import pytest
import xarray as xr

import fclib
from bad_input_kernels import CASES as KERNEL_CASES
from bad_input_more import CASES as MORE_CASES, layer
from fclib.stats import nulls
from fclib.stats import (activity, compare, connectivity, controls, detect, ensembles, fits,
                         groups as fg, predict, response, response_tables, semantic, structure)

T = 4
P = 60
L = T * P


def _layer(values, name):
    return layer(values, name, T, P)


_rng = np.random.default_rng(0)
_a = _rng.random((12, L)) < 0.2
_b = (_rng.random((8, L)) < 0.1) | _a[:8] & (_rng.random((8, L)) < 0.7)
SRC = _layer(_a, "L1")
TGT = _layer(_b, "L2")
OTHER = _layer(_rng.random((12, L)) < 0.2, "L3")      # same size as SRC, another layer
PAIRS = connectivity.pair_significance(SRC, TGT, "exact")
GROUPS = fg.one_fc_groups(PAIRS, 3.0)
COF = response.cofiring(SRC, GROUPS)
COUNTS = response.response_counts(COF, TGT)
FITS = response.fit_response(COUNTS, min_frames=1)


def _with(da, values):
    out = da.copy(data=values)
    return out


def _nan(da):
    v = da.values.astype(float)
    v[0, 3] = np.nan
    return _with(da, v)


def _two(da):
    v = da.values.astype(np.int64)
    v[1, 5] = 2
    return _with(da, v)


def _renamed(da):
    return da.rename(neuron="unit", frame="time")


RAGGED = [np.array([0.1, 0.5]), np.array([0.2])]
BAD_RNG = "abc"

CASES = [
    # --- response: cofiring / response_counts / neuron_properties / batches ---------------
    ("cofiring-ragged", lambda: response.cofiring(RAGGED, GROUPS), TypeError,
     "bin them first with fclib.io.bin_spikes"),
    ("cofiring-3d", lambda: response.cofiring(np.zeros((2, 3, 4)), GROUPS), ValueError,
     r"2-D array \(neurons x frames\), got shape \(2, 3, 4\)"),
    ("cofiring-dims", lambda: response.cofiring(_renamed(SRC), GROUPS), ValueError,
     r"must have dims \('neuron', 'frame'\)"),
    ("cofiring-nan", lambda: response.cofiring(_nan(SRC), GROUPS), ValueError, "hold NaN"),
    ("cofiring-non01", lambda: response.cofiring(_two(SRC), GROUPS), ValueError,
     r"must be 0/1 spike trains; found values \[2\]"),
    ("cofiring-empty", lambda: response.cofiring(SRC.isel(frame=slice(0, 0)), GROUPS), ValueError,
     r"empty \(12 neurons x 0 frames\)"),
    ("cofiring-groups-type", lambda: response.cofiring(SRC, PAIRS["z"].values), TypeError,
     "edge table of fclib.stats.groups.one_fc_groups"),
    ("cofiring-other-layer", lambda: response.cofiring(OTHER, GROUPS), ValueError,
     "source spikes are layer L3 but the groups"),
    ("cofiring-orientation", lambda: response.cofiring(np.zeros((L, 12)), GROUPS), UserWarning,
     r"shape \(240, 12\) with more rows than columns"),
    ("response_counts-cofiring-type", lambda: response.response_counts(COF.values, TGT), TypeError,
     "cofiring must be the DataArray returned by"),
    ("response_counts-frames", lambda: response.response_counts(COF, TGT.isel(frame=slice(0, 100))),
     ValueError, "240 frames against 100"),
    ("response_counts-other-layer", lambda: response.response_counts(COF, _layer(_b, "L4")),
     ValueError, "target spikes are layer L4"),
    ("response_counts-nan", lambda: response.response_counts(COF, _nan(TGT)), ValueError, "hold NaN"),
    ("neuron_properties-T0", lambda: response.neuron_properties(COUNTS, FITS, TGT, 0), ValueError,
     "T must be a positive integer"),
    ("neuron_properties-Tfloat", lambda: response.neuron_properties(COUNTS, FITS, TGT, 2.5),
     ValueError, "T must be a positive integer"),
    ("neuron_properties-Tdivide", lambda: response.neuron_properties(COUNTS, FITS, TGT, 7),
     ValueError, "T=7 does not divide"),
    ("image_batches-zero", lambda: response.image_batches(np.arange(10), 0), ValueError,
     "n_batches must be between 1"),
    ("image_batches-2d", lambda: response.image_batches(np.zeros((2, 5))), ValueError,
     "images must be 1-D"),
    ("image_batches-rng", lambda: response.image_batches(np.arange(10), 2, rng=BAD_RNG), TypeError,
     "rng must be"),
    ("resample_batches-rng", lambda: response.resample_batches(
        xr.Dataset({"n_frames": (("batch", "neuron", "cofiring"), np.ones((2, 1, 2), int)),
                    "n_fire": (("batch", "neuron", "cofiring"), np.zeros((2, 1, 2), int))}),
        rng=BAD_RNG), TypeError, "rng must be"),
    # --- groups ---------------------------------------------------------------------------
    ("one_fc_groups-array", lambda: fg.one_fc_groups(PAIRS["z"].values), TypeError,
     "pairs must be a Dataset with 'sttc' and 'z'"),
    ("one_fc_groups-shapes", lambda: fg.one_fc_groups({"sttc": np.zeros((3, 4)), "z": np.zeros((4, 3))}),
     ValueError, r"pairs\['sttc'\] has shape \(3, 4\) but pairs\['z'\] \(4, 3\)"),
    ("one_fc_groups-missing", lambda: fg.one_fc_groups({"z": np.zeros((3, 4))}), ValueError,
     r"missing \['sttc'\]"),
    ("one_fc_groups-threshold", lambda: fg.one_fc_groups(PAIRS, np.nan), ValueError,
     "threshold must be a finite number"),
    ("members-unknown", lambda: fg.members(GROUPS, 99), KeyError, "neuron 99 of L2 was not analysed"),
    # --- connectivity ---------------------------------------------------------------------
    ("active-nan", lambda: connectivity.active(_nan(SRC)), ValueError, "hold NaN"),
    ("active-dims", lambda: connectivity.active(_renamed(SRC)), ValueError, "must have dims"),
    ("pair_significance-method", lambda: connectivity.pair_significance(SRC, TGT, "magic"),
     ValueError, "method must be 'exact', 'shifts' or 'stimulus'"),
    ("pair_significance-frames", lambda: connectivity.pair_significance(SRC, TGT.isel(frame=slice(0, 120))),
     ValueError, "240 frames against 120"),
    ("pair_significance-non01", lambda: connectivity.pair_significance(_two(SRC), TGT), ValueError,
     "must be 0/1"),
    ("pair_significance-ragged", lambda: connectivity.pair_significance(RAGGED, TGT), TypeError,
     "bin_spikes"),
    ("null_sample-rng", lambda: connectivity.null_sample(SRC, TGT, rng=BAD_RNG), TypeError, "rng must be"),
    ("null_sample-min_shift", lambda: connectivity.null_sample(SRC, TGT, min_shift=200), ValueError,
     r"min_shift must be an int in \[0, n_frames / 2\]"),
    # --- activity -------------------------------------------------------------------------
    ("firing_rates-T0", lambda: activity.firing_rates(SRC, 0), ValueError, "T must be a positive integer"),
    ("firing_rates-Tdivide", lambda: activity.firing_rates(SRC, 7), ValueError,
     "240 frames, not a whole number of presentations of T=7"),
    ("firing_rates-step", lambda: activity.firing_rates(SRC, 8), ValueError, "step coordinate runs 0..3 but T=8"),
    ("firing_rates-nan", lambda: activity.firing_rates(_nan(SRC), T), ValueError, "hold NaN"),
    ("firing_rates-plain-3d", lambda: activity.firing_rates(np.zeros(5), 1), ValueError, "got shape"),
    ("raster_sample-rng", lambda: activity.raster_sample(None, [], 3, [0], rng=BAD_RNG), TypeError,
     "rng must be"),
    # --- controls -------------------------------------------------------------------------
    ("tuning_curves-T0", lambda: controls.tuning_curves(SRC, 0), ValueError, "T must be a positive integer"),
    ("tuning_curves-dims", lambda: controls.tuning_curves(_renamed(SRC), T), ValueError, "must have dims"),
    ("tuning_similarity-frames", lambda: controls.tuning_similarity(SRC, TGT.isel(frame=slice(0, 8)), T),
     ValueError, "240 frames against 8"),
    ("tuning_matched_groups-other-layer", lambda: controls.tuning_matched_groups(GROUPS, OTHER, TGT, T),
     ValueError, "source spikes are layer L3"),
    ("tuning_matched_groups-groups-pairs", lambda: controls.tuning_matched_groups(PAIRS, SRC, TGT, T),
     ValueError, "edge table of fclib.stats.groups.one_fc_groups .* it lacks"),
    ("tuning_matched_groups-groups-type", lambda: controls.tuning_matched_groups([1], SRC, TGT, T),
     TypeError, "edge table"),
    ("random_matched_groups-rng", lambda: controls.random_matched_groups(
        GROUPS, np.ones(12), rng=BAD_RNG), TypeError, "rng must be"),
    ("image_halves-rng", lambda: controls.image_halves(np.arange(10), rng=BAD_RNG), TypeError, "rng must be"),
    # --- fits -----------------------------------------------------------------------------
    ("fit_relu-x", lambda: fits.fit_relu([0, 2, 1], np.zeros(3), np.ones(3)), ValueError,
     "x must be strictly increasing"),
    ("fit_relu-weights", lambda: fits.fit_relu([0, 1, 2], np.zeros(3), [1, -1, 1]), ValueError,
     "weights must be finite and non-negative"),
    ("fit_two_lines-shape", lambda: fits.fit_two_lines([0, 1], np.zeros(3), np.ones(3)), ValueError,
     "x must be 1-D with one value per column"),
    # --- ensembles ------------------------------------------------------------------------
    ("presentation_frames-T0", lambda: ensembles.presentation_frames([0, 1], 0), ValueError,
     "T must be a positive integer"),
    ("presentation_frames-negative", lambda: ensembles.presentation_frames([-1, 1], 2), ValueError,
     "non-negative integer presentation indices"),
    ("evaluate_groups-Tdivide", lambda: ensembles.evaluate_groups(
        SRC, TGT, GROUPS, 7, preferred=np.zeros(8, int), n_classes=3), ValueError,
     "not a whole number of presentations of T=7"),
    ("evaluate_groups-labels", lambda: ensembles.evaluate_groups(
        SRC, TGT, GROUPS, T, preferred=np.full(GROUPS.sizes["neuron"], 5), n_classes=3,
        min_frames=1), ValueError, r"preferred must be class indices in \[0, 3\)"),
    ("evaluate_groups-rng", lambda: ensembles.evaluate_groups(
        SRC, TGT, GROUPS, T, preferred=np.zeros(GROUPS.sizes["neuron"], int), n_classes=3,
        rng=BAD_RNG), TypeError, "rng must be"),
    ("evaluate_groups-empty", lambda: ensembles.evaluate_groups(
        SRC.isel(neuron=[]), TGT, GROUPS, T, preferred=np.zeros(8, int), n_classes=3), ValueError,
     "empty"),
    ("repeat_subsample-rng", lambda: ensembles.repeat_subsample(np.repeat(np.arange(4), 3), 2, 4,
                                                                rng=BAD_RNG), TypeError, "rng must be"),
    ("repeat_subsample-repeats", lambda: ensembles.repeat_subsample(np.arange(4), 1, 4), ValueError,
     "repeats must be >= 2"),
    # --- semantic -------------------------------------------------------------------------
    ("similarity_by_cofiring-labels", lambda: semantic.similarity_by_cofiring(
        COF, np.full(L, 3), np.zeros(COF.sizes["neuron"], int), np.eye(3)), ValueError,
     r"labels must be class indices in \[0, 3\)"),
    ("similarity_by_cofiring-type", lambda: semantic.similarity_by_cofiring(
        COF.values, np.zeros(L, int), np.zeros(COF.sizes["neuron"], int), np.eye(3)), TypeError,
     "cofiring must be the DataArray returned by"),
    ("similarity_by_regime-intersection", lambda: semantic.similarity_by_regime(
        COF, np.zeros(L, int), np.zeros(COF.sizes["neuron"], int), np.eye(3), [1.0]), ValueError,
     "intersection must hold one value per neuron"),
    ("strong_regime_match-n_classes", lambda: semantic.strong_regime_match(
        COF, np.zeros(L, int), np.zeros(COF.sizes["neuron"], int), np.ones(COF.sizes["neuron"]), 0),
     ValueError, "n_classes must be a positive integer"),
    # --- predict --------------------------------------------------------------------------
    ("identity_vs_aggregate-nan", lambda: predict.identity_vs_aggregate(
        np.full((20, 3), np.nan), np.zeros(20)), ValueError, "members hold NaN"),
    ("identity_vs_aggregate-non01", lambda: predict.identity_vs_aggregate(
        np.full((20, 3), 2), np.zeros(20)), ValueError, "members must be 0/1"),
    ("compare_neurons-rng", lambda: predict.compare_neurons(SRC, TGT, GROUPS, [0], rng=BAD_RNG),
     TypeError, "rng must be"),
    ("compare_neurons-frames", lambda: predict.compare_neurons(SRC, TGT.isel(frame=slice(0, 40)), GROUPS, [0]),
     ValueError, "240 frames against 40"),
    ("compare_neurons-other-layer", lambda: predict.compare_neurons(OTHER, TGT, GROUPS, [0]),
     ValueError, "source spikes are layer L3"),
    # --- detect ---------------------------------------------------------------------------
    ("cofiring_features-T0", lambda: detect.cofiring_features(SRC, GROUPS, 0), ValueError,
     "T must be a positive integer"),
    ("cofiring_features-nan", lambda: detect.cofiring_features(_nan(SRC), GROUPS, T), ValueError, "hold NaN"),
    ("rate_features-Tdivide", lambda: detect.rate_features(SRC, 7), ValueError, "T=7"),
    ("rate_features-ragged", lambda: detect.rate_features(RAGGED, 1), TypeError, "bin_spikes"),
    ("image_split-rng", lambda: detect.image_split(np.arange(10), rng=BAD_RNG), TypeError, "rng must be"),
    ("compare-rng", lambda: detect.compare({"image": [0, 1], "y": [0, 1], "score": [0.1, 0.9]},
                                           {"image": [0, 1], "y": [0, 1], "score": [0.1, 0.9]},
                                           rng=BAD_RNG), TypeError, "rng must be"),
    # --- structure ------------------------------------------------------------------------
    ("label_edges-other-layer", lambda: structure.label_edges(GROUPS, OTHER, TGT, (3, 1, 1)),
     ValueError, "source spikes are layer L3"),
    ("label_edges-dims", lambda: structure.label_edges(GROUPS, _renamed(SRC), TGT, (3, 1, 1)),
     ValueError, "must have dims"),
    # --- compare / response_tables --------------------------------------------------------
    ("ks_distance-rng", lambda: compare.ks_distance(np.arange(10.0), np.arange(10.0), 5, rng=BAD_RNG),
     TypeError, "rng must be"),
    ("batch_robustness-rng", lambda: response_tables.batch_robustness({}, rng=BAD_RNG), TypeError,
     "rng must be"),
]


# the kernels' rows (fclib.sttc, the nulls, the stimulus null, MI) and the rest of fclib.stats
# and fclib.io: one table for every module
CASES = CASES + KERNEL_CASES + MORE_CASES


@pytest.mark.parametrize("func, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(func, exc, match):
    if issubclass(exc, Warning):
        with pytest.warns(exc, match=match):
            try:
                func()
            except (ValueError, TypeError):
                pass  # the warning is what is checked; the call may fail later on its own
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with pytest.raises(exc, match=match):
                func()


def test_case_ids_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# ----------------------------------------------------------------------------- coverage
#: Public functions that take no user data, so no bad input exists; each with its reason.
NO_USER_DATA = {
    "fclib.stats.edges.clear_cache": "takes no argument: it empties the module's kernel cache",
}


def public_functions() -> dict:
    """``{code object: qualified name}`` of every function in the ``__all__`` of fclib.stats,
    fclib.io and their public submodules (a re-exported function counted once)."""
    import importlib
    import inspect
    import pkgutil

    import fclib.io
    import fclib.stats

    out = {}
    for pkg in (fclib.stats, fclib.io):
        mods = [pkg] + [importlib.import_module(f"{pkg.__name__}.{m.name}")
                        for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
        for mod in mods:
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if inspect.isfunction(obj):
                    out.setdefault(obj.__code__, f"{obj.__module__}.{obj.__qualname__}")
    return out


def called_by(call, codes: dict) -> str | None:
    """The public function a row's ``call`` calls: the last of ``codes`` entered directly
    from the row's own frame (arguments are evaluated, and may call others, first)."""
    import sys

    own, hits = call.__code__, []

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code in codes and frame.f_back is not None \
                and frame.f_back.f_code is own:
            hits.append(codes[frame.f_code])
        return None

    sys.settrace(tracer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except Exception:
        pass
    finally:
        sys.settrace(None)
    return hits[-1] if hits else None


def test_the_coverage_check_sees_which_function_a_row_calls():
    codes = public_functions()
    assert called_by(lambda: response.fit_response(xr.Dataset()), codes) == \
        "fclib.stats.response.fit_response"
    # an argument computed by another public function does not count as the row's call
    assert called_by(lambda: response.response_curve(response.fit_response(xr.Dataset())),
                     codes) == "fclib.stats.response.fit_response"
    assert called_by(lambda: len([1]), codes) is None


def test_every_public_function_has_a_row():
    codes = public_functions()
    assert len(codes) > 150  # the __all__ of every submodule was read
    covered = {called_by(c[1], codes) for c in CASES}
    names = set(codes.values())
    assert not set(NO_USER_DATA) - names, "exemptions of functions that no longer exist"
    missing = sorted(names - covered - set(NO_USER_DATA))
    assert not missing, ("public functions without a bad-input row (add one to the table, or, "
                         "for a function that takes no user data, to NO_USER_DATA with the "
                         "reason):\n" + "\n".join(missing))


# ----------------------------------------------------------------------------- plain == labelled
def _plain(da):
    return np.asarray(da.values)


def _equal(a, b):
    if isinstance(a, xr.Dataset):
        assert set(a.data_vars) == set(b.data_vars)
        for v in a.data_vars:
            np.testing.assert_array_equal(a[v].values, b[v].values)
    elif isinstance(a, (xr.DataArray, np.ndarray)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    else:
        import pandas as pd

        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


UNLABELLED_GROUPS = fg.one_fc_groups({"sttc": PAIRS["sttc"].values, "z": PAIRS["z"].values}, 3.0)
SAME = [
    ("cofiring", lambda s, t: response.cofiring(s, UNLABELLED_GROUPS)),
    ("response_counts", lambda s, t: response.response_counts(
        response.cofiring(s, UNLABELLED_GROUPS), t)),
    ("neuron_properties", lambda s, t: response.neuron_properties(COUNTS, FITS, t, T)),
    ("active", lambda s, t: connectivity.active(s)),
    ("pair_significance", lambda s, t: connectivity.pair_significance(s, t, "exact")),
    ("null_sample", lambda s, t: connectivity.null_sample(s, t, rng=1)),
    ("firing_rates", lambda s, t: activity.firing_rates(s, T)),
    ("rate_features", lambda s, t: detect.rate_features(s, T)),
    ("cofiring_features", lambda s, t: detect.cofiring_features(s, UNLABELLED_GROUPS, T)),
    ("compare_neurons", lambda s, t: predict.compare_neurons(s, t, UNLABELLED_GROUPS,
                                                             UNLABELLED_GROUPS["neuron"].values[:2],
                                                             classifiers=("LogisticRegression",), rng=0)),
]


@pytest.mark.parametrize("func", [f for _, f in SAME], ids=[n for n, _ in SAME])
def test_plain_array_equals_dataarray(func):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (neuron, frame) arrays: no orientation warning
        _equal(func(_plain(SRC), _plain(TGT)), func(SRC, TGT))


def test_groups_from_plain_pairs_equal_dataset():
    ds = fg.one_fc_groups(PAIRS.drop_vars(["target_neuron", "source_neuron"], errors="ignore"), 3.0)
    for v in ("target", "source", "degree"):
        np.testing.assert_array_equal(ds[v].values, UNLABELLED_GROUPS[v].values)


# ----------------------------------------------------------------------------- orientation
@pytest.mark.parametrize("call", [lambda x: fclib.sttc(x, x), lambda x: fclib.sttc_zscore(x, x),
                                  lambda x: nulls.exact_null(x, x)])
def test_frames_by_neurons_array_is_warned_about(call):
    x = (np.random.default_rng(1).random((50, 4)) < 0.5).astype(np.uint8)
    with pytest.warns(UserWarning, match=r"plain array of shape \(50, 4\): fclib expects "
                                         r"\(neurons, frames\)"):
        call(x)


def test_labelled_or_wide_arrays_are_not_warned_about():
    x = (np.random.default_rng(1).random((50, 4)) < 0.5).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fclib.sttc(xr.DataArray(x, dims=("neuron", "frame")), xr.DataArray(x, dims=("neuron", "frame")))
        fclib.sttc(x.T, x.T)
