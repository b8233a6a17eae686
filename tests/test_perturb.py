import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fclib.pipeline.profiles import condition_file, resolve
from fclib.snn import perturb as fp
from fclib.snn.models import build_model, small_sew_resnet_arch

TINY = small_sew_resnet_arch(10, 1, widths=(4, 8), blocks=(1, 1), stem_channels=4)


def _model():
    torch.manual_seed(0)
    m = build_model({**TINY, "T": 2})
    m.eval()
    return m


def test_noise_is_seeded_bounded_and_clipped():
    x = torch.rand(8, 1, 16, 16)
    a = fp.uniform_noise(0.3, rng=1)(x, None, np.arange(8))
    b = fp.uniform_noise(0.3, rng=1)(x, None)
    assert torch.equal(a, b)
    # each presentation gets its own draw, whatever the batches: resumable, batch-size free
    noise = fp.uniform_noise(0.3, rng=1)
    halves = torch.cat([noise(x[:3], None, np.arange(3)), noise(x[3:], None, np.arange(3, 8))])
    assert torch.equal(halves, a)
    assert not torch.equal(fp.uniform_noise(0.3, rng=2)(x, None), a)
    assert not torch.equal(a[0] - x[0], a[1] - x[1])
    assert a.min() >= 0 and a.max() <= 1
    inside = (x > 0.3) & (x < 0.7)  # not clipped there
    assert torch.all((a - x)[inside].abs() <= 0.3 + 1e-6)
    assert (a - x)[inside].abs().max() > 0.2
    with pytest.raises(ValueError, match=">= 0"):
        fp.uniform_noise(-1)


def test_fgsm_increases_the_loss_and_stays_within_eps(smoke_run):
    from fclib.pipeline.inputs import arch as _arch
    from fclib.snn.train import load_model

    split = smoke_run.split()
    m, _ = load_model(smoke_run.model_path, _arch(smoke_run.cfg, split))
    x = torch.from_numpy(split.test_images[:50])
    y = torch.from_numpy(split.test_labels[:50])
    xa = fp.fgsm(m, 0.1)(x, y)
    assert (xa - x).abs().max() <= 0.1 + 1e-6 and not xa.requires_grad
    assert xa.min() >= 0 and xa.max() <= 1
    with torch.no_grad():
        assert F.cross_entropy(m(xa), y) > F.cross_entropy(m(x), y) + 0.01
    assert fp.accuracy(m, split.test_images[:50], split.test_labels[:50], fp.fgsm(m, 0.1)) <= \
        fp.accuracy(m, split.test_images[:50], split.test_labels[:50])


def test_fgsm_on_a_subset_of_classes(smoke_run):
    from fclib.pipeline.inputs import arch as _arch
    from fclib.snn.train import load_model

    split = smoke_run.split()
    m, _ = load_model(smoke_run.model_path, _arch(smoke_run.cfg, split))
    x = torch.from_numpy(split.test_images[:50])
    y = torch.from_numpy(split.test_labels[:50])
    classes = fp.attacked_classes(10, 3, rng=0)
    assert len(classes) == 3 and len(set(classes.tolist())) == 3
    assert np.array_equal(classes, fp.attacked_classes(10, 3, rng=0))
    assert np.array_equal(fp.attacked_classes(10, 0, rng=0), np.arange(10))
    with pytest.raises(ValueError, match="fgsm_classes"):
        fp.attacked_classes(10, 11, rng=0)
    xa = fp.fgsm(m, 0.1, classes)(x, y)
    hit = np.isin(y.numpy(), classes)
    assert hit.any() and (~hit).any()
    assert torch.equal(xa[~torch.from_numpy(hit)], x[~torch.from_numpy(hit)])
    assert torch.equal(xa[torch.from_numpy(hit)], fp.fgsm(m, 0.1)(x, y)[torch.from_numpy(hit)])
    cfg = resolve("smoke", fgsm_classes=3)
    assert condition_file("fgsm", cfg) == "fgsm-e0.0156863-c3.nc"
    with pytest.raises(ValueError, match="fgsm_classes"):
        resolve("smoke", fgsm_classes=-1)
    assert resolve("paper")["fgsm_classes"] == 30


def test_permutation_keeps_each_layer_weight_multiset():
    m = _model()
    p = fp.permute_weights(m, rng=3)
    changed = 0
    for (name, a), (_, b) in zip(m.named_parameters(), p.named_parameters()):
        if name.endswith("weight") and a.dim() > 1:
            assert torch.equal(torch.sort(a.flatten()).values, torch.sort(b.flatten()).values)
            changed += int(not torch.equal(a, b))
        else:
            assert torch.equal(a, b), name  # biases, BN and neuron parameters untouched
    assert changed > 0
    assert torch.equal(fp.permute_weights(m, rng=3).fc.weight, p.fc.weight)  # seeded


def test_conditions_and_their_files():
    cfg = resolve("smoke", noise_amplitude=0.25, fgsm_eps=0.01)
    assert condition_file("noise", cfg) == "noise-a0.25.nc"
    assert condition_file("fgsm", cfg) == "fgsm-e0.01.nc"
    m = _model()
    assert fp.make_perturb("original", m, rng=cfg["seed"]) == (m, None)
    pm, pert = fp.make_perturb("permuted", m, rng=cfg["seed"])
    assert pert is None and pm is not m
    with pytest.raises(ValueError, match="unknown condition"):
        fp.make_perturb("blur", m)
    with pytest.raises(ValueError, match="unknown condition"):
        condition_file("blur", cfg)
    x = np.random.default_rng(0).random((20, 1, 16, 16)).astype(np.float32)
    y = np.zeros(20, np.int64)
    assert 0.0 <= fp.accuracy(m, x, y) <= 1.0


def test_interrupted_noise_recording_resumes_to_the_same_file(smoke_run, tmp_path):
    from fclib.io import datasets as fdata
    from fclib.pipeline.inputs import arch as _arch
    from fclib.io.recordings import open_recording
    from fclib.snn.record import record
    from fclib.snn.train import load_model

    split = smoke_run.split()
    m, _ = load_model(smoke_run.model_path, _arch(smoke_run.cfg, split))
    sched = fdata.presentation_params(20, len(split.test_images), 1)
    noise = fp.uniform_noise(0.3, rng=5)
    args = (m, split.test_images, split.test_labels, sched)
    kw = dict(condition="noise", budget=64, progress=False)
    full = record(*args, tmp_path / "full.nc", perturb=noise, batch_size=8, **kw)

    def failing(x, y, index):
        if index[0] >= 8:
            raise KeyboardInterrupt  # killed during the second batch
        return noise(x, y, index)

    with pytest.raises(KeyboardInterrupt):
        record(*args, tmp_path / "resumed.nc", perturb=failing, batch_size=8, **kw)
    assert (tmp_path / "resumed.nc.part").exists() and not (tmp_path / "resumed.nc").exists()
    seen = []

    def counting(x, y, index):
        seen.append(int(index[0]))
        return noise(x, y, index)

    record(*args, tmp_path / "resumed.nc", perturb=counting, batch_size=5, **kw)
    assert seen == [8, 13, 18]  # only the presentations not yet on disk
    a, b = open_recording(full), open_recording(tmp_path / "resumed.nc")
    assert a.layers == b.layers
    for layer in a.layers:
        np.testing.assert_array_equal(a[layer].values, b[layer].values)
        np.testing.assert_array_equal(a[layer]["rate"].values, b[layer]["rate"].values)
