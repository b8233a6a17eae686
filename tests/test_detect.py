import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.stats import detect as fd
from fclib.stats import groups as fg


def _groups(z, tid, sid):
    ds = xr.Dataset({"z": (("target", "source"), z), "sttc": (("target", "source"), np.abs(z) / 10)},
                    coords={"target_neuron": ("target", tid), "source_neuron": ("source", sid)},
                    attrs=dict(source_layer="L1", target_layer="L2", method="exact"))
    return fg.one_fc_groups(ds)


def test_cofiring_features_match_a_loop():
    rng = np.random.default_rng(0)
    n_src, T, P = 12, 4, 30
    src = (rng.random((n_src, T * P)) < 0.3).astype(np.uint8)
    z = rng.normal(3, 3, (5, n_src))
    z[2] = 0  # a target without a group is left out
    g = _groups(z, np.arange(5), np.arange(n_src))
    da = xr.DataArray(src, dims=("neuron", "frame"), coords={"image": ("frame", np.arange(T * P) // T)})
    f = fd.cofiring_features(da, g, T, prefix="p ")
    assert list(f.columns) == ["p mean", "p q50", "p q90", "p ge0.25", "p ge0.5"] and len(f) == P
    grouped = [t for t in range(5) if fg.members(g, t).size]
    assert 2 not in grouped
    for p in (0, 7, 29):
        frac = np.array([[src[fg.members(g, t), p * T + s].mean() for s in range(T)] for t in grouped])
        assert f["p mean"][p] == pytest.approx(frac.mean(), abs=1e-6)
        assert f["p q50"][p] == pytest.approx(np.quantile(frac.mean(1), 0.5), abs=1e-6)
        assert f["p q90"][p] == pytest.approx(np.quantile(frac.mean(1), 0.9), abs=1e-6)
        assert f["p ge0.5"][p] == pytest.approx((frac >= 0.5).mean(), abs=1e-6)
    with pytest.raises(ValueError, match="no target"):
        fd.cofiring_features(da, _groups(np.zeros((3, n_src)), np.arange(3), np.arange(n_src)), T)


def test_rate_features_match_a_loop():
    rng = np.random.default_rng(1)
    x = (rng.random((7, 40)) < 0.4).astype(np.uint8)
    f = fd.rate_features(xr.DataArray(x, dims=("neuron", "frame")), 4)
    c = x.reshape(7, 10, 4).sum(2)
    np.testing.assert_allclose(f["rate"], c.mean(0) / 4, rtol=1e-6)
    for m in range(1, 5):
        np.testing.assert_allclose(f[f"ge{m}"], (c >= m).mean(0), rtol=1e-6)
    with pytest.raises(ValueError, match="whole number"):
        fd.rate_features(xr.DataArray(x[:, :39], dims=("neuron", "frame")), 4)


def test_image_split_is_by_image_and_seeded():
    images = np.repeat(np.arange(20), 5)
    held = fd.image_split(images, 0.3, rng=0)
    assert np.unique(images[held]).size == 6
    assert not set(images[held]) & set(images[~held])
    np.testing.assert_array_equal(held, fd.image_split(images, 0.3, rng=0))
    with pytest.raises(ValueError, match="between 0 and 1"):
        fd.image_split(images, 1.0)
    with pytest.raises(ValueError, match="two images"):
        fd.image_split(np.zeros(5), 0.5)


def test_detector_separates_shifted_features_and_not_identical_ones():
    rng = np.random.default_rng(2)
    n = 2000
    images = np.repeat(np.arange(200), 10)
    clean = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n)})
    shifted = pd.DataFrame({"a": rng.normal(1.5, 1, n), "b": rng.normal(0, 1, n)})
    d = fd.detect(clean, shifted, images, rng=0)
    assert d["auc"] > 0.8 and d["auc_ci"][0] < d["auc"] < d["auc_ci"][1]
    assert abs(d["coef"]["a"]) > 5 * abs(d["coef"]["b"])  # the informative feature carries it
    assert d["n_train"] + d["n_test"] == n and d["fpr"][0] == 0 and d["tpr"][-1] == 1
    same = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n)})
    d0 = fd.detect(clean, same, images, rng=0)
    assert d0["auc_ci"][0] < 0.5 + 0.02 and abs(d0["auc"] - 0.5) < 0.05
    # paired comparison on the same held-out images
    c = fd.compare(d, d0, n_boot=200, rng=1)
    assert c["diff"] == pytest.approx(d["auc"] - d0["auc"]) and c["ci"][0] > 0.2
    assert fd.compare(d, d, n_boot=50, rng=1)["ci"] == (0.0, 0.0)
    with pytest.raises(ValueError, match="different held-out rows"):
        fd.compare(d, fd.detect(clean, shifted, images, rng=5))
    with pytest.raises(ValueError, match="same rows and columns"):
        fd.detect(clean, shifted[["b", "a"]], images)
    with pytest.raises(ValueError, match="one image per presentation"):
        fd.detect(clean, shifted, images[:-1])
    bad = clean.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fd.detect(bad, shifted, images)
