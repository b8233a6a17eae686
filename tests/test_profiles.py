import ast
from pathlib import Path

import pytest

import fclib.profiles
from fclib.pipeline.profiles import MANGO_SETTINGS, PROFILES, TTFS_PROFILES, resolve
from fclib.pipeline.stages import stage_keys

NAMES = {"smoke", "workshop", "default", "fashion", "paper"}


def test_profiles_exist():
    assert set(PROFILES) == NAMES
    assert resolve("paper")["widths"] == [64, 128, 256, 512]
    w = resolve("workshop")
    assert (w["widths"], w["blocks"], w["epochs"]) == ([16, 32], [1, 1], 20)


def test_every_table_knows_every_profile():
    """The SEW-ResNet, latency-coded and MANGO tables name the same profiles, and each
    chapter's own lookup accepts every one of them."""
    from fclib.pipeline.mango import mango_settings
    from fclib.ttfs.network import ttfs_config

    assert set(TTFS_PROFILES) == set(MANGO_SETTINGS) == NAMES
    for name in NAMES:
        resolve(name)
        ttfs_config(name)
        mango_settings(name)
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        mango_settings("huge")


def test_profile_tables_live_in_one_module_that_imports_no_fclib():
    """One place (``fclib/profiles.py``), below every layer: the pipeline re-exports the
    same objects and ``fclib.ttfs``/``fclib.pipeline.mango`` read them from there."""
    import fclib.pipeline.mango
    import fclib.pipeline.profiles
    import fclib.ttfs.network

    assert fclib.pipeline.profiles.PROFILES is fclib.profiles.PROFILES
    assert fclib.ttfs.network.TTFS_PROFILES is fclib.profiles.TTFS_PROFILES
    assert fclib.pipeline.mango.MANGO_SETTINGS is fclib.profiles.MANGO_SETTINGS
    tree = ast.parse(Path(fclib.profiles.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.split(".")[0] == "fclib"}, imported


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: resolve("huge"), ValueError, "unknown profile 'huge'"),
    (lambda: resolve("smoke", epochs="3"), TypeError, "epochs must be int"),
    (lambda: resolve("smoke", epochs=2.5), TypeError, "epochs must be int"),
    (lambda: resolve("smoke", jitter=1), TypeError, "jitter must be bool"),
    (lambda: resolve("smoke", epoch=3), ValueError, "unknown parameter 'epoch'"),
    (lambda: resolve("smoke", epochs=0), ValueError, "epochs must be >= 1"),
    (lambda: resolve("smoke", widths=[4], blocks=[1, 1]), ValueError, "equally long"),
    (lambda: resolve("smoke", dataset="mnist"), ValueError, "dataset must be"),
    (lambda: resolve("smoke", null="circular"), ValueError, "null must be 'exact', 'shifts' or 'stimulus'"),
    (lambda: resolve("smoke", stimulus="label"), ValueError, "stimulus must be 'image' or 'class'"),
    (lambda: resolve("smoke", n_shifts=0), ValueError, "n_shifts must be >= 1"),
])
def test_bad_parameters(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_overrides_and_keys():
    a = resolve("smoke")
    b = resolve("smoke", epochs=None, lr=1)  # None keeps, int accepted for float
    assert b["lr"] == 1.0 and b["epochs"] == a["epochs"]
    assert stage_keys(a) == stage_keys(resolve("smoke"))
    assert stage_keys(a)[0][0] != stage_keys(b)[0][0]
    # a parameter that does not make the artefact does not change its key
    c = resolve("smoke", n_presentations=7)
    assert stage_keys(a)[0] == stage_keys(c)[0] and stage_keys(a)[1][0] != stage_keys(c)[1][0]


def test_presentation_stimuli_from_frame_coordinates():
    import numpy as np
    import xarray as xr

    from fclib.io.recordings import presentation_stimuli

    T, images, labels = 3, np.array([5, 2, 5, 7]), np.array([1, 0, 1, 1])
    da = xr.DataArray(np.zeros((2, 12), np.uint8), dims=("neuron", "frame"),
                      coords={"image": ("frame", np.repeat(images, T)),
                              "label": ("frame", np.repeat(labels, T))})
    np.testing.assert_array_equal(presentation_stimuli(da, T), images)
    np.testing.assert_array_equal(presentation_stimuli(da, T, by="class"), labels)
    with pytest.raises(ValueError, match="not a whole number of presentations"):
        presentation_stimuli(da, 5)
    with pytest.raises(ValueError, match="by must be"):
        presentation_stimuli(da, T, by="colour")
    bad = da.assign_coords(image=("frame", np.arange(12)))
    with pytest.raises(ValueError, match="changes inside a presentation"):
        presentation_stimuli(bad, T)
