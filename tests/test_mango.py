"""MANGO (fclib.snn.mei, fclib.snn.generators, fclib.stats.mei): activation, search, tables."""
import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fclib.io import datasets as fdata  # noqa: E402
from fclib.io.recordings import open_recording  # noqa: E402
from fclib.optim import protes  # noqa: E402
from fclib.snn import generators as G  # noqa: E402
from fclib.snn import mei  # noqa: E402
from fclib.snn.models import build_model, small_sew_resnet_arch  # noqa: E402
from fclib.snn.record import record  # noqa: E402
from fclib.stats import mei as smei  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    arch = small_sew_resnet_arch(widths=(8, 16), blocks=(1, 1), stem_channels=8)
    model = build_model(arch).eval()
    with torch.no_grad():  # larger weights so that units fire
        for p in model.parameters():
            if p.dim() == 4:
                p.mul_(3.0)
    return model


def test_activation_equals_the_recorded_channel_mean(tiny, tmp_path):
    imgs, labels, _ = fdata.load_digits(16)
    imgs, labels = imgs[:6], labels[:6]
    sched = fdata.presentation_params(6, 6, 0, jitter=False)
    rec = open_recording(record(tiny, imgs, labels, sched, tmp_path / "r.nc", budget=None,
                                progress=False))
    x = imgs[sched["image"]]
    active = 0
    for layer in rec.layers:
        a = mei.layer_activation(tiny, layer, x)
        da = rec[layer]
        s = da.values.reshape(da.shape[0], 6, tiny.T).mean(2)  # (neuron, presentation)
        ch = da["channel"].values
        want = np.stack([s[ch == c].mean(0) for c in range(a.shape[1])], 1)
        np.testing.assert_allclose(a, want, atol=1e-6)
        active += int((a > 0).sum())
    assert active > 0  # the comparison saw spikes


def test_batched_equals_one_by_one(tiny):
    x = np.random.default_rng(0).uniform(0, 1, (7, 1, 16, 16)).astype(np.float32)
    a = mei.layer_activation(tiny, "L2", x, batch_size=3)
    b = np.concatenate([mei.layer_activation(tiny, "L2", x[i:i + 1]) for i in range(7)])
    np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="no spiking layer"):
        mei.layer_activation(tiny, "L9", x)


def test_generators_shapes_range_and_dataset_upsampling():
    native = G.digits_native(1 / 3, 0, max_train=20)
    imgs, labels, names = fdata.load_digits(16)
    want = fdata.split_dataset(imgs, labels, names, 1 / 3, 0, 20).train_images
    gen = G.LatentGenerator("gan", 16, 64, 16)
    np.testing.assert_allclose(gen.upsample(torch.from_numpy(native)).numpy(), want, atol=1e-6)
    idx = np.random.default_rng(0).integers(0, 64, (5, 16))
    for g in (gen, G.LatentGenerator("vqvae", 16, 32, 16)):
        x = g(idx % g.n).numpy()
        assert x.shape == (5, 1, 16, 16) and x.min() >= 0 and x.max() <= 1


def test_generators_train_save_and_load(tmp_path):
    native = G.digits_native(1 / 3, 0, max_train=40)
    for kind, kw in (("gan", dict(steps=5)), ("vqvae", dict(steps=5))):
        g1 = G.load_or_train(kind, tmp_path, "k", native, 16, **kw)
        g2 = G.load_or_train(kind, tmp_path, "k", native, 16, **kw)
        idx = np.zeros((2, g1.d), dtype=int)
        np.testing.assert_allclose(g1(idx).numpy(), g2(idx).numpy())
    assert not list(tmp_path.glob("*.part"))


def test_planted_unit_is_recovered():
    """A(x) = exp(-||x - g(z*)||² / s): PROTES finds an image as close to g(z*) as z* itself."""
    torch.manual_seed(1)
    gen = G.LatentGenerator("gan", 4, 8, 16)
    z_star = np.array([[1, 6, 3, 5]])
    target = gen(z_star).numpy()

    def f(idx):
        x = gen(idx).numpy()
        return np.exp(-((x - target) ** 2).sum((1, 2, 3)) / 0.5)

    i, y, _ = protes(f, 4, 8, 1500, rng=0)
    assert y > 0.999


def test_search_meis_table_and_cache_round_trip(tiny, tmp_path):
    gen = G.LatentGenerator("gan", 4, 8, 16)
    units = mei.pick_units({"L1": 8, "L2": 8}, 1, rng=0)
    res = mei.search_meis([(0, tiny)], gen, units, ["TT", "TT-s"], 20, progress=False)
    t = res["table"]
    assert len(t) == 4 and res["index"].shape == (4, 4) and res["trace"].shape == (4, 20)
    f = mei.unit_objective(tiny, t.loc[0, "layer"], int(t.loc[0, "channel"]), gen)
    assert f(res["index"][:1])[0] == pytest.approx(t.loc[0, "activation"])
    back = mei.load_search(mei.save_search(res, tmp_path / "s.npz"))
    pd.testing.assert_frame_equal(back["table"], t, check_dtype=False)
    np.testing.assert_array_equal(back["trace"], res["trace"])


def test_entropy_selectivity_and_lability_known_answers():
    assert smei.class_entropy(np.full(10, 0.1)) == pytest.approx(1.0)
    assert smei.class_entropy(np.eye(10)[3]) == pytest.approx(0.0)
    rows = []
    # unit a: selective for class 1 at epoch 1 and class 2 at epoch 2 (labile); b: once (stable);
    # c: strong but the methods disagree (never selective)
    for e, cls_a in ((1, 1), (2, 2)):
        for m in smei.TT_METHODS:
            rows.append(dict(epoch=e, layer="L1", channel=0, method=m, activation=0.9,
                             **{"class": cls_a}, probability=0.9, entropy=0.1))
            rows.append(dict(epoch=e, layer="L1", channel=1, method=m, activation=0.8 if e == 2 else 0.2,
                             **{"class": 4}, probability=0.8, entropy=0.2))
            rows.append(dict(epoch=e, layer="L2", channel=0, method=m, activation=0.9,
                             **{"class": smei.TT_METHODS.index(m)}, probability=0.9, entropy=0.2))
    t = pd.DataFrame(rows)
    sel = smei.selectivity(t)
    assert sel["selective"].sum() == 3
    spec = smei.specialisation(sel)
    assert spec.loc["L1", "labile"] == 0.5 and spec.loc["L1", "stable"] == 0.5
    assert spec.loc["L2", "non-specialised"] == 1.0
    first = smei.first_strong_epoch(sel).set_index(["layer", "channel"])["first_strong_epoch"]
    assert first[("L1", 1)] == 2 and first[("L1", 0)] == 1
    lat = np.zeros((len(t), 2))
    lat[:, 0] = 1.0
    d = smei.latent_distances(t, lat)
    assert np.allclose(d["euclidean"], 0) and np.allclose(d["cosine"], 0)


def test_complexity_orders_flat_below_noise():
    flat = np.zeros((1, 16, 16))
    noise = np.random.default_rng(0).uniform(0, 1, (1, 16, 16))
    c = smei.complexity(np.concatenate([flat, noise]))
    assert (c.loc[0] < c.loc[1]).all()


def test_neuron_activation_averages_to_the_channel_and_searches(tiny):
    x = np.random.default_rng(1).uniform(0, 1, (5, 1, 16, 16)).astype(np.float32)
    a = mei.layer_activation(tiny, "L2", x)
    from fclib.snn.record import layer_shapes

    C, H, W = layer_shapes(tiny, (1, 16, 16))["L2"]
    ch, yy, xx = (v.ravel() for v in np.meshgrid(np.arange(C), np.arange(H), np.arange(W),
                                                  indexing="ij"))
    n = mei.layer_activation(tiny, "L2", x, neurons=(ch, yy, xx))
    assert n.shape == (5, C * H * W)
    assert set(np.unique(n * tiny.T).round(6)) <= set(range(tiny.T + 1))  # k/T values
    np.testing.assert_allclose(n.reshape(5, C, H * W).mean(2), a, atol=1e-6)
    gen = G.LatentGenerator("gan", 4, 8, 16)
    res = mei.search_meis([(0, tiny)], gen, [("L2", 1, 2, 3), ("L1", 0)], ["TT"], 20,
                          progress=False)
    t = res["table"]
    assert list(t[["y", "x"]].itertuples(False, None)) == [(2, 3), (-1, -1)]
    f = mei.unit_objective(tiny, "L2", 1, gen, position=(2, 3))
    assert f(res["index"][:1])[0] == pytest.approx(t.loc[0, "activation"])


def test_hub_and_member_labels_matching_and_comparison():
    coords = pd.DataFrame({"channel": [0, 0, 1, 1, 2, 2], "y": [0, 1, 0, 1, 0, 1],
                           "x": 0, "rate": [0.1, 0.5, 1.0, 2.0, 2.1, 0.2]},
                          index=pd.Index(np.arange(6) + 10))
    mi = pd.Series(np.arange(6, dtype=float), index=coords.index)
    deg = pd.Series([1, 2, 3, 4, 5, 6], index=coords.index)
    h = smei.hub_table("L3", coords, deg, mi, quantile=0.9)
    assert h.loc[h["label"], "neuron"].tolist() == [15]  # top 20 % of both
    m = smei.member_table("L2", coords, [10, 11, 12, 13], edge_sources=[11, 11, 13])
    assert m["n_targets"].tolist() == [0, 2, 0, 1]
    assert m["label"].tolist() == [False, True, False, True]
    q = smei.member_table("L2", coords, [10, 11, 12, 13, 14], [11, 11, 11, 13, 13, 12, 14, 14],
                          quantile=0.9)  # out-degrees 0, 3, 1, 2, 2: top and bottom 10 %
    assert q["neuron"].tolist() == [10, 11] and q["label"].tolist() == [False, True]
    h.loc[h["neuron"] == 13, "label"] = True  # hubs 13 (rate 2.0) and 15 (0.2)
    p = smei.pick_labelled(h, 5, rng=0)
    pairs = {tuple(sorted(g["neuron"])) for _, g in p.groupby("pair")}
    assert pairs == {(13, 14), (10, 15)}  # nearest rates: 2.0 ~ 2.1, 0.2 ~ 0.1
    table = pd.DataFrame({"layer": "L3", "channel": p["channel"], "y": p["y"], "x": p["x"],
                          "activation": [1.0, 0.5, 0.75, 0.25],
                          "class": p["neuron"].map({13: 3, 15: 3, 14: 1, 10: 2}),
                          "probability": 0.9})
    trace = np.array([[0.2, 1.0, 1.0], [0.5, 0.5, 0.5], [0.0, 0.25, 0.75], [0.25, 0.25, 0.25]])
    per, summ = smei.compare_labelled(p, table, trace, preferred={13: 3, 15: 0, 14: 1, 10: 2})
    assert per["evaluations"].tolist() == [2, 1, 3, 1]
    assert summ.loc[True, "activation"] == 0.75 and summ.loc[False, "activation"] == 0.5
    assert summ.loc[True, "% match"] == 50 and summ.loc[False, "% match"] == 100
    assert summ.loc[True, "% full"] == 50 and summ.loc[False, "% full"] == 0


def test_labelled_meis_searches_each_neuron_once(tiny, tmp_path):
    gen = G.LatentGenerator("gan", 4, 8, 16)
    picked = pd.DataFrame({"neuron": [0, 1], "layer": "L2", "channel": [1, 2], "y": [0, 3],
                           "x": [2, 1], "rate": [1.0, 1.0], "label": [True, False],
                           "pair": [0, 0]})
    empty = picked.iloc[:0]
    out = mei.labelled_meis(tmp_path, "k", tiny, gen, {"a": picked, "b": empty}, 10,
                            preferred={"a": {0: 1, 1: 2}}, progress=False)
    per, summ = out["a"]
    assert len(out["search"]["table"]) == 2 and summ["n"].tolist() == [1, 1]
    f = mei.unit_objective(tiny, "L2", 2, gen, position=(3, 1))
    row = out["search"]["table"].query("channel == 2").index[0]
    assert f(out["search"]["index"][row:row + 1])[0] == pytest.approx(per.loc[1, "activation"])
    assert len(out["b"][0]) == 0 and len(out["b"][1]) == 0
