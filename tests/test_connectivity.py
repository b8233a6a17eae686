import numpy as np
import pytest
import xarray as xr

from fclib.stats import connectivity as fc


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
