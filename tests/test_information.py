import numpy as np
import pytest
import xarray as xr
from sklearn.metrics import mutual_info_score

from fclib.stats import information as fi
from fclib.stats import semantic as fs
from naive import bin_stats_loops, mi_bits


def _layer(rng, n=6, P=3000, T=4, C=5):
    labels = rng.integers(0, C, P)
    spikes = (rng.random((n, P, T)) < 0.1).astype(np.uint8)
    spikes[0] |= (labels == 3)[:, None] & (rng.random((P, T)) < 0.8)  # tuned to class 3
    spikes[1] |= (labels == 1)[:, None] & (rng.random((P, T)) < 0.3)  # weakly tuned to class 1
    frame_labels = np.repeat(labels, T)
    da = xr.DataArray(spikes.reshape(n, P * T), dims=("neuron", "frame"),
                      coords={"label": ("frame", frame_labels)})
    return da, labels


def test_mi_matches_definition_and_sklearn():
    rng = np.random.default_rng(0)
    da, labels = _layer(rng)
    counts = fi.presentation_counts(da, 4)
    assert counts.shape == (6, 3000) and counts.max() <= 4
    np.testing.assert_array_equal(fi.presentation_labels(da, 4), labels)
    mi = fi.mutual_information(counts, labels)
    for i in range(6):
        assert mi[i] == pytest.approx(mi_bits(counts[i], labels), abs=1e-12)
        assert mi[i] == pytest.approx(mutual_info_score(counts[i], labels) / np.log(2), abs=1e-12)
    prof = fi.class_profile(counts, labels)
    for c in range(5):
        assert prof[0, c] == pytest.approx(mi_bits(counts[0], labels == c), abs=1e-12)
    assert prof[0].argmax() == 3


def test_information_bias_correction_and_preferred_class():
    rng = np.random.default_rng(1)
    da, _ = _layer(rng)
    info = fi.information(da.assign_coords(neuron=np.arange(10, 16)), T=4, n_shuffles=10, rng=2)
    assert info["neuron"].values.tolist() == list(range(10, 16))
    assert info["preferred"].values[0] == 3 and info["preferred"].values[1] == 1
    assert info["mi_corrected"].values[0] > 0.3
    # untuned neurons: the plug-in MI is small but positive, about the size of the shuffle
    # bias (K - 1)(C - 1) / (2 n ln 2) with K <= 5 counts, C = 5 classes, n = 3000
    untuned = info.isel(neuron=slice(2, None))
    bound = 4 * 4 / (2 * 3000 * np.log(2))
    assert np.all(untuned["mi"].values > 0) and np.all(untuned["mi_shuffled"].values < 2 * bound)
    assert np.all(np.abs(untuned["mi_corrected"].values) < bound)
    assert info["mean_count"].sel(neuron=10, **{"class": 3}) > 3
    # entropy of the count distribution, in bits, bounds the MI
    from scipy.stats import entropy

    counts = fi.presentation_counts(da, 4)
    for i in range(6):
        h = entropy(np.bincount(counts[i], minlength=5), base=2)
        assert info["entropy"].values[i] == pytest.approx(h, abs=1e-12)
    assert np.all(info["mi"].values <= info["entropy"].values + 1e-12)


def test_information_refuses_bad_input():
    da = xr.DataArray(np.zeros((2, 8), np.uint8), dims=("neuron", "frame"),
                      coords={"label": ("frame", [0, 0, 0, 1, 1, 1, 1, 1])})
    with pytest.raises(ValueError, match="changes inside a presentation"):
        fi.presentation_labels(da, 4)
    with pytest.raises(ValueError, match="whole number"):
        fi.presentation_counts(da, 3)
    with pytest.raises(ValueError, match="'label' coordinate"):
        fi.presentation_labels(da.drop_vars("label"), 4)
    with pytest.raises(ValueError, match="one label per presentation"):
        fi.mutual_information(np.zeros((2, 5)), np.zeros(4))


def test_hubs():
    mi = np.array([0.1, 0.9, 0.8, 0.2, np.nan])
    deg = np.array([10, 100, 5, 90, 200])
    assert fi.hubs(mi, deg, quantile=0.6).tolist() == [False, True, False, False, False]


def test_rank_similarity_on_hand_made_embedding():
    # classes 0 and 1 close, 2 orthogonal, 3 opposite to 0
    e = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    s = fs.cosine_similarity(e)
    assert s.values[0, 0] == pytest.approx(1) and s.values[0, 3] == pytest.approx(-1)
    r = fs.rank_similarity(s).values
    assert r[0].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    assert r[3].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])  # from 3: itself, then 2, 1, 0
    assert np.all(np.diag(r) == 1)


def test_embeddings_are_cached_and_semantic(tmp_path, monkeypatch):
    names = ["zero", "one", "two", "apple"]
    e = fs.embed_class_names(names, cache=tmp_path / "emb.json")
    assert e.dims == ("class", "dim") and e["name"].values.tolist() == names
    assert np.allclose(np.linalg.norm(e.values, axis=1), 1)
    s = fs.cosine_similarity(e).values
    assert s[1, 2] > s[1, 3]  # "one" is closer to "two" than to "apple"
    monkeypatch.setattr(fs, "_encode_minilm", lambda n: (_ for _ in ()).throw(AssertionError))
    again = fs.embed_class_names(names, cache=tmp_path / "emb.json")  # from the cache
    np.testing.assert_allclose(again.values, e.values)
    with pytest.raises(ValueError, match="backend must be"):
        fs.embed_class_names(names, backend="word2vec")


def test_similarity_by_cofiring_and_regime_match_loops():
    rng = np.random.default_rng(3)
    n, L, C, N = 7, 500, 4, 20
    cof = xr.DataArray(rng.integers(0, N + 1, (n, L)).astype(np.int16), dims=("neuron", "frame"),
                       coords={"neuron": np.arange(n) + 5, "degree": ("neuron", [N] * (n - 1) + [0])})
    cof[-1] = 0
    labels = rng.integers(0, C, L)
    pref = rng.integers(0, C, n)
    sim = rng.random((C, C))
    ds = fs.similarity_by_cofiring(cof, labels, pref, sim, n_bins=4)
    bins = np.minimum(cof.values.astype(int) * 4 // N, 3)
    bins[-1] = -1  # an empty group has no co-firing fraction
    nf, ssum, match = bin_stats_loops(bins, labels, pref, sim, 4)
    np.testing.assert_array_equal(ds["n_frames"].values, nf)
    with np.errstate(invalid="ignore"):  # the empty group's row is 0 / 0, and left out
        np.testing.assert_allclose(ds["similarity"].values[:-1], (ssum / nf)[:-1])
        np.testing.assert_allclose(ds["match"].values[:-1], (match / nf)[:-1])
    assert ds["bin"].values.tolist() == [0.125, 0.375, 0.625, 0.875]
    inter = np.array([5.0, 10, 15, np.nan, 0, 20, 3])
    rg = fs.similarity_by_regime(cof, labels, pref, sim, inter)
    b2 = (cof.values > inter[:, None]).astype(int)
    b2[3] = -1
    nf2, ssum2, _ = bin_stats_loops(b2, labels, pref, sim, 2)
    np.testing.assert_array_equal(rg["n_frames"].values, nf2)
    assert rg["regime"].values.tolist() == ["weak", "strong"]
    with pytest.raises(ValueError, match="frame labels"):
        fs.similarity_by_cofiring(cof, labels[:-1], pref, sim)


def test_labels_outside_the_classes_are_refused_before_the_kernel():
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 5, (3, 40))
    labels = rng.integers(0, 4, 40)
    labels[[3, 17]] = [4, 9]  # n_classes=4 has no class 4 or 9: the kernel would write past its histogram
    for f in (fi.mutual_information, fi.class_profile):
        with pytest.raises(ValueError, match=r"0\.\.3 \(n_classes=4\); found \[4, 9\]"):
            f(counts, labels, n_classes=4)
    neg = labels % 4
    neg[0] = -2
    with pytest.raises(ValueError, match=r"n_classes=4\); found \[-2\]"):
        fi.joint_histogram(counts, neg, 4)
    with pytest.raises(ValueError, match=r"found \[4, 9\]"):
        fi.joint_histogram(counts, labels, 4)
    T = 2
    da = xr.DataArray((rng.random((3, 40 * T)) < 0.3).astype(np.uint8), dims=("neuron", "frame"),
                      coords={"label": ("frame", np.repeat(labels, T))})
    with pytest.raises(ValueError, match=r"n_classes=4\); found \[4, 9\]"):
        fi.information(da, T, n_shuffles=2, rng=0, n_classes=4)
    # with enough classes the same data work, and the histogram is the obvious one
    joint = fi.joint_histogram(counts, labels, 10)
    assert joint.shape == (3, 5, 10)
    for i in range(3):
        for p in range(40):
            joint[i, counts[i, p], labels[p]] -= 1
    assert not joint.any()


def test_non_integer_labels_are_refused():
    counts = np.ones((2, 4), np.int64)
    with pytest.raises(ValueError, match=r"integer class indices; found \[0\.5\]"):
        fi.mutual_information(counts, np.array([0, 1, 0.5, 1]))
    # whole-valued floats are class indices
    np.testing.assert_array_equal(fi.mutual_information(counts, np.array([0.0, 1.0, 0.0, 1.0])),
                                  fi.mutual_information(counts, np.array([0, 1, 0, 1])))


def test_counts_above_255_do_not_wrap():
    # presentations of T = 300 frames: a neuron firing in every frame counts 300, not 300 - 256
    T, P = 300, 6
    spikes = np.zeros((2, P * T), np.uint8)
    spikes[0] = 1
    spikes[1, :T // 2] = 1  # 150 spikes in the first presentation only
    labels = np.repeat(np.arange(P) % 2, T)
    da = xr.DataArray(spikes, dims=("neuron", "frame"), coords={"label": ("frame", labels)})
    counts = fi.presentation_counts(da, T)
    assert counts[0].tolist() == [300] * P and counts[1].tolist() == [150] + [0] * (P - 1)
    info = fi.information(da, T, n_shuffles=0)
    assert info["rate"].values.tolist() == [300.0, 25.0]
    assert info["mean_count"].values[0].tolist() == [300.0, 300.0]
    assert fi.presentation_counts(da.isel(frame=slice(0, 8)), 4).dtype == np.uint8


@pytest.mark.parametrize("T", [1, 4, 7])
def test_presentation_counts_kernel_equals_reshaped_sum(T):
    rng = np.random.default_rng(T)
    x = (rng.random((9, 35 * T)) < 0.3).astype(np.uint8)
    counts = fi.presentation_counts(xr.DataArray(x, dims=("neuron", "frame")), T)
    np.testing.assert_array_equal(counts, x.reshape(9, 35, T).sum(2))
    assert counts.dtype == np.min_scalar_type(T)
    empty = xr.DataArray(x[:, :0], dims=("neuron", "frame"))
    assert fi.presentation_counts(empty, T).shape == (9, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preferred_class_equals_information(seed):
    rng = np.random.default_rng(seed)
    da, _ = _layer(rng, n=40, P=500, T=3, C=7)
    da = da.assign_coords(neuron=np.arange(40) * 3 + 1)
    da[5] = 0  # a silent neuron: every class ties, the lowest wins
    info = fi.information(da, 3, n_shuffles=0, n_classes=9)
    pref = fi.preferred_class(da, 3, n_classes=9)
    xr.testing.assert_equal(pref, info["preferred"].rename("preferred"))
    assert int(pref[5]) == 0
    with pytest.raises(ValueError, match="class indices 0..2"):
        fi.preferred_class(da, 3, n_classes=3)


def test_shuffled_mi_equals_one_mutual_information_per_shuffle():
    rng = np.random.default_rng(4)
    da, labels = _layer(rng, n=30, P=400, T=4, C=6)
    counts = fi.presentation_counts(da, 4).astype(np.int64)
    mi, sh = fi.shuffled_mutual_information(counts, labels, 6, n_shuffles=7, rng=11)
    gen = np.random.default_rng(11)
    want = np.zeros(30)
    for _ in range(7):
        want += fi.mutual_information(counts, gen.permutation(labels), 6)
    want /= 7
    np.testing.assert_array_equal(mi, fi.mutual_information(counts, labels, 6))
    np.testing.assert_array_equal(sh, want)
    mi0, sh0 = fi.shuffled_mutual_information(counts, labels, 6, n_shuffles=0)
    np.testing.assert_array_equal(mi0, mi)
    assert not sh0.any()
