"""Control groups (rate- and tuning-matched) and the image-halves split (fclib.stats.controls)."""
import numpy as np
import pytest
import xarray as xr
from scipy.stats import ks_2samp

from fclib.stats import controls as fcc
from fclib.stats import groups as fg
from fclib.stats import response as fr

T = 4


def _layer(spikes, name, images, labels):
    """A recorded-layer-like DataArray: positions as ids, rate/silent/layer coordinates."""
    n, L = spikes.shape
    rate = spikes.reshape(n, -1, T).sum(2).mean(1)
    return xr.DataArray(
        spikes, dims=("neuron", "frame"), name=name,
        coords={"rate": ("neuron", rate.astype(np.float32)), "silent": ("neuron", rate < 0.01),
                "layer": ("neuron", np.full(n, name)),
                "image": ("frame", np.repeat(images, T)),
                "presentation": ("frame", np.repeat(np.arange(images.size), T)),
                "step": ("frame", np.tile(np.arange(T), images.size)),
                "label": ("frame", np.repeat(labels, T))},
        attrs={"layer": name})


def _network(seed=0, n_src=80, n_tgt=24, n_img=30, n_pres=240, n_classes=5, n_silent=6):
    """Tuned source and target layers (firing probability depends on the class), some silent
    and one flat source, and real groups drawn from synthetic pairs over the active sources."""
    rng = np.random.default_rng(seed)
    img_label = rng.integers(0, n_classes, n_img)
    images = rng.integers(0, n_img, n_pres)
    labels = img_label[images]

    def tuned(n):
        base = rng.uniform(0.02, 0.5, n)  # a wide spread of rates
        gain = rng.uniform(0.1, 1.0, (n, n_classes))
        p = np.clip(base[:, None] * gain / gain.mean(1, keepdims=True), 0, 0.95)
        return (rng.random((n, n_pres, T)) < p[:, labels, None]).reshape(n, -1).astype(np.uint8)

    src, tgt = tuned(n_src), tuned(n_tgt)
    src[:n_silent] = 0  # silent
    src[n_silent] = 0
    src[n_silent, ::T] = 1  # one spike per presentation: a flat tuning curve
    tgt[0] = 0
    tgt[0, 1::T] = 1  # a flat target
    source = _layer(src, "L1", images, labels)
    target = _layer(tgt, "L2", images, labels)
    act = np.flatnonzero(~source["silent"].values)
    z = rng.normal(0, 3, (n_tgt, act.size)) + 2.5
    s = np.abs(rng.normal(0, 0.1, (n_tgt, act.size)))
    pairs = xr.Dataset({"z": (("target", "source"), z), "sttc": (("target", "source"), s)},
                       coords={"target_neuron": ("target", np.arange(n_tgt)),
                               "source_neuron": ("source", act)},
                       attrs=dict(source_layer="L1", target_layer="L2", method="exact"))
    return source, target, fg.one_fc_groups(pairs)


def _members(g):
    return {int(t): set(fg.members(g, t).tolist()) for t in g["neuron"].values}


def _bins(rates, ids, n_bins):
    """Quantile bin of each id among ``rates`` (continuous rates: no ties), written out."""
    order = sorted(range(len(rates)), key=lambda i: rates[i])
    rank = {ids[i]: r for r, i in enumerate(order)}
    return {i: rank[i] * n_bins // len(rates) for i in ids}


def test_random_groups_match_sizes_and_rate_bins():
    rng = np.random.default_rng(1)
    n = 400
    rates = rng.gamma(2.0, 0.5, n) + 0.05  # continuous: no ties, so bins are determined
    quantile = np.argsort(np.argsort(rates)) / n
    z = rng.normal(0, 3, (60, n)) + 3.5 * quantile  # real groups prefer busy neurons
    g = fg.one_fc_groups(xr.Dataset(
        {"z": (("target", "source"), z), "sttc": (("target", "source"), np.ones_like(z))},
        attrs=dict(source_layer="L1", target_layer="L2", method="exact")))
    r = fcc.random_matched_groups(g, rates, rng=7, n_bins=10)
    np.testing.assert_array_equal(r["degree"].values, g["degree"].values)
    np.testing.assert_array_equal(r["neuron"].values, g["neuron"].values)
    assert r.attrs["control"] == "random" and r.attrs["method"] == "random_rate_matched"
    assert {k: r.attrs[k] for k in ("source_layer", "target_layer", "n_source")} == \
        {k: g.attrs[k] for k in ("source_layer", "target_layer", "n_source")}
    # the groups format: sorted by target then source, no duplicate member within a group
    key = r["target"].values * n + r["source"].values
    assert np.all(np.diff(key) > 0)
    bins = _bins(rates, list(range(n)), 10)
    width = max(np.ptp([rates[i] for i in bins if bins[i] == b]) for b in range(10))
    real, rand = _members(g), _members(r)
    shared = 0
    for t in real:
        assert sorted(bins[i] for i in rand[t]) == sorted(bins[i] for i in real[t])
        if real[t]:
            assert abs(np.median(rates[list(rand[t])]) - np.median(rates[list(real[t])])) <= width
        shared += len(rand[t] & real[t])
        assert r["shared"].sel(neuron=t).item() == len(rand[t] & real[t])
    n_edges = g.sizes["edge"]
    assert shared / n_edges < 0.2  # membership differs (real groups here are ~40 % of a bin)
    assert ks_2samp(rates[r["source"].values], rates[g["source"].values]).statistic < 0.05
    # while groups of the same sizes drawn without matching rates are told apart
    plain = np.concatenate([rng.choice(n, d, replace=False) for d in g["degree"].values])
    assert ks_2samp(rates[plain], rates[g["source"].values]).statistic > 0.1


def test_random_groups_are_reproducible_and_take_generators():
    source, target, g = _network()
    a = fcc.random_matched_groups(g, source["rate"], rng=3)
    b = fcc.random_matched_groups(g, source["rate"], rng=np.random.default_rng(3))
    c = fcc.random_matched_groups(g, source["rate"], rng=4)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a["source"].values, c["source"].values)
    # silent neurons (ids 0..5) are never drawn
    assert a["source"].values.min() >= 6 and c["source"].values.min() >= 6


def test_random_groups_refill_from_members_when_a_bin_runs_out():
    rates = np.array([0.1, 0.2, 0.3, 1.1, 1.2, 1.3])
    # target 0: all three low-rate neurons (bin 0 has no non-member left); target 1: two
    # of the low bin (one non-member left) and one of the high bin
    sig = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 1]], float)
    g = fg.one_fc_groups(xr.Dataset(
        {"z": (("target", "source"), sig * 9), "sttc": (("target", "source"), sig)},
        attrs=dict(source_layer="L1", target_layer="L2", method="exact")))
    for seed in range(5):
        r = fcc.random_matched_groups(g, rates, rng=seed, n_bins=2)
        m = _members(r)
        assert m[0] == {0, 1, 2} and r["shared"].values[0] == 3
        assert len(m[1]) == 3 and 2 in m[1] and len(m[1] & {0, 1}) == 1
        assert len(m[1] & {3, 4}) == 1 and r["shared"].values[1] == 1


def test_cofiring_of_control_groups_equals_a_loop():
    source, target, g = _network()
    ctrl = [fcc.random_matched_groups(g, source["rate"], rng=0),
            fcc.tuning_matched_groups(g, source, target, T)]
    src = source.values.astype(int)
    for c in ctrl:
        cof = fr.cofiring(source, c)
        want = np.array([[sum(src[s, f] for s in fg.members(c, t)) for f in range(src.shape[1])]
                         for t in c["neuron"].values])
        np.testing.assert_array_equal(cof.values, want)
        counts = fr.response_counts(cof, target)
        np.testing.assert_array_equal(counts["n_frames"].sum("cofiring").values, src.shape[1])
        fits = fr.fit_response(counts)
        assert fits.sizes["neuron"] == g.sizes["neuron"]


def test_tuning_curves_and_similarity_equal_loops():
    source, target, g = _network()
    tun = fcc.tuning_curves(source, T)
    lab = source["label"].values[::T]
    cnt = source.values.reshape(source.sizes["neuron"], -1, T).sum(2)
    classes = np.unique(lab)
    want = np.array([[cnt[i, lab == c].mean() for c in classes] for i in range(cnt.shape[0])])
    np.testing.assert_allclose(tun.values, want, rtol=1e-12)
    assert tun.dims == ("neuron", "class") and tun["class"].values.tolist() == classes.tolist()
    sim = fcc.tuning_similarity(source, target, T)
    assert sim.dims == ("target", "source")
    act = np.flatnonzero(~source["silent"].values)
    np.testing.assert_array_equal(sim["source"].values, act)
    tt = fcc.tuning_curves(target, T).values
    for a, t in enumerate(sim["target"].values):
        for b, s in enumerate(act):
            x, y = tt[t], want[s]
            if np.ptp(x) == 0 or np.ptp(y) == 0:
                assert sim.values[a, b] == -np.inf
            else:
                assert sim.values[a, b] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert np.isneginf(sim.sel(source=6)).all() and np.isneginf(sim.sel(target=0)).all()


def _similarity_loop(x, y, similarity):
    if similarity == "correlation":
        return np.corrcoef(x, y)[0, 1] if np.ptp(x) and np.ptp(y) else -np.inf
    nx, ny = np.sqrt(x @ x), np.sqrt(y @ y)
    return x @ y / (nx * ny) if nx and ny else -np.inf


@pytest.mark.parametrize("similarity", ["correlation", "cosine"])
def test_tuning_groups_are_the_most_similar_sources(similarity):
    source, target, g = _network()
    t = fcc.tuning_matched_groups(g, source, target, T, similarity=similarity, block=7)
    assert t.attrs["control"] == "tuning" and t.attrs["method"] == f"tuning_{similarity}"
    np.testing.assert_array_equal(t["degree"].values, g["degree"].values)
    tt, ts = fcc.tuning_curves(target, T).values, fcc.tuning_curves(source, T).values
    act = np.flatnonzero(~source["silent"].values)
    real = _members(g)
    for tid, mem in _members(t).items():
        k = len(real[tid])
        # slow twin: similarity pair by pair, undefined ones last, ties to the lower id
        r = [_similarity_loop(tt[tid], ts[s], similarity) for s in act]
        rank = sorted(range(act.size), key=lambda i: (-r[i], act[i]))
        assert mem == {int(act[i]) for i in rank[:k]}
        if 0 < k < act.size and np.isfinite(r[rank[k - 1]]):
            assert r[rank[k - 1]] - r[rank[k]] > 1e-9  # no near-tie decided by rounding
        if similarity == "correlation":  # the flat source is never chosen for a tuned target
            assert 6 not in mem or tid == 0
        assert t["shared"].sel(neuron=tid).item() == len(mem & real[tid])
        np.testing.assert_allclose(
            sorted(t["similarity"].values[t["target"].values == tid]),
            sorted(r[i] for i in rank[:k]), atol=1e-12)
    flat = [tid == 0 for tid in t["neuron"].values] if similarity == "correlation" else False
    np.testing.assert_array_equal(t["flat"].values, flat)


def test_tuning_groups_from_one_half_of_the_images():
    source, target, g = _network()
    a, b = fcc.image_halves(source, rng=0)
    ta = fcc.tuning_matched_groups(g, source.isel(frame=a), target.isel(frame=a), T)
    cof = fr.cofiring(source.isel(frame=b), ta)
    counts = fr.response_counts(cof, target.isel(frame=b))
    assert int(counts["n_frames"].sum("cofiring").values[0]) == int(b.sum())
    np.testing.assert_array_equal(ta["degree"].values, g["degree"].values)


def test_image_halves_keep_images_together_and_are_seeded():
    rng = np.random.default_rng(0)
    images = np.repeat(rng.integers(0, 25, 300), T)  # each presentation: T frames of one image
    a, b = fcc.image_halves(images, rng=11)
    assert a.dtype == bool and a.shape == images.shape
    assert not (a & b).any() and (a | b).all()
    assert not set(images[a]) & set(images[b])
    n_a, n_b = np.unique(images[a]).size, np.unique(images[b]).size
    assert abs(n_a - n_b) <= 1 and n_a + n_b == np.unique(images).size
    a2, b2 = fcc.image_halves(images, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, fcc.image_halves(images, rng=12)[0])
    da = xr.DataArray(np.zeros((2, images.size)), dims=("neuron", "frame"),
                      coords={"image": ("frame", images)})
    np.testing.assert_array_equal(fcc.image_halves(da, rng=11)[0], a)
    np.testing.assert_array_equal(fcc.image_halves(da.coords.to_dataset(), rng=11)[0], a)


def test_bad_inputs_raise_clear_errors():
    source, target, g = _network()
    rates = source["rate"]
    wrong = source.assign_attrs(layer="L3").assign_coords(layer=("neuron", np.full(80, "L3")))
    cases = [
        (lambda: fcc.random_matched_groups(g, rates.values[:50], rng=0), ValueError,
         "pass every neuron of L1"),
        (lambda: fcc.random_matched_groups(g, np.r_[rates.values, 0.3], rng=0), ValueError,
         "hold 75 analysed .*neurons but the groups were computed on 74"),
        (lambda: fcc.random_matched_groups(g, rates, rng=0, active=np.arange(80) != 1),
         ValueError, "hold 79 analysed"),
        (lambda: fcc.random_matched_groups(g, wrong["rate"], rng=0), ValueError,
         "rates are of layer L3"),
        (lambda: fcc.random_matched_groups(g, rates, rng=np.random.RandomState(0)), TypeError,
         "numpy.random.Generator"),
        (lambda: fcc.random_matched_groups(g, rates, rng=0.5), TypeError, "integer seed"),
        (lambda: fcc.random_matched_groups(g, rates, rng=0, n_bins=0), ValueError, "n_bins"),
        (lambda: fcc.random_matched_groups(g, rates, active=np.ones(3, bool)), ValueError,
         "boolean mask"),
        (lambda: fcc.tuning_matched_groups(g, wrong, target, T), ValueError,
         "source spikes are layer L3"),
        (lambda: fcc.tuning_matched_groups(g, source, source, T), ValueError,
         "target spikes are layer L1"),
        (lambda: fcc.tuning_matched_groups(g, source, target, 7), ValueError,
         "not a whole number of presentations of T=7"),
        (lambda: fcc.tuning_matched_groups(g, source, target, 2), ValueError,
         "step coordinate runs 0..3 but T=2"),
        (lambda: fcc.tuning_curves(source.isel(frame=slice(2, 962 - 4 * 2)), T), ValueError,
         "step coordinate"),
        (lambda: fcc.tuning_matched_groups(g, source, target.isel(frame=slice(0, 400)), T),
         ValueError, "frames"),
        (lambda: fcc.tuning_matched_groups(g, source, target, T, similarity="mi"), ValueError,
         "similarity must be one of"),
        (lambda: fcc.tuning_similarity(source, target, 0), ValueError, "T must be a positive"),
        (lambda: fcc.image_halves(np.zeros(8)), ValueError, "at least 2 distinct images"),
        (lambda: fcc.image_halves(np.zeros((2, 4))), ValueError, "1-D"),
        (lambda: fcc.image_halves(np.arange(8), rng="seed"), TypeError, "Generator"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            call()
    # control groups keep the real source layer, so cofiring refuses another layer's spikes
    r = fcc.random_matched_groups(g, rates, rng=0)
    with pytest.raises(ValueError, match="source spikes are layer L3"):
        fr.cofiring(wrong, r)


def _fisher_yates(items, m, us):
    """The first ``m`` of a partial Fisher-Yates shuffle of ``items`` driven by ``us``."""
    items = list(items)
    for j in range(m):
        r = min(j + int(us[j] * (len(items) - j)), len(items) - 1)
        items[j], items[r] = items[r], items[j]
    return items[:m]


def _draw_matched_loops(indptr, pos, bin_of, n_bins, u):
    """Slow twin of the rate-matched draw, with Python lists (same uniforms, same order)."""
    out, shared = [], []
    for i in range(len(indptr) - 1):
        mem = list(pos[indptr[i]:indptr[i + 1]])
        k, n_shared = indptr[i], 0
        for b in range(n_bins):
            own = [c for c in mem if bin_of[c] == b]
            free = [c for c in range(len(bin_of)) if bin_of[c] == b and c not in mem]
            if len(free) >= len(own):
                out += _fisher_yates(free, len(own), u[k:])
            else:
                out += free + _fisher_yates(own, len(own) - len(free), u[k + len(free):])
                n_shared += len(own) - len(free)
            k += len(own)
        shared.append(n_shared)
    return np.array(out, dtype=np.int64), np.array(shared)


@pytest.mark.parametrize("seed", range(6))
def test_rate_matched_draw_equals_loops(seed):
    rng = np.random.default_rng(seed)
    n, n_bins = int(rng.integers(5, 40)), int(rng.integers(1, 6))
    n_bins = min(n_bins, n)
    bin_of = np.sort(rng.permutation(n) * n_bins // n)[rng.permutation(n)]
    by_bin = np.argsort(bin_of, kind="stable")
    bin_ptr = np.r_[0, np.cumsum(np.bincount(bin_of, minlength=n_bins))]
    deg = rng.integers(0, n + 1, 12)  # up to whole layers: bins run out
    pos = np.concatenate([np.sort(rng.choice(n, d, replace=False)) for d in deg]).astype(np.int64)
    indptr = np.r_[0, np.cumsum(deg)].astype(np.int64)
    u = rng.random(pos.size)
    out = np.empty(pos.size, np.int64)
    shared = np.zeros(deg.size, np.int64)
    fcc._draw_matched(indptr, pos, bin_of, by_bin, bin_ptr, u, out, shared)
    want_out, want_shared = _draw_matched_loops(indptr, pos, bin_of, n_bins, u)
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(shared, want_shared)
    for i in range(deg.size):  # no member twice, bins kept
        got, real = out[indptr[i]:indptr[i + 1]], pos[indptr[i]:indptr[i + 1]]
        assert np.unique(got).size == got.size
        assert sorted(bin_of[got]) == sorted(bin_of[real])


def test_rate_matched_draw_is_uniform_within_a_bin():
    # one bin of 10 neurons, 3 of them members: each of the 7 others is drawn 3/7 of the time
    n_rep, bin_of = 20000, np.zeros(10, np.int64)
    pos = np.tile(np.array([1, 4, 8]), n_rep)
    indptr = np.arange(0, 3 * n_rep + 1, 3)
    out = np.empty(pos.size, np.int64)
    fcc._draw_matched(indptr, pos, bin_of, np.arange(10), np.array([0, 10]),
                      np.random.default_rng(0).random(pos.size), out, np.zeros(n_rep, np.int64))
    freq = np.bincount(out, minlength=10) / n_rep
    assert freq[[1, 4, 8]].sum() == 0
    np.testing.assert_allclose(np.delete(freq, [1, 4, 8]), 3 / 7, atol=4 * np.sqrt(0.25 / n_rep))


def test_control_tables_save_and_load_unchanged(tmp_path):
    source, target, g = _network()
    for c in (fcc.random_matched_groups(g, source["rate"], rng=0),
              fcc.tuning_matched_groups(g, source, target, T)):
        path = fg.save_groups(c, tmp_path / f"{c.attrs['control']}.nc")
        xr.testing.assert_identical(fg.load_groups(path), c)
