import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import ks_2samp, spearmanr

from fclib.stats import compare as fc


def test_trend_is_spearman_with_position():
    assert fc.trend([0.1, 0.2, 0.5, 0.9]) == pytest.approx(1.0)
    assert fc.trend([3, 2, 1]) == pytest.approx(-1.0)
    assert fc.trend([1.0, np.nan, 3.0, 2.0]) == pytest.approx(spearmanr([0, 2, 3], [1, 3, 2]).statistic)
    assert np.isnan(fc.trend([1.0, 2.0]))


def test_spearman_by_and_first_to_last_per_group():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"g": np.repeat(["b", "a"], 20), "x": rng.random(40)})
    t["y"] = np.where(t["g"] == "b", t["x"], -t["x"]) + 0.01 * rng.random(40)
    rho = fc.spearman_by(t, "x", "y", "g")
    assert list(rho.index) == ["b", "a"]
    assert rho["b"] == pytest.approx(spearmanr(t.x[:20], t.y[:20]).statistic)
    assert rho["a"] < -0.9
    curves = pd.DataFrame({"g": ["p"] * 4 + ["q"] * 3, "v": [np.nan, 0.1, 0.4, 0.3, 0.5, np.nan, np.nan]})
    ch = fc.first_to_last(curves, "v", "g")
    assert ch["p"] == pytest.approx(0.2) and np.isnan(ch["q"])


def _info(mi, n_classes=10):
    n = len(mi)
    return xr.Dataset({"mi_corrected": ("neuron", np.asarray(mi, float)),
                       "mi_shuffled": ("neuron", np.full(n, 0.01)),
                       "preferred": ("neuron", np.zeros(n, int)),
                       "entropy": ("neuron", np.ones(n))},
                      coords={"neuron": np.arange(n), "class": np.arange(n_classes)})


def test_information_by_layer_summarises_each_layer():
    info = {"L1": _info([0.0, 0.1, 0.2]), "L2": _info(np.linspace(0, 1, 11))}
    t = fc.information_by_layer(info)
    assert list(t.index) == ["L1", "L2"] and list(t["neurons"]) == [3, 11]
    assert t.loc["L1", "median MI"] == pytest.approx(0.1)
    assert t.loc["L2", "90th pct MI"] == pytest.approx(0.9)
    assert t.loc["L2", "shuffle bias"] == pytest.approx(0.01)
    assert t.loc["L1", "max possible"] == pytest.approx(np.log2(10))


def test_information_vs_degree_marks_hubs_of_the_last_pair_only():
    rng = np.random.default_rng(1)
    n = 50
    res = {k: xr.Dataset({"degree": ("neuron", rng.integers(0, 30, n))}, coords={"neuron": np.arange(n)})
           for k in ("L1→L2", "L2→L3")}
    info = {"L2": _info(rng.random(n)), "L3": _info(rng.random(n + 5))}  # more neurons than targets
    t = fc.information_vs_degree(res, info, hub_quantile=0.8)
    assert list(t["layer pair"].cat.categories) == ["L1→L2", "L2→L3"] and len(t) == 2 * n
    last = t[t["layer pair"] == "L2→L3"]
    mi, deg = last["mi"].to_numpy(), last["degree"].to_numpy()
    expect = (mi >= np.quantile(mi, 0.8)) & (deg >= np.quantile(deg, 0.8))
    np.testing.assert_array_equal(last["hub"].to_numpy(), expect)
    assert not t.loc[t["layer pair"] == "L1→L2", "hub"].any()
    np.testing.assert_allclose(last["mi"], info["L3"]["mi_corrected"].values[:n])
    with pytest.raises(ValueError, match="no information for L3"):
        fc.information_vs_degree(res, {"L2": info["L2"]})


def _response(slope, r2, inter, selected, n_frames, n_fire):
    n = len(slope)
    return xr.Dataset({"relu_slope": ("neuron", np.asarray(slope, float)),
                       "relu_r2": ("neuron", np.asarray(r2, float)),
                       "intersection": ("neuron", np.asarray(inter, float)),
                       "selected": ("neuron", np.asarray(selected, bool)),
                       "n_frames": (("neuron", "cofiring"), np.asarray(n_frames)),
                       "n_fire": (("neuron", "cofiring"), np.asarray(n_fire))},
                      coords={"neuron": np.arange(n) + 10, "cofiring": np.arange(4)})


def test_condition_responses_against_the_reference():
    nf = [[10, 10, 10, 10], [40, 0, 0, 0], [5, 5, 5, 5]]
    ref = _response([1.0, 2.0, 0.5], [0.9, 0.95, 0.2], [1.5, 0.5, 2.0], [True, True, False], nf, nf)
    noisy = _response([0.5, 3.0, 0.5], [0.5, 0.9, 0.1], [np.nan] * 3, [False] * 3,
                      [[20, 10, 5, 5], [10, 10, 10, 10], [5, 5, 5, 5]], nf)
    t = fc.condition_responses(ref, {"original": ref, "noise": noisy}, "L1→L2")
    assert len(t) == 4 and set(t["neuron"]) == {10, 11}  # selected on the reference only
    n = t[t["condition"] == "noise"].set_index("neuron")
    assert n.loc[10, "slope change"] == pytest.approx(-0.5) and n.loc[11, "slope change"] == pytest.approx(0.5)
    # frames beyond the *reference* intersection (1.5 -> cofiring 2, 3; 0.5 -> 1, 2, 3)
    assert n.loc[10, "strong regime reached"] == pytest.approx(10 / 40)
    assert n.loc[11, "strong regime reached"] == pytest.approx(30 / 40)
    s = fc.condition_summary(t, r2_min=0.8)
    assert s.loc[("L1→L2", "noise"), "kept_r2"] == pytest.approx(0.5)
    assert s.loc[("L1→L2", "original"), "kept_r2"] == pytest.approx(1.0)
    assert s.loc[("L1→L2", "noise"), "median_abs_slope_change"] == pytest.approx(0.5)
    other = ref.assign_coords(neuron=ref["neuron"].values + 1)
    with pytest.raises(ValueError, match="other neurons"):
        fc.condition_responses(ref, {"x": other})


def test_spread_by_information_thirds():
    mi = np.arange(9, dtype=float)
    change = np.array([-3, 3, -2, 0.5, -0.5, 0.2, 0.1, -0.1, 0.0])
    t = pd.DataFrame({"layer pair": "p", "condition": "fgsm", "MI": mi, "slope change": change})
    out = fc.spread_by_information(t)
    row = out.loc[("p", "fgsm")]
    low = change[mi <= np.quantile(mi, 1 / 3)]
    high = change[mi >= np.quantile(mi, 2 / 3)]
    assert row["iqr_low_mi"] == pytest.approx(np.subtract(*np.quantile(low, [0.75, 0.25])))
    assert row["iqr_high_mi"] == pytest.approx(np.subtract(*np.quantile(high, [0.75, 0.25])))
    assert row["rho"] == pytest.approx(spearmanr(mi, np.abs(change)).statistic) and row["rho"] < 0


def test_ks_distance_equals_scipy_and_subsamples_with_a_seed():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 2000)
    a[:5] = np.nan
    assert fc.ks_distance(a, b, max_samples=None) == pytest.approx(ks_2samp(a[5:], b).statistic)
    assert fc.ks_distance(a, a, max_samples=None) == 0.0
    assert fc.ks_distance(np.zeros(10), np.ones(10)) == 1.0
    sub = fc.ks_distance(a, b, max_samples=1000, rng=0)
    assert sub == fc.ks_distance(a, b, max_samples=1000, rng=0)
    assert abs(sub - ks_2samp(a[5:], b).statistic) < 0.1
    da = xr.DataArray(b.reshape(40, 50), dims=("target", "source"))
    assert fc.ks_distance(da, b, max_samples=None) == 0.0
    assert np.isnan(fc.ks_distance([np.nan], b))


def test_network_properties_and_median_ratio():
    sttc = np.array([[0.5, -0.1, 0.2], [0.0, 0.3, np.nan]])
    z = np.array([[5.0, 6.0, 1.0], [0.0, 4.5, 0.0]])
    pairs = xr.Dataset({"sttc": (("target", "source"), sttc), "z": (("target", "source"), z)})
    nf = [[20, 20, 5], [20, 20, 20]]
    fire = [[2, 10, 5], [0, 0, 0]]
    resp = xr.Dataset({"degree": ("neuron", [3, 0]), "selected": ("neuron", [True, False]),
                       "relu_slope": ("neuron", [0.1, np.nan]),
                       "n_frames": (("neuron", "cofiring"), nf), "n_fire": (("neuron", "cofiring"), fire)},
                      coords={"neuron": [0, 2]})
    info = _info([0.1, 0.5, 0.3])
    p = fc.network_properties(pairs, resp, info, threshold=4.0, min_frames=10)
    assert p["active targets"] == 2 and p["significant"] == pytest.approx(2 / 6)
    assert p["with a group"] == 0.5 and p["median group size"] == 3.0
    assert p["selected (of grouped)"] == 1.0 and p["median slope x N"] == pytest.approx(0.3)
    assert p["median max p"] == pytest.approx(0.5)  # 5/5 ignored: fewer than min_frames
    assert p["median MI (bits)"] == pytest.approx(0.2)  # neurons 0 and 2
    assert p["median STTC"] == pytest.approx(np.nanmedian(sttc))
    comp = pd.DataFrame({"network": ["trained", "permuted"] * 3, "layer pair": np.repeat(["a", "b", "c"], 2),
                         "v": [2.0, 1.0, 4.0, 4.0, 0.0, 3.0]})
    assert fc.median_ratio(comp, "v", "permuted", "trained") == pytest.approx(0.75)  # inf left out
    assert fc.median_ratio(comp, "v", "permuted", "trained", ["b"]) == pytest.approx(1.0)
    assert np.isnan(fc.median_ratio(comp, "v", "permuted", "trained", []))


def test_first_biting_is_the_weakest_step_at_or_below_the_share():
    from fclib.stats.compare import first_biting

    eps = [16, 1, 4, 8, 32]
    acc = [0.30, 0.95, 0.90, 0.60, 0.10]
    assert first_biting(eps, acc, 0.96) == 16.0  # 0.30 <= 0.48; 8 leaves 0.60 > 0.48
    assert first_biting(eps, acc, 0.96, fraction=0.7) == 8.0
    assert first_biting([1, 2], [0.9, 0.8], 0.96) is None
    with pytest.raises(ValueError, match="one length"):
        first_biting([1, 2], [0.9], 0.96)
    with pytest.raises(ValueError, match="fraction"):
        first_biting([1], [0.9], 0.96, fraction=0)
