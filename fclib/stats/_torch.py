"""Torch kernels of the statistics (``backend="torch"``): STTC, its nulls, co-firing, MI.

Imported by the public functions only when the torch backend is asked for, and importing
this module does not import torch either (it is loaded at the first kernel call), so
``import fclib.stats.*`` stays torch-free. Each kernel mirrors a numba kernel of :mod:`fclib.stats.sttc`, :mod:`.nulls`,
:mod:`.stimulus` or :mod:`.information`, and the tests compare the two.

**Counts by matrix products.** For 0/1 trains ``A (n_a, L)`` and ``B (n_b, L)`` the
co-firing counts are ``A @ B.T``. The inputs are exact in any float format; the sums are
accumulated in float32, whose integers are exact up to ``2**24`` -- so recordings of
``MAX_FRAMES = 2**24`` frames or more are refused. On a CUDA device the trains are bf16 and
the product accumulates into float32 (``torch.mm(..., out_dtype=torch.float32)``, tensor
cores); a probe of a known count checks that once per device and falls back to float32
inputs where it is unavailable or inexact. On the CPU the inputs are float32.

**Blocks.** Work is cut into blocks of target rows sized from the memory a block can have:
on CUDA the driver's free memory plus what PyTorch's caching allocator holds but does not use
(``free + reserved - allocated``; cached blocks are reusable), less what the call keeps for
the whole source layer, times ``CUDA_FRACTION``; ``CPU_BUDGET`` bytes on the CPU. The bytes
of one row count every array alive at a block's peak (``_PAIR_ARRAYS`` float64 arrays per
pair, measured from the kernels' code). A block that runs out of memory is halved and
retried after its tensors are released and the cache is returned to the driver; only a
single row that does not fit is an error, as is a source layer that does not fit at all.

**Precision.** Products that are exact counts of 0/1 trains may use any input format (bf16,
TF32: 0 and 1 are exact, sums accumulate in float32). Products that are not counts (the
exact null's power spectra, the stimulus null's features) run under
:func:`fclib._precision.ieee_fp32` (:func:`fp32_product`), so a process that enabled TF32
(``torch.set_float32_matmul_precision("high")``) does not silently round the null's
variances to 10 mantissa bits.

**Formulas** (STTC, the exact null's delta method, the stimulus null's z, plug-in MI) are
evaluated elementwise in float64 on the device, in the order of the numba kernels.
"""
from __future__ import annotations

import numpy as np


class _LazyTorch:
    """Stands for the ``torch`` module until first used, then replaces itself with it."""

    def __getattr__(self, name):
        import torch as _torch_module

        globals()["torch"] = _torch_module
        return getattr(_torch_module, name)


torch = _LazyTorch()

MAX_FRAMES = 2 ** 24     # float32 counts are exact below this many frames
CPU_BUDGET = 1 << 30     # bytes a block may take on the CPU
CUDA_FRACTION = 0.6      # of the available device memory a block may take
# float64 (rows x cols) arrays alive at a block's peak, per kernel (counted from the code
# below: counts, the formula's temporaries, the accumulators and the results)
_PAIR_ARRAYS = {"cofiring": 2, "sttc": 16, "shift": 18, "exact": 22, "stimulus": 26}
_FAST_MM: dict[str, bool] = {}


def device(device=None) -> torch.device:
    """The torch device for ``device`` (``None``/``"auto"``: CUDA when present); a device
    that does not exist is an error naming those that do."""
    name = "auto" if device is None else str(device)
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        have = ["cpu", *[f"cuda:{i}" for i in range(n)]]
        index = 0 if name == "cuda" else int(name[5:])
        if index >= n:
            raise RuntimeError(f"device {name!r} does not exist here; the devices that exist "
                               f"are {have} (use device='auto' or 'cpu')")
        return torch.device(f"cuda:{index}")
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def check_frames(n_frames: int) -> None:
    if n_frames >= MAX_FRAMES:
        raise ValueError(f"the torch backend counts co-firing in float32, exact below 2**24 = "
                         f"{MAX_FRAMES} frames; this recording has {n_frames} frames. Use "
                         "backend='numba' (exact at any length) or split the recording")


def _oom_types() -> tuple:
    types = [torch.cuda.OutOfMemoryError]
    if hasattr(torch, "OutOfMemoryError"):
        types.append(torch.OutOfMemoryError)
    return tuple(types)


def available(dev: torch.device) -> int:
    """Bytes a new allocation can get on the CUDA device ``dev``: the driver's free memory
    plus the blocks PyTorch's caching allocator holds without using them."""
    free, _ = torch.cuda.mem_get_info(dev)
    return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))


def budget(dev: torch.device) -> int:
    """Bytes one block may take on ``dev``."""
    if dev.type == "cuda":
        return int(available(dev) * CUDA_FRACTION)
    return CPU_BUDGET


def row_bytes(L: int, n_cols: int, kernel: str, per_frame: int) -> int:
    """Bytes of one target row: ``per_frame`` bytes per frame (the row's trains and their
    transforms) and ``_PAIR_ARRAYS[kernel]`` float64 values per pair."""
    return int(L) * int(per_frame) + int(n_cols) * 8 * _PAIR_ARRAYS[kernel]


def _attempt(fn, i0: int, i1: int, bytes_per_row: int, dev) -> bool:
    """``fn(i0, i1)``; False if it ran out of memory. The exception (and with its traceback
    every tensor of the failed block) is gone when this returns, so the caller can hand the
    freed memory back before retrying."""
    try:
        fn(i0, i1)
    except _oom_types() as e:
        if i1 - i0 == 1:
            raise MemoryError(f"one row of {bytes_per_row} bytes does not fit on {dev}; free "
                              "device memory (other processes, cached tensors) or use "
                              "backend='numba'") from e
        return False
    return True


def release(dev: torch.device) -> None:
    """Return PyTorch's cached, unused blocks on ``dev`` to the driver (CUDA only)."""
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def run_blocks(n_rows: int, bytes_per_row: int, fn, dev: torch.device,
               block: int | None = None, fixed_bytes: int = 0) -> None:
    """Call ``fn(i0, i1)`` on successive blocks of rows; a block starts at the rows the
    budget (less ``fixed_bytes`` that every block needs whatever its rows) allows, or at
    ``block``, and halves on an out-of-memory error until one row fails."""
    b = block or max(1, (budget(dev) - int(fixed_bytes)) // max(int(bytes_per_row), 1))
    b = max(1, min(b, n_rows))
    i0 = 0
    while i0 < n_rows:
        i1 = min(n_rows, i0 + b)
        if _attempt(fn, i0, i1, bytes_per_row, dev):
            i0 = i1
            continue
        b = max(1, (i1 - i0) // 2)
        release(dev)  # the failed block's tensors died with the exception


def whole(what: str, nbytes: int, fn, dev: torch.device):
    """``fn()`` for work that cannot be cut into blocks (a whole source layer on the
    device); running out of memory is a ``MemoryError`` that names it and the way out."""
    try:
        return fn()
    except _oom_types() as e:
        first = (str(e).splitlines() or [""])[0]
        err = MemoryError(f"{what} (about {nbytes / 2 ** 30:.2f} GiB) does not fit on {dev} "
                          f"({first}); free device memory, pass fewer source neurons (a sample "
                          "of the layer), or use backend='numba'")
    release(dev)  # after the except block: the failed allocation's tensors are gone
    raise err


# ----------------------------------------------------------------------------- counts
def count_dtype(dev: torch.device) -> torch.dtype:
    """bf16 with float32 accumulation where the device does it exactly, else float32."""
    if dev.type != "cuda":
        return torch.float32
    key = str(dev)
    if key not in _FAST_MM:
        try:
            k = 4099  # not a bf16 number: a bf16 result or accumulator would round it
            a = torch.ones((64, k), dtype=torch.bfloat16, device=dev)
            c = torch.mm(a, a.T, out_dtype=torch.float32)
            _FAST_MM[key] = bool((c == k).all().item())
        except (TypeError, RuntimeError, NotImplementedError):
            _FAST_MM[key] = False
    return torch.bfloat16 if _FAST_MM[key] else torch.float32


def mm_counts(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` in float32 (exact integer counts of 0/1 rows below 2**24 frames; any
    input rounding, TF32 included, leaves 0 and 1 exact)."""
    if a.dtype == torch.float32:
        return a @ b.T
    return torch.mm(a, b.T, out_dtype=torch.float32)


def fp32_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` of float32 values that are not counts, in IEEE float32 whatever TF32
    setting the process has (:func:`fclib._precision.ieee_fp32`)."""
    from fclib._precision import ieee_fp32

    with ieee_fp32():
        return torch.mm(a, b.T)


def upload(trains: np.ndarray, dev: torch.device, dtype=None) -> torch.Tensor:
    """0/1 ``(n, L)`` uint8 trains on ``dev`` as ``dtype`` (default: the count dtype)."""
    x = torch.from_numpy(np.ascontiguousarray(trains, dtype=np.uint8)).to(dev)
    return x.to(count_dtype(dev) if dtype is None else dtype)


def dilate(x: torch.Tensor, dt: int) -> torch.Tensor:
    """Frames within ``dt`` of a spike, clipped at the ends (as :func:`sttc._dilate`)."""
    if dt == 0:
        return x
    L = x.shape[1]
    cs = x.to(torch.int32).cumsum(1, dtype=torch.int32)              # spikes in frames <= t
    # e[:, j] = spikes in frames < j - dt (clipped to [0, L]): zeros on the left, the total
    # on the right; the window [t - dt, t + dt] holds e[:, t + 2 dt + 1] - e[:, t] spikes
    zeros = torch.zeros((x.shape[0], dt + 1), dtype=torch.int32, device=x.device)
    e = torch.cat([zeros, cs, cs[:, -1:].expand(-1, dt)], dim=1)
    return ((e[:, 2 * dt + 1:2 * dt + 1 + L] - e[:, :L]) > 0).to(x.dtype)


class _Side:
    """One population on the device: trains, dilated trains (dt > 0), spike counts and
    tiled fractions (float64)."""

    def __init__(self, x: torch.Tensor, dt: int):
        L = x.shape[1]
        self.bits = x
        self.n = x.sum(1, dtype=torch.float64)
        self.dil = dilate(x, dt) if dt else None
        self.t = (self.dil.sum(1, dtype=torch.float64) if dt else self.n) / L

    def counts(self, other: "_Side"):
        """``(c_ab, c_ba)`` of self (targets) against ``other`` (sources), float64."""
        if self.dil is None:
            c = mm_counts(self.bits, other.bits).double()
            return c, c
        return (mm_counts(self.bits, other.dil).double(),
                mm_counts(self.dil, other.bits).double())


def _half(p, t):
    pt = p * t
    return torch.where(pt == 1.0, torch.ones_like(pt), (p - t) / (1.0 - pt))


def sttc_formula(c_ab, c_ba, n_a, n_b, t_a, t_b) -> torch.Tensor:
    """STTC ``(rows, cols)`` float64 from counts (float64) and per-neuron vectors, ``NaN``
    where a train is silent (:func:`fclib.stats.sttc.sttc_pair`)."""
    na, nb = n_a[:, None], n_b[None, :]
    v = 0.5 * (_half(c_ab / na, t_b[None, :]) + _half(c_ba / nb, t_a[:, None]))
    return torch.where((na == 0) | (nb == 0), torch.full_like(v, float("nan")), v)


def _frame_bytes(dt: int) -> int:
    """Bytes per frame of one row's trains on the device: the upload and its float copy;
    with dt > 0 also the dilation's int32 cumulative sums, differences and result."""
    return 6 if dt == 0 else 26


def _side(trains: np.ndarray, dt: int, dev, what: str) -> "_Side":
    """A whole population's :class:`_Side` on the device (not cut into blocks)."""
    return whole(what, trains.size * _frame_bytes(dt), lambda: _Side(upload(trains, dev), dt),
                 dev)


def cofiring_counts(target: np.ndarray, source: np.ndarray, dev: torch.device) -> np.ndarray:
    """Co-firing counts ``int64 (n_target, n_source)`` by blocks of matrix products."""
    L = source.shape[1]
    check_frames(L)
    src_bytes = source.size * 4
    src = whole("the source layer's trains", src_bytes, lambda: upload(source, dev), dev)
    out = np.empty((target.shape[0], source.shape[0]), dtype=np.int64)

    def work(i0, i1):
        c = mm_counts(upload(target[i0:i1], dev), src)
        out[i0:i1] = c.to(torch.int64).cpu().numpy()

    run_blocks(target.shape[0], row_bytes(L, source.shape[0], "cofiring", 6), work, dev)
    return out


def sttc(source: np.ndarray, target_blocks, n_target: int, dt: int, dev: torch.device,
         block: int | None = None) -> np.ndarray:
    """STTC ``(n_target, n_source)`` float64; ``target_blocks`` yields ``(i0, trains)``."""
    n_s, L = source.shape
    check_frames(L)
    src = _side(source, dt, dev, "the source layer's trains")
    out = np.empty((n_target, n_s), dtype=np.float64)
    for h0, tgt in target_blocks:
        def work(i0, i1, tgt=tgt, h0=h0):
            t = _Side(upload(tgt[i0:i1], dev), dt)
            c_ab, c_ba = t.counts(src)
            out[h0 + i0:h0 + i1] = sttc_formula(c_ab, c_ba, t.n, src.n, t.t, src.t).cpu().numpy()

        run_blocks(tgt.shape[0], row_bytes(L, n_s, "sttc", _frame_bytes(dt)), work, dev, block)
    return out


# ----------------------------------------------------------------------------- exact null
def spectra(x: torch.Tensor) -> torch.Tensor:
    """Folded power spectra ``(n, L // 2)`` float32 (:func:`fclib.stats.nulls.power_spectra`)."""
    n, L = x.shape
    K = L // 2
    w = torch.full((K,), 2.0 / L, dtype=torch.float32, device=x.device)
    if L % 2 == 0 and K:
        w[-1] = 1.0 / L
    if n == 0:  # an FFT of no rows is an error in some FFT libraries
        return torch.zeros((0, K), dtype=torch.float32, device=x.device)
    f = torch.fft.rfft(x.to(torch.float32), dim=1)[:, 1:K + 1]
    return (f.real * f.real + f.imag * f.imag) * torch.sqrt(w)


# bytes per frame of :func:`spectra` of one row: the float32 copy, the complex FFT and the
# squared magnitudes
_SPECTRA_FRAME_BYTES = 24


def source_spectra(x: torch.Tensor, dev: torch.device) -> torch.Tensor:
    """:func:`spectra` of a whole population, computed in blocks of rows into one
    ``(n, L // 2)`` float32 tensor (the FFT's work space is a block's, not the layer's)."""
    n, L = x.shape
    out = whole("the source layer's power spectra", n * (L // 2) * 4,
                lambda: torch.empty((n, L // 2), dtype=torch.float32, device=dev), dev)

    def work(i0, i1):
        out[i0:i1] = spectra(x[i0:i1])

    run_blocks(n, L * _SPECTRA_FRAME_BYTES, work, dev)
    return out


def exact_z(c0, m, n_a, n_b, L: int):
    """Observed STTC, z and the four null moments (``f(mean)``, STTC null sd, co-firing
    null mean and sd) of a block of pairs, float64 (:func:`fclib.stats.nulls.exact_z`)."""
    na, nb = n_a[:, None], n_b[None, :]
    t_a, t_b = na / L, nb / L
    mu = na * nb / L
    mean = (L * mu - c0) / (L - 1)
    second = (m + L * mu * mu - c0 * c0) / (L - 1)
    sd = torch.sqrt(torch.clamp(second - mean * mean, min=0.0))
    obs = sttc_formula(c0, c0, n_a, n_b, n_a / L, n_b / L)
    f_mean = sttc_formula(mean, mean, n_a, n_b, n_a / L, n_b / L)
    p_a, p_b = mean / na, mean / nb
    slope = 0.5 * ((1 - t_b * t_b) / (na * (1 - p_a * t_b) ** 2)
                   + (1 - t_a * t_a) / (nb * (1 - p_b * t_a) ** 2))
    null_sd = slope * sd
    nan = torch.full_like(obs, float("nan"))
    z = torch.where(null_sd > 0, (obs - f_mean) / null_sd, nan)
    silent = (na == 0) | (nb == 0)
    mean = torch.where(silent, nan, mean)
    sd = torch.where(silent, nan, sd)
    null_sd = torch.where(silent, nan, null_sd)
    return obs, torch.where(silent, nan, z), f_mean, null_sd, mean, sd


def exact_null(source: np.ndarray, target_blocks, n_target: int, dev: torch.device,
               moments: bool, block: int | None = None) -> dict:
    """``{"sttc", "z"[, "null_mean", "null_sd", "cofiring", "cofiring_mean",
    "cofiring_sd"]}`` as numpy arrays (float32; cofiring int32)."""
    n_s, L = source.shape
    check_frames(L)
    xs = whole("the source layer's trains", source.size * 6, lambda: upload(source, dev), dev)
    n_b = xs.sum(1, dtype=torch.float64)
    rb = source_spectra(xs, dev)
    names = ["sttc", "z"] + (["null_mean", "null_sd", "cofiring_mean", "cofiring_sd"]
                             if moments else [])
    res = {k: np.empty((n_target, n_s), dtype=np.float32) for k in names}
    if moments:
        res["cofiring"] = np.empty((n_target, n_s), dtype=np.int32)
    for h0, tgt in target_blocks:
        def work(i0, i1, tgt=tgt, h0=h0):
            xt = upload(tgt[i0:i1], dev)
            c0 = mm_counts(xt, xs)
            m = fp32_product(spectra(xt), rb).double()
            vals = exact_z(c0.double(), m, xt.sum(1, dtype=torch.float64), n_b, L)
            sl = slice(h0 + i0, h0 + i1)
            for k, v in zip(["sttc", "z", "null_mean", "null_sd", "cofiring_mean",
                             "cofiring_sd"], vals):
                if k in res:
                    res[k][sl] = v.to(torch.float32).cpu().numpy()
            if moments:
                res["cofiring"][sl] = c0.to(torch.int32).cpu().numpy()

        run_blocks(tgt.shape[0], row_bytes(L, n_s, "exact", 6 + _SPECTRA_FRAME_BYTES), work, dev,
                   block)
    return res


# ----------------------------------------------------------------------------- shift null
def shift_null(source: np.ndarray, target: np.ndarray, shifts: np.ndarray, dt: int,
               dev: torch.device, block: int | None = None):
    """Observed STTC and the mean and sample sd of the STTC over circular shifts of the
    source by ``shifts`` (``np.roll`` semantics), float64 numpy ``(n_target, n_source)``
    each (:func:`fclib.stats.nulls.shift_null`)."""
    n_s, L = source.shape
    check_frames(L)
    src = _side(source, dt, dev, "the source layer's trains")
    xs = src.bits
    n_t = target.shape[0]
    obs, mean, sd = (np.empty((n_t, n_s)) for _ in range(3))
    n = len(shifts)

    def work(i0, i1):
        t = _Side(upload(target[i0:i1], dev), dt)
        o = sttc_formula(*t.counts(src), t.n, src.n, t.t, src.t)
        s1 = torch.zeros_like(o)
        s2 = torch.zeros_like(o)
        for s in shifts:
            rolled = _Side(torch.roll(xs, int(s), dims=1), dt)
            v = sttc_formula(*t.counts(rolled), t.n, src.n, t.t, rolled.t)
            s1 += v
            s2 += v * v
        m = s1 / n
        var = torch.clamp((s2 - n * m ** 2) / (n - 1), min=0.0)
        obs[i0:i1] = o.cpu().numpy()
        mean[i0:i1] = m.cpu().numpy()
        sd[i0:i1] = torch.sqrt(var).cpu().numpy()

    # each shift makes a rolled copy of the whole source side: every block needs that room
    run_blocks(n_t, row_bytes(L, n_s, "shift", _frame_bytes(dt)), work, dev, block,
               fixed_bytes=source.size * _frame_bytes(dt))
    return obs, mean, sd


# ----------------------------------------------------------------------------- stimulus null
def presentation_features(trains: np.ndarray, group: np.ndarray, m: np.ndarray, T: int,
                          we: np.ndarray, wv: np.ndarray, off: float, dev: torch.device):
    """Per-neuron feature rows of the stimulus null on the device (as
    :func:`fclib.stats.stimulus._presentation_features`): ``tot (n, T)`` float64,
    ``fe (n, G T)`` and ``fv (n, G Q)`` float32, ``vn (n,)`` float64."""
    n, L = trains.shape
    M, G = group.shape[0], m.shape[0]
    x = upload(trains, dev, torch.float32).reshape(n, M, T)
    H = torch.zeros((M, G), dtype=torch.float32, device=dev)
    H[torch.arange(M, device=dev), torch.from_numpy(group).to(dev)] = 1.0
    a = torch.einsum("nmt,mg->ngt", x, H).double()                      # (n, G, T), exact
    q = torch.einsum("nmk,nml,mg->ngkl", x, x, H).double()              # (n, G, T, T), exact
    tot = a.sum(1)                                                      # (n, T)
    md = torch.from_numpy(m).to(dev, torch.float64)
    e = (a - md[None, :, None] * tot[:, None, :] / M) * torch.from_numpy(we).to(dev)[None, :, None]
    s = q - a[:, :, :, None] * a[:, :, None, :] / md[None, :, None, None]
    k, l = torch.triu_indices(T, T, device=dev)                         # row-major, k <= l
    w = torch.where(k < l, off, 1.0).to(torch.float64)
    v = s[:, :, k, l] * torch.from_numpy(wv).to(dev)[None, :, None] * w[None, None, :]
    fe = e.reshape(n, G * T).to(torch.float32)
    fv = v.reshape(n, -1).to(torch.float32)
    vn = torch.sqrt((fv.double() ** 2).sum(1))
    return tot, fe, fv, vn


def stimulus_z(c0, e_dev, v, tot_t, tot_s, M: float, vn_t, vn_s, rtol: float):
    """z, ``E[c]`` and ``sd[c]`` of a block of pairs (:func:`fclib.stats.stimulus._z_block`)."""
    na = tot_t.sum(1)[:, None]
    nb = tot_s.sum(1)[None, :]
    e = tot_t @ tot_s.T / M + e_dev
    nan = torch.full_like(e, float("nan"))
    ok = v > rtol * vn_t[:, None] * vn_s[None, :]
    sd = torch.where(ok, torch.sqrt(torch.clamp(v, min=0.0)), torch.zeros_like(v))
    z = torch.where(ok, (c0 - e) / torch.where(ok, sd, torch.ones_like(sd)), nan)
    silent = (na == 0.0) | (nb == 0.0)
    return (torch.where(silent, nan, z), torch.where(silent, nan, e),
            torch.where(silent, nan, sd))


def stimulus_null(source: np.ndarray, target_blocks, n_target: int, design, kept, weights,
                  dev: torch.device, rtol: float, moments: bool, block: int | None = None):
    """``c0`` (int64), ``z`` (float32) and, with ``moments``, ``E[c]`` and ``sd[c]``
    (float64) of every pair; ``kept(trains)`` selects the kept frames, ``weights(side)``
    gives ``(we, wv, off)``."""
    n_s, L = source.shape
    check_frames(L)
    M, T = design.n_presentations, design.T
    m = design.m.astype(np.float64)
    G = m.size
    feat_bytes = source.shape[0] * (L * 4 * (T + 2) + G * T * (T + 3) * 8)
    tot_s, fe_s, fv_s, vn_s = whole(
        "the source layer's presentation features", feat_bytes,
        lambda: presentation_features(source, design.group, m, T, *weights("source"), dev), dev)
    xs = whole("the source layer's trains", source.size * 6, lambda: upload(source, dev), dev)
    c0_all = np.empty((n_target, n_s), dtype=np.int64)
    z_all = np.empty((n_target, n_s), dtype=np.float32)
    mom = np.empty((2, n_target if moments else 0, n_s if moments else 0))
    per_row = row_bytes(L, n_s, "stimulus", 4 * (T + 2) + 6) + G * T * (T + 3) * 8
    for h0, tgt in target_blocks:
        tgt = kept(tgt)

        def work(i0, i1, tgt=tgt, h0=h0):
            part = tgt[i0:i1]
            tot_t, fe_t, fv_t, vn_t = presentation_features(part, design.group, m, T,
                                                            *weights("target"), dev)
            c0 = mm_counts(upload(part, dev), xs).double()
            z, e, sd = stimulus_z(c0, fp32_product(fe_t, fe_s).double(),
                                  fp32_product(fv_t, fv_s).double(),
                                  tot_t, tot_s, float(M), vn_t, vn_s, rtol)
            sl = slice(h0 + i0, h0 + i1)
            c0_all[sl] = c0.to(torch.int64).cpu().numpy()
            z_all[sl] = z.to(torch.float32).cpu().numpy()
            if moments:
                mom[0, sl] = e.cpu().numpy()
                mom[1, sl] = sd.cpu().numpy()

        run_blocks(tgt.shape[0], per_row, work, dev, block)
    return c0_all, z_all, mom


# ----------------------------------------------------------------------------- MI
def joint_histogram(counts: np.ndarray, labels: np.ndarray, K: int, C: int,
                    dev: torch.device) -> np.ndarray:
    """``(n, K, C)`` int64 joint histogram of checked counts and labels (one bincount per
    block of neurons; :func:`fclib.stats.information._joint`)."""
    n, P = counts.shape
    out = np.empty((n, K, C), dtype=np.int64)
    lab = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64)).to(dev)

    def work(i0, i1):
        c = torch.from_numpy(np.ascontiguousarray(counts[i0:i1], dtype=np.int64)).to(dev)
        rows = torch.arange(i1 - i0, device=dev)[:, None]
        idx = ((rows * K + c) * C + lab[None, :]).reshape(-1)
        h = torch.bincount(idx, minlength=(i1 - i0) * K * C)
        out[i0:i1] = h.reshape(i1 - i0, K, C).cpu().numpy()

    run_blocks(n, P * 8 * 3 + K * C * 8, work, dev)
    return out


def _mi_rows(j: torch.Tensor) -> torch.Tensor:
    """Plug-in MI (bits) of every ``(..., K, C)`` joint histogram ``j`` (float64)."""
    tot = j.sum((-2, -1), keepdim=True)
    pxy = j / torch.clamp(tot, min=1.0)
    px = pxy.sum(-1, keepdim=True)
    py = pxy.sum(-2, keepdim=True)
    term = torch.where(pxy > 0, pxy * torch.log2(pxy / (px * py)), torch.zeros_like(pxy))
    return term.sum((-2, -1))


def mean_shuffled_mi(counts: np.ndarray, shuffles, K: int, C: int,
                     dev: torch.device) -> np.ndarray:
    """Mean over the label vectors ``shuffles`` of every neuron's plug-in MI (bits),
    ``(n,)`` float64: :func:`joint_histogram` and :func:`mi_from_joint` per shuffle, with
    each block of counts uploaded once for all shuffles and the sum kept on the device
    (one read-back per block, not two transfers per shuffle)."""
    n, P = counts.shape
    out = np.zeros(n, dtype=np.float64)
    if not len(shuffles):
        return out
    labs = torch.from_numpy(np.ascontiguousarray(np.stack(shuffles), dtype=np.int64)).to(dev)

    def work(i0, i1):
        c = torch.from_numpy(np.ascontiguousarray(counts[i0:i1], dtype=np.int64)).to(dev)
        base = (torch.arange(i1 - i0, device=dev)[:, None] * K + c) * C
        acc = torch.zeros(i1 - i0, dtype=torch.float64, device=dev)
        for lab in labs:
            h = torch.bincount((base + lab[None, :]).reshape(-1), minlength=(i1 - i0) * K * C)
            acc += _mi_rows(h.reshape(i1 - i0, K, C).to(torch.float64))
        out[i0:i1] = (acc / len(shuffles)).cpu().numpy()

    run_blocks(n, P * 8 * 3 + K * C * 8 * 9, work, dev)
    return out


def mi_from_joint(joint: np.ndarray, dev: torch.device) -> np.ndarray:
    """Plug-in MI (bits) of every ``(..., K, C)`` joint histogram, float64
    (:func:`fclib.stats.information._mi_from_joint`)."""
    joint = np.ascontiguousarray(joint)
    lead, (K, C) = joint.shape[:-2], joint.shape[-2:]
    flat = joint.reshape(-1, K, C)
    out = np.empty(flat.shape[0], dtype=np.float64)

    def work(i0, i1):
        out[i0:i1] = _mi_rows(torch.from_numpy(flat[i0:i1]).to(dev, torch.float64)).cpu().numpy()

    run_blocks(flat.shape[0], K * C * 8 * 8, work, dev)  # j, pxy, px*py, ratio, log, term, ...
    return out.reshape(lead)
