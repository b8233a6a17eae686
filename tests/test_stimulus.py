import itertools

import numpy as np
import pytest
import xarray as xr

from fclib.stats.nulls import exact_null
from fclib.stats.stimulus import (_design, _features, stimulus_null,
                                  stimulus_permutation_null)
from fclib.stats.sttc import sttc


# ----------------------------------------------------------------------------- naive twins
def naive_features(trains, labels, T):
    """Per-stimulus spike sums A (n, G, T) and full T x T scatter matrices S (n, G, T, T),
    float64, one stimulus at a time; and the presentations per stimulus ``m``."""
    n = trains.shape[0]
    x = trains.reshape(n, -1, T).astype(np.float64)
    stims = np.unique(labels)
    A = np.stack([x[:, labels == g].sum(axis=1) for g in stims], axis=1)
    m = np.array([(labels == g).sum() for g in stims], dtype=np.float64)
    S = np.stack([np.einsum("npk,npl->nkl", x[:, labels == g], x[:, labels == g])
                  for g in stims], axis=1) - A[..., :, None] * A[..., None, :] / m[:, None, None]
    return A, S, m


def naive_moments(source, target, labels, T):
    """Exact co-firing count, its null mean and variance in float64, from the formulas with
    full scatter matrices (no symmetric packing, no centring), and STTC on those frames."""
    A_s, S_s, m = naive_features(source, labels, T)
    A_t, S_t, _ = naive_features(target, labels, T)
    n_s, n_t = source.shape[0], target.shape[0]
    E = (A_t / m[:, None]).reshape(n_t, -1) @ A_s.reshape(n_s, -1).T
    V = (S_t / (m - 1)[:, None, None]).reshape(n_t, -1) @ S_s.reshape(n_s, -1).T
    C = np.rint(target.astype(np.float64) @ source.T.astype(np.float64)).astype(np.int64)
    return C, E, V


def enumerate_null(source, target, labels, T):
    """Every within-stimulus permutation of the source's presentations: the co-firing counts
    and STTC of all pairs, stacked ``(n_permutations, n_target, n_source)``."""
    n_s = source.shape[0]
    x = source.reshape(n_s, -1, T)
    members = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    counts, values = [], []
    for choice in itertools.product(*(itertools.permutations(g) for g in members)):
        perm = np.empty(labels.size, dtype=int)
        for g, p in zip(members, choice):
            perm[g] = p
        shuffled = x[:, perm].reshape(n_s, -1)
        counts.append(target.astype(np.int64) @ shuffled.T.astype(np.int64))
        values.append(sttc(shuffled, target).values)
    return np.array(counts, dtype=np.float64), np.array(values)


def trains(rng, n, L, p):
    return (rng.random((n, L)) < p).astype(np.uint8)


def tuned_layer(rng, n, labels, T, n_stim, n_class=5, base=0.02, gain=0.3):
    """Neurons tuned to stimuli, uncoupled: neuron ``i`` prefers one of ``n_class`` classes
    of stimuli and fires with probability ``base + gain * u_i(k) w_i(g)`` at step ``k`` of
    the stimuli ``g`` of its class (``u``, ``w`` uniform), ``base`` elsewhere; every spike
    is drawn independently given the stimulus and step."""
    cls = np.arange(n_stim) % n_class
    pref = rng.integers(0, n_class, n)
    prob = base + gain * (cls[None, :, None] == pref[:, None, None]) \
        * rng.random((n, 1, T)) * rng.random((n, n_stim, 1))
    p = prob[:, labels, :].reshape(n, -1)
    return (rng.random(p.shape) < p).astype(np.uint8)


# ----------------------------------------------------------------------------- exact moments
@pytest.mark.parametrize("T", [2, 3])
def test_moments_equal_every_permutation_enumerated(T):
    # 2 stimuli shown 3 and 4 times: 3! 4! = 144 permutations, enumerated
    rng = np.random.default_rng(T)
    labels = rng.permutation(np.array([0] * 3 + [1] * 4))
    L = labels.size * T
    s, t = trains(rng, 3, L, 0.4), trains(rng, 4, L, 0.4)
    t[0] = s[0]  # a coupled pair
    counts, values = enumerate_null(s, t, labels, T)
    ds = stimulus_null(s, t, labels, T, moments=True)
    c_mean, c_sd = counts.mean(axis=0), counts.std(axis=0)
    c0 = t.astype(np.int64) @ s.T.astype(np.int64)
    silent = (t.sum(1)[:, None] == 0) | (s.sum(1)[None, :] == 0)
    c_mean[silent] = c_sd[silent] = np.nan  # undefined where a train is silent
    np.testing.assert_array_equal(ds["cofiring"].values, c0)
    np.testing.assert_allclose(ds["cofiring_mean"].values, c_mean, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(ds["cofiring_sd"].values, c_sd, rtol=1e-6, equal_nan=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (c0 - c_mean) / c_sd
    z[~(c_sd > 0)] = np.nan
    np.testing.assert_allclose(ds["z"].values, z, rtol=1e-6, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(ds["sttc"].values, sttc(s, t).values, rtol=1e-6)
    # STTC is increasing in the count but not affine: its null mean and sd are the
    # delta-method images of the exact count moments, f(E c) and f'(E c) sd c ...
    n_a, n_b = t.sum(1)[:, None], s.sum(1)[None, :]
    ta, tb = n_a / L, n_b / L
    f = 0.5 * ((c_mean / n_a - tb) / (1 - c_mean / n_a * tb)
               + (c_mean / n_b - ta) / (1 - c_mean / n_b * ta))
    np.testing.assert_allclose(ds["null_mean"].values, f, rtol=1e-6, atol=1e-8, equal_nan=True)
    # ... which differ from the enumerated STTC moments at this tiny size (14-21 frames,
    # firing 40 %) by a fraction of the null's sd, as a second-order term does
    ok = ~silent
    assert np.all(np.abs(ds["null_mean"].values - values.mean(0))[ok] < 0.25 * values.std(0)[ok])
    np.testing.assert_allclose(ds["null_sd"].values[ok], values.std(0)[ok], rtol=0.2)


def test_features_kernel_equals_naive_scatter_matrices():
    rng = np.random.default_rng(0)
    T, labels = 3, rng.integers(0, 5, 40)
    x = trains(rng, 6, labels.size * T, 0.3)
    d = _design(labels, T, x.shape[1], x.shape[1])
    A, S, m = naive_features(x, labels, T)
    iu = np.triu_indices(T)
    for side, we, wv, off in (("source", 1.0, 1.0, 2.0), ("target", 1 / m, 1 / (m - 1), 1.0)):
        tot, fe, fv, vn = _features(x, d, side)
        np.testing.assert_array_equal(tot, A.sum(axis=1))
        centred = (A - m[:, None] * tot[:, None, :] / m.sum()) * np.reshape(we, (-1, 1))
        np.testing.assert_allclose(fe.reshape(6, -1, T), centred, rtol=1e-6, atol=1e-6)
        packed = S[:, :, iu[0], iu[1]] * np.reshape(wv, (-1, 1))
        packed[:, :, iu[0] != iu[1]] *= off
        np.testing.assert_allclose(fv.reshape(6, m.size, -1), packed, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(vn, np.linalg.norm(fv.astype(np.float64), axis=1), rtol=1e-12)


def test_float64_reference_at_the_papers_length():
    # 40,000 frames (10,000 presentations of T = 4, ~600 stimuli, some shown once), blocks
    # that do not divide the layers, and dense, bursty and strongly tuned neurons among
    # sparse ones: the float32 products against float64 formulas without centring
    rng = np.random.default_rng(7)
    T, P = 4, 10_000
    labels = rng.integers(0, 600, P)
    labels[:25] = np.arange(10_000, 10_025)  # 25 stimuli shown once
    L = P * T
    s, t = trains(rng, 203, L, 0.05), trains(rng, 157, L, 0.05)
    s[:20], t[:20] = trains(rng, 20, L, 0.3), trains(rng, 20, L, 0.3)
    s[20] = np.repeat(rng.random(P) < 0.1, T)
    tuning = rng.random((600, T)) < 0.05
    for x in (s[21:40], t[21:40]):
        x[:] = rng.random(x.shape) < 0.02 + 0.5 * tuning[labels % 600].reshape(1, L)
    t[40] = s[40] | (rng.random(L) < 0.03)  # coupled
    ds = stimulus_null(s, t, labels, T, moments=True, block=50)
    assert ds.attrs["dropped_frames"] == 25 * T
    keep = np.repeat(labels >= 10_000, T) == 0
    C, E, V = naive_moments(s[:, keep], t[:, keep], labels[labels < 10_000], T)
    z = (C - E) / np.sqrt(V)
    np.testing.assert_array_equal(ds["cofiring"].values, C)
    np.testing.assert_allclose(ds["cofiring_mean"].values, E, rtol=1e-6)
    np.testing.assert_allclose(ds["cofiring_sd"].values, np.sqrt(V), rtol=1e-5)
    err = np.abs(ds["z"].values - z) / np.maximum(1.0, np.abs(z))
    assert err.max() < 1e-4, f"z off by {err.max():.2g} relative"
    np.testing.assert_array_equal(ds["z"].values > 4, z > 4)
    assert ds["z"].values[40, 40] > 10


# ----------------------------------------------------------------------------- sampled twin
def test_permutation_twin_agrees_with_the_exact_moments_within_monte_carlo_error():
    rng = np.random.default_rng(3)
    T = 2
    labels = rng.permutation(np.array([0] * 3 + [1] * 4 + [2]))  # stimulus 2 shown once
    L = labels.size * T
    s, t = trains(rng, 3, L, 0.4), trains(rng, 4, L, 0.4)
    t[1] = s[2] | t[1]
    n = 2000
    keep = np.repeat(labels != 2, T)
    counts, values = enumerate_null(s[:, keep], t[:, keep], labels[labels != 2], T)
    exact = stimulus_null(s, t, labels, T, moments=True)
    twin = stimulus_permutation_null(s, t, labels, T, n_shuffles=n, rng=1, moments=True)
    assert twin.attrs["n_shuffles"] == n and twin.attrs["dropped_frames"] == T
    np.testing.assert_array_equal(twin["sttc"].values, exact["sttc"].values)
    for name, stack in (("cofiring", counts), ("null", values)):
        key_mean = "cofiring_mean" if name == "cofiring" else "null_mean"
        key_sd = "cofiring_sd" if name == "cofiring" else "null_sd"
        mu, sd = stack.mean(0), stack.std(0)
        m4 = ((stack - mu) ** 4).mean(0)
        # standard errors of a mean and a variance of n draws, from the exact distribution
        assert np.all(np.abs(twin[key_mean].values - mu) <= 5 * sd / np.sqrt(n) + 1e-6)
        var_se = np.sqrt((m4 - sd ** 4 * (n - 3) / (n - 1)) / n)
        assert np.all(np.abs(twin[key_sd].values ** 2 - sd ** 2) <= 5 * var_se + 1e-6)
    z, zt = exact["z"].values, twin["z"].values
    np.testing.assert_array_equal(np.isnan(zt), np.isnan(z))
    ok = np.isfinite(z)
    # z's sampling error: 1/sqrt(n) from the mean, |z| sqrt((kurtosis - 1) / 4n) from the sd
    assert np.all(np.abs(zt - z)[ok] <= 5 * np.sqrt((1 + z[ok] ** 2) / n))


def test_permutation_twin_is_seeded_and_rejects_other_rngs():
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(4), 5)
    s, t = trains(rng, 5, 60, 0.2), trains(rng, 3, 60, 0.2)
    a = stimulus_permutation_null(s, t, labels, 3, n_shuffles=50, rng=9)
    b = stimulus_permutation_null(s, t, labels, 3, n_shuffles=50, rng=np.random.default_rng(9))
    xr.testing.assert_identical(a, b)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        stimulus_permutation_null(s, t, labels, 3, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="rng must be"):
        stimulus_permutation_null(s, t, labels, 3, rng=1.5)


# ----------------------------------------------------------------------------- known answers
def _tuned_recording(seed, n=400, n_stim=50, reps=40, T=4):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(n_stim), reps))
    return (rng, labels, T, tuned_layer(rng, n, labels, T, n_stim),
            tuned_layer(rng, n, labels, T, n_stim))


def test_shared_tuning_fools_the_circular_null_but_not_the_stimulus_null():
    # 400 x 400 uncoupled tuned neurons, 50 stimuli x 40 presentations x T = 4
    _, labels, T, s, t = _tuned_recording(0)
    z = stimulus_null(s, t, labels, T)["z"].values
    zc = exact_null(s, t)["z"].values
    fpr = {th: float(np.nanmean(z > th)) for th in (3, 4)}
    fpr_circular = float(np.nanmean(zc > 4))
    assert np.isfinite(z).mean() > 0.99
    assert fpr_circular > 0.01   # ~2.9 %: thousands of pairs called for shared tuning
    assert fpr[4] < 5e-4         # measured 1.8e-4 (the count's null is right-skewed: a
    assert fpr[3] < 5e-3         # Gaussian tail gives 3e-5 at z > 4, 1.3e-3 at z > 3)
    assert fpr_circular > 50 * fpr[4]


def test_stimulus_null_recovers_planted_coupling_beyond_tuning():
    rng, labels, T, s, t = _tuned_recording(1)
    planted = [(j, (7 * j) % 400) for j in range(0, 400, 8)]  # 50 (target, source) pairs
    for j, i in planted:  # the target copies 20 % of the source's spikes
        t[j] |= s[i] & (rng.random(s.shape[1]) < 0.2)
    z = stimulus_null(s, t, labels, T)["z"].values
    hits = np.array([z[j, i] for j, i in planted])
    assert np.mean(hits > 4) >= 0.9
    others = np.ones_like(z, bool)
    others[tuple(np.array(planted).T)] = False
    assert np.nanmean(z[others] > 4) < 5e-4


# ----------------------------------------------------------------------------- edge cases
def test_dropped_presentations_are_left_out_of_observed_and_null():
    rng = np.random.default_rng(5)
    T = 3
    labels = np.array([4, 1, 1, 7, 1, 4, 9, 4, 4, 1])  # 7 and 9 shown once
    L = labels.size * T
    s, t = trains(rng, 4, L, 0.3), trains(rng, 5, L, 0.3)
    ds = stimulus_null(s, t, labels, T, moments=True)
    assert ds.attrs == {"method": "stimulus", "T": 3, "n_frames": 24, "dt": 0,
                        "dropped_frames": 6, "n_presentations": 8, "n_stimuli": 2}
    keep = np.repeat(~np.isin(labels, [7, 9]), T)
    ref = stimulus_null(s[:, keep], t[:, keep], labels[~np.isin(labels, [7, 9])], T,
                        moments=True)
    assert ref.attrs["dropped_frames"] == 0
    for name in ds.data_vars:
        np.testing.assert_allclose(ds[name].values, ref[name].values, rtol=1e-6, equal_nan=True)
    # spikes only in dropped presentations: silent on the kept frames
    s2 = s.copy()
    s2[0] = 0
    s2[0, 3 * T] = 1  # presentation 3 (stimulus 7)
    ds2 = stimulus_null(s2, t, labels, T)
    assert np.isnan(ds2["sttc"].values[:, 0]).all() and np.isnan(ds2["z"].values[:, 0]).all()


def test_null_without_spread_gives_nan():
    # per stimulus the source fires at both steps or neither, the target at exactly one step:
    # c = number of the source's double spikes, whatever the permutation (Var = 0)
    rng = np.random.default_rng(6)
    T = 2
    labels = np.repeat(np.arange(3), [3, 5, 7])
    P = labels.size
    src = np.repeat(rng.random((1, P)) < 0.5, T, axis=1).astype(np.uint8)
    tgt = np.zeros((1, P * T), np.uint8)
    tgt[0, np.arange(P) * T + rng.integers(0, T, P)] = 1
    src = np.concatenate([src, trains(rng, 1, P * T, 0.5)])  # and a source with spread
    _, _, V = naive_moments(src, tgt, labels, T)
    assert V[0, 0] == pytest.approx(0, abs=1e-12) and V[0, 1] > 0
    ds = stimulus_null(src, tgt, labels, T, moments=True)
    assert np.isnan(ds["z"].values[0, 0]) and ds["cofiring_sd"].values[0, 0] == 0
    assert ds["cofiring_mean"].values[0, 0] == pytest.approx(ds["cofiring"].values[0, 0])
    assert np.isfinite(ds["z"].values[0, 1])
    twin = stimulus_permutation_null(src, tgt, labels, T, n_shuffles=20, rng=0)
    assert np.isnan(twin["z"].values[0, 0])


def test_dataarrays_dask_and_coordinates():
    pytest.importorskip("dask")
    rng = np.random.default_rng(8)
    T, labels = 2, np.repeat(np.arange(6), 5)
    L = labels.size * T
    s = xr.DataArray(trains(rng, 13, L, 0.2), dims=("neuron", "frame"),
                     coords={"channel": ("neuron", np.arange(13) % 3)})
    t = xr.DataArray(trains(rng, 11, L, 0.2).T, dims=("frame", "neuron"),
                     coords={"unit_id": ("neuron", np.arange(100, 111))})
    ref = stimulus_null(s.values, t.values.T, labels, T, moments=True)
    lazy = stimulus_null(s.chunk({"neuron": 5}), t.chunk({"neuron": 4}), labels, T,
                         moments=True, block=4)
    assert lazy["z"].dims == ("target", "source")
    assert list(lazy["source_channel"].values) == list(s["channel"].values)
    assert list(lazy["target_unit_id"].values) == list(t["unit_id"].values)
    for name in ref.data_vars:
        assert lazy[name].dtype == ref[name].dtype
        np.testing.assert_allclose(lazy[name].values, ref[name].values, rtol=2e-5, atol=2e-6,
                                   equal_nan=True, err_msg=name)
    np.testing.assert_array_equal(lazy["z"].values > 4, ref["z"].values > 4)
    assert lazy["sttc"].dtype == np.float32 and lazy["z"].dtype == np.float32


_GOOD = {"T": 2, "n_frames": 20, "labels": np.repeat(np.arange(2), 5)}


@pytest.mark.parametrize("change, error, message", [
    ({"labels": np.repeat(np.arange(2), 4)}, ValueError, r"one label per presentation: .* = 10"),
    ({"labels": np.zeros((2, 5))}, ValueError, "one label per presentation"),
    ({"n_frames": 21}, ValueError, "21 frames is not a whole number of presentations of T=2"),
    ({"T": 2.0}, ValueError, r"T \(frames per presentation\) must be an int >= 1, got 2.0"),
    ({"T": 0}, ValueError, r"must be an int >= 1, got 0"),
    ({"labels": np.arange(10)}, ValueError, "nothing to permute"),
    ({"target_frames": 18}, ValueError, "source has 20 frames but target has 18"),
    ({"bad_value": 2}, ValueError, "0/1 spike trains"),
    ({"block": 0}, ValueError, "block must be an int >= 1"),
])
@pytest.mark.parametrize("fn", [stimulus_null, stimulus_permutation_null])
def test_bad_inputs(fn, change, error, message):
    c = {**_GOOD, **change}
    rng = np.random.default_rng(0)
    s = trains(rng, 3, c["n_frames"], 0.3)
    t = trains(rng, 2, c.get("target_frames", c["n_frames"]), 0.3)
    if "bad_value" in c:
        s[1, 3] = c["bad_value"]
    kw = {"block": c["block"]} if "block" in c else {}
    with pytest.raises(error, match=message):
        fn(s, t, c["labels"], c["T"], **kw)


def test_bad_number_of_permutations():
    rng = np.random.default_rng(0)
    s = trains(rng, 3, 20, 0.3)
    with pytest.raises(ValueError, match="n_shuffles must be an int >= 2, got 1"):
        stimulus_permutation_null(s, s, np.repeat(np.arange(2), 5), 2, n_shuffles=1)


def test_surrogate_within_stimulus_keeps_tuning_and_counts():
    from fclib.stats.stimulus import surrogate_within_stimulus

    rng = np.random.default_rng(5)
    T, stim = 3, np.array([0, 1, 0, 2, 1, 0, 3])          # stimulus 2 and 3 shown once
    x = (rng.random((6, stim.size * T)) < 0.4).astype(np.uint8)
    y = surrogate_within_stimulus(x, stim, T, rng=1)
    assert y.shape == x.shape and y.dtype == np.uint8
    for g in np.unique(stim):  # per stimulus and step: the same spike counts
        frames = (np.flatnonzero(stim == g)[:, None] * T + np.arange(T))
        np.testing.assert_array_equal(x[:, frames].sum(1), y[:, frames].sum(1))
        if (stim == g).sum() == 1:
            np.testing.assert_array_equal(x[:, frames], y[:, frames])
    # whole presentations move: every surrogate presentation is one of the train's own
    for i in range(x.shape[0]):
        own = {tuple(x[i, p * T:(p + 1) * T]) for p in range(stim.size)}
        assert all(tuple(y[i, p * T:(p + 1) * T]) in own for p in range(stim.size))
    np.testing.assert_array_equal(y, surrogate_within_stimulus(x, stim, T, rng=1))
