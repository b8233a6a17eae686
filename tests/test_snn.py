import numpy as np
import pytest
import torch

from fclib.io import datasets as data
from fclib.io.recordings import open_recording
from fclib.snn.models import build_model, small_sew_resnet_arch, sew_resnet18_arch
from fclib.snn.record import layer_shapes, record
from fclib.snn import train as train_mod
from fclib.snn.train import load_model, train

TINY = small_sew_resnet_arch(10, 1, widths=(4, 8), blocks=(1, 1), stem_channels=4)
CFG = dict(epochs=2, batch_size=32, lr=0.1, momentum=0.9, weight_decay=0.0, augment="jitter", seed=0)


@pytest.fixture(scope="module")
def tiny_split():
    imgs, labels, names = data.load_digits(8)
    return data.split_dataset(imgs, labels, names, 0.3, rng=0, max_train=64, max_test=20)


def test_layer_names_and_shapes():
    m = build_model(small_sew_resnet_arch())
    assert list(m.spiking_layers()) == [f"L{i}" for i in range(1, 13)]
    assert list(m.spiking_layers(include_stem=True))[0] == "L0"
    shapes = layer_shapes(m, (1, 16, 16))
    assert shapes["L1"] == (16, 16, 16) and shapes["L5"] == (32, 8, 8) and shapes["L12"] == (64, 4, 4)
    out = m(torch.rand(3, 1, 16, 16))
    assert out.shape == (3, 10)


def test_sew_resnet18_matches_the_paper():
    m = build_model(sew_resnet18_arch(100, 3))
    n_params = sum(p.numel() for p in m.parameters())
    assert 11.1e6 < n_params < 11.3e6  # "11.2 million parameters"
    assert m.stem[0].kernel_size == (3, 3) and m.stem[0].out_channels == 64
    assert not any(isinstance(x, torch.nn.MaxPool2d) for x in m.modules())
    from spikingjelly.activation_based import neuron
    assert all(isinstance(sn, neuron.ParametricLIFNode) for sn in m.spiking_layers().values())


def test_training_resumes_to_the_same_model(tiny_split, tmp_path, monkeypatch):
    full = train(TINY, tiny_split, tmp_path / "full", progress=False, **CFG)
    # interrupt a second run after its first epoch, then resume it
    real_eval = train_mod.evaluate
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_eval(*a, **k)

    monkeypatch.setattr(train_mod, "evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, tiny_split, tmp_path / "resumed", progress=False, **CFG)
    assert not (tmp_path / "resumed" / "model.pt").exists()
    assert [p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir()] == ["epoch_0000.pt"]
    monkeypatch.setattr(train_mod, "evaluate", real_eval)
    resumed = train(TINY, tiny_split, tmp_path / "resumed", progress=False, **CFG)
    assert len(resumed["history"]) == 2
    for k, v in full["model"].items():
        torch.testing.assert_close(resumed["model"][k], v, msg=f"{k} differs after resume")
    assert resumed["history"][1]["loss"] == pytest.approx(full["history"][1]["loss"])


def test_checkpoint_of_another_architecture_is_refused(tiny_split, tmp_path):
    train(TINY, tiny_split, tmp_path, progress=False, **dict(CFG, epochs=1))
    other = dict(TINY, widths=[4, 16])
    with pytest.raises(ValueError, match="another architecture"):
        load_model(tmp_path / "model.pt", other)
    with pytest.raises(ValueError, match="another architecture"):
        train(other, tiny_split, tmp_path, progress=False, **dict(CFG, epochs=1))
    (tmp_path / "junk.pt").write_bytes(b"")
    torch.save({"weights": 1}, tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="not an fclib checkpoint"):
        load_model(tmp_path / "junk.pt")


@pytest.mark.parametrize("budget", [8192, 40])  # every neuron; a central patch per channel
def test_recorded_spikes_equal_the_network_output(tiny_split, tmp_path, budget):
    torch.manual_seed(0)
    arch = dict(TINY, v_threshold=0.2)  # an untrained net that fires
    m = build_model(arch).eval()
    sched = data.presentation_params(6, len(tiny_split.test_images), rng=1)
    path = record(m, tiny_split.test_images, tiny_split.test_labels, sched, tmp_path / "r.nc",
                  batch_size=4, budget=budget, progress=False)
    rec = open_recording(path)
    shapes = {n: rec[n].attrs["layer_shape"] for n in rec.layers}
    assert any(rec[n].sizes["neuron"] < np.prod(shapes[n]) for n in rec.layers) == (budget < 8192)
    assert rec.layers == ["L1", "L2", "L3", "L4"] and rec.n_frames == 24
    # direct forward of presentation 5, captured with a hook
    x = torch.from_numpy(data.present(tiny_split.test_images, sched, 5, 6))
    got = {}
    hooks = [sn.register_forward_hook(lambda mod, i, o, n=n: got.__setitem__(n, o))
             for n, sn in m.spiking_layers().items()]
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    for name in rec.layers:
        da = rec[name]
        o = got[name][:, 0]  # (T, C, H, W)
        direct = o[:, da["channel"].values, da["y"].values, da["x"].values].numpy().T
        np.testing.assert_array_equal(da.isel(frame=slice(20, 24)).values, direct)
        assert set(np.unique(da.values)) <= {0, 1}
    assert rec["L1"].values.sum() > 0  # the comparison is not between empty trains
    fr = rec.frames()
    assert (fr["label"].values[::4] == tiny_split.test_labels[sched["image"]]).all()
    assert (fr["presentation"].values == np.repeat(np.arange(6), 4)).all()


def test_paper_profile_dry_run(tmp_path):
    """SEW-ResNet18 at the paper's configuration records generated 32x32 images."""
    torch.manual_seed(0)
    m = build_model(sew_resnet18_arch(100, 3)).eval()
    rng = np.random.default_rng(0)
    images = rng.random((3, 3, 32, 32), dtype=np.float32)
    labels = np.array([4, 7, 1])
    sched = data.presentation_params(3, 3, rng=0, jitter=False)
    rec = open_recording(record(m, images, labels, sched, tmp_path / "paper.nc",
                                batch_size=2, progress=False))
    assert rec.layers == [f"L{i}" for i in range(1, 17)]
    expected = [7744] * 4 + [8192] * 4 + [9216] * 4 + [8192] * 4
    assert [rec[n].sizes["neuron"] for n in rec.layers] == expected
    shapes = [tuple(rec[n].attrs["layer_shape"]) for n in rec.layers]
    assert shapes == [(64, 32, 32)] * 4 + [(128, 16, 16)] * 4 + [(256, 8, 8)] * 4 + [(512, 4, 4)] * 4
    assert all(rec[n].sizes["frame"] == 12 for n in rec.layers)
    assert rec["L13"]["x"].max() == 3  # the last layers keep every neuron


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(epochs=0), ValueError, "epochs must be >= 1"),
    (dict(lr=-1.0), ValueError, "lr must be > 0"),
    (dict(batch_size=2.5), TypeError, "batch_size must be int"),
    (dict(augment="blur"), ValueError, "augment must be"),
])
def test_bad_training_settings_are_refused_before_anything_is_written(tiny_split, tmp_path, kw,
                                                                       exc, msg):
    with pytest.raises(exc, match=msg):
        train(TINY, tiny_split, tmp_path / "run", progress=False, **dict(CFG, **kw))
    assert not (tmp_path / "run").exists()
