import numpy as np
import pytest
import xarray as xr

from fclib.stats import semantic as fs


def _cofiring(rng, n_neurons=6, n_frames=200, max_degree=20):
    deg = rng.integers(0, max_degree, n_neurons)
    deg[0] = 0  # a neuron without a group
    cof = np.stack([rng.integers(0, d + 1, n_frames) for d in deg]).astype(np.uint16)
    return xr.DataArray(cof, dims=("neuron", "frame"),
                        coords={"neuron": np.arange(n_neurons) + 100, "degree": ("neuron", deg)})


def _naive_bins(cof, labels, preferred, sim, bins, n_bins):
    """Slow twin of the kernel: one frame at a time."""
    n, L = bins.shape
    nf = np.zeros((n, n_bins), int)
    ssum = np.zeros((n, n_bins))
    match = np.zeros((n, n_bins), int)
    for t in range(n):
        for f in range(L):
            b = bins[t, f]
            if b < 0:
                continue
            nf[t, b] += 1
            ssum[t, b] += sim[labels[f], preferred[t]]
            match[t, b] += labels[f] == preferred[t]
    return nf, ssum, match


def test_similarity_by_cofiring_matches_a_loop():
    rng = np.random.default_rng(0)
    C, n_bins = 5, 4
    cof = _cofiring(rng)
    labels = rng.integers(0, C, cof.sizes["frame"])
    pref = rng.integers(0, C, cof.sizes["neuron"])
    sim = rng.random((C, C))
    ds = fs.similarity_by_cofiring(cof, labels, pref, sim, n_bins)
    deg = cof["degree"].values
    bins = np.minimum(cof.values.astype(int) * n_bins // np.maximum(deg, 1)[:, None], n_bins - 1)
    bins[deg == 0] = -1
    nf, ssum, match = _naive_bins(cof.values, labels, pref, sim, bins, n_bins)
    np.testing.assert_array_equal(ds["n_frames"].values, nf)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(ds["similarity"].values, ssum / nf, equal_nan=True)
        np.testing.assert_allclose(ds["match"].values, match / nf, equal_nan=True)
    np.testing.assert_array_equal(ds["neuron"].values, cof["neuron"].values)
    assert (ds["n_frames"].values[0] == 0).all()  # no group, no frames


@pytest.mark.parametrize("labels, preferred, message", [
    (None, [0, 1, 2, 3, 4, 5], r"preferred must be class indices in \[0, 5\).*\[5\]"),
    (None, [0, 1, 7, 3, 9, 2], r"preferred must be class indices in \[0, 5\).*\[7, 9\]"),
    (None, [0, -1, 2, 3, 4, 0], r"preferred .*\[-1\]"),
    ("high", [0, 1, 2, 3, 4, 0], r"labels must be class indices in \[0, 5\).*\[6\]"),
    (None, [0.5, 1, 2, 3, 4, 0], r"preferred must be integer class indices.*0\.5"),
])
def test_out_of_range_classes_are_refused_before_the_kernel(labels, preferred, message):
    # regression: the numba kernel indexes sim[labels[f], preferred[t]] without bounds checks,
    # so a class >= n_classes read (and a bad bin wrote) outside the arrays
    rng = np.random.default_rng(1)
    C = 5
    cof = _cofiring(rng)
    lab = rng.integers(0, C, cof.sizes["frame"])
    if labels == "high":
        lab[3] = 6
    sim = np.eye(C)
    with pytest.raises(ValueError, match=message):
        fs.similarity_by_cofiring(cof, lab, np.asarray(preferred), sim, 4)
    inter = np.full(cof.sizes["neuron"], 3.0)
    with pytest.raises(ValueError, match=message):
        fs.similarity_by_regime(cof, lab, np.asarray(preferred), sim, inter)


def test_similarity_must_be_square():
    rng = np.random.default_rng(2)
    cof = _cofiring(rng)
    with pytest.raises(ValueError, match="square"):
        fs.similarity_by_cofiring(cof, np.zeros(cof.sizes["frame"], int),
                                  np.zeros(cof.sizes["neuron"], int), np.ones((3, 4)))


def test_rank_similarity_ranks_self_first():
    s = np.array([[0.1, 0.9, 0.5], [0.2, 1.0, 0.3], [0.7, 0.6, 0.0]])
    r = fs.rank_similarity(s).values
    np.testing.assert_allclose(np.diag(r), 1.0)
    np.testing.assert_allclose(r[0], [1.0, 0.5, 0.0])   # self, then 0.9, then 0.5
    np.testing.assert_allclose(r[2], [0.5, 0.0, 1.0])   # self despite its 0.0


def test_mean_curve_averages_neurons_over_bins_with_enough_frames():
    ds = xr.Dataset({"n_frames": (("neuron", "bin"), [[10, 2], [10, 10]]),
                     "match": (("neuron", "bin"), [[0.2, 1.0], [0.4, 0.6]]),
                     "similarity": (("neuron", "bin"), [[0.5, 0.0], [0.7, 0.9]])},
                    coords={"bin": [0.25, 0.75]})
    c = fs.mean_curve(ds, min_frames=5)
    np.testing.assert_allclose(c["match"], [0.3, 0.6])
    np.testing.assert_allclose(c["similarity"], [0.6, 0.9])
    np.testing.assert_array_equal(c["neurons"], [2, 1])
    np.testing.assert_allclose(c["bin"], [0.25, 0.75])


def test_regime_contrast_uses_neurons_with_frames_in_both_regimes():
    ds = xr.Dataset({"n_frames": (("neuron", "regime"), [[20, 20], [20, 1], [30, 15]]),
                     "match": (("neuron", "regime"), [[0.1, 0.5], [0.0, 1.0], [0.4, 0.2]]),
                     "similarity": (("neuron", "regime"), [[0.3, 0.6], [0.0, 1.0], [0.5, 0.5]])},
                    coords={"regime": ["weak", "strong"]})
    d = fs.regime_contrast(ds, min_frames=10)
    assert d["neurons"] == 2
    assert d["match, weak"] == pytest.approx(0.25) and d["match, strong"] == pytest.approx(0.35)
    assert d["strong > weak"] == pytest.approx(0.5)
    assert d["rank sim., weak"] == pytest.approx(0.4) and d["rank sim., strong"] == pytest.approx(0.55)
    assert np.isnan(fs.regime_contrast(ds, min_frames=100)["match, weak"])


def test_strong_regime_match_matches_a_loop():
    rng = np.random.default_rng(3)
    C = 4
    cof = _cofiring(rng, n_neurons=5, n_frames=300)
    labels = rng.integers(0, C, 300)
    pref = rng.integers(0, C, 5)
    inter = np.array([np.nan, 2.0, 5.0, 0.0, 100.0])
    ds = fs.strong_regime_match(cof, labels, pref, inter, C)
    for t in range(5):
        if np.isnan(inter[t]):
            assert np.isnan(ds["strong_share"].values[t])
            continue
        strong = cof.values[t] > inter[t]
        assert ds["strong_share"].values[t] == pytest.approx(strong.mean())
        if strong.any():
            assert ds["preferred_when_strong"].values[t] == pytest.approx(
                (labels[strong] == pref[t]).mean())
        else:
            assert np.isnan(ds["preferred_when_strong"].values[t])
    np.testing.assert_array_equal(ds["neuron"].values, cof["neuron"].values)
