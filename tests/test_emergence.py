"""Functional connectivity across training: the quantities on planted recordings, the table,
the rate-matched random network and the figures."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.stats.emergence import (LAYER_QUANTITIES, PAIR_QUANTITIES, emergence_summary,
                                   emergence_table, layer_quantities, pair_quantities,
                                   recording_quantities)

T = 4


def _layer(x, labels, name):
    return xr.DataArray(np.asarray(x, np.uint8), dims=("neuron", "frame"), name=name,
                        coords={"label": ("frame", np.repeat(labels, T))}, attrs={"layer": name})


def _planted(seed=0, n_pres=600, n_src=10, k_on=3):
    """Sources fire independently (p = 0.3); target 0 fires exactly when at least ``k_on`` of
    them co-fire (a step response); target 1 fires independently of everything."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_pres)
    L = n_pres * T
    src = rng.random((n_src, L)) < 0.3
    k = src.sum(0)
    tgt = np.stack([k >= k_on, rng.random(L) < 0.2])
    return _layer(src, labels, "A"), _layer(tgt, labels, "B"), k


def test_pair_quantities_recover_a_planted_group_and_its_step_response():
    src, tgt, k = _planted()
    q = pair_quantities(src, tgt, T, threshold=4.0, min_frames=5, n_classes=2)
    assert set(q) == set(PAIR_QUANTITIES)
    # every source drives target 0 and none target 1: 10 of the 20 pairs are edges
    assert q["significant fraction"] == pytest.approx(10 / 20)
    assert q["grouped fraction"] == pytest.approx(1 / 2)
    assert q["median group size"] == 10
    # p(fire | k) = [k >= 3]; the fit stops at saturation (k = 3): 0, 0, 0, 1 is a ReLU
    assert q["median ReLU R²"] == pytest.approx(1.0)
    assert q["selected fraction"] == pytest.approx(1.0)
    # the two lines meet where the response leaves zero, at k = 2 of a group of 10, and
    # the strong regime is every frame beyond it
    assert q["median intersection"] == pytest.approx(2 / 10, abs=1e-6)
    assert q["median strong share"] == pytest.approx(float((k > 2).mean()))


def test_pair_quantities_of_silent_or_unconnected_layers():
    src, tgt, _ = _planted(n_pres=100)
    silent = tgt.copy(data=np.zeros(tgt.shape, np.uint8))
    q = pair_quantities(src, silent, T, n_classes=2)
    assert all(np.isnan(v) for v in q.values())
    rng = np.random.default_rng(3)
    indep = tgt.copy(data=(rng.random(tgt.shape) < 0.2).astype(np.uint8))
    q = pair_quantities(src, indep, T, n_classes=2)
    assert q["significant fraction"] == 0 and q["grouped fraction"] == 0
    assert np.isnan(q["median group size"]) and np.isnan(q["median ReLU R²"])


def test_layer_quantities_known_rates_and_information():
    rng = np.random.default_rng(1)
    n_pres = 2000
    labels = rng.integers(0, 2, n_pres)
    fl = np.repeat(labels, T)
    x = np.stack([fl == 0, fl == 1, np.zeros_like(fl, bool)])  # two perfect coders, one silent
    q = layer_quantities(_layer(x, labels, "A"), T, n_classes=2, n_shuffles=5, rng=0)
    assert set(q) == set(LAYER_QUANTITIES)
    assert q["mean rate"] == pytest.approx(T / 3)   # T spikes per image of one class or the other
    assert q["silent fraction"] == pytest.approx(1 / 3)
    p0 = float((labels == 0).mean())
    h = -(p0 * np.log2(p0) + (1 - p0) * np.log2(1 - p0))   # each coder carries H(label)
    assert q["median MI"] == pytest.approx(h, abs=0.01)
    with pytest.raises(ValueError, match="whole number"):
        layer_quantities(_layer(x, labels, "A")[:, :-1], T)


class _Rec(dict):
    T = T
    attrs = {"class_names": ["a", "b"]}

    @property
    def layers(self):
        return list(self)


def test_recording_quantities_and_the_emergence_table():
    src, tgt, _ = _planted(n_pres=300)
    rec = _Rec(L1=src, L2=tgt)
    tab = recording_quantities(rec, min_frames=5, n_shuffles=2)
    assert set(tab["layer pair"]) == {"L1", "L2", "L1→L2"}
    assert len(tab) == 2 * len(LAYER_QUANTITIES) + len(PAIR_QUANTITIES)
    direct = pair_quantities(src, tgt, T, min_frames=5, n_classes=2)
    got = tab[tab["layer pair"] == "L1→L2"].set_index("quantity")["value"]
    assert got.to_dict() == pytest.approx(direct, nan_ok=True)

    per = {("trained", 0): tab, ("trained", 2): tab.assign(value=tab["value"] * 2),
           ("rate-matched", None): tab}
    acc = {("trained", 0): 0.1, ("trained", 2): 0.9, ("rate-matched", None): 0.12}
    out = emergence_table(per, acc)
    assert list(out.columns) == ["network", "epoch", "accuracy", "layer pair", "quantity",
                                 "value"]
    assert len(out) == 3 * len(tab)
    assert list(out["layer pair"].cat.categories) == ["L1", "L2", "L1→L2"]
    ctrl = out[out["network"] == "rate-matched"]
    assert ctrl["epoch"].isna().all() and (ctrl["accuracy"] == 0.12).all()
    e2 = out[(out["network"] == "trained") & (out["epoch"] == 2)]
    sig = e2.loc[(e2["layer pair"] == "L1→L2") & (e2["quantity"] == "significant fraction"),
                 "value"]
    assert float(sig.iloc[0]) == pytest.approx(2 * direct["significant fraction"])
    with pytest.raises(ValueError, match="no accuracy"):
        emergence_table(per, {("trained", 0): 0.1})

    summ = emergence_summary(out)                    # medians over layers / layer pairs
    assert len(summ) == 3 and summ.columns[0] == "accuracy"
    row = summ.loc[("trained", 2.0)]
    assert row["accuracy"] == 0.9
    assert row["significant fraction"] == pytest.approx(2 * direct["significant fraction"])
    rates = tab[tab["quantity"] == "mean rate"]["value"].to_numpy()
    assert row["mean rate"] == pytest.approx(2 * np.median(rates))
    assert summ.xs("rate-matched")["accuracy"].iloc[0] == 0.12


# --------------------------------------------------------------------------- rate matching
def _tiny(seed, x=None):
    """A tiny SEW-ResNet; with images ``x``, its BatchNorm statistics set on them and every
    affine a unit weight and a 0.5 bias, so every layer fires (a stand-in "trained" net)."""
    import torch

    from fclib.snn.models import build_model, small_sew_resnet_arch

    torch.manual_seed(seed)
    arch = small_sew_resnet_arch(n_classes=3, widths=[4, 8], blocks=[1, 1], stem_channels=4)
    model = build_model(arch)
    if x is not None:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0.5)
                m.momentum = 1.0
        with torch.no_grad():
            model.train()(x)
    return model.eval()


def test_threshold_gain_equals_input_gain():
    """The calibration's premise: with reset to 0, threshold / g is input * g."""
    import torch

    from fclib.snn.matched import spiking_nodes

    model = _tiny(0)
    x = torch.rand(6, 1, 16, 16)
    node = next(iter(spiking_nodes(model, x).values()))
    inp = torch.randn(4, 6, 4, 16, 16)
    with torch.no_grad():
        for g in (0.5, 3.0):
            node.reset()
            node.v_threshold = 1.0
            a = node(inp * g)
            node.reset()
            node.v_threshold = 1.0 / g
            b = node(inp)
            node.reset()
            assert a.sum() > 0 and torch.equal(a, b)


def test_rate_matched_network_fires_as_the_trained_one_layer_by_layer():
    import torch

    from fclib.snn.matched import node_rates, permuted_rate_matched, rate_matched

    torch.manual_seed(5)
    x = torch.rand(32, 1, 16, 16)
    trained = _tiny(0, x)                           # fires in every layer
    base = _tiny(1)                                 # another draw at initialisation: silent
    tol = 0.02
    model, rep = rate_matched(trained, base, x, tolerance=tol)
    want = node_rates(trained, x)
    got = node_rates(model, x)                      # an independent full forward pass
    assert list(rep.index) == list(want.index) and len(want) == 6
    assert (want > 0.01).all()
    assert rep["matched"].all()
    np.testing.assert_allclose(got.values, rep["rate"].values, rtol=1e-6)
    assert (np.abs(got - want) <= tol * want + 1e-12).all()
    assert not np.allclose(node_rates(base, x).values, want.values, rtol=0.1)
    assert float(base.stem[2].v_threshold) == 1.0   # the base is left unchanged
    _, rep = permuted_rate_matched(trained, x, rng=3, tolerance=tol)
    assert rep["matched"].all()
    with pytest.raises(ValueError, match="bracket 1"):
        rate_matched(trained, base, x, gain_range=(2, 10))


# --------------------------------------------------------------------------- the run and figures
def test_emergence_of_the_smoke_run_is_cached_and_rates_match(smoke_run):
    from fclib.pipeline import emergence as pe

    r = smoke_run
    tab = pe.emergence(r)
    assert set(tab.loc[tab["network"] == "trained", "epoch"]) == set(r.snapshot_epochs)
    acc = tab.drop_duplicates(["network", "epoch"]).set_index("network")
    assert set(acc.index) == {"trained", "rate-matched"}
    files = sorted((r.record_dir / "emergence").glob("*.csv"))
    assert len(files) == len(r.snapshot_epochs) + 1
    stamps = [f.stat().st_mtime_ns for f in files]
    again = pe.emergence(r)                          # reused, not recomputed
    pd.testing.assert_frame_equal(tab, again)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    # the smoke layers are recorded whole on the calibration presentations, so the recorded
    # rate of every layer is the calibrated one, and within tolerance of the trained model's
    rep = pe.matched_report(r)
    assert rep["matched"].all()
    rec = pe.matched_recording(r)
    assert rec.n_frames == rep.attrs["n_calibration"] * T
    last = r.snapshot_recording(max(r.snapshot_epochs))
    for i, layer in enumerate(rec.layers):
        node = f"blocks.{i // 2}.sn{i % 2 + 1}"
        matched = float(rec[layer].mean())
        assert matched == pytest.approx(rep.loc[node, "rate"], rel=1e-5)
        assert matched == pytest.approx(float(last[layer].mean()),
                                        rel=rep.attrs["tolerance"], abs=1e-4)


def _table():
    rows = []
    for net, epochs in (("trained", [0, 1, 3]), ("rate-matched", [None])):
        for e in epochs:
            for u in ("L1", "L2", "L1→L2"):
                for q in ("significant fraction", "median MI"):
                    rows.append((net, e, 0.1 if e in (0, None) else 0.5, u, q,
                                 0.0 if e == 0 else 1.0))
    tabs = {}
    for net, e, a, u, q, v in rows:
        tabs.setdefault((net, e), []).append((u, q, v))
    acc = {(net, e): a for net, e, a, *_ in rows}
    return emergence_table({k: pd.DataFrame(v, columns=["layer pair", "quantity", "value"])
                            for k, v in tabs.items()}, acc)


def test_emergence_figures_return_figures_with_their_panels():
    import matplotlib.pyplot as plt

    import fclib.figures.emergence as fe

    tab = _table()
    fig = fe.fig_emergence_curves(tab)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == "matched"
    plt.close(fig)
    fig = fe.fig_emergence_vs_accuracy(tab, ["median MI"])
    assert len(fig.axes) == 1
    plt.close(fig)
    rep = pd.DataFrame({"target": [0.1, 0.2], "rate": [0.1, 0.2], "base rate": [0.0, 0.3],
                        "gain": [3.0, 0.5]}, index=["stem.2", "blocks.0.sn1"])
    fig = fe.fig_matched_rates(rep)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="not in the table"):
        fe.fig_emergence_curves(tab, ["nonsense"])
