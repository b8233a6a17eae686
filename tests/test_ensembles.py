"""fclib.stats.ensembles: the central results for any groups on any frames."""
import numpy as np
import pytest
import xarray as xr

from fclib.stats.ensembles import evaluate_groups, presentation_frames, summarise_groups
from fclib.stats.groups import one_fc_groups


def test_presentation_frames():
    np.testing.assert_array_equal(presentation_frames([2, 0], 3), [0, 1, 2, 6, 7, 8])


def test_in_sample_results_equal_the_pipelines_response(smoke_run):
    r = smoke_run
    rec = r.recording()
    s, t = rec.layers[:2]
    g = r.groups(s, t)
    info = r.information(t)
    n_classes = len(rec.attrs["class_names"])
    ev = evaluate_groups(rec[s], rec[t], g, rec.T, preferred=info["preferred"],
                         n_classes=n_classes, rng=0)
    ref = r.response(s, t)
    np.testing.assert_array_equal(ev["neuron"].values, ref["neuron"].values)
    np.testing.assert_allclose(ev["relu_r2"].values, ref["relu_r2"].values, equal_nan=True)
    np.testing.assert_allclose(ev["strong_fraction"].values, ref["strong_fraction"].values,
                               equal_nan=True)
    row = summarise_groups(ev)
    assert row["neurons"] == int((g["degree"].values > 0).sum())
    assert 0 <= row["selected"] <= 1 and row["chance"] == pytest.approx(1 / n_classes)
    # on half of the presentations: the frames are subset, the groups unchanged
    half = presentation_frames(np.arange(0, rec.n_frames // rec.T, 2), rec.T)
    ev_half = evaluate_groups(rec[s], rec[t], g, rec.T, preferred=info["preferred"],
                              n_classes=n_classes, frames=half, rng=0)
    assert ev_half.attrs["n_frames"] == half.size
    with pytest.raises(ValueError, match="whole presentations"):
        evaluate_groups(rec[s], rec[t], g, rec.T, preferred=info["preferred"],
                        n_classes=n_classes, frames=half[:-1])


def test_strong_events_that_follow_the_class_carry_information():
    rng = np.random.default_rng(0)
    T, n_pres, n_src = 4, 800, 12
    labels = rng.integers(0, 2, n_pres)
    frame_labels = np.repeat(labels, T)
    L = n_pres * T
    src = (rng.random((n_src, L)) < 0.1).astype(np.uint8)
    burst = (frame_labels == 0) & (rng.random(L) < 0.3)  # the group co-fires in class 0
    src[:, burst] = 1
    tgt = np.zeros((2, L), np.uint8)
    tgt[0] = burst & (rng.random(L) < 0.9)               # target 0 fires with the bursts
    tgt[1] = rng.random(L) < 0.1                           # target 1 ignores them
    coords = {"label": ("frame", frame_labels)}
    S = xr.DataArray(src, dims=("neuron", "frame"), coords=coords, attrs={"layer": "A"})
    Tg = xr.DataArray(tgt, dims=("neuron", "frame"), coords=coords, attrs={"layer": "B"})
    pairs = xr.Dataset({"sttc": (("target", "source"), np.ones((2, n_src), np.float32)),
                        "z": (("target", "source"), np.full((2, n_src), 10, np.float32))},
                       attrs={"source_layer": "A", "target_layer": "B"})
    g = one_fc_groups(pairs, 4.0)
    ev = evaluate_groups(S, Tg, g, T, preferred=np.array([0, 0]), n_classes=2, min_frames=5,
                         rng=1)
    assert ev["strong_mi"].values[0] > 0.1
    assert ev["preferred_when_strong"].values[0] > 0.95
    bad = np.array([1, 1])
    assert evaluate_groups(S, Tg, g, T, preferred=bad, n_classes=2, min_frames=5,
                           rng=1)["preferred_when_strong"].values[0] < 0.05


def _pairs(z, sttc):
    return xr.Dataset({"z": (("target", "source"), np.asarray(z, np.float32)),
                       "sttc": (("target", "source"), np.asarray(sttc, np.float32))})


def test_edge_survival_counts_edges_under_both_tests():
    from fclib.stats.ensembles import edge_survival, significant_fraction

    circ = _pairs([[5, 5, 1], [6, 0, 9]], [[1, 1, 1], [1, 1, -1]])   # edges (0,0) (0,1) (1,0)
    stim = _pairs([[5, 1, 5], [6, 0, 9]], [[1, 1, 1], [1, 1, 1]])    # edges (0,0) (0,2) (1,0) (1,2)
    out = edge_survival(circ, stim, 4.0)
    assert out["circular_edges"] == 3 and out["stimulus_edges"] == 4 and out["surviving"] == 2
    assert out["survival"] == pytest.approx(2 / 3) and out["new_edges"] == 2
    assert out["circular_group_size"] == 1.5 and out["stimulus_group_size"] == 2
    assert significant_fraction(circ, 4.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="different pairs"):
        edge_survival(circ, _pairs([[1]], [[1]]))


def test_repeat_subsample_shows_each_stimulus_equally_often():
    from fclib.stats.ensembles import repeat_subsample

    stim = np.repeat(np.arange(30), 10)
    for k in (2, 5, 10):
        p = repeat_subsample(stim, k, 60, rng=0)
        assert p.size == 60 and np.unique(p).size == 60
        _, counts = np.unique(stim[p], return_counts=True)
        assert (counts == k).all()
    np.testing.assert_array_equal(repeat_subsample(stim, 5, 60, rng=3), repeat_subsample(stim, 5, 60, rng=3))
    with pytest.raises(ValueError, match="multiple of repeats"):
        repeat_subsample(stim, 4, 30)
    with pytest.raises(ValueError, match="are needed"):
        repeat_subsample(stim, 10, 400)
    with pytest.raises(ValueError, match="repeats must be >= 2"):
        repeat_subsample(stim, 1, 10)


def _old_strong_results(cof, target, pref, inter, n_classes, T, n_shuffles, rng):
    """evaluate_groups' strong-frame results as they were computed before the kernel:
    numpy's strong mask, strong_regime_match and one mutual_information per shuffle."""
    from fclib.stats.information import mutual_information, presentation_labels
    from fclib.stats.semantic import strong_regime_match

    frame_labels = np.asarray(target["label"].values, dtype=np.int64)
    match = strong_regime_match(cof, frame_labels, pref, inter, n_classes)
    strong = cof.values > np.where(np.isfinite(inter), inter, np.inf)[:, None]
    per_pres = strong.reshape(strong.shape[0], -1, T).sum(2)
    labels = presentation_labels(target, T)
    mi = mutual_information(per_pres, labels, n_classes)
    gen = np.random.default_rng(rng)
    sh = np.zeros_like(mi)
    for _ in range(n_shuffles):
        sh += mutual_information(per_pres, gen.permutation(labels), n_classes)
    sh /= max(n_shuffles, 1)
    return match["preferred_when_strong"].values, np.where(np.isfinite(inter), mi - sh, np.nan)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strong_frame_kernel_equals_the_numpy_computation(seed):
    from fclib.stats.response import cofiring, fit_response, neuron_properties, response_counts

    rng = np.random.default_rng(seed)
    T, n_pres, n_src, n_tgt, C = 3, 300, 30, 25, 4
    labels = rng.integers(0, C, n_pres)
    frame_labels = np.repeat(labels, T)
    L = n_pres * T
    src = (rng.random((n_src, L)) < 0.15).astype(np.uint8)
    src[:, (frame_labels == 1) & (rng.random(L) < 0.2)] = 1
    tgt = (rng.random((n_tgt, L)) < 0.1).astype(np.uint8)
    tgt[:, src.sum(0) > 8] |= (rng.random((n_tgt, int((src.sum(0) > 8).sum()))) < 0.7
                               ).astype(np.uint8)
    coords = {"label": ("frame", frame_labels)}
    S = xr.DataArray(src, dims=("neuron", "frame"), coords=coords, attrs={"layer": "A"})
    Tg = xr.DataArray(tgt, dims=("neuron", "frame"), coords=coords, attrs={"layer": "B"})
    z = rng.normal(3, 3, (n_tgt, n_src)).astype(np.float32)
    z[0] = 0.0  # an empty group: NaN fits, no strong frames
    pairs = xr.Dataset({"sttc": (("target", "source"), np.ones((n_tgt, n_src), np.float32)),
                        "z": (("target", "source"), z)},
                       attrs={"source_layer": "A", "target_layer": "B"})
    g = one_fc_groups(pairs, 4.0)
    pref = rng.integers(0, C, n_tgt)
    ev = evaluate_groups(S, Tg, g, T, preferred=pref, n_classes=C, min_frames=3, rng=seed)
    cof = cofiring(S, g)
    counts = response_counts(cof, Tg)
    props = neuron_properties(counts, fit_response(counts, min_frames=3), Tg, T)
    inter = props["intersection"].values
    assert np.isfinite(inter).sum() >= 5 and (~np.isfinite(inter)).any()
    when, strong_mi = _old_strong_results(cof, Tg, pref, inter, C, T, 10, seed)
    np.testing.assert_array_equal(ev["preferred_when_strong"].values, when)
    np.testing.assert_array_equal(ev["strong_mi"].values, strong_mi)
    with pytest.raises(ValueError, match="preferred must be class indices"):
        evaluate_groups(S, Tg, g, T, preferred=np.full(n_tgt, C), n_classes=C, rng=0)
    with pytest.raises(ValueError, match="preferred must be class indices"):
        evaluate_groups(S, Tg, g, T, preferred=np.full(n_tgt, 0.5), n_classes=C, rng=0)
