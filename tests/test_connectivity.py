import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.stats import connectivity as fc
from fclib.stats import response_tables as frt


def _layer(x, silent=None):
    da = xr.DataArray(x, dims=("neuron", "frame"))
    if silent is not None:
        da = da.assign_coords(silent=("neuron", silent))
    return da


def test_active_and_pairs():
    x = np.zeros((4, 50), np.uint8)
    x[1, ::3] = 1
    da = _layer(x, np.array([True, False, True, False]))
    assert fc.active(da).sizes["neuron"] == 2
    assert fc.consecutive_pairs(["L1", "L2", "L3"]) == [("L1", "L2"), ("L2", "L3")]


def test_planted_pairs_are_found_and_counted():
    rng = np.random.default_rng(0)
    L = 3000
    src = (rng.random((30, L)) < 0.05).astype(np.uint8)
    tgt = (rng.random((20, L)) < 0.05).astype(np.uint8)
    planted = [(0, 3), (0, 7), (5, 11)]
    for i, j in planted:
        tgt[i] |= src[j] & (rng.random(L) < 0.7)
    s = _layer(src, np.zeros(30, bool)).rename("L1")
    t = _layer(tgt, np.zeros(20, bool)).rename("L2")
    ds = fc.pair_significance(s, t)
    assert ds.attrs["source_layer"] == "L1" and ds.attrs["target_layer"] == "L2"
    sig = np.argwhere((ds["z"].values > 4) & (ds["sttc"].values > 0))
    assert {tuple(p) for p in sig} == set(planted)
    deg = fc.degree(ds["z"], ds["sttc"]).values
    assert deg[0] == 2 and deg[5] == 1 and deg.sum() == 3
    summ = fc.pair_summary(ds)
    assert summ["n_pos"] == 3 and summ["n_pairs"] == 600
    assert summ["frac_pos"] == pytest.approx(3 / 600)
    table = fc.summaries({"L1→L2": ds})
    assert table.loc["L1→L2", "n_pos"] == 3
    null = fc.null_sample(s, t, rng=0)
    assert null.size == 600 and np.abs(null).max() < ds["sttc"].values.max()
    with pytest.raises(ValueError, match="method"):
        fc.pair_significance(s, t, method="magic")


# --------------------------------------------------------------------------- response summaries
def _responses(seed=0, n_src=40, n_tgt=12, n_img=50, reps=8, T=4, name=("L1", "L2"), r2_min=0.3):
    """A small response Dataset made as the pipeline makes one: sources driven by images,
    targets firing with the co-firing of random groups of sources."""
    from fclib.stats import response as fr
    from fclib.stats.groups import one_fc_groups
    from fclib.stats.nulls import exact_null

    rng = np.random.default_rng(seed)
    L = n_img * reps * T
    image = np.repeat(np.tile(np.arange(n_img), reps), T)
    drive = rng.random((n_src, n_img))
    src = (rng.random((n_src, L)) < 0.3 * drive[:, image]).astype(np.uint8)
    k = np.zeros((n_tgt, L))
    for i in range(n_tgt):
        members = rng.choice(n_src, 5 + 2 * i, replace=False)
        k[i] = src[members].sum(0)
    tgt = (rng.random((n_tgt, L)) < np.clip(0.08 * (k - 1), 0, 1)).astype(np.uint8)
    frames = {"image": ("frame", image), "presentation": ("frame", np.arange(L) // T),
              "step": ("frame", np.arange(L) % T), "label": ("frame", image % 10)}
    def layer(x, nm):
        da = xr.DataArray(x, dims=("neuron", "frame"), name=nm,
                          coords={**frames, "neuron": np.arange(x.shape[0]),
                                  "silent": ("neuron", np.zeros(x.shape[0], bool))})
        da.attrs["layer"] = nm
        return da
    s, t = layer(src, name[0]), layer(tgt, name[1])
    pairs = exact_null(s, t)
    pairs = pairs.assign_coords(target_neuron=("target", np.arange(n_tgt)),
                                source_neuron=("source", np.arange(n_src)))
    pairs.attrs.update(source_layer=name[0], target_layer=name[1])
    g = one_fc_groups(pairs, 4.0)
    cof = fr.cofiring(s, g)
    batch = fr.image_batches(cof["image"].values, 2, rng=seed)
    cb = fr.response_counts(cof, t, batch=batch)
    counts = cb.sum("batch")
    fits = fr.fit_response(counts, min_frames=3, saturation=0.95)
    ds = fr.neuron_properties(counts, fits, t, T, r2_min=r2_min)
    ds = ds.merge(counts.drop_vars("degree"))
    bf = fr.fit_response(cb, min_frames=3, saturation=0.95)
    ds["batch_n_frames"] = cb["n_frames"]; ds["batch_n_fire"] = cb["n_fire"]
    ds["batch_relu_slope"] = bf["relu_slope"]; ds["batch_relu_r2"] = bf["relu_r2"]
    ds["selected"] = ds["relu_r2"].fillna(-np.inf) > r2_min
    return ds



def _two_pairs():
    from fclib.stats.response import property_table

    res = {"L1→L2": _responses(0), "L2→L3": _responses(1, name=("L2", "L3"))}
    return res, property_table(res)


def test_tail_quantiles():
    rng = np.random.default_rng(0)
    obs, null = {"a": rng.normal(size=1000)}, {"a": rng.normal(size=500)}
    t = fc.tail_quantiles(obs, null, q=(0.01, 0.99))
    assert list(t.columns) == ["observed 1th pct", "null 1th pct", "observed 99th pct", "null 99th pct"]
    assert t.loc["a", "null 99th pct"] == pytest.approx(np.quantile(null["a"], 0.99))
    assert np.isnan(fc.tail_quantiles({"b": []}, {"b": [1.0]}).loc["b", "observed 0.1th pct"])


def test_relu_fit_summary_by_hand():
    from fclib.stats.response import response_curve

    res, table = _two_pairs()
    out = frt.relu_fit_summary(table, res, min_frames=3, high=0.2)
    assert list(out.index) == list(res)
    for name, ds in res.items():
        peak = response_curve(ds, 3).max("cofiring").values
        row = out.loc[name]
        assert row["neurons"] == ds.sizes["neuron"]
        assert row["selected"] == pytest.approx(ds["selected"].values.mean())
        assert row["median_r2"] == pytest.approx(np.nanmedian(ds["relu_r2"].values))
        assert row["peak_p_max"] == pytest.approx(np.nanmax(peak))
        assert row["above 0.2"] == int((peak > 0.2).sum())
    with pytest.raises(ValueError, match="property_table"):
        frt.relu_fit_summary(table.iloc[1:], res)


def test_regime_summary_medians():
    _, table = _two_pairs()
    sel = table[table["selected"]]
    out = frt.regime_summary(sel, band=(0.1, 0.5))
    for name, d in sel.groupby("layer pair", observed=True):
        assert out.loc[name, "neurons"] == len(d)
        assert out.loc[name, "rise_quantile"] == pytest.approx(d["rise_quantile"].median(), nan_ok=True)
        assert out.loc[name, "in band"] == pytest.approx(d["intersection_fraction"].between(0.1, 0.5).mean())
        assert out.loc[name, "two_regimes"] == pytest.approx(d["intersection"].notna().mean())


def test_power_laws_recover_an_exponent():
    rng = np.random.default_rng(0)
    n = rng.integers(5, 500, 200)
    sel = pd.DataFrame({"layer pair": ["a"] * 100 + ["b"] * 100, "degree": n,
                        "relu_slope": np.r_[2 * n[:100] ** -0.5, 0.1 * n[100:] ** 0.3]
                        * np.exp(0.01 * rng.standard_normal(200))})
    laws = frt.power_laws(sel)
    assert laws.loc["a", "beta"] == pytest.approx(0.5, abs=0.01)
    assert laws.loc["b", "beta"] == pytest.approx(-0.3, abs=0.01)
    assert laws["falls"].tolist() == [True, False] and laws["rises"].tolist() == [False, True]
    d = sel["degree"][:100].astype(float)
    assert laws.loc["a", "span"] == pytest.approx(d.quantile(0.95) / d.quantile(0.05))


def test_collapse_scan_and_summary():
    from fclib.stats.response import collapse_r2

    res, table = _two_pairs()
    grid = np.linspace(0, 1.5, 4)
    scan = frt.collapse_scan(res, grid, min_frames=3)
    assert list(scan.columns) == list(res) and scan.index.tolist() == grid.tolist()
    ds = res["L1→L2"]
    ids = ds["neuron"].values[ds["selected"].values]
    assert scan.loc[1.0, "L1→L2"] == pytest.approx(collapse_r2(ds, 1.0, ids, 3))
    laws = frt.power_laws(table[table["selected"]], list(res))
    coll = frt.collapse_summary(res, laws, scan, min_frames=3)
    row = coll.loc["L1→L2"]
    assert row["raw co-firing"] == pytest.approx(scan.loc[0.0, "L1→L2"])
    assert row["best collapse"] == pytest.approx(scan["L1→L2"].max())
    assert row["best exponent"] == scan["L1→L2"].idxmax()
    assert row["gain"] == pytest.approx(row["k / N^beta"] - row["raw co-firing"], nan_ok=True)
    with pytest.raises(ValueError, match="exponent 0"):
        frt.collapse_summary(res, laws, scan.iloc[1:], min_frames=3)


def test_batch_robustness_differences_by_hand():
    res, _ = _two_pairs()
    rob, diffs = frt.batch_robustness(res, min_frames=3, outlier=0.5, rng=0)
    again, _ = frt.batch_robustness(res, min_frames=3, outlier=0.5, rng=0)
    pd.testing.assert_frame_equal(rob, again)
    ds = res["L1→L2"]
    keep = ds["selected"].values
    b = ds["batch_relu_slope"].values[:, keep]
    rel = (b[0] - b[1]) / ds["relu_slope"].values[keep]  # two batches: one difference each
    got = diffs.loc[diffs["layer pair"] == "L1→L2", "relative slope difference"].to_numpy()
    np.testing.assert_allclose(np.sort(np.abs(got)), np.sort(np.abs(rel)))
    assert rob.loc["L1→L2", "neurons"] == keep.sum()
    assert rob.loc["L1→L2", "median |diff|"] == pytest.approx(np.nanmedian(np.abs(rel)))
    fin = rel[np.isfinite(rel)]
    assert rob.loc["L1→L2", "outliers"] == pytest.approx((np.abs(fin) > 0.5).mean())
    assert rob.loc["L1→L2", "ratio"] == pytest.approx(
        rob.loc["L1→L2", "median |diff|"] / rob.loc["L1→L2", "median |diff|, resampled"])
    assert list(diffs["layer pair"].cat.categories) == list(res)
