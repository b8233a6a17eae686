"""Tests of fclib.ttfs: exact TTFS spike times, Dale's law, training, and the 002 analyses."""
import math

import numpy as np
import pytest
from naive import ttfs_select

from fclib.ttfs import first_spike_times
from fclib.ttfs import analysis as ta
from fclib.ttfs import network as tn

E = math.e


def _euler_first_spikes(t_in, w, dt=1e-4, t_end=None):
    """The slow, obvious twin: integrate τ_s dI/dt = −I + Σ w δ(t − t_i), τ_m dV/dt = −V + I
    (τ = 1) with forward Euler (step ``dt``) and report the first threshold crossing (linear
    interpolation inside the step). An input arriving inside a step enters the current with
    the decay it has had since its arrival."""
    b, m = t_in.shape[0], w.shape[1]
    fin = np.isfinite(t_in)
    t_end = t_end or (np.max(np.where(fin, t_in, 0)) + 5.0)
    n = int(np.ceil(t_end / dt))
    arrive = np.where(fin, np.ceil(t_in / dt), -1).astype(np.int64)  # step that sees input
    events = {}
    for s, i in zip(*np.nonzero(fin)):
        events.setdefault(int(arrive[s, i]), []).append((s, i))
    out = np.full((b, m), np.inf)
    cur = np.zeros((b, m))
    v = np.zeros((b, m))
    for k in range(n + 1):
        t = k * dt
        for s, i in events.get(k, ()):
            cur[s] += w[i] * np.exp(-(t - t_in[s, i]))
        v_new = v + dt * (cur - v)
        cur -= dt * cur
        crossed = (v_new >= 1.0) & np.isinf(out)
        if crossed.any():
            frac = (1.0 - v[crossed]) / (v_new[crossed] - v[crossed])
            out[crossed] = t + frac * dt
        v = v_new
    return out


# --------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("t0", [0.0, 0.7, 3.2])
def test_single_input_known_answers(t0):
    out = first_spike_times(np.array([[t0]]), np.array([[E, E - 1e-6, 2 * E, 1.0]]))
    assert out[0, 0] == pytest.approx(t0 + 1.0, abs=1e-6)
    assert np.isinf(out[0, 1])
    # W0(-1/(2e)) = -0.231960953...
    assert out[0, 2] == pytest.approx(t0 + 0.23196095, abs=1e-7)
    assert np.isinf(out[0, 3])
    assert out.dtype == np.float64


def test_exact_times_match_euler_on_random_layers():
    gen = np.random.default_rng(3)
    t_in = gen.uniform(0, 2, size=(3, 12))
    t_in[0, 3] = np.inf
    w = gen.normal(0.35, 0.6, size=(12, 6))
    exact = first_spike_times(t_in, w)
    euler = _euler_first_spikes(t_in, w)
    assert np.isfinite(exact).sum() >= 6  # the case tests spikes, not only silence
    np.testing.assert_array_equal(np.isfinite(exact), np.isfinite(euler))
    fin = np.isfinite(exact)
    np.testing.assert_allclose(exact[fin], euler[fin], atol=1e-3)


def test_interval_kernel_equals_the_vectorised_formulation_exactly():
    """The numba walk over each neuron's sorted inputs gives the same spikes and the same
    float64 A, B as cumulative sums over every interval (tests/naive.py), so a training's
    weights do not move when the kernel replaces them."""
    from fclib.ttfs.neuron import _select

    gen = np.random.default_rng(5)
    n_spikes = 0
    for trial in range(60):
        b, n, m = (int(v) for v in gen.integers(1, 40, size=3))
        t_in = gen.uniform(0, 3, size=(b, n))
        t_in[gen.random((b, n)) < 0.2] = np.inf
        if trial % 10 == 0:
            t_in[0] = np.inf        # a sample without any input spike
        w = gen.normal(0.3 if trial % 2 else 0.05, 0.5, size=(n, m))
        found, A, B, r = _select(t_in, w)
        f0, A0, B0, r0 = ttfs_select(t_in, w)
        np.testing.assert_array_equal(found, f0)
        np.testing.assert_array_equal(r, r0)
        np.testing.assert_array_equal(A[found], A0[found])
        np.testing.assert_array_equal(B[found], B0[found])
        n_spikes += int(found.sum())
    assert n_spikes > 1000   # the comparison covers many spikes, not only silence


def test_membrane_potential_is_one_at_the_spike():
    from fclib.ttfs import membrane_potential

    gen = np.random.default_rng(0)
    t_in = gen.uniform(0, 2, size=(4, 10))
    w = gen.normal(0.5, 0.5, size=(10, 5))
    out = first_spike_times(t_in, w)
    for s, j in zip(*np.nonzero(np.isfinite(out))):
        v = membrane_potential(t_in[s:s + 1], w[:, j:j + 1], [out[s, j]])[0, 0, 0]
        assert v == pytest.approx(1.0, abs=1e-9)
        grid = np.linspace(0, out[s, j], 400)[:-1]
        assert membrane_potential(t_in[s:s + 1], w[:, j:j + 1], grid).max() < 1.0


def test_inhibition_after_spike_leaves_it_before_delays_it():
    base = first_spike_times(np.array([[0.5]]), np.array([[2 * E]]))[0, 0]
    after = first_spike_times(np.array([[0.5, base + 0.01]]), np.array([[2 * E], [-5.0]]))[0, 0]
    before = first_spike_times(np.array([[0.5, 0.6]]), np.array([[2 * E], [-1.0]]))[0, 0]
    assert after == base
    assert before > base + 1e-3


def test_input_order_and_silent_inputs_do_not_matter():
    gen = np.random.default_rng(1)
    t_in = gen.uniform(0, 2, size=(5, 8))
    w = gen.normal(0.5, 0.5, size=(8, 4))
    p = gen.permutation(8)
    np.testing.assert_allclose(first_spike_times(t_in, w), first_spike_times(t_in[:, p], w[p]))
    extra = np.concatenate([t_in, np.full((5, 1), np.inf)], axis=1)
    np.testing.assert_array_equal(first_spike_times(extra, np.vstack([w, 9 * np.ones((1, 4))])),
                                  first_spike_times(t_in, w))


def test_torch_path_equals_numpy_and_gradcheck():
    torch = pytest.importorskip("torch")
    gen = np.random.default_rng(2)
    t_in = gen.uniform(0, 2, size=(3, 6))
    t_in[1, 2] = np.inf
    w = gen.normal(0.7, 0.5, size=(6, 4))
    tt = torch.tensor(t_in, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    out = first_spike_times(tt, wt)
    np.testing.assert_allclose(out.detach().numpy(), first_spike_times(t_in, w), rtol=1e-12)
    fin = torch.isfinite(out.detach())
    assert fin.sum() >= 4

    def f(ti, wi):
        o = first_spike_times(ti, wi)
        return torch.where(fin, o, torch.zeros_like(o))

    assert torch.autograd.gradcheck(f, (tt, wt), eps=1e-6, atol=1e-5)  # inf input included


def test_lambertw_derivative():
    torch = pytest.importorskip("torch")
    from fclib.ttfs.neuron import lambertw0

    z = torch.tensor([-0.3, -0.2, -0.05, -1e-3], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambertw0, (z,), eps=1e-7, atol=1e-6)
    wv = lambertw0(z).detach()
    np.testing.assert_allclose((wv * torch.exp(wv)).numpy(), z.detach().numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("t_in, w, match", [
    (np.zeros((2, 3)), np.ones((4, 2)), "3 inputs per sample but weights has 4 rows"),
    (np.zeros(3), np.ones((3, 2)), "input_times must be 2-D"),
    (np.zeros((2, 3)), np.ones(3), "weights must be 2-D"),
    (np.array([[0.1, np.nan]]), np.ones((2, 1)), "NaN .* use np.inf"),
    (np.array([[0.1, -0.2]]), np.ones((2, 1)), "must be >= 0; sample 0, input 1"),
    (np.array([[0.1, 0.2]]), np.array([[1.0], [np.nan]]), "weights must be finite"),
])
def test_bad_layer_inputs(t_in, w, match):
    with pytest.raises(ValueError, match=match):
        first_spike_times(t_in, w)


@pytest.mark.parametrize("size, ratio, match", [
    (82, (3, 1), "82 neurons; an E:I split of 3:1 needs a positive multiple of 4"),
    (0, (3, 1), "positive multiple of 4"),
    (10, (0, 0), "two non-negative ints"),
])
def test_bad_ei_split(size, ratio, match):
    with pytest.raises(ValueError, match=match):
        tn.ei_split(size, ratio)


def test_bad_network_and_encoding():
    with pytest.raises(ValueError, match="hidden layer 2 has 30 neurons"):
        tn.init_weights(4, [8, 30], 2, rng=0)
    with pytest.raises(ValueError, match=r"pixel values must lie in \[0, x_max=16\]"):
        tn.encode(np.array([[0, 17.0]]))
    with pytest.raises(ValueError, match="unknown profile"):
        tn.ttfs_config("huge")


# --------------------------------------------------------------------------- network
def test_encoding_known_answers():
    t = tn.encode(np.array([[0.0, 16.0, 8.0]]))
    np.testing.assert_allclose(t, [[2.0, 0.15, 0.15 + 0.5 * 1.85]])
    j = tn.jitter_times(np.zeros((50, 4)), 0.3, rng=0)
    assert j.min() == 0.0


def test_dale_projection_idempotent_and_signed():
    gen = np.random.default_rng(0)
    ws = [gen.normal(size=(5, 8)), gen.normal(size=(8, 4)), gen.normal(size=(4, 3))]
    first = ws[0].copy()
    tn.dale_project(ws, [6, 3])
    assert (ws[1][:6] >= 0).all() and (ws[1][6:] <= 0).all()
    assert (ws[2][:3] >= 0).all() and (ws[2][3:] <= 0).all()
    np.testing.assert_array_equal(ws[0], first)  # input -> first hidden is free
    again = [w.copy() for w in ws]
    tn.dale_project(again, [6, 3])
    for a, b in zip(again, ws):
        np.testing.assert_array_equal(a, b)
    net = tn.init_weights(64, [8, 8], 10, rng=1)
    assert net.n_exc == [6, 6]
    assert (net.weights[1][:6] >= 0).all() and (net.weights[2][6:] <= 0).all()


def test_training_smoke_beats_chance(tmp_path):
    cfg = tn.ttfs_config("smoke", hidden=[20, 20], epochs=7, max_train=300, max_test=150)
    untrained, trained, data = tn.trained_network(cfg, tmp_path, progress=False)
    acc = tn.accuracy(trained, data[2], data[3])
    assert acc > max(0.2, tn.accuracy(untrained, data[2], data[3]) + 0.05), acc  # chance 0.1
    for l in range(1, len(trained.weights)):
        ne = trained.n_exc[l - 1]
        assert (trained.weights[l][:ne] >= 0).all() and (trained.weights[l][ne:] <= 0).all()
    files = [f for f in (tmp_path / "ttfs").iterdir() if f.name != ".locks"]
    assert len(files) == 1 and files[0].suffix == ".npz"  # no temporary file left behind
    _, again, _ = tn.trained_network(cfg, tmp_path, progress=False)  # from the cache
    for a, b in zip(again.weights, trained.weights):
        np.testing.assert_array_equal(a, b)
    assert again.history["test_acc"] == pytest.approx(trained.history["test_acc"])


# --------------------------------------------------------------------------- analyses
def test_spread_hand_built():
    times = {"input": np.array([[0.0, 1.0, 2.0, 3.0, np.inf], [1.0, 1.0, 1.0, 1.0, 1.0]]),
             "output": np.array([[2.5, 9.0], [np.inf, 1.5]])}
    s = ta.spike_spread(times, window=1.1).set_index(["layer", "spikes"])
    # trial 0: IQR of 0,1,2,3 = 1.5, SD = sqrt(1.25); trial 1: 0
    assert s.loc[("input", "all"), "iqr"] == pytest.approx(0.75)
    assert s.loc[("input", "all"), "sd"] == pytest.approx(math.sqrt(1.25) / 2)
    # before the decision (2.5 and 1.5): 0,1,2 (IQR 1, SD sqrt(2/3)) and 1,1,1,1,1 (0)
    assert s.loc[("input", "before decision"), "iqr"] == pytest.approx(0.5)
    assert s.loc[("input", "before decision"), "sd"] == pytest.approx(math.sqrt(2 / 3) / 2)
    # window [d - 1.1, d): 2 only in trial 0 (one spike: left out), all five in trial 1
    assert s.loc[("input", "window"), "iqr"] == 0.0
    assert s.loc[("input", "window"), "n_trials"] == 1


def test_information_gain_hand_built():
    labels = np.repeat(np.arange(4), 25)
    one_class = labels == 2
    uniform = np.ones(100, dtype=bool)
    half = np.isin(labels, [0, 1])
    rare = np.zeros(100, dtype=bool)
    rare[:5] = True
    ig = ta.information_gain(np.stack([one_class, uniform, half, rare], 1), labels, min_trials=10)
    assert ig[0] == pytest.approx(1.0)
    assert ig[1] == pytest.approx(0.0, abs=1e-12)
    assert ig[2] == pytest.approx(0.5)  # H = 1 bit of 2 bits
    assert np.isnan(ig[3])
    null = ta.information_gain_null(np.stack([one_class, uniform], 1), labels, n_shuffles=10, rng=0)
    assert null.shape == (10, 2)
    assert np.nanmax(null[:, 0]) < 0.5
    with pytest.raises(ValueError, match="one row per label"):
        ta.information_gain(np.ones((5, 2), bool), labels)


def test_pathways_hand_built():
    # 2 hidden layers of 4 (3 E + 1 I), 2 outputs; E0 of H2 drives class 0, E1 class 1
    w_out = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 0.1], [-1.0, -1.0]])
    w_mid = np.zeros((4, 4))
    w_mid[0, 0] = 2.0  # H1 E0 -> H2 E0 (class 0)
    w_mid[1, 1] = 3.0  # H1 E1 -> H2 E1 (class 1)
    w_mid[3, :] = -1.0
    pw = ta.class_pathways([np.ones((2, 4)), w_mid, w_out], [3, 3], top=0.34)
    s2, m2 = pw[2]
    np.testing.assert_allclose(s2, w_out[:3])
    assert m2[0].tolist() == [True, False, False] and m2[1].tolist() == [False, True, False]
    s1, m1 = pw[1]
    np.testing.assert_allclose(s1, [[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]])
    labels = np.array([0, 0, 1, 1])
    act = np.array([[1, 0, 1, 1], [1, 0, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]], float)
    t = np.where(act > 0, 0.5, np.inf)
    times = {"H1": t, "H2": t, "output": np.full((4, 2), 1.0)}
    spec = ta.pathway_specificity(pw, times, labels, {1: "H1", 2: "H2"})
    assert spec["preferred = class"].tolist() == [1.0, 1.0]
    assert spec["P(active|class) − P(active|other)"].tolist() == [1.0, 1.0]
    assert spec["Jaccard"].tolist() == [0.0, 0.0]


def test_binned_trains_and_group_overlap():
    import xarray as xr

    t = np.array([[0.05, np.inf, 0.25], [0.15, 0.19, 9.0]])
    tr = ta.binned_trains(t, bin_size=0.1, t_max=0.3)
    assert tr.dims == ("neuron", "frame") and tr.shape == (3, 6)
    np.testing.assert_array_equal(tr.values, [[1, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0],
                                              [0, 0, 1, 0, 0, 0]])
    groups = xr.Dataset({"target": ("edge", [0, 0, 1]), "source": ("edge", [0, 1, 2])})
    src = np.array([[True, False, False], [False, True, True]])
    tgt = np.array([[True, False], [False, True]])
    res = ta.group_pathway_overlap(groups, src, tgt)
    # target 0 (class 0): sources 0 (class 0) and 1 (class 1) -> 1/2; target 1: source 2 -> 1
    assert res["observed"] == pytest.approx(0.75)
    assert res["chance"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert res["n_targets"] == 2


def test_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import fclib.figures.ttfs as ft

    gen = np.random.default_rng(0)
    net = tn.init_weights(64, [8, 8], 10, rng=0)
    xtr, ytr, xte, yte = tn.load_digits_times(max_train=50, max_test=60)
    times = tn.forward(net, xte)
    spread = ta.spike_spread(times).assign(network="untrained")
    ig = ta.ig_table(times, yte, {"H1": 6, "H2": 6}, min_trials=2, n_shuffles=2, rng=gen)
    spec = ta.pathway_specificity(ta.class_pathways(net.weights, net.n_exc), times, yte,
                                  {1: "H1", 2: "H2"}).assign(network="untrained")
    hist = {"loss": [1.0, 0.5], "train_acc": [0.2, 0.4], "test_acc": [0.2, 0.5]}
    for fig in (ft.fig_ttfs_training(hist), ft.fig_ttfs_raster({"a": times}, {"H1": 6}, 0),
                ft.fig_ttfs_spread(spread, {"input": 0.17}),
                ft.fig_ttfs_information_gain(ig, {"E": [0.1], "I": [0.0]}),
                ft.fig_ttfs_pathways(spec)):
        assert fig.axes
        plt.close(fig)


def test_fclib_import_does_not_import_ttfs():
    import subprocess
    import sys

    code = "import sys, fclib, fclib.stats; print('fclib.ttfs' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
