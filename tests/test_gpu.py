"""The statistics' torch backend on a CUDA device against the numba backend (``pytest -m gpu``).

Skipped where torch or CUDA is missing (CI); run on a GPU machine by
``benchmarks/gpu_check.py``. Moderate sizes: a few hundred neurons over 20,000 frames, so
that the blocks, the bf16 products with float32 accumulation and the FFTs run as at scale.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

import fclib  # noqa: E402
import fclib._precision  # noqa: E402
from fclib.stats import _torch  # noqa: E402
from fclib.stats import information as fi  # noqa: E402
from fclib.stats import sttc as fs  # noqa: E402
from fclib.stats.nulls import exact_null, shift_null  # noqa: E402
from fclib.stats.stimulus import stimulus_null  # noqa: E402

GPU = dict(backend="torch", device="cuda")
NUMBA = dict(backend="numba")
L = 20_000


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(0)
    s = (rng.random((384, L)) < 0.1).astype(np.uint8)
    t = (rng.random((256, L)) < 0.05).astype(np.uint8)
    t[:40] |= s[:40] & (rng.random((40, L)) < 0.3).astype(np.uint8)  # coupled pairs
    s[5] = 0  # a silent source
    return s, t


def _same_calls(a, b, threshold=4.0, margin=1e-3):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    clear = np.isfinite(a) & (np.abs(a - threshold) > margin)
    np.testing.assert_array_equal((a > threshold)[clear], (b > threshold)[clear])


def test_auto_is_torch_on_cuda():
    fs._cuda_present.cache_clear()
    assert fs.resolve_backend("auto")[0] == "torch"
    assert fs.resolve_backend("auto")[1].type == "cuda"


def test_counts_exact_on_cuda(layers):
    s, t = layers
    np.testing.assert_array_equal(fs.cofiring_counts(t, s, **GPU), fs.cofiring_counts(t, s, **NUMBA))
    print("count dtype on cuda:", _torch.count_dtype(torch.device("cuda:0")))


@pytest.mark.parametrize("dt", [0, 3])
def test_sttc_on_cuda(layers, dt):
    s, t = layers
    np.testing.assert_allclose(fclib.sttc(s, t, dt, **GPU).values,
                               fclib.sttc(s, t, dt, **NUMBA).values, rtol=1e-9, atol=1e-12,
                               equal_nan=True)


def test_exact_null_on_cuda(layers):
    s, t = layers
    a, b = exact_null(s, t, moments=True, **GPU), exact_null(s, t, moments=True, **NUMBA)
    np.testing.assert_array_equal(a["cofiring"].values, b["cofiring"].values)
    for v in ("sttc", "z", "null_mean", "null_sd", "cofiring_mean", "cofiring_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=2e-4, atol=1e-4,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"])


def test_shift_null_on_cuda(layers):
    s, t = layers
    a = shift_null(s[:64], t[:48], n_shifts=40, rng=1, **GPU)
    b = shift_null(s[:64], t[:48], n_shifts=40, rng=1, **NUMBA)
    for v in ("sttc", "z", "null_mean", "null_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-7, atol=1e-10,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"])


def test_stimulus_null_on_cuda(layers):
    s, t = layers
    T = 4
    stim = np.random.default_rng(1).integers(0, 50, L // T)
    a = stimulus_null(s[:128], t[:96], stim, T, moments=True, **GPU)
    b = stimulus_null(s[:128], t[:96], stim, T, moments=True, **NUMBA)
    np.testing.assert_array_equal(a["cofiring"].values, b["cofiring"].values)
    for v in ("sttc", "z", "cofiring_mean", "cofiring_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-4, atol=1e-4,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"])


def test_mi_on_cuda():
    rng = np.random.default_rng(2)
    counts, labels = rng.integers(0, 5, (500, 10_000)), rng.integers(0, 100, 10_000)
    np.testing.assert_array_equal(fi.joint_histogram(counts, labels, 100, **GPU),
                                  fi.joint_histogram(counts, labels, 100, **NUMBA))
    np.testing.assert_allclose(fi.mutual_information(counts, labels, 100, **GPU),
                               fi.mutual_information(counts, labels, 100, **NUMBA), rtol=1e-10)


def test_nulls_ignore_a_process_wide_tf32_setting(layers):
    """With TF32 on for every float32 product of the process, the exact and stimulus
    nulls still agree with numba as closely as in IEEE float32."""
    s, t = layers
    a = torch.randn(512, 4096, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    try:
        tf32 = a @ a.T
        with fclib._precision.ieee_fp32():
            ieee = a @ a.T
        assert not torch.equal(tf32, ieee)  # TF32 is really on here: the check has teeth
        got = exact_null(s, t, **GPU)
        T = 4
        stim = np.random.default_rng(1).integers(0, 50, L // T)
        got_stim = stimulus_null(s[:128], t[:96], stim, T, **GPU)
    finally:
        torch.set_float32_matmul_precision(before)
    want = exact_null(s, t, **NUMBA)
    for v in ("sttc", "z"):
        np.testing.assert_allclose(got[v].values, want[v].values, rtol=2e-4, atol=1e-4,
                                   equal_nan=True, err_msg=v)
    want_stim = stimulus_null(s[:128], t[:96], stim, T, **NUMBA)
    np.testing.assert_allclose(got_stim["z"].values, want_stim["z"].values, rtol=1e-4,
                               atol=1e-4, equal_nan=True)


def test_the_block_budget_is_the_memory_a_block_can_get():
    dev = torch.device("cuda:0")
    mib256 = 256 * 2 ** 20
    keep = torch.empty(mib256, dtype=torch.uint8, device=dev)
    del keep  # cached by the allocator, not in use: still available to a block
    free, total = torch.cuda.mem_get_info(dev)  # the driver no longer counts it as free
    assert free + mib256 <= _torch.available(dev) <= total
    assert _torch.budget(dev) == int(_torch.available(dev) * _torch.CUDA_FRACTION)
