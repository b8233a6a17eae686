"""Device selection, checkpoints across devices, snapshots, and runs refused before they start.

Everything here runs on the CPU; tests marked ``gpu`` run only where CUDA exists.
"""
import io
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fclib.io import datasets as data
from fclib.snn import device as fdev
from fclib.snn.models import build_model, small_sew_resnet_arch
from fclib.snn.train import _augment, load_model, load_snapshot, snapshot_path, train

TINY = small_sew_resnet_arch(10, 1, widths=(4, 8), blocks=(1, 1), stem_channels=4)
CFG = dict(epochs=2, batch_size=32, lr=0.1, momentum=0.9, weight_decay=0.0, augment="jitter",
           seed=0)
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def tiny_split():
    imgs, labels, names = data.load_digits(8)
    return data.split_dataset(imgs, labels, names, 0.3, seed=0, max_train=64, max_test=20)


def test_device_selection():
    assert fdev.resolve_device("cpu") == torch.device("cpu")
    want = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert fdev.resolve_device("auto") == torch.device(want)
    assert fdev.resolve_device(None) == torch.device(want)
    assert fdev.available_devices()[0] == "cpu"
    with pytest.raises(ValueError, match="'auto', 'cpu', 'cuda' or 'cuda:N'"):
        fdev.resolve_device("gpu")
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(RuntimeError, match=r"does not exist here; the devices that exist are \['cpu'"):
        fdev.resolve_device(f"cuda:{n}")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_without_cuda_names_the_devices_that_exist():
    with pytest.raises(RuntimeError, match=r"device 'cuda' does not exist here.*\['cpu'\]"):
        fdev.resolve_device("cuda")


def test_profile_refuses_unknown_device_backend_and_sample():
    from fclib.pipeline.profiles import resolve

    for name, bad in (("device", "gpu"), ("device", "cuda:x"), ("backend", "jax"),
                      ("sample", "half")):
        with pytest.raises(ValueError, match=name):
            resolve("smoke", **{name: bad})
    assert resolve("smoke", device="cuda:1")["device"] == "cuda:1"


def _as_if_saved_on_cuda(path):
    """Rewrite a torch checkpoint so that its tensors claim to live on cuda:0 (as a file
    written on a GPU machine does), without needing a GPU."""
    src = zipfile.ZipFile(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            blob = src.read(item.filename)
            if item.filename.endswith("data.pkl"):
                assert b"X\x03\x00\x00\x00cpu" in blob
                blob = blob.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(item, blob)
    path.write_bytes(buf.getvalue())


def test_checkpoint_written_on_a_gpu_loads_on_a_cpu(tiny_split, tmp_path):
    ck = train(TINY, tiny_split, tmp_path, progress=False, **dict(CFG, epochs=1), device="cpu")
    path = tmp_path / "model.pt"
    _as_if_saved_on_cuda(path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=False)  # what a naive load does
    model, loaded = load_model(path, TINY)
    for k, v in ck["model"].items():
        assert loaded["model"][k].device.type == "cpu"
        torch.testing.assert_close(loaded["model"][k], v)
    assert next(model.parameters()).device.type == "cpu"


def test_snapshots_are_kept_after_the_named_epochs(tiny_split, tmp_path):
    ck = train(TINY, tiny_split, tmp_path, progress=False, snapshot_epochs=[0, 1, 2],
               device="cpu", **CFG)
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [
        "epoch_0000.pt", "epoch_0001.pt", "epoch_0002.pt"]
    last, info = load_snapshot(tmp_path, 2, TINY)
    for k, v in ck["model"].items():
        torch.testing.assert_close(last.state_dict()[k], v)
    assert info["test_accuracy"] == ck["history"][-1]["test_accuracy"]
    torch.manual_seed(CFG["seed"])
    init = build_model(TINY)  # the snapshot at 0 is the initialisation, before any step
    first, info0 = load_snapshot(tmp_path, 0, TINY)
    for k, v in init.state_dict().items():
        torch.testing.assert_close(first.state_dict()[k], v)
    assert info0["history"] == [] and 0 <= info0["test_accuracy"] <= 1
    mid, _ = load_snapshot(tmp_path, 1)
    assert not torch.equal(mid.state_dict()["fc.weight"], last.state_dict()["fc.weight"])
    with pytest.raises(FileNotFoundError, match=r"kept \[0, 1, 2\]"):
        load_snapshot(tmp_path, 5)
    with pytest.raises(ValueError, match="snapshot_epochs"):
        train(TINY, tiny_split, tmp_path / "bad", progress=False, snapshot_epochs=[3],
              device="cpu", **CFG)
    assert not (tmp_path / "bad").exists()
    assert snapshot_path(tmp_path, 7).name == "epoch_0007.pt"


def _crop_one_by_one(x, oy, ox):
    """The earlier per-image crop, kept as the reference of the batched gather."""
    h, w = x.shape[-2:]
    xp = F.pad(x, (4, 4, 4, 4))
    return torch.stack([xp[i, :, oy[i]:oy[i] + h, ox[i]:ox[i] + w] for i in range(len(x))])


def test_batched_cifar_crop_equals_the_per_image_crop():
    x = torch.rand(16, 3, 8, 8)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    out = _augment(x, "cifar", g1)
    oy = torch.randint(0, 9, (16,), generator=g2)
    ox = torch.randint(0, 9, (16,), generator=g2)
    ref = _crop_one_by_one(x, oy, ox)
    flip = torch.rand(16, generator=g2) < 0.5
    ref[flip] = ref[flip].flip(-1)
    blur = torch.rand(16, generator=g2) < 0.5
    torch.testing.assert_close(out[~blur], ref[~blur])  # blurred ones differ only by the blur


def test_sample_all_records_every_neuron(tiny_split, tmp_path):
    from fclib.io.recordings import open_recording
    from fclib.snn.record import layer_shapes, record

    model = build_model(TINY)
    sched = data.presentation_params(6, len(tiny_split.test_images), 0, jitter=False)
    rec = open_recording(record(model, tiny_split.test_images, tiny_split.test_labels, sched,
                                tmp_path / "all.nc", budget=None, progress=False, device="cpu"))
    shapes = layer_shapes(model, tiny_split.test_images.shape[1:])
    for layer in rec.layers:
        assert rec[layer].sizes["neuron"] == int(np.prod(shapes[layer]))
    assert rec[rec.layers[0]].attrs.get("sampling", rec.attrs.get("sampling")) == \
        "all neurons of every layer"


@pytest.mark.parametrize("bad, match", [({"widths": [0, 0]}, "widths must list whole numbers >= 1"),
                                        ({"lr": -1.0}, "lr must be > 0"),
                                        ({"blocks": [1, 0]}, "blocks must list"),
                                        ({"momentum": 1.5}, "momentum")])
def test_a_model_that_cannot_be_built_is_refused_before_a_folder_is_made(tmp_path, bad, match):
    from fclib.pipeline import run

    with pytest.raises(ValueError, match=match):
        run("smoke", tmp_path / "data", progress=False, **bad)
    assert not (tmp_path / "data").exists()


def test_a_data_dir_that_cannot_be_written_is_named(tmp_path):
    from fclib.pipeline import run

    f = tmp_path / "afile"
    f.write_text("")
    with pytest.raises(NotADirectoryError, match=rf"data directory {f} is a file.*--data-dir"):
        run("smoke", f, progress=False)
    with pytest.raises(PermissionError, match=r"data directory /sys/fclib-data cannot be written"):
        run("smoke", "/sys/fclib-data", progress=False)


@pytest.mark.gpu
@cuda
def test_training_on_cuda_loads_on_cpu_and_matches_in_accuracy(tiny_split, tmp_path):
    ck = train(TINY, tiny_split, tmp_path, progress=False, device="cuda", **CFG)
    model, _ = load_model(tmp_path / "model.pt", TINY)
    assert next(model.parameters()).device.type == "cpu"
    from fclib.snn.train import evaluate

    acc, _ = evaluate(model, tiny_split.test_images, tiny_split.test_labels)
    assert acc == pytest.approx(ck["test_accuracy"], abs=0.051)
