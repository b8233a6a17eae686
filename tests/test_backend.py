"""The torch backend of the statistics, on torch's CPU device, against the numba backend.

Counts are compared exactly; floats within their rounding (different summation order,
float32 FFTs); significance calls exactly except for z within 1e-3 of the threshold.
"""
import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")

import fclib  # noqa: E402
from fclib.stats import _torch  # noqa: E402
from fclib.stats import information as fi  # noqa: E402
from fclib.stats import sttc as fs  # noqa: E402
from fclib.stats.nulls import exact_null, shift_null, uncoupled_null_z  # noqa: E402
from fclib.stats.stimulus import stimulus_null, stimulus_permutation_null  # noqa: E402

CPU = dict(backend="torch", device="cpu")
NUMBA = dict(backend="numba")


def _trains(rng, n, L, p, silent=()):
    x = (rng.random((n, L)) < p).astype(np.uint8)
    x[list(silent)] = 0
    return x


def _layer(x):
    return xr.DataArray(x, dims=("neuron", "frame"),
                        coords={"neuron": np.arange(x.shape[0]) + 100})


def _same_calls(z_a, z_b, threshold=4.0, margin=1e-3):
    a, b = np.asarray(z_a, float), np.asarray(z_b, float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    clear = np.isfinite(a) & (np.abs(a - threshold) > margin)
    np.testing.assert_array_equal((a > threshold)[clear], (b > threshold)[clear])


@pytest.mark.parametrize("n_s, n_t, L, dt", [(13, 7, 200, 0), (5, 11, 97, 2), (1, 1, 3, 0),
                                              (4, 3, 2, 1), (20, 1, 64, 5)])
def test_sttc_and_counts_equal_numba(n_s, n_t, L, dt):
    rng = np.random.default_rng(n_s * 100 + L + dt)
    s, t = _layer(_trains(rng, n_s, L, 0.2, silent=[0])), _layer(_trains(rng, n_t, L, 0.4))
    a, b = fclib.sttc(s, t, dt, **CPU), fclib.sttc(s, t, dt, **NUMBA)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert a.dims == b.dims and (a["source_neuron"].values == b["source_neuron"].values).all()
    np.testing.assert_array_equal(fs.cofiring_counts(t.values, s.values, **CPU),
                                  fs.cofiring_counts(t.values, s.values, **NUMBA))


def test_all_firing_and_dilated_edge_cases():
    # trains firing in every frame (STTC 1 by the degenerate rule) and dt reaching the ends
    x = np.ones((3, 10), np.uint8)
    x[2, ::3] = 0
    for dt in (0, 1, 9):
        np.testing.assert_allclose(fclib.sttc(x, x[:2], dt, **CPU).values,
                                   fclib.sttc(x, x[:2], dt, **NUMBA).values, equal_nan=True)


def test_blocks_smaller_than_the_layer(monkeypatch):
    rng = np.random.default_rng(1)
    s, t = _trains(rng, 9, 150, 0.2), _trains(rng, 17, 150, 0.3)
    want = fclib.sttc(s, t, 1, **NUMBA).values
    calls = []
    real = _torch.run_blocks
    monkeypatch.setattr(_torch, "CPU_BUDGET", 1)  # one row per device block
    monkeypatch.setattr(_torch, "run_blocks",
                        lambda n, b, fn, dev, block=None: (calls.append(n), real(n, b, fn, dev, block)))
    got = fclib.sttc(s, t, 1, block=5, **CPU).values  # host blocks of 5, device blocks of 1
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert calls == [5, 5, 5, 2]


@pytest.mark.parametrize("n_s, n_t, L", [(12, 9, 300), (3, 5, 41), (2, 1, 2)])
def test_exact_null_equals_numba(n_s, n_t, L):
    rng = np.random.default_rng(L)
    s, t = _trains(rng, n_s, L, 0.15, silent=[1]), _trains(rng, n_t, L, 0.3)
    t[:, : L // 3] |= s[:1, : L // 3] if n_s > 0 else 0  # some coupling, some big z
    a = exact_null(s, t, moments=True, **CPU)
    b = exact_null(s, t, moments=True, **NUMBA)
    assert set(a.data_vars) == set(b.data_vars) and a.attrs == b.attrs
    np.testing.assert_array_equal(a["cofiring"].values, b["cofiring"].values)
    for v in ("sttc", "z", "null_mean", "null_sd", "cofiring_mean", "cofiring_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=2e-4, atol=1e-5,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"])


@pytest.mark.parametrize("dt", [0, 2])
def test_shift_null_equals_numba(dt):
    rng = np.random.default_rng(dt)
    s, t = _trains(rng, 8, 120, 0.2, silent=[3]), _trains(rng, 6, 120, 0.3)
    t[0] |= s[0]
    a = shift_null(s, t, n_shifts=30, min_shift=5, dt=dt, rng=4, **CPU)
    b = shift_null(s, t, n_shifts=30, min_shift=5, dt=dt, rng=4, **NUMBA)
    assert a.attrs["shifts"] == b.attrs["shifts"]
    for v in ("sttc", "z", "null_mean", "null_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"], threshold=3.0)


def test_sttc_zscore_every_method_on_both_backends():
    rng = np.random.default_rng(5)
    T, P = 4, 60
    stim = rng.integers(0, 6, P)
    s, t = _trains(rng, 7, T * P, 0.2), _trains(rng, 5, T * P, 0.3)
    for kw in (dict(method="exact"), dict(method="shifts", rng=2, n_shifts=20, min_shift=4),
               dict(method="shifts", rng=2, n_shifts=20, min_shift=4, dt=1),
               dict(method="stimulus", stimulus=stim, T=T),
               dict(method="stimulus", stimulus=stim, T=T, n_shuffles=15, rng=3)):
        a = fclib.sttc_zscore(s, t, **kw, **CPU)
        b = fclib.sttc_zscore(s, t, **kw, **NUMBA)
        np.testing.assert_allclose(a.values, b.values, rtol=2e-4, atol=1e-5, equal_nan=True,
                                   err_msg=str(kw))


def test_stimulus_null_equals_numba_with_dropped_presentations():
    rng = np.random.default_rng(9)
    T, P = 3, 50
    stim = rng.integers(0, 8, P)
    stim[:2] = [98, 99]  # stimuli shown once: dropped from the null and the observed STTC
    s, t = _trains(rng, 10, T * P, 0.25, silent=[2]), _trains(rng, 6, T * P, 0.3)
    a = stimulus_null(_layer(s), _layer(t), stim, T, moments=True, block=4, **CPU)
    b = stimulus_null(_layer(s), _layer(t), stim, T, moments=True, block=4, **NUMBA)
    assert a.attrs == b.attrs and a.attrs["dropped_frames"] == 2 * T
    np.testing.assert_array_equal(a["cofiring"].values, b["cofiring"].values)
    for v in ("sttc", "z", "null_mean", "null_sd", "cofiring_mean", "cofiring_sd"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-4, atol=1e-5,
                                   equal_nan=True, err_msg=v)
    _same_calls(a["z"], b["z"], threshold=2.0)
    p_a = stimulus_permutation_null(s, t, stim, T, n_shuffles=10, rng=1, **CPU)
    p_b = stimulus_permutation_null(s, t, stim, T, n_shuffles=10, rng=1, **NUMBA)
    np.testing.assert_allclose(p_a["z"].values, p_b["z"].values, rtol=1e-6, equal_nan=True)


def test_mutual_information_and_joint_histogram_equal_numba():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, (9, 80))
    counts[0] = 0  # a silent neuron: MI 0
    labels = rng.integers(0, 6, 80)
    np.testing.assert_array_equal(fi.joint_histogram(counts, labels, 7, **CPU),
                                  fi.joint_histogram(counts, labels, 7, **NUMBA))
    a = fi.mutual_information(counts, labels, 6, **CPU)
    np.testing.assert_allclose(a, fi.mutual_information(counts, labels, 6, **NUMBA),
                               rtol=1e-12, atol=1e-15)
    assert a[0] == 0
    T = 2
    spk = xr.DataArray(_trains(rng, 5, 80 * T, 0.3), dims=("neuron", "frame"),
                       coords={"label": ("frame", np.repeat(labels, T))})
    ia = fi.information(spk, T, n_shuffles=3, rng=0, **CPU)
    ib = fi.information(spk, T, n_shuffles=3, rng=0, **NUMBA)
    for v in ia.data_vars:
        np.testing.assert_allclose(ia[v].values, ib[v].values, rtol=1e-12, atol=1e-15, err_msg=v)


def test_uncoupled_null_z_passes_the_backend_through():
    rng = np.random.default_rng(2)
    s, t = _trains(rng, 6, 100, 0.2), _trains(rng, 4, 100, 0.3)
    a = uncoupled_null_z(s, t, n_shifts=10, min_shift=5, rng=1, **CPU)
    b = uncoupled_null_z(s, t, n_shifts=10, min_shift=5, rng=1, **NUMBA)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=2e-4, atol=1e-5)


# --------------------------------------------------------------------------- selection
def test_auto_is_numba_without_cuda(monkeypatch):
    monkeypatch.setattr(fs, "_cuda_present", lambda: False)
    assert fs.resolve_backend("auto") == ("numba", None)
    assert fs.resolve_backend("auto", "cpu") == ("numba", None)
    assert fs.resolve_backend("torch") == ("torch", torch.device("cpu"))
    monkeypatch.setattr(fs, "_cuda_present", lambda: True)
    assert fs.resolve_backend("auto", "cpu") == ("numba", None)


def test_auto_takes_torch_where_cuda_is_present(monkeypatch):
    monkeypatch.setattr(fs, "_cuda_present", lambda: True)
    monkeypatch.setattr(_torch, "device", lambda d=None: "cuda-stand-in")
    assert fs.resolve_backend("auto") == ("torch", "cuda-stand-in")


def test_cuda_present_matches_torch():
    fs._cuda_present.cache_clear()
    assert fs._cuda_present() == torch.cuda.is_available()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_cuda_without_cuda_names_the_devices_that_exist(backend):
    x = np.zeros((2, 5), np.uint8)
    with pytest.raises(RuntimeError, match=r"device 'cuda' does not exist here.*\['cpu'\]"):
        fclib.sttc(x, x, backend=backend, device="cuda")


def test_bad_backend_and_numba_on_a_gpu_are_refused():
    x = np.zeros((2, 5), np.uint8)
    with pytest.raises(ValueError, match="backend must be 'auto', 'numba' or 'torch'"):
        fclib.sttc(x, x, backend="cupy")
    with pytest.raises(ValueError, match="backend='numba' runs on the CPU"):
        fclib.sttc_zscore(x, x, backend="numba", device="cuda")


# --------------------------------------------------------------------------- limits
def test_frames_beyond_exact_float32_counts_are_refused(monkeypatch):
    monkeypatch.setattr(_torch, "MAX_FRAMES", 50)
    ok, long = np.zeros((2, 49), np.uint8), np.zeros((2, 50), np.uint8)
    fclib.sttc(ok, ok, **CPU)
    for call in (lambda: fclib.sttc(long, long, **CPU),
                 lambda: fclib.sttc_zscore(long, long, **CPU),
                 lambda: fs.cofiring_counts(long, long, **CPU),
                 lambda: shift_null(long, long, n_shifts=3, min_shift=5, rng=0, **CPU)):
        with pytest.raises(ValueError, match=r"exact below 2\*\*24 = 50 frames; this recording "
                                             r"has 50 frames.*backend='numba'"):
            call()


def test_real_limit_is_two_to_the_24():
    assert _torch.MAX_FRAMES == 2 ** 24
    with pytest.raises(ValueError, match="16777216 frames"):
        _torch.check_frames(2 ** 24)


def test_out_of_memory_halves_the_block_and_retries(monkeypatch):
    rng = np.random.default_rng(4)
    s, t = _trains(rng, 6, 90, 0.3), _trains(rng, 16, 90, 0.3)
    want = exact_null(s, t, **NUMBA)
    real = _torch.mm_counts
    sizes = []

    def flaky(a, b):
        sizes.append(a.shape[0])
        if a.shape[0] > 4:
            raise torch.cuda.OutOfMemoryError("simulated: CUDA out of memory")
        return real(a, b)

    monkeypatch.setattr(_torch, "mm_counts", flaky)
    got = exact_null(s, t, **CPU)
    assert sizes == [16, 8, 4, 4, 4, 4]
    np.testing.assert_allclose(got["z"].values, want["z"].values, rtol=2e-4, atol=1e-5,
                               equal_nan=True)


def test_a_single_row_that_does_not_fit_is_a_memory_error(monkeypatch):
    def oom(a, b):
        raise torch.cuda.OutOfMemoryError("simulated")

    monkeypatch.setattr(_torch, "mm_counts", oom)
    x = np.ones((3, 8), np.uint8)
    with pytest.raises(MemoryError, match="one row of .* does not fit on cpu"):
        fs.cofiring_counts(x, x, **CPU)


def test_importing_the_torch_kernels_does_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, fclib.stats._torch, fclib.stats.sttc as s; s.resolve_backend('numba'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_empty_layers_give_empty_results_on_both_backends():
    rng = np.random.default_rng(6)
    x, none = _trains(rng, 4, 30, 0.3), np.zeros((0, 30), np.uint8)
    for src, tgt in ((x, none), (none, x)):
        for kw in (CPU, NUMBA):
            e = exact_null(src, tgt, moments=True, **kw)
            sh = shift_null(src, tgt, n_shifts=3, min_shift=2, rng=0, **kw)
            assert e["z"].shape == sh["z"].shape == (tgt.shape[0], src.shape[0])
            assert fs.cofiring_counts(tgt, src, **kw).shape == (tgt.shape[0], src.shape[0])


def test_tiny_recordings_shift_null():
    rng = np.random.default_rng(8)
    s, t = _trains(rng, 3, 4, 0.5), _trains(rng, 2, 4, 0.5)
    for dt in (0, 1, 3):
        a = shift_null(s, t, n_shifts=5, min_shift=1, dt=dt, rng=2, **CPU)
        b = shift_null(s, t, n_shifts=5, min_shift=1, dt=dt, rng=2, **NUMBA)
        for v in ("sttc", "z", "null_mean", "null_sd"):
            np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-9, atol=1e-12,
                                       equal_nan=True)


@pytest.mark.parametrize("L, dt", [(1, 1), (5, 2), (5, 9), (50, 7)])
def test_dilation_equals_numba_path(L, dt):
    x = _trains(np.random.default_rng(L + dt), 6, L, 0.2)
    got = _torch.dilate(torch.from_numpy(x).float(), dt).numpy().astype(bool)
    np.testing.assert_array_equal(got, fs._dilate(x, dt).astype(bool))


def test_a_failed_block_is_freed_before_the_cache_goes_back(monkeypatch):
    """``empty_cache`` can only return the failed block's memory once nothing holds it:
    not the exception, not its traceback, not the frame of the block's code."""
    import weakref

    held, freed_at_release = [], []

    def work(i0, i1):
        block = torch.empty((i1 - i0, 64))
        held.append(weakref.ref(block))
        if i1 - i0 > 2:
            raise torch.cuda.OutOfMemoryError("simulated: CUDA out of memory")

    monkeypatch.setattr(torch.cuda, "empty_cache",
                        lambda: freed_at_release.append([r() is None for r in held]))
    _torch.run_blocks(8, 1, work, torch.device("cuda"), block=8)
    assert freed_at_release == [[True], [True, True]]  # 8 failed, then 4 failed, then 2 ran
    assert len(held) == 2 + 4


def test_the_budget_counts_the_allocators_cached_blocks(monkeypatch):
    gib = 2 ** 30
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda dev: (2 * gib, 80 * gib))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda dev: 10 * gib)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda dev: 4 * gib)
    dev = torch.device("cuda")
    assert _torch.available(dev) == 8 * gib  # free + cached but unused
    assert _torch.budget(dev) == int(8 * gib * _torch.CUDA_FRACTION)
    rows = []
    _torch.run_blocks(10 ** 6, gib // 100, lambda i0, i1: rows.append(i1 - i0), dev,
                      fixed_bytes=gib)
    assert rows[0] == int(8 * gib * _torch.CUDA_FRACTION - gib) // (gib // 100)


def test_a_source_layer_that_does_not_fit_names_itself(monkeypatch):
    def oom(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")

    monkeypatch.setattr(_torch, "upload", oom)
    x = np.ones((4, 50), np.uint8)
    with pytest.raises(MemoryError, match=r"the source layer's trains \(about 0.00 GiB\) does "
                                          r"not fit on cpu \(CUDA out of memory.*numba"):
        exact_null(x, x, **CPU)


def test_products_that_are_not_counts_run_in_ieee_fp32(monkeypatch):
    """With TF32 enabled process-wide, the exact null's spectra product and the stimulus
    null's feature products still run in IEEE float32 (and the setting is restored)."""
    mm = torch.backends.cuda.matmul
    if not hasattr(mm, "fp32_precision"):
        pytest.skip("this torch has no per-op TF32 flags")
    seen = []
    real = torch.mm

    def spy(a, b, *args, **kw):
        seen.append((a.dtype, mm.fp32_precision, torch.backends.mkldnn.matmul.fp32_precision))
        return real(a, b, *args, **kw)

    rng = np.random.default_rng(6)
    s, t = _trains(rng, 7, 200, 0.3), _trains(rng, 5, 200, 0.3)
    before = mm.fp32_precision
    monkeypatch.setattr(torch, "mm", spy)
    mm.fp32_precision = "tf32"
    try:
        got = exact_null(s, t, **CPU)
        stim = rng.integers(0, 5, 200 // 4)
        stimulus_null(s, t, stim, 4, **CPU)
        assert mm.fp32_precision == "tf32"
    finally:
        mm.fp32_precision = before
    assert len(seen) == 1 + 2  # one spectra product, two feature products (one block each)
    assert all(d == torch.float32 and p == "ieee" and q == "ieee" for d, p, q in seen)
    np.testing.assert_allclose(got["z"].values, exact_null(s, t, **NUMBA)["z"].values,
                               rtol=2e-4, atol=1e-5, equal_nan=True)


def test_spectra_and_mutual_information_in_blocks_equal_one_block(monkeypatch):
    rng = np.random.default_rng(8)
    x = torch.from_numpy(_trains(rng, 9, 64, 0.3)).float()
    joint = rng.integers(0, 9, (3, 4, 5, 6))
    cpu = torch.device("cpu")
    whole_s, whole_mi = _torch.spectra(x), _torch.mi_from_joint(joint, cpu)
    monkeypatch.setattr(_torch, "CPU_BUDGET", 1)  # one row per block
    # an FFT of one row and of nine round differently: equal within float32 rounding
    torch.testing.assert_close(_torch.source_spectra(x, cpu), whole_s, rtol=1e-5, atol=1e-5)
    got = _torch.mi_from_joint(joint, cpu)
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, whole_mi, rtol=1e-15)
    np.testing.assert_allclose(got, fi._mi_from_joint(joint), rtol=1e-12)


def test_shuffled_information_uploads_the_counts_once(monkeypatch):
    """information()'s label shuffles run on the device against counts uploaded once per
    block (not a histogram and a read-back per shuffle), and equal the per-shuffle path."""
    rng = np.random.default_rng(9)
    T, P = 2, 60
    labels = rng.integers(0, 4, P)
    spk = xr.DataArray(_trains(rng, 7, P * T, 0.3), dims=("neuron", "frame"),
                       coords={"label": ("frame", np.repeat(labels, T))})
    calls = []
    real = _torch.joint_histogram
    monkeypatch.setattr(_torch, "joint_histogram",
                        lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    got = fi.information(spk, T, n_shuffles=5, rng=3, **CPU)
    assert len(calls) == 1  # the unshuffled histogram only
    counts = fi.presentation_counts(spk, T).astype(np.int64)
    gen = np.random.default_rng(3)
    K = int(counts.max()) + 1
    monkeypatch.setattr(_torch, "CPU_BUDGET", 1)  # one neuron per block
    shuffles = [gen.permutation(labels) for _ in range(5)]
    cpu = torch.device("cpu")
    per_shuffle = np.mean([_torch.mi_from_joint(real(counts, lab, K, 4, cpu), cpu)
                           for lab in shuffles], axis=0)
    np.testing.assert_allclose(_torch.mean_shuffled_mi(counts, shuffles, K, 4, cpu),
                               per_shuffle, rtol=1e-12)
    np.testing.assert_allclose(got["mi_shuffled"].values, per_shuffle, rtol=1e-12)
    assert _torch.mean_shuffled_mi(counts, [], K, 4, cpu).tolist() == [0.0] * 7
