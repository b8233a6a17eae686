"""All-pairs spike time tiling coefficient (STTC) on binned 0/1 spike trains.

For trains ``A`` (target) and ``B`` (source) of ``L`` frames and a synchronisation window
of ``dt`` frames (Cutts & Eglen 2014, J. Neurosci. 34:14288; paper §A.2):

.. math::

    \\mathrm{STTC} = \\tfrac12\\left(\\frac{P_A - T_B}{1 - P_A T_B}
                                 + \\frac{P_B - T_A}{1 - P_B T_A}\\right)

* ``T_A`` -- fraction of the ``L`` frames within ``dt`` frames of a spike of ``A`` (the
  tiles are clipped at the ends of the recording); at ``dt = 0`` it is ``n_A / L``.
* ``P_A`` -- fraction of ``A``'s spikes within ``dt`` frames of a spike of ``B``; at
  ``dt = 0`` it is ``c / n_A`` with ``c`` the number of frames where both fire.

This equals Elephant's ``spike_time_tiling_coefficient`` given bin-centre spike times and
``dt + 0.5`` bins. Degenerate trains, as in Elephant: a silent train (no spike) gives
``NaN``; where ``P_A T_B = 1`` (e.g. ``B`` fires in every frame and every spike of ``A``
is tiled) that half of the coefficient is taken as 1, so a pair of trains that both fire
in every frame has STTC 1.

The kernel packs each train into 64-bit words and counts coincidences with AND +
popcount, a register block of target rows against a contiguous run of source words (the
sources are stored transposed, word-major, so the popcounts vectorise across sources);
the formula is fused in a second pass, and blocks of target neurons keep the memory
bounded.

``backend="torch"`` (:mod:`fclib.stats._torch`, imported only then) counts the same
coincidences by matrix products of the 0/1 trains accumulated in float32, exact below
``2**24`` frames, on any torch device; ``"auto"`` takes it only where a CUDA device exists.
"""
from __future__ import annotations

import functools
import numbers
import os
import sys
import warnings

import numpy as np
import xarray as xr
from numba import njit, prange

__all__ = ["sttc", "pair_coords", "sttc_from_counts", "pack_trains", "transpose_bits", "cofiring_counts",
           "as_trains", "resolve_backend", "check_dt", "check_int"]

# The kernels and helpers that fclib.stats.nulls and fclib.stats.edges share with this module
# (and_popcount, rotated_bits, train_parts, counts_packed, cofiring_bits, sttc_pair,
# sttc_accumulate, labelled_pairs, n_neurons; cofiring_bits also serves fclib.stats.stimulus)
# are public names, outside __all__: a shared interface of the
# package, not the user's API.
BACKENDS = ("auto", "numba", "torch")

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_S1, _S2, _S4, _S56 = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)

_R = 8    # target rows per register block: each source word loaded serves 8 pairs
_J = 64   # sources per accumulator row: 8 x 64 int64 accumulators (4 KiB) stay in L1


@njit(inline="always", cache=True)
def _popcount(x):
    x = x - ((x >> _S1) & _M1)
    x = (x & _M2) + ((x >> _S2) & _M2)
    x = (x + (x >> _S4)) & _M4
    return (x * _H01) >> _S56


def pack_trains(trains: np.ndarray) -> np.ndarray:
    """Bit-pack 0/1 trains into ``uint64`` words.

    Frame ``t`` is bit ``t % 64`` of word ``t // 64``; padding bits are zero.

    Parameters
    ----------
    trains : ndarray
        0/1 ``(n, L)``.

    Returns
    -------
    ndarray
        uint64 ``(n, ceil(L / 64))``.

    Raises
    ------
    ValueError
        ``trains`` are not 2-D."""
    if np.ndim(trains) != 2:
        raise ValueError(f"trains must be 2-D (n, L), got shape {np.shape(trains)}")
    trains = np.ascontiguousarray(trains)
    n, L = trains.shape
    packed = np.packbits(trains.astype(bool, copy=False), axis=1, bitorder="little")
    n_words = -(-L // 64)
    out = np.zeros((n, n_words * 8), dtype=np.uint8)
    out[:, :packed.shape[1]] = packed
    return out.view(np.uint64)


def transpose_bits(bits: np.ndarray) -> np.ndarray:
    """Packed source trains in the kernel's source layout.

    Parameters
    ----------
    bits : ndarray
        uint64 ``(n, n_words)`` (:func:`pack_trains`).

    Returns
    -------
    ndarray
        uint64 ``(n_words, n)``, C-contiguous.

    Raises
    ------
    ValueError
        ``bits`` are not 2-D uint64 words."""
    if np.ndim(bits) != 2 or np.asarray(bits).dtype != np.uint64:
        raise ValueError(f"bits must be 2-D uint64 words of pack_trains, got {np.asarray(bits).dtype} "
                         f"of shape {np.shape(bits)}")
    return np.ascontiguousarray(bits.T)


@njit(inline="always", cache=True)
def _row_word(a, i, w, n_rows):
    """``a[i, w]``, or a zero word for a row past the block's last (a partial block)."""
    return a[i, w] if i < n_rows else np.uint64(0)


@njit(parallel=True, cache=True)
def and_popcount(a, bt, out):
    """``out[i, j] = sum_w popcount(a[i, w] & bt[w, j])``: co-firing counts of packed targets
    ``a (n_target, n_words)`` with packed sources given transposed, ``bt (n_words, n_source)``.

    The work is cut into blocks of ``_R = 8`` target rows by ``_J`` sources. A block walks
    the words two at a time: each target word is broadcast against the ``_J`` consecutive
    source words of ``bt[w]`` (contiguous, so the inner loop vectorises across sources
    with no horizontal reductions), the two words' popcounts are added in registers, and
    the counts accumulate in an L1-resident ``8 x _J`` scratch block. Blocks are ordered
    source-run first, so a thread's run of sources (``_J x n_words`` words, 320 KiB at
    40,000 frames) stays in L2 while the targets stream past. Rows past the end of ``a``
    read as zero words and are never written.
    """
    na, nw = a.shape
    nb = bt.shape[1]
    n_ib = (na + _R - 1) // _R
    n_jb = (nb + _J - 1) // _J
    for k in prange(n_ib * n_jb):
        i0 = (k % n_ib) * _R
        j0 = (k // n_ib) * _J
        jn = min(_J, nb - j0)
        acc = np.zeros((_R, _J), dtype=np.int64)
        a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
        a4, a5, a6, a7 = acc[4], acc[5], acc[6], acc[7]
        for w in range(0, nw - 1, 2):
            p0, q0 = _row_word(a, i0, w, na), _row_word(a, i0, w + 1, na)
            p1, q1 = _row_word(a, i0 + 1, w, na), _row_word(a, i0 + 1, w + 1, na)
            p2, q2 = _row_word(a, i0 + 2, w, na), _row_word(a, i0 + 2, w + 1, na)
            p3, q3 = _row_word(a, i0 + 3, w, na), _row_word(a, i0 + 3, w + 1, na)
            p4, q4 = _row_word(a, i0 + 4, w, na), _row_word(a, i0 + 4, w + 1, na)
            p5, q5 = _row_word(a, i0 + 5, w, na), _row_word(a, i0 + 5, w + 1, na)
            p6, q6 = _row_word(a, i0 + 6, w, na), _row_word(a, i0 + 6, w + 1, na)
            p7, q7 = _row_word(a, i0 + 7, w, na), _row_word(a, i0 + 7, w + 1, na)
            row0, row1 = bt[w, j0:j0 + jn], bt[w + 1, j0:j0 + jn]
            for j in range(jn):
                y, v = row0[j], row1[j]
                a0[j] += _popcount(p0 & y) + _popcount(q0 & v)
                a1[j] += _popcount(p1 & y) + _popcount(q1 & v)
                a2[j] += _popcount(p2 & y) + _popcount(q2 & v)
                a3[j] += _popcount(p3 & y) + _popcount(q3 & v)
                a4[j] += _popcount(p4 & y) + _popcount(q4 & v)
                a5[j] += _popcount(p5 & y) + _popcount(q5 & v)
                a6[j] += _popcount(p6 & y) + _popcount(q6 & v)
                a7[j] += _popcount(p7 & y) + _popcount(q7 & v)
        if nw % 2:  # the odd last word
            w = nw - 1
            row0 = bt[w, j0:j0 + jn]
            for r in range(min(_R, na - i0)):
                x = a[i0 + r, w]
                for j in range(jn):
                    acc[r, j] += _popcount(x & row0[j])
        for r in range(min(_R, na - i0)):
            for j in range(jn):
                out[i0 + r, j0 + j] = acc[r, j]


@njit(inline="always", cache=True)
def _half(p, t):
    if p * t == 1.0:
        return 1.0
    return (p - t) / (1.0 - p * t)


@njit(inline="always", cache=True)
def sttc_pair(c_ab, c_ba, n_a, n_b, t_a, t_b):
    """STTC of one pair from its coincidence counts (``NaN`` if a train is silent)."""
    if n_a == 0 or n_b == 0:
        return np.nan
    return 0.5 * (_half(c_ab / n_a, t_b) + _half(c_ba / n_b, t_a))


@njit(parallel=True, cache=True)
def _sttc_formula(c_ab, c_ba, n_a, n_b, t_a, t_b, out):
    """Fused STTC from coincidence counts.

    c_ab[i, j]: spikes of target i within dt of source j; c_ba[i, j]: spikes of source j
    within dt of target i; n_*: spike counts; t_*: tiled fractions.
    """
    na, nb = out.shape
    for i in prange(na):
        for j in range(nb):
            out[i, j] = sttc_pair(c_ab[i, j], c_ba[i, j], n_a[i], n_b[j], t_a[i], t_b[j])


@njit(parallel=True, cache=True)
def sttc_accumulate(c_ab, c_ba, n_a, n_b, t_a, t_b, s1, s2):
    """Add every pair's STTC to ``s1`` and its square to ``s2`` (running null moments)."""
    na, nb = s1.shape
    for i in prange(na):
        for j in range(nb):
            v = sttc_pair(c_ab[i, j], c_ba[i, j], n_a[i], n_b[j], t_a[i], t_b[j])
            s1[i, j] += v
            s2[i, j] += v * v


def _dilate(trains: np.ndarray, dt: int) -> np.ndarray:
    """Frames within ``dt`` of a spike (clipped at the recording's ends)."""
    if dt == 0:
        return trains
    out = trains.astype(bool).copy()
    for k in range(1, dt + 1):
        out[:, k:] |= trains[:, :-k].astype(bool)
        out[:, :-k] |= trains[:, k:].astype(bool)
    return out


def cofiring_counts(target: np.ndarray, source: np.ndarray, *, backend: str = "auto",
                    device=None) -> np.ndarray:
    """Frames where target ``i`` and source ``j`` both fire.

    Parameters
    ----------
    target, source : array_like
        0/1 arrays ``(neurons, frames)`` of the same frames (not checked for 0/1 on the
        default numba path: this is the kernel other functions call).
    backend, device : as :func:`sttc` (``"torch"``: one matrix product per block).

    Returns
    -------
    ndarray
        int64 ``(n_target, n_source)``.

    Raises
    ------
    ValueError
        Arrays that are not 2-D, or of different frame counts."""
    if backend != "numba" or device is not None:
        backend, dev = resolve_backend(backend, device)
    if np.ndim(target) != 2 or np.ndim(source) != 2:
        raise ValueError(f"target and source must be 2-D (neurons x frames), got shapes "
                         f"{np.shape(target)} and {np.shape(source)}")
    if np.shape(target)[1] != np.shape(source)[1]:
        raise ValueError(f"source has {np.shape(source)[1]} frames but target has "
                         f"{np.shape(target)[1]}; they must be the same frames")
    if backend == "torch":
        from fclib.stats import _torch

        return _torch.cofiring_counts(as_trains(target, "target", warn_orientation=False),
                                      as_trains(source, "source", warn_orientation=False), dev)
    return cofiring_bits(target, transpose_bits(pack_trains(source)))


def cofiring_bits(target: np.ndarray, source_bits: np.ndarray) -> np.ndarray:
    """:func:`cofiring_counts` (numba path, unchecked) of 0/1 ``target`` trains against
    sources packed once, ``transpose_bits(pack_trains(source))``: a caller that counts
    several target blocks against the same sources packs them once."""
    out = np.empty((np.shape(target)[0], source_bits.shape[1]), dtype=np.int64)
    and_popcount(pack_trains(target), source_bits, out)
    return out


def sttc_from_counts(c_ab, c_ba, n_a, n_b, t_a, t_b) -> np.ndarray:
    """STTC from coincidence counts and tiled fractions.

    Parameters
    ----------
    c_ab, c_ba : ndarray
        ``(n_target, n_source)`` spikes of one train within ``dt`` of the other's.
    n_a, n_b : ndarray
        Spike counts of the targets ``(n_target,)`` and the sources ``(n_source,)``.
    t_a, t_b : ndarray
        Fractions of the frames the targets' and sources' windows tile.

    Returns
    -------
    ndarray
        STTC ``(n_target, n_source)``; NaN where a train is silent.

    Raises
    ------
    ValueError
        ``c_ab`` and ``c_ba`` of different shapes."""
    if np.shape(c_ab) != np.shape(c_ba):
        raise ValueError(f"c_ab and c_ba must have one shape (n_target, n_source), got "
                         f"{np.shape(c_ab)} and {np.shape(c_ba)}")
    out = np.empty(np.shape(c_ab), dtype=np.float64)
    _sttc_formula(*(np.asarray(x) if np.asarray(x).dtype.kind in "iu" else
                    np.asarray(x, np.float64) for x in (c_ab, c_ba, n_a, n_b, t_a, t_b)), out)
    return out


def doubled_bits(trains: np.ndarray) -> np.ndarray:
    """Bit-packed ``[trains, trains]`` (length ``2 L``), for :func:`rotated_bits`."""
    return pack_trains(np.concatenate([trains, trains], axis=1))


@njit(parallel=True, cache=True)
def rotated_bits(doubled, shift, L, out):
    """Bit-packed trains circularly shifted by ``shift`` frames (``np.roll`` semantics),
    written in the transposed source layout of :func:`and_popcount`.

    ``doubled`` packs each train twice in a row; the shifted train is its ``L`` bits
    starting at bit ``L - shift``. ``out`` is ``(ceil(L / 64), n)``: word ``k`` of train
    ``i`` is ``out[k, i]``; the bits past ``L`` are cleared.
    """
    nw, n = out.shape
    o = (L - shift) % L
    q = o // 64
    r = np.uint64(o % 64)
    tail = L - (nw - 1) * 64
    mask = np.uint64(0xFFFFFFFFFFFFFFFF) if tail == 64 else \
        (np.uint64(1) << np.uint64(tail)) - np.uint64(1)
    for i in prange(n):
        for k in range(nw):
            lo = doubled[i, q + k]
            if r == 0:
                v = lo
            else:
                v = (lo >> r) | (doubled[i, q + k + 1] << (np.uint64(64) - r))
            out[k, i] = v
        out[nw - 1, i] &= mask


def train_parts(trains: np.ndarray, dt: int, source: bool = False):
    """Packed trains, their window-dilated packed copy (None at dt = 0), spike counts and
    tiled fractions: what the STTC needs of one side. ``source=True`` gives the packed
    trains in the transposed layout that :func:`and_popcount` takes for sources."""
    L = trains.shape[1]
    order = transpose_bits if source else (lambda b: b)
    bits = order(pack_trains(trains))
    n = trains.sum(axis=1, dtype=np.int64)
    if dt == 0:
        return bits, None, n, n / L
    dil = _dilate(trains, dt)
    return bits, order(pack_trains(dil)), n, dil.sum(axis=1) / L


def counts_packed(tparts, source_bits, source_dil_bits, dt: int, c_ab=None, c_ba=None):
    """Coincidence counts ``(c_ab, c_ba)`` of packed targets against packed sources given
    transposed (see :func:`train_parts`); ``c_ab``/``c_ba`` are optional buffers to reuse."""
    a, a_dil = tparts[0], tparts[1]
    shape = (a.shape[0], source_bits.shape[1])
    c_ab = np.empty(shape, dtype=np.int64) if c_ab is None else c_ab
    if dt == 0:
        and_popcount(a, source_bits, c_ab)
        return c_ab, c_ab
    and_popcount(a, source_dil_bits, c_ab)
    c_ba = np.empty(shape, dtype=np.int64) if c_ba is None else c_ba
    and_popcount(a_dil, source_bits, c_ba)
    return c_ab, c_ba


def _sttc_packed(tparts, source_bits, source_dil_bits, n_b, t_b, dt: int) -> np.ndarray:
    """STTC of packed targets against packed sources given transposed (see
    :func:`train_parts`)."""
    c_ab, c_ba = counts_packed(tparts, source_bits, source_dil_bits, dt)
    return sttc_from_counts(c_ab, c_ba, tparts[2], n_b, tparts[3], t_b)


@functools.lru_cache(maxsize=1)
def _cuda_present() -> bool:
    """Whether torch can see a CUDA device, without importing torch where none can exist:
    torch is imported only when it is already loaded or an NVIDIA driver is present."""
    torch = sys.modules.get("torch")
    if torch is None:
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return False
        if sys.platform.startswith("linux") and not os.path.exists("/dev/nvidiactl"):
            return False
        import torch
    return bool(torch.cuda.is_available())


def resolve_backend(backend: str = "auto", device=None):
    """``(backend, device)`` to compute with.

    Parameters
    ----------
    backend : str
        ``"auto"``: numba unless a CUDA device is present (or ``device`` names one), then
        torch; ``"torch"``: runs on ``device``; ``"numba"``: the CPU only.
    device : str or torch.device, optional
        ``None``/``"auto"``: the first CUDA device, else the CPU; ``"cpu"``, ``"cuda"``,
        ``"cuda:N"``.

    Returns
    -------
    tuple
        ``("numba", None)`` or ``("torch", torch.device)``.

    Raises
    ------
    ValueError
        An unknown ``backend``, ``backend="numba"`` with a CUDA ``device``, or a device that
        does not exist (names the devices that do)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
    dev = None if device is None else str(device)
    if backend == "auto":
        if dev in (None, "auto"):
            backend = "torch" if _cuda_present() else "numba"
        else:
            backend = "numba" if dev == "cpu" else "torch"
    if backend == "numba":
        if dev not in (None, "auto", "cpu"):
            raise ValueError(f"backend='numba' runs on the CPU; for device={dev!r} pass "
                             "backend='torch' (or 'auto')")
        return "numba", None
    from fclib.stats import _torch

    return "torch", _torch.device(device)


def check_int(value, name: str, minimum: int | None = None, what: str = "") -> int:
    """``value`` as an int, refusing bools, floats and anything below ``minimum``.

    Parameters
    ----------
    value : int
        The value to check.
    name : str
        The argument's name, used in the message.
    minimum : int, optional
        The smallest value allowed.
    what : str
        Appended to the message (what the value means).

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    ValueError
        Not an int, or below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int{what}, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{what}, got {value!r}")
    return int(value)


def check_dt(dt, n_frames: int) -> int:
    """The synchronisation window ``dt`` (frames) checked against the recording's length.

    Parameters
    ----------
    dt : int
        The window, frames (>= 0).
    n_frames : int
        The recording's length.

    Returns
    -------
    int
        ``dt``.

    Raises
    ------
    ValueError
        ``dt`` not a non-negative int, or not smaller than ``n_frames``."""
    dt = check_int(dt, "dt", 0, " (the synchronisation window in frames)")
    if n_frames and dt >= n_frames:
        raise ValueError(f"dt = {dt} frames must be smaller than n_frames = {n_frames}: a window "
                         "as long as the recording tiles every frame (every STTC would be 1)")
    return dt


def _check_orientation(shape, name: str) -> None:
    if len(shape) == 2 and shape[0] > shape[1]:
        warnings.warn(f"{name} is a plain array of shape {shape}: fclib expects (neurons, frames), "
                      f"so this is {shape[0]} neurons of {shape[1]} frames; if it is frames x "
                      "neurons pass its transpose (a DataArray with dims ('neuron', 'frame') "
                      "silences this warning)", UserWarning, stacklevel=4)


def _as_array(x, name: str) -> np.ndarray:
    """``x`` as an ndarray, refusing a ragged sequence (spike times, not trains) with fclib's
    own message instead of numpy's "inhomogeneous shape"."""
    try:
        a = np.asarray(x)
    except ValueError:
        a = None
    if a is None or a.dtype == object:
        raise TypeError(f"{name} must be binned 0/1 trains (neurons x frames); got a ragged "
                        "sequence, like one array of spike times per unit: bin them first with "
                        "fclib.io.bin_spikes(spike_times, bin_size)")
    return a


def check_population(x, name: str, *, n_frames: int | None = None) -> tuple[int, int]:
    """``(neurons, frames)`` of a layer, refusing an empty one (and other frames than
    ``n_frames``)."""
    if isinstance(x, xr.DataArray):
        if x.ndim != 2 or set(x.dims) != {"neuron", "frame"}:
            raise ValueError(f"{name} must have dims ('neuron', 'frame'), got {x.dims}")
        shape = (x.sizes["neuron"], x.sizes["frame"])
    else:
        shape = _as_array(x, name).shape
    if len(shape) == 2 and shape[0] == 0:
        raise ValueError(f"{name} has no neurons (shape {tuple(shape)}): an empty layer has no "
                         "pairs; leave it out")
    if len(shape) == 2 and n_frames is not None and shape[1] != n_frames:
        raise ValueError(f"source has {n_frames} frames but {name} has {shape[1]}; they must "
                         "be the same frames")
    return tuple(shape) if len(shape) == 2 else (0, 0)


def as_trains(x, name: str = "spikes", *, warn_orientation: bool = True) -> np.ndarray:
    """A 2-D 0/1 array ``(neuron, frame)`` from a DataArray or array; checks values.

    A plain array with more rows than columns gets a ``UserWarning`` naming its shape (fclib
    reads rows as neurons; a frames x neurons array would silently give the wrong pairs),
    unless ``warn_orientation=False`` (arrays fclib made itself).

    Parameters
    ----------
    x : xarray.DataArray or array_like
        Trains ``(neuron, frame)``.
    name : str
        The argument's name, used in messages.
    warn_orientation : bool
        Warn about a plain array with more rows than columns.

    Returns
    -------
    ndarray
        2-D, the values of ``x``.

    Raises
    ------
    ValueError
        Other dims, not 2-D, or values other than 0/1 (NaN named)."""
    if isinstance(x, xr.DataArray):
        if x.ndim != 2 or set(x.dims) != {"neuron", "frame"}:
            raise ValueError(f"{name} must have dims ('neuron', 'frame'), got {x.dims}")
        x, warn_orientation = x.transpose("neuron", "frame").values, False
    x = _as_array(x, name)
    if warn_orientation:
        _check_orientation(x.shape, name)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (neurons x frames), got shape {x.shape}")
    if x.dtype != bool and x.size:
        if np.issubdtype(x.dtype, np.integer):
            ok = x.min() >= 0 and x.max() <= 1
        else:
            ok = bool(np.all((x == 0) | (x == 1)))
        if not ok:
            bad = np.setdiff1d(np.unique(x), [0, 1])
            nan = " (NaN: a missing value is not a spike train)" if np.isnan(bad).any() else \
                " (spike times? bin them first with fclib.io.bin_spikes)" \
                if np.any(bad != np.round(bad)) else " (spike counts? pass counts > 0)"
            raise ValueError(f"{name} must be 0/1 spike trains; found values {bad[:5].tolist()}"
                             f"{nan}")
    return x.astype(np.uint8, copy=False)


def pair_coords(source, target) -> dict:
    """The ``neuron`` coordinates of both populations as ``target_*`` / ``source_*``
    coordinates of a ``(target, source)`` result.

    Parameters
    ----------
    source, target : xarray.DataArray or array_like
        The two populations.

    Returns
    -------
    dict
        Coordinates for ``xr.DataArray(..., coords=...)``; empty for plain arrays.

    Raises
    ------
    ValueError
        a DataArray without a ``neuron`` dim."""
    for da, name in ((source, "source"), (target, "target")):
        if isinstance(da, xr.DataArray) and "neuron" not in da.dims:
            raise ValueError(f"{name} must have a 'neuron' dim, got dims {da.dims}")
    coords = {}
    for dim, x in (("target", target), ("source", source)):
        if isinstance(x, xr.DataArray):
            for name, c in x.coords.items():
                if c.dims == ("neuron",):
                    coords[f"{dim}_{name}"] = (dim, c.values)
    return coords


def labelled_pairs(values: np.ndarray, source, target) -> xr.DataArray:
    return xr.DataArray(values, dims=("target", "source"), coords=pair_coords(source, target))


def sttc(source, target, dt: int = 0, *, block: int = 2048, backend: str = "auto",
         device=None) -> xr.DataArray:
    """STTC of every (target, source) pair.

    Parameters
    ----------
    source : spikes of the source (previous) layer, ``DataArray(("neuron", "frame"))`` or
        a 0/1 array ``(n_source, L)``.
    target : spikes of the target layer, same frames as ``source``. Pass the same
        population twice for within-population STTC.
    dt : synchronisation window in frames, ``0 <= dt < L`` (``0``: same frame only, the
        paper's case).
    block : target neurons per block (bounds memory on dask-backed recordings).
    backend : ``"numba"`` (bit-packed popcounts on the CPU), ``"torch"`` (matrix products
        on ``device``; float32 counts, exact below ``2**24`` frames; blocks sized from the
        device's free memory and halved when it runs out) or ``"auto"`` (torch where a CUDA
        device exists, else numba). The backends agree within float rounding.
    device : for the torch backend: ``None``/``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    DataArray ``(target, source)`` of float64 in ``[-1, 1]``, ``NaN`` where a train is
    silent; neuron coordinates are carried over as ``target_*`` / ``source_*``.

    Raises
    ------
    ValueError : values other than 0/1 (NaN included), other dims, an empty layer, other
        frames in ``source`` and ``target``, ``dt`` negative, not an int or ``>= L``.
    """
    backend, dev = resolve_backend(backend, device)
    src = as_trains(source, "source")
    check_population(src, "source")
    check_population(target, "target")
    dt = check_dt(dt, src.shape[1])
    if backend == "torch":
        from fclib.stats import _torch

        blocks = target_blocks(target, block, src.shape[1])
        out = _torch.sttc(src, blocks, n_neurons(target), dt, dev)
        return labelled_pairs(out, source, target)
    src_bits, src_dil_bits, n_b, t_b = train_parts(src, dt, source=True)
    out = np.empty((n_neurons(target), src.shape[0]), dtype=np.float64)
    for i0, tgt in target_blocks(target, block, src.shape[1]):
        out[i0:i0 + tgt.shape[0]] = _sttc_packed(train_parts(tgt, dt), src_bits, src_dil_bits,
                                                 n_b, t_b, dt)
    return labelled_pairs(out, source, target)


def n_neurons(x) -> int:
    return x.sizes["neuron"] if isinstance(x, xr.DataArray) else np.shape(x)[0]


def target_blocks(target, block: int, n_frames: int):
    """Yield ``(first index, 0/1 array)`` of successive blocks of target neurons.

    A dask- or file-backed DataArray is read one block at a time; every block is checked
    to have ``n_frames`` frames. A plain array with more rows than columns is warned about
    once (see :func:`as_trains`).
    """
    if not isinstance(target, xr.DataArray):
        _check_orientation(np.shape(target), "target")
    for i0 in range(0, n_neurons(target), block):
        tgt = target.isel(neuron=slice(i0, i0 + block)) if isinstance(target, xr.DataArray) \
            else np.asarray(target)[i0:i0 + block]
        tgt = as_trains(tgt, "target", warn_orientation=False)
        if tgt.shape[1] != n_frames:
            raise ValueError(f"source has {n_frames} frames but target has {tgt.shape[1]}; "
                             f"they must be the same frames")
        yield i0, tgt
