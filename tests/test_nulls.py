import numpy as np
import pytest
import xarray as xr

import naive
import fclib
from fclib.stats.nulls import (calibrated_threshold, exact_null, false_positive_rate, shift_null,
                         surrogate_uncoupled)


def _coupled(rng, L=400):
    s = (rng.random((8, L)) < 0.15).astype(np.uint8)
    t = (rng.random((5, L)) < 0.2).astype(np.uint8)
    t[1] = s[2] | (rng.random(L) < 0.05)
    return s, t


@pytest.mark.parametrize("L", [97, 256])
def test_exact_null_moments_equal_brute_force(L):
    rng = np.random.default_rng(L)
    s = (rng.random((5, L)) < 0.2).astype(np.uint8)
    t = (rng.random((4, L)) < 0.3).astype(np.uint8)
    t[0] = np.roll(s[0], 3)  # autocorrelated structure shared by a pair
    ds = exact_null(s, t, moments=True)
    for i in range(4):
        for j in range(5):
            cs = naive.shifted_counts(t[i], s[j])
            assert ds["cofiring"].values[i, j] == cs[0]
            assert ds["cofiring_mean"].values[i, j] == pytest.approx(cs[1:].mean(), rel=1e-5)
            assert ds["cofiring_sd"].values[i, j] == pytest.approx(cs[1:].std(), rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(ds["sttc"].values, naive.sttc_all(s, t), rtol=1e-6)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_exact_null_moments_at_the_papers_length(p):
    # 40,000 frames: float32 spectra and their product against every shift's count from a
    # float64 circular cross-correlation, rounded to integers
    rng = np.random.default_rng(int(p * 100))
    L = 40_000
    s = (rng.random((3, L)) < p).astype(np.uint8)
    t = (rng.random((3, L)) < p).astype(np.uint8)
    t[0] = np.repeat(rng.random(L // 4) < p, 4)  # bursty: strong autocorrelation
    s[0] = np.roll(t[0], 7)
    ds = exact_null(s, t, moments=True)
    for i in range(3):
        for j in range(3):
            cs = np.rint(np.fft.irfft(np.conj(np.fft.rfft(t[i].astype(float)))
                                      * np.fft.rfft(s[j].astype(float)), n=L))[1:]
            assert ds["cofiring_mean"].values[i, j] == pytest.approx(cs.mean(), rel=1e-6)
            assert ds["cofiring_sd"].values[i, j] == pytest.approx(cs.std(), rel=1e-4)


def test_exact_and_shift_nulls_agree_and_find_the_coupled_pair():
    s, t = _coupled(np.random.default_rng(0))
    ze = fclib.sttc_zscore(s, t, method="exact")
    zs = fclib.sttc_zscore(s, t, method="shifts", n_shifts=300, rng=1, min_shift=5)
    assert ze.dims == ("target", "source")
    assert ze.values[1, 2] > 10 and zs.values[1, 2] > 10
    mask = np.ones_like(ze.values, bool)
    mask[1, 2] = False
    assert np.nanmax(np.abs(ze.values[mask])) < 4
    assert np.corrcoef(ze.values[mask], zs.values[mask])[0, 1] > 0.95


def test_shift_null_is_seeded_and_excludes_small_shifts():
    s, t = _coupled(np.random.default_rng(1))
    a = shift_null(s, t, n_shifts=50, rng=3, min_shift=30)
    b = shift_null(s, t, n_shifts=50, rng=np.random.default_rng(3), min_shift=30)
    np.testing.assert_array_equal(a["z"].values, b["z"].values)
    sh = np.array(a.attrs["shifts"])
    assert sh.min() >= 30 and sh.max() <= 400 - 30
    # the running moments equal those of the explicit stack of shifted STTCs
    stack = np.stack([naive.sttc_all(np.roll(s, k, axis=1), t) for k in sh])
    np.testing.assert_allclose(a["null_mean"].values, np.nanmean(stack, 0), rtol=1e-9)
    np.testing.assert_allclose(a["null_sd"].values, np.nanstd(stack, 0, ddof=1), rtol=1e-6)


def test_shift_null_with_window():
    s, t = _coupled(np.random.default_rng(2))
    z = fclib.sttc_zscore(s, t, method="shifts", dt=1, rng=0, n_shifts=100, min_shift=5)
    assert z.values[1, 2] > 5


def test_degenerate_pairs_get_nan():
    s = np.zeros((2, 100), np.uint8)
    s[1, ::7] = 1
    t = np.ones((1, 100), np.uint8)
    z = fclib.sttc_zscore(s, t)
    assert np.isnan(z.values).all()  # silent source; a target firing always has no null spread


def test_bad_arguments():
    s = np.zeros((2, 100), np.uint8)
    with pytest.raises(ValueError, match="method"):
        fclib.sttc_zscore(s, s, method="bootstrap")
    with pytest.raises(ValueError, match="dt = 0"):
        fclib.sttc_zscore(s, s, method="exact", dt=1)
    with pytest.raises(ValueError, match="min_shift"):
        shift_null(s, s, min_shift=80)


def test_false_positive_rate_and_calibration():
    rng = np.random.default_rng(0)
    L = 2000
    s = (rng.random((40, L)) < 0.05).astype(np.uint8)
    t = (rng.random((30, L)) < 0.1).astype(np.uint8)
    surr = surrogate_uncoupled(s, rng=1)
    assert (surr.sum(1) == s.sum(1)).all()
    fpr = false_positive_rate(s, t, thresholds=(2.0, 4.0), rng=2)
    assert 0.0 < fpr[2.0] < 0.08 and fpr[4.0] <= 0.01
    null_z = fclib.sttc_zscore(surrogate_uncoupled(s, rng=3), t).values
    thr = calibrated_threshold(null_z, 0.05)
    assert (null_z[np.isfinite(null_z)] > thr).mean() == pytest.approx(0.05, abs=0.01)


def test_exact_null_reuses_the_target_autocorrelations_for_the_next_pair(monkeypatch):
    import fclib.stats.nulls as fn

    rng = np.random.default_rng(5)
    l1, l2, l3 = ((rng.random((n, 600)) < 0.1).astype(np.uint8) for n in (7, 9, 5))
    plain = [fn.exact_null(l1, l2), fn.exact_null(l2, l3)]
    calls = []
    real = fn.power_spectra
    monkeypatch.setattr(fn, "power_spectra", lambda x, *a, **k: calls.append(x.shape[0]) or real(x, *a, **k))
    cache = {}
    cached = [fn.exact_null(l1, l2, autocorr=cache, block=4), fn.exact_null(l2, l3, autocorr=cache)]
    assert calls == [7, 4, 4, 1, 5]  # L2 once, in blocks, as a target; reused as the next source
    assert len(cache) == 1  # only the last target layer is kept
    for a, b in zip(plain, cached):
        xr.testing.assert_allclose(a, b)
    # another source is not mistaken for the cached layer
    calls.clear()
    fn.exact_null(l1, l3, autocorr=cache)
    assert calls == [7, 5]


def test_false_positive_figure_draws_the_empirical_rates():
    import matplotlib.pyplot as plt

    import fclib.figures as fplot

    rng = np.random.default_rng(0)
    null_z = {"exact": rng.standard_normal(5000), "150 shifts": 1.2 * rng.standard_normal(3000)}
    thr = {k: calibrated_threshold(v, 0.01) for k, v in null_z.items()}
    fig = fplot.fig_false_positive_rates(null_z, alpha=0.01, thresholds=thr)
    lines = {ln.get_label().split(" (")[0]: ln for ln in fig.axes[0].get_lines()}
    for name, z in null_z.items():
        x, y = lines[name].get_data()
        for k in (0, 100, 200):
            expected = (z > x[k]).mean()
            assert (np.isnan(y[k]) and expected == 0) or y[k] == pytest.approx(expected)
    plt.close(fig)


def test_exact_null_on_dask_backed_layers_equals_in_memory():
    pytest.importorskip("dask")
    rng = np.random.default_rng(11)
    s = xr.DataArray((rng.random((13, 700)) < 0.1).astype(np.uint8), dims=("neuron", "frame"))
    t = xr.DataArray((rng.random((21, 700)) < 0.2).astype(np.uint8), dims=("neuron", "frame"))
    ref = exact_null(s, t, moments=True)
    lazy = exact_null(s.chunk({"neuron": 5}), t.chunk({"neuron": 4}), moments=True, block=8)
    # Block partitions change the float32 summation order (and the BLAS kernel differs by
    # machine, e.g. OPENBLAS_CORETYPE=Haswell): values agree within float32 rounding, the
    # significance calls exactly (house rule 11).
    assert list(lazy.data_vars) == list(ref.data_vars)
    for name in ref.data_vars:
        assert lazy[name].dims == ref[name].dims
        np.testing.assert_allclose(lazy[name].values, ref[name].values, rtol=2e-5, atol=2e-6,
                                   equal_nan=True, err_msg=name)
    xr.testing.assert_identical(lazy.coords.to_dataset(), ref.coords.to_dataset())
    assert lazy.attrs == ref.attrs
    np.testing.assert_array_equal(lazy["z"].values > 4, ref["z"].values > 4)
    np.testing.assert_array_equal(np.isnan(lazy["z"].values), np.isnan(ref["z"].values))


def test_call_agreement_counts_by_hand():
    from fclib.stats.nulls import call_agreement

    a = np.array([5.0, 1.0, 4.5, np.nan, -2.0, 3.9])
    b = np.array([4.2, 4.1, 1.0, 6.0, -1.0, np.nan])
    out = call_agreement(a, b, 4.0)
    # defined under both: pairs 0, 1, 2, 4; calls a: T F T F, b: T T F F
    assert out["pairs"] == 4 and out["agree"] == pytest.approx(0.5)
    assert out["only_a"] == 1 and out["only_b"] == 1
    assert out["corr"] == pytest.approx(np.corrcoef([5, 1, 4.5, -2], [4.2, 4.1, 1, -1])[0, 1])
    assert np.isnan(call_agreement([np.nan], [1.0], 4.0)["agree"])
    with pytest.raises(ValueError, match="same pairs"):
        call_agreement([1.0, 2.0], [1.0], 4.0)


def test_uncoupled_null_z_has_no_coupled_pair_and_is_seeded():
    from fclib.stats.nulls import uncoupled_null_z

    s, t = _coupled(np.random.default_rng(4), L=600)
    a = uncoupled_null_z(s, t, n_targets=3, n_shifts=40, min_shift=5, rng=7)
    b = uncoupled_null_z(s, t, n_targets=3, n_shifts=40, min_shift=5, rng=7)
    assert list(a) == ["exact", "40 shifts"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert np.isfinite(a[k]).all()
    assert a["exact"].size <= 5 * 8 and a["40 shifts"].size <= 3 * 8
    assert a["exact"].max() < 6  # the planted pair (target 1, source 2) is decoupled


def test_false_positive_table_uses_one_threshold_throughout():
    from fclib.stats.nulls import false_positive_table

    null = {"A→B": {"exact": np.array([0.0, 4.5, 5.5, 6.0, np.nan]),
                    "150 shifts": np.array([4.5, 0.0])}}
    observed = {"A→B": np.array([10.0, 7.0, 4.8, 1.0, np.nan, -9.0])}
    for thr, rate, edges in [(4.0, 3 / 4, 3), (5.0, 2 / 4, 2)]:
        table = false_positive_table(null, observed, thr)
        ex = table.loc[("A→B", "exact")]
        lab = f"z > {thr:g}"
        assert ex[f"FPR {lab}"] == pytest.approx(rate)
        assert ex["tested pairs"] == 5
        assert ex[f"expected false edges at {lab}"] == pytest.approx(rate * 5)
        assert ex[f"edges at {lab}"] == edges
        assert ex[f"share explained by chance at {lab}"] == pytest.approx(rate * 5 / edges)
        sh = table.loc[("A→B", "150 shifts")]
        assert np.isnan(sh[f"edges at {lab}"]) and np.isnan(sh[f"share explained by chance at {lab}"])
        # no column at a threshold other than the marks and this one
        other = {4.0: "z > 5", 5.0: "z > 4"}[thr]
        assert not any(c.startswith("expected") and other in c for c in table.columns)
    assert [c for c in false_positive_table(null, observed, 4.5).columns if c.startswith("FPR")] == \
        ["FPR z > 3", "FPR z > 4", "FPR z > 4.5", "FPR z > 5"]
    no_edges = false_positive_table(null, {"A→B": np.array([0.0, 1.0])}, 4.0)
    assert np.isnan(no_edges.loc[("A→B", "exact"), "share explained by chance at z > 4"])


def test_false_positive_summary():
    from scipy.stats import norm

    from fclib.stats.nulls import false_positive_summary

    rng = np.random.default_rng(0)
    null_z = {"exact": rng.standard_normal(20_000), "150 shifts": np.array([])}
    out = false_positive_summary(null_z, 2.0, 0.01)
    assert out.loc["exact", "FPR z > 2"] == pytest.approx((null_z["exact"] > 2).mean())
    assert out.loc["exact", "threshold at FPR 0.01"] == pytest.approx(
        calibrated_threshold(null_z["exact"], 0.01))
    assert np.isnan(out.loc["150 shifts", "FPR z > 2"])
    assert out.loc["standard normal", "FPR z > 2"] == pytest.approx(norm.sf(2.0))
    assert out.loc["standard normal", "threshold at FPR 0.01"] == pytest.approx(norm.isf(0.01))


@pytest.mark.parametrize("kw, msg", [
    (dict(method="exact", rng=0), "draws no random numbers"),
    (dict(method="exact", stimulus=[0, 0]), "belong to method='stimulus'"),
    (dict(method="stimulus"), "needs stimulus="),
    (dict(method="circular"), "method must be 'exact', 'shifts' or 'stimulus'"),
])
def test_sttc_zscore_refuses_arguments_its_method_does_not_use(kw, msg):
    rng = np.random.default_rng(0)
    s = (rng.random((3, 40)) < 0.3).astype(np.uint8)
    with pytest.raises(ValueError, match=msg):
        fclib.sttc_zscore(s, s, **kw)
