"""The network on a CUDA device against the CPU (``pytest -m gpu``; run by the device check).

Skipped without CUDA (CI collects them in the device check's dry run). Tiny networks, a few
seconds each after SpikingJelly's kernels compile: training and recording on CUDA with the
numerics the book states (IEEE fp32 inference: the CPU's raster up to float32 rounding;
fp32 membranes under amp; deterministic mode: a resumed run equals an uninterrupted one bit
for bit), and the helpers that take a model on CUDA.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

from fclib.io import datasets as data  # noqa: E402
from fclib.snn.models import build_model, small_sew_resnet_arch  # noqa: E402
from fclib.snn.train import evaluate, load_model, train  # noqa: E402
import fclib.snn.train as train_mod  # noqa: E402

TINY = small_sew_resnet_arch(10, 1, widths=(4, 8), blocks=(1, 1), stem_channels=4)
CFG = dict(epochs=2, batch_size=32, lr=0.1, momentum=0.9, weight_decay=0.0, augment="jitter",
           seed=0)


@pytest.fixture(scope="module")
def tiny_split():
    imgs, labels, names = data.load_digits(8)
    return data.split_dataset(imgs, labels, names, 0.3, rng=0, max_train=64, max_test=40)


def _active(model):
    """An untrained network that fires in every layer (BatchNorm scaled up)."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.fill_(3.0)
            m.bias.data.fill_(0.9)
    return model.eval()


def test_a_model_trained_on_cuda_predicts_alike_on_cpu_and_cuda(tiny_split, tmp_path):
    ck = train(TINY, tiny_split, tmp_path, progress=False, device="cuda", deterministic=True,
               **CFG)
    model, _ = load_model(tmp_path / "model.pt", TINY)
    assert next(model.parameters()).device.type == "cpu"
    x = torch.from_numpy(tiny_split.test_images)
    from fclib.snn.device import fp32_inference

    with torch.no_grad(), fp32_inference():
        cpu = model(x)
        gpu = model.to("cuda")(x.cuda()).cpu()
    # float32 rounding can move a membrane across the threshold, and one spike moves the
    # logits by more than rounding: most images agree within rounding, and on those the
    # decisions away from a tie are the same
    same = ((gpu - cpu).abs() <= 1e-4 + 1e-4 * cpu.abs()).all(1)
    assert same.float().mean() >= 0.95, f"{int((~same).sum())} of {len(x)} images differ"
    top2 = cpu.topk(2, dim=1).values
    clear = same & ((top2[:, 0] - top2[:, 1]) > 1e-3)
    assert torch.equal(gpu.argmax(1)[clear], cpu.argmax(1)[clear])
    acc_gpu, _ = evaluate(model, tiny_split.test_images, tiny_split.test_labels)
    acc_cpu, _ = evaluate(model.cpu(), tiny_split.test_images, tiny_split.test_labels)
    unclear = int((~clear).sum()) / len(x)
    assert abs(acc_gpu - acc_cpu) <= unclear
    assert abs(acc_gpu - ck["test_accuracy"]) <= unclear


def test_resumed_training_on_cuda_equals_the_uninterrupted_run(tiny_split, tmp_path,
                                                                monkeypatch):
    kw = dict(progress=False, device="cuda", deterministic=True, **CFG)
    full = train(TINY, tiny_split, tmp_path / "full", **kw)
    real_eval, calls = train_mod.evaluate, {"n": 0}

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first epoch's checkpoint
            raise KeyboardInterrupt
        return real_eval(*a, **k)

    monkeypatch.setattr(train_mod, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, tiny_split, tmp_path / "resumed", **kw)
    monkeypatch.setattr(train_mod, "evaluate", real_eval)
    resumed = train(TINY, tiny_split, tmp_path / "resumed", **kw)
    for k, v in full["model"].items():
        assert torch.equal(resumed["model"][k], v), f"{k} differs after resume on CUDA"
    assert resumed["history"][1]["loss"] == full["history"][1]["loss"]


def test_amp_training_keeps_fp32_membranes_and_contiguous_neuron_inputs(tiny_split, tmp_path,
                                                                         monkeypatch):
    from spikingjelly.activation_based import functional

    seen = []
    real = functional.plif_multi_step

    def spy(x_seq, v, *a, **k):
        seen.append((x_seq.dtype, x_seq.is_contiguous(), v.dtype, x_seq.device.type))
        return real(x_seq, v, *a, **k)

    monkeypatch.setattr(functional, "plif_multi_step", spy)
    ck = train(TINY, tiny_split, tmp_path, progress=False, device="cuda", amp=True,
               channels_last=True, **dict(CFG, epochs=1))
    assert seen and all(s == (torch.float32, True, torch.float32, "cuda") for s in seen)
    assert np.isfinite(ck["history"][0]["loss"])


def test_cuda_recording_is_the_cpu_raster(tiny_split, tmp_path):
    """IEEE fp32 on both (TF32 left on for convolutions, as CUDA's default): the rasters
    agree but for spikes whose membrane lies within float32 rounding of the threshold."""
    from fclib.io.recordings import open_recording
    from fclib.snn.record import record

    torch.manual_seed(0)
    model = _active(build_model(TINY))
    sched = data.presentation_params(40, len(tiny_split.test_images), 0, jitter=True)
    args = (model, tiny_split.test_images, tiny_split.test_labels, sched)
    cpu = open_recording(record(*args, tmp_path / "cpu.nc", budget=None, progress=False,
                                device="cpu"))
    with torch.autocast("cuda", dtype=torch.bfloat16):  # ignored: recording is fp32
        gpu = open_recording(record(*args, tmp_path / "gpu.nc", budget=None, progress=False,
                                    device="cuda", amp=True))
    assert next(model.parameters()).device.type == "cpu"  # the caller's model is put back
    for layer in cpu.layers:
        a, b = cpu[layer].values, gpu[layer].values
        assert a.mean() > 0.01, layer
        assert (a != b).mean() <= 1e-3, f"{layer}: {(a != b).mean():.2%} of spikes differ"


def test_fgsm_recording_is_reproducible_on_cuda_in_deterministic_mode(tiny_split, tmp_path):
    from fclib.io.recordings import open_recording
    from fclib.snn.perturb import fgsm
    from fclib.snn.record import record

    torch.manual_seed(0)
    model = _active(build_model(TINY))
    sched = data.presentation_params(24, len(tiny_split.test_images), 0, jitter=False)
    runs = [open_recording(record(model, tiny_split.test_images, tiny_split.test_labels, sched,
                                  tmp_path / f"fgsm{i}.nc", perturb=fgsm(model, 4 / 255),
                                  budget=None, progress=False, device="cuda",
                                  deterministic=True)) for i in range(2)]
    for layer in runs[0].layers:
        np.testing.assert_array_equal(runs[0][layer].values, runs[1][layer].values)


def test_helpers_take_a_model_on_cuda(tiny_split):
    from fclib.snn import mei
    from fclib.snn.generators import LatentGenerator, class_coverage
    from fclib.snn.matched import node_rates, rate_matched
    from fclib.snn.perturb import accuracy

    torch.manual_seed(0)
    cpu_model = _active(build_model(TINY))
    gpu_model = _active(build_model(TINY))
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model.cuda()
    x = tiny_split.test_images[:16]
    np.testing.assert_allclose(mei.class_probabilities(gpu_model, x),
                               mei.class_probabilities(cpu_model, x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mei.layer_activation(gpu_model, "L1", x),
                               mei.layer_activation(cpu_model, "L1", x), atol=0.05)
    gen = LatentGenerator("gan", d=2, n=4, size=8, native=8, hidden=8)
    cov = class_coverage(gen, gpu_model, n_samples=20)
    assert cov.shape == (10,) and cov.sum() == pytest.approx(1.0)
    acc = accuracy(gpu_model, tiny_split.test_images, tiny_split.test_labels, device="cuda")
    assert 0 <= acc <= 1 and next(gpu_model.parameters()).device.type == "cuda"
    base = build_model(TINY)
    model, rep = rate_matched(cpu_model, base, torch.from_numpy(x), device="cuda")
    assert next(model.parameters()).device.type == "cuda"
    assert next(cpu_model.parameters()).device.type == "cpu"  # borrowed and put back
    got = node_rates(model, torch.from_numpy(x).cuda())
    np.testing.assert_allclose(got.values, rep["rate"].values, rtol=1e-6)
