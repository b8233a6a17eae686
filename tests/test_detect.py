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


def test_holdout_is_the_detectors_share_of_images():
    # the detector's hold-out share is `holdout`, not the training split's `test_fraction`
    rng = np.random.default_rng(3)
    images = np.repeat(np.arange(40), 5)
    clean = pd.DataFrame({"a": rng.normal(0, 1, 200)})
    adv = pd.DataFrame({"a": rng.normal(1, 1, 200)})
    for holdout in (0.25, 0.5):
        d = fd.detect(clean, adv, images, holdout=holdout, n_boot=10, rng=0)
        assert np.unique(d["image"]).size == round(holdout * 40)
        assert d["n_test"] == 5 * round(holdout * 40)
    with pytest.raises(TypeError):
        fd.detect(clean, adv, images, test_fraction=0.5)
    with pytest.raises(ValueError, match="holdout must be between 0 and 1"):
        fd.image_split(images, holdout=0.0)


def test_group_overlap_counts_shared_edges():
    rng = np.random.default_rng(4)
    z = rng.normal(3, 3, (6, 10))
    a = _groups(z, np.arange(6), np.arange(10))
    z2 = z.copy()
    z2[0] = 0           # target 0 loses its group
    z2[5, :3] = 10      # target 5 gains sources 0-2
    b = _groups(z2, np.arange(6), np.arange(10))
    ea = {(t, s) for t, s in zip(a["target"].values, a["source"].values)}
    eb = {(t, s) for t, s in zip(b["target"].values, b["source"].values)}
    o = fd.group_overlap(a, b)
    assert o["edges (a)"] == len(ea) and o["edges (b)"] == len(eb)
    assert o["shared"] == len(ea & eb) and o["Jaccard"] == pytest.approx(len(ea & eb) / len(ea | eb))
    assert o["median group size (a)"] == np.median(a["degree"].values)
    assert fd.group_overlap(a, a)["Jaccard"] == 1.0
    empty = _groups(np.zeros((6, 10)), np.arange(6), np.arange(10))
    assert fd.group_overlap(empty, empty)["Jaccard"] == 0.0


def test_feature_sets_stack_the_per_pair_and_per_layer_features():
    rng = np.random.default_rng(5)
    T, P = 4, 12
    frame = {"image": ("frame", np.repeat(np.arange(P) + 50, T))}
    rec = {f"L{i}": xr.DataArray((rng.random((8, T * P)) < 0.3).astype(np.uint8),
                                 dims=("neuron", "frame"), coords=frame) for i in (1, 2, 3)}
    groups = {"L1→L2": _groups(rng.normal(3, 3, (8, 8)), np.arange(8), np.arange(8)),
              "L2→L3": _groups(rng.normal(3, 3, (8, 8)), np.arange(8), np.arange(8))}
    f = fd.feature_sets(rec, groups, T)
    pd.testing.assert_frame_equal(f["co-firing"]["L2→L3 mean"].to_frame(),
                                  fd.cofiring_features(rec["L2"], groups["L2→L3"], T, "L2→L3 ")[["L2→L3 mean"]])
    assert list(f["firing rates"].columns[:5]) == ["L1 rate", "L1 ge1", "L1 ge2", "L1 ge3", "L1 ge4"]
    assert f["firing rates"].shape == (P, 15) and f["co-firing"].shape == (P, 10)
    assert f["both"].shape == (P, 25)
    np.testing.assert_array_equal(f["images"], np.arange(P) + 50)
    keep = np.arange(4 * T, 8 * T)  # presentations 4..7
    g = fd.feature_sets(rec, groups, T, frames=keep)
    np.testing.assert_array_equal(g["images"], np.arange(4, 8) + 50)
    np.testing.assert_allclose(g["both"].to_numpy(), f["both"].to_numpy()[4:8])


def test_auc_table_has_one_row_per_detector():
    rng = np.random.default_rng(6)
    images = np.repeat(np.arange(30), 4)
    clean = pd.DataFrame({"a": rng.normal(0, 1, 120), "b": rng.normal(0, 1, 120)})
    adv = pd.DataFrame({"a": rng.normal(1, 1, 120), "b": rng.normal(0, 1, 120)})
    res = {"one": fd.detect(clean[["a"]], adv[["a"]], images, n_boot=20, rng=0),
           "two": fd.detect(clean, adv, images, n_boot=20, rng=0)}
    t = fd.auc_table(res)
    assert list(t.index) == ["one", "two"]
    assert t.loc["two", "features"] == 2 and t.loc["one", "AUC"] == pytest.approx(res["one"]["auc"])
    assert t.loc["one", "CI low"] == res["one"]["auc_ci"][0]
