import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fclib.profiles import condition_file, resolve
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
    a = fp.uniform_noise(0.3, seed=1)(x, None)
    b = fp.uniform_noise(0.3, seed=1)(x, None)
    assert torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    inside = (x > 0.3) & (x < 0.7)  # not clipped there
    assert torch.all((a - x)[inside].abs() <= 0.3 + 1e-6)
    assert (a - x)[inside].abs().max() > 0.2
    with pytest.raises(ValueError, match=">= 0"):
        fp.uniform_noise(-1)


def test_fgsm_increases_the_loss_and_stays_within_eps(smoke_run):
    from fclib.pipeline import _arch
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


def test_permutation_keeps_each_layer_weight_multiset():
    m = _model()
    p = fp.permute_weights(m, seed=3)
    changed = 0
    for (name, a), (_, b) in zip(m.named_parameters(), p.named_parameters()):
        if name.endswith("weight") and a.dim() > 1:
            assert torch.equal(torch.sort(a.flatten()).values, torch.sort(b.flatten()).values)
            changed += int(not torch.equal(a, b))
        else:
            assert torch.equal(a, b), name  # biases, BN and neuron parameters untouched
    assert changed > 0
    assert torch.equal(fp.permute_weights(m, seed=3).fc.weight, p.fc.weight)  # seeded


def test_conditions_and_their_files():
    cfg = resolve("smoke", noise_amplitude=0.25, fgsm_eps=0.01)
    assert condition_file("noise", cfg) == "noise-a0.25.nc"
    assert condition_file("fgsm", cfg) == "fgsm-e0.01.nc"
    m = _model()
    assert fp.make_perturb("original", m, cfg) == (m, None)
    pm, pert = fp.make_perturb("permuted", m, cfg)
    assert pert is None and pm is not m
    with pytest.raises(ValueError, match="unknown condition"):
        fp.make_perturb("blur", m, cfg)
    with pytest.raises(ValueError, match="unknown condition"):
        condition_file("blur", cfg)
    x = np.random.default_rng(0).random((20, 1, 16, 16)).astype(np.float32)
    y = np.zeros(20, np.int64)
    assert 0.0 <= fp.accuracy(m, x, y) <= 1.0
