"""Circular-shift nulls for STTC and the z-score of every pair.

Two tests of whether a pair's STTC exceeds what the trains' own firing statistics give:

``method="shifts"`` (the paper's test)
    The source trains are circularly shifted by ``n_shifts`` random offsets ``s`` with
    ``min_shift <= s <= L - min_shift`` (small shifts keep the same presented image and
    are excluded); ``z = (STTC - mean) / sd`` of the shifted STTCs, computed from running
    sums without storing the null stack. Costs ``n_shifts`` STTC evaluations.

``method="exact"`` (``dt = 0``)
    Over *all* ``L - 1`` non-zero circular shifts the co-firing count
    ``c(s) = sum_t a_t b_{t+s}`` has mean ``(n_A n_B - c_0) / (L - 1)`` and second
    moment ``(sum_tau R_A(tau) R_B(tau) - c_0^2) / (L - 1)``, where ``R`` is a train's
    circular autocorrelation. By Parseval, ``sum_tau R~_A R~_B = (1/L) sum_{k != 0}
    |F_A(k)|^2 |F_B(k)|^2`` for the centred ``R~ = R - n^2 / L`` (centring removes exactly
    the ``k = 0`` term), so one real FFT per neuron and one matrix product of power
    spectra give every pair's null moments. STTC at ``dt = 0`` is a smooth increasing
    function ``f(c)`` of the count (the spike counts and tiles do not change under a
    shift), so by the delta method ``z = (f(c_0) - f(mu)) / (f'(mu) sigma)``.

Both are seeded (``rng``) and return z as ``DataArray(("target", "source"))``; pairs with
a silent train, or whose null has no spread, get ``NaN``. The exact tests draw nothing, so
an ``rng`` given to them is an error rather than silently ignored.

``backend="torch"`` (:mod:`fclib.stats._torch`) runs both on a torch device: the exact
null's co-firing counts and spectral products are two matrix products per block (the FFTs
by ``torch.fft``), the shift null's counts one product of the targets with each rolled
source; the formulas are the same in float64. ``"auto"``: torch where a CUDA device exists.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import scipy.fft
import xarray as xr
from numba import njit, prange

from fclib._util import as_generator
from fclib.stats.sttc import (and_popcount, as_trains, check_dt, check_int, check_population,
                              counts_packed, doubled_bits, labelled_pairs, n_neurons,
                              resolve_backend, rotated_bits, sttc_accumulate, sttc_from_counts,
                              sttc_pair, target_blocks, train_parts, transpose_bits)
from fclib.stats._checks import check_mapping

__all__ = ["sttc_zscore", "exact_null", "shift_null", "surrogate_uncoupled",
           "false_positive_rate", "calibrated_threshold", "call_agreement", "uncoupled_null_z",
           "false_positive_table", "false_positive_summary"]


def check_exact_args(dt: int, rng) -> None:
    """The exact null's own limits: ``dt = 0`` and no random numbers."""
    if dt != 0:
        raise ValueError("the exact null is derived for dt = 0; use method='shifts' for dt >= 1")
    if rng is not None:
        raise ValueError("the exact null draws no random numbers; rng is for method='shifts'")


def _layer(trains: np.ndarray) -> xr.DataArray:
    """Trains fclib made itself, labelled (so the orientation warning is not repeated)."""
    return xr.DataArray(trains, dims=("neuron", "frame"))


def power_spectra(trains: np.ndarray, block: int = 512) -> np.ndarray:
    """Folded power spectra ``(n, L // 2)``, float32, whose row products give the exact null.

    Row ``i`` holds ``sqrt(w_k / L) |F_i(k)|^2`` for ``k = 1 .. L // 2``, with ``w_k = 2``
    where ``L - k`` is another frequency and ``1`` at ``k = L / 2``; a dot product of two
    rows is ``(1/L) sum_{k=1}^{L-1} |F_A(k)|^2 |F_B(k)|^2 = sum_tau R~_A(tau) R~_B(tau)``
    (``|F(k)| = |F(L - k)|`` for real trains). Single-precision FFTs: every term of the
    sum is positive, so its relative error stays at float32 rounding.
    """
    n, L = trains.shape
    K = L // 2
    w = np.full(K, 2.0 / L, dtype=np.float32)
    if L % 2 == 0 and K:
        w[-1] = 1.0 / L
    sw = np.sqrt(w)
    out = np.empty((n, K), dtype=np.float32)
    for i0 in range(0, n, block):
        f = scipy.fft.rfft(trains[i0:i0 + block].astype(np.float32), axis=1, workers=-1)[:, 1:K + 1]
        out[i0:i0 + block] = (f.real * f.real + f.imag * f.imag) * sw
    return out


@njit(parallel=True, cache=True, error_model="numpy")
def exact_z(c0, m, n_a, n_b, L, sttc_out, z_out, mom_out):
    """Observed STTC and its exact-null z of a block of pairs from co-firing counts ``c0``
    and spectral products ``m``; ``mom_out (4, rows, cols)`` (or an empty array) receives
    the STTC null's mean and sd and the co-firing count's null mean and sd."""
    rows, cols = c0.shape
    moments = mom_out.shape[1] == rows and rows > 0
    for i in prange(rows):
        na = n_a[i]
        t_a = na / L
        for j in range(cols):
            nb = n_b[j]
            c = np.float64(c0[i, j])
            if na == 0 or nb == 0:
                obs = z = f_mean = null_sd = mean = sd = np.nan
            else:
                t_b = nb / L
                mu = na * nb / L
                mean = (L * mu - c) / (L - 1)
                second = (np.float64(m[i, j]) + L * mu * mu - c * c) / (L - 1)
                sd = np.sqrt(max(second - mean * mean, 0.0))
                obs = sttc_pair(c, c, na, nb, t_a, t_b)
                f_mean = sttc_pair(mean, mean, na, nb, t_a, t_b)
                p_a, p_b = mean / na, mean / nb
                slope = 0.5 * ((1 - t_b * t_b) / (na * (1 - p_a * t_b) ** 2)
                               + (1 - t_a * t_a) / (nb * (1 - p_b * t_a) ** 2))
                null_sd = slope * sd
                z = (obs - f_mean) / null_sd if null_sd > 0 else np.nan
            sttc_out[i, j] = obs
            z_out[i, j] = z
            if moments:
                mom_out[0, i, j] = f_mean
                mom_out[1, i, j] = null_sd
                mom_out[2, i, j] = mean
                mom_out[3, i, j] = sd


def _trains_key(bits: np.ndarray, L: int) -> str:
    """Identity of a set of trains (their packed bits), for the autocorrelation cache."""
    h = hashlib.blake2b(np.ascontiguousarray(bits).view(np.uint8), digest_size=16)
    h.update(np.asarray([bits.shape[0], L], dtype=np.int64).tobytes())
    return h.hexdigest()


def exact_null(source, target, *, moments: bool = False, block: int = 1024,
               autocorr: dict | None = None, backend: str = "auto",
               device=None) -> xr.Dataset:
    """STTC (dt = 0) with its exact all-shift null for every (target, source) pair.

    Memory: the sources' folded power spectra (``2 L`` bytes per neuron), per-block arrays
    of ``block x n_source`` and the outputs. An empty layer gives an empty result.

    Parameters
    ----------
    source, target : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)`` on the same frames.
    moments : bool
        Also return the null's moments and the co-firing counts.
    block : int
        Target rows per block (on the torch backend: rows read from the recording at a
        time; the device blocks are sized from free memory).
    autocorr : dict, optional
        A dict the caller keeps between calls. The folded spectra (the autocorrelations'
        Fourier transforms) of the target layer are left in it, and a later call whose
        source is that layer (the next layer pair) reuses them instead of computing them
        again; it holds one layer at a time (``2 L`` bytes per neuron). Numba backend only.
    backend, device : as :func:`fclib.stats.sttc.sttc`.

    Returns
    -------
    xarray.Dataset
        Over ``(target, source)``: ``sttc`` and ``z`` (float32); with ``moments=True`` also
        ``null_mean`` and ``null_sd`` (the STTC null's delta-method mean and standard
        deviation) and ``cofiring``/``cofiring_mean``/``cofiring_sd`` (co-firing frames and
        their null moments).

    Raises
    ------
    ValueError
        Fewer than 2 frames."""
    backend, dev = resolve_backend(backend, device)
    src = as_trains(source, "source")
    n_s, L = src.shape
    if L < 2:
        raise ValueError(f"the exact null needs at least 2 frames, got {L}")
    n_t = n_neurons(target)
    if backend == "torch":
        from fclib.stats import _torch

        res = _torch.exact_null(src, target_blocks(target, block, L), n_t, dev, moments)
        coords = labelled_pairs(res["sttc"], source, target).coords
        return xr.Dataset({k: (("target", "source"), v) for k, v in res.items()}, coords=coords,
                          attrs={"method": "exact", "n_frames": L, "dt": 0})
    src_bits, _, n_b, _ = train_parts(src, 0)
    src_key = _trains_key(src_bits, L) if autocorr is not None else None
    src_bits = transpose_bits(src_bits)
    rb = autocorr.get(src_key) if autocorr is not None else None
    if rb is None:
        rb = power_spectra(src)
    tgt_spectra = [] if autocorr is not None else None
    n_b = n_b.astype(np.float64)
    sttc_all = np.empty((n_t, n_s), dtype=np.float32)
    z_all = np.empty((n_t, n_s), dtype=np.float32)
    mom = np.empty((4, n_t if moments else 0, n_s if moments else 0), dtype=np.float32)
    cof = np.empty((n_t, n_s), dtype=np.int32) if moments else None
    for i0, tgt in target_blocks(target, block, L):
        sl = slice(i0, i0 + tgt.shape[0])
        tgt_bits, _, n_a, _ = train_parts(tgt, 0)
        c0 = np.empty((tgt.shape[0], n_s), dtype=np.int64)
        and_popcount(tgt_bits, src_bits, c0)
        ra = power_spectra(tgt)
        if tgt_spectra is not None:
            tgt_spectra.append((ra, tgt_bits))
        exact_z(c0, ra @ rb.T, n_a.astype(np.float64), n_b, L, sttc_all[sl], z_all[sl],
                 mom[:, sl])  # (4, 0, 0) without moments
        if moments:
            cof[sl] = c0
    if autocorr is not None:
        autocorr.clear()
        if tgt_spectra:
            bits = np.concatenate([b for _, b in tgt_spectra])
            autocorr[_trains_key(bits, L)] = np.concatenate([a for a, _ in tgt_spectra])
    res = {"sttc": sttc_all, "z": z_all}
    if moments:
        res.update(null_mean=mom[0], null_sd=mom[1], cofiring=cof, cofiring_mean=mom[2],
                   cofiring_sd=mom[3])
    coords = labelled_pairs(sttc_all, source, target).coords
    return xr.Dataset({k: (("target", "source"), v) for k, v in res.items()}, coords=coords,
                      attrs={"method": "exact", "n_frames": L, "dt": 0})


def shift_null(source, target, *, n_shifts: int = 150, min_shift: int = 20, dt: int = 0,
               rng=None, block: int = 2048, progress: bool = False, backend: str = "auto",
               device=None) -> xr.Dataset:
    """STTC with the paper's random circular-shift null (any ``dt``).

    The same ``n_shifts`` offsets, drawn from ``[min_shift, L - min_shift]``, shift every
    source train.

    Parameters
    ----------
    source, target : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)`` on the same frames.
    n_shifts : int
        Number of shifts.
    min_shift : int
        Smallest shift, frames, in [1, L/2].
    dt : int
        The STTC's synchrony window, frames.
    rng : numpy.random.Generator or int, optional
        The offsets' draws.
    block : int
        Target rows per block.
    progress : bool
        Show a progress bar (numba backend).
    backend, device : as :func:`fclib.stats.sttc.sttc` (the torch backend draws the same
        offsets from ``rng`` and gives the same values within float rounding; its blocks
        are sized from the device's free memory).

    Returns
    -------
    xarray.Dataset
        Over ``(target, source)``: ``sttc``, ``z``, ``null_mean`` and ``null_sd`` (sample
        sd, ``ddof=1``); the offsets as an attribute.

    Raises
    ------
    ValueError
        ``min_shift`` outside [1, L/2], or trains on different frame counts."""
    from fclib._util import progress_bar

    backend, dev = resolve_backend(backend, device)
    n_shifts = check_int(n_shifts, "n_shifts", 2, " (the number of random shifts)")
    min_shift = check_int(min_shift, "min_shift", 1)
    src = as_trains(source, "source")
    tgt = as_trains(target, "target")
    L = src.shape[1]
    if tgt.shape[1] != L:
        raise ValueError(f"source has {L} frames but target has {tgt.shape[1]}; they must be "
                         "the same frames")
    dt = check_dt(dt, L)
    if not 1 <= min_shift <= L // 2:
        raise ValueError(f"min_shift must be in [1, L/2 = {L // 2}], got {min_shift}")
    shifts = as_generator(rng).integers(min_shift, L - min_shift + 1, size=n_shifts)
    if backend == "torch":
        from fclib.stats import _torch

        obs, mean, sd = _torch.shift_null(src, tgt, shifts, dt, dev)
        return _shift_dataset(obs, mean, sd, source, target, n_shifts, min_shift, dt, shifts)

    bits, dil_bits, n_b, t_b = train_parts(src, dt, source=True)
    blocks = []  # (rows, target parts, count buffers reused by every shift)
    for i in range(0, tgt.shape[0], block):
        tp = train_parts(tgt[i:i + block], dt)
        shape = (tp[0].shape[0], src.shape[0])
        bufs = (np.empty(shape, np.int64), np.empty(shape, np.int64) if dt else None)
        blocks.append((slice(i, i + block), tp, bufs))
    obs = np.empty((tgt.shape[0], src.shape[0]))
    for sl, tp, bufs in blocks:
        c_ab, c_ba = counts_packed(tp, bits, dil_bits, dt, *bufs)
        obs[sl] = sttc_from_counts(c_ab, c_ba, tp[2], n_b, tp[3], t_b)
    # a circular shift keeps spike counts; at dt = 0 it also keeps the tiles, so the
    # shifted trains are rotated in their packed form instead of being packed anew
    doubled = doubled_bits(src) if dt == 0 else None
    rotated = np.empty_like(bits)
    s1 = np.zeros_like(obs)
    s2 = np.zeros_like(obs)
    for s in progress_bar(shifts, desc="shift null", progress=progress):
        if dt == 0:
            rotated_bits(doubled, int(s), L, rotated)
            bits = rotated
        else:
            bits, dil_bits, _, t_b = train_parts(np.roll(src, int(s), axis=1), dt, source=True)
        for sl, tp, bufs in blocks:
            c_ab, c_ba = counts_packed(tp, bits, dil_bits, dt, *bufs)
            sttc_accumulate(c_ab, c_ba, tp[2], n_b, tp[3], t_b, s1[sl], s2[sl])
    mean = s1 / n_shifts
    var = np.maximum((s2 - n_shifts * mean ** 2) / (n_shifts - 1), 0.0)
    return _shift_dataset(obs, mean, np.sqrt(var), source, target, n_shifts, min_shift, dt,
                          shifts)


def _shift_dataset(obs, mean, sd, source, target, n_shifts, min_shift, dt, shifts):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (obs - mean) / sd
    z[~(sd > 0)] = np.nan
    coords = labelled_pairs(obs, source, target).coords
    return xr.Dataset({"sttc": (("target", "source"), obs), "z": (("target", "source"), z),
                       "null_mean": (("target", "source"), mean),
                       "null_sd": (("target", "source"), sd)}, coords=coords,
                      attrs={"method": "shifts", "n_shifts": n_shifts, "min_shift": min_shift,
                             "dt": dt, "shifts": shifts.tolist()})


def sttc_zscore(source, target, method: str = "exact", n_shifts: int = 150, rng=None, *,
                min_shift: int = 20, dt: int = 0, stimulus=None, T: int | None = None,
                n_shuffles: int | None = None, backend: str = "auto",
                device=None) -> xr.DataArray:
    """z-score of every pair's STTC against a null.

    Parameters
    ----------
    source, target : ``DataArray(("neuron", "frame"))`` or 0/1 arrays (neurons x frames).
    method : ``"exact"`` (all circular shifts, dt = 0), ``"shifts"`` (``n_shifts`` random
        circular shifts) or ``"stimulus"`` (whole presentations of ``T`` frames permuted among
        presentations of the same stimulus; exact moments, or ``n_shuffles`` random
        permutations; :mod:`fclib.stats.stimulus`).
    n_shifts, min_shift : the random-shift test's parameters (paper: 150 shifts).
    dt : the STTC's synchrony window, frames (``"shifts"`` only; the exact tests are
        dt = 0).
    n_shuffles : ``method="stimulus"``: draw this many random permutations instead of the
        exact moments (``None``: exact).
    rng : seed or ``numpy.random.Generator`` for the random shifts or permutations; refused
        by the exact tests, which draw nothing.
    stimulus : one stimulus label per presentation (length ``n_frames // T``), for
        ``method="stimulus"``; ``None``: the source's ``stimulus`` (else ``image``) frame
        coordinate, which :func:`fclib.io.bin_spikes` attaches.
    T : frames per presentation, for ``method="stimulus"``; ``None``: the source's ``T``
        attribute (else its ``step`` coordinate's period). A ``T`` contradicting the
        attribute is an error.
    backend, device : ``"numba"`` (CPU), ``"torch"`` (matrix products on ``device``: ``None``,
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``) or ``"auto"`` (torch where a CUDA device exists);
        see :func:`fclib.stats.sttc.sttc`.

    Returns
    -------
    DataArray ``(target, source)`` of z (``NaN`` where undefined).

    Raises
    ------
    ValueError : as :func:`fclib.stats.sttc.sttc` (an empty layer included), ``n_shifts``
        not an int ``>= 2``, an ``rng`` given to an exact test (which draws nothing).
    TypeError : ``rng`` neither a Generator, an int seed, a SeedSequence nor None.
    """
    resolved = resolve_backend(backend, device)
    n_frames = check_population(source, "source")[1]
    check_population(target, "target", n_frames=n_frames)
    dt = check_dt(dt, n_frames)
    kw = dict(backend=resolved[0], device=resolved[1])
    if method != "stimulus" and (stimulus is not None or T is not None or n_shuffles is not None):
        raise ValueError(f"stimulus=, T= and n_shuffles= belong to method='stimulus', not {method!r}")
    if method == "exact":
        check_exact_args(dt, rng)
        return exact_null(source, target, **kw)["z"]
    if method == "shifts":
        return shift_null(source, target, n_shifts=n_shifts, min_shift=min_shift, dt=dt, rng=rng,
                          **kw)["z"]
    if method == "stimulus":
        from fclib.stats.stimulus import stimulus_null, stimulus_permutation_null

        if dt != 0:
            raise ValueError("the stimulus-preserving null is derived for dt = 0")
        if n_shuffles is None:
            if rng is not None:
                raise ValueError("the exact stimulus null draws no random numbers; pass n_shuffles= "
                                 "for the random-permutation version")
            return stimulus_null(source, target, stimulus, T, **kw)["z"]
        return stimulus_permutation_null(source, target, stimulus, T, n_shuffles=n_shuffles, rng=rng,
                                         **kw)["z"]
    raise ValueError(f"method must be 'exact', 'shifts' or 'stimulus', got {method!r}")


def surrogate_uncoupled(trains, min_shift: int = 20, rng=None) -> np.ndarray:
    """Each train circularly shifted by its own random offset in ``[min_shift, L - min_shift]``.

    Keeps every train's spike count and autocorrelation and removes its alignment with any
    other train: data with no coupling but the same firing statistics.

    Parameters
    ----------
    trains : array_like
        0/1 trains ``(neuron, frame)``.
    min_shift : int
        Smallest shift, frames.
    rng : numpy.random.Generator or int, optional
        The offsets' draws.

    Returns
    -------
    ndarray
        The shifted trains, same shape."""
    x = as_trains(trains)
    L = x.shape[1]
    offs = as_generator(rng).integers(min_shift, L - min_shift + 1, size=x.shape[0])
    idx = (np.arange(L)[None, :] - offs[:, None]) % L
    return np.take_along_axis(x, idx, axis=1)


def false_positive_rate(source, target, method: str = "exact", thresholds=(3.0, 4.0, 5.0),
                        rng=None, **kw) -> dict[float, float]:
    """Fraction of pairs called significant (``z > threshold``) on uncoupled surrogates.

    The source trains are replaced by :func:`surrogate_uncoupled` copies, so no pair is
    coupled and every significant pair is a false positive.

    Parameters
    ----------
    source, target : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)``.
    method : str
        ``"exact"`` or ``"shifts"`` (:func:`sttc_zscore`).
    thresholds : sequence of float
        The z thresholds.
    rng : numpy.random.Generator or int, optional
        The surrogates' (and shifts') draws.
    **kw
        Passed on to :func:`sttc_zscore`.

    Returns
    -------
    dict of float to float
        ``{threshold: rate}`` over the pairs with a defined z."""
    rng = as_generator(rng)
    random_null = method == "shifts" or (method == "stimulus" and kw.get("n_shuffles") is not None)
    z = sttc_zscore(_layer(surrogate_uncoupled(source, rng=rng)), target, method=method,
                    rng=rng if random_null else None, **kw)
    z = z.values[np.isfinite(z.values)]
    return {float(t): float((z > t).mean()) if z.size else float("nan") for t in thresholds}


def calibrated_threshold(null_z, alpha: float) -> float:
    """The z threshold whose false-positive rate on null z values is ``alpha``.

    Parameters
    ----------
    null_z : array_like
        z values of uncoupled pairs (finite values used).
    alpha : float
        The false-positive rate, in (0, 1).

    Returns
    -------
    float
        The ``1 - alpha`` quantile of the finite null z.

    Raises
    ------
    ValueError
        ``alpha`` outside (0, 1), or no finite null z."""
    z = np.asarray(null_z, dtype=float).ravel()
    z = z[np.isfinite(z)]
    if not 0 < alpha < 1 or z.size == 0:
        raise ValueError("alpha must be in (0, 1) and null_z must hold finite values")
    return float(np.quantile(z, 1 - alpha))


def call_agreement(z_a, z_b, threshold: float) -> dict:
    """How two tests' z of the same pairs agree, over the pairs where both are defined.

    Parameters
    ----------
    z_a, z_b : array_like
        z of the same pairs under two tests.
    threshold : float
        A pair is called where ``z > threshold``.

    Returns
    -------
    dict
        ``pairs`` (finite z under both tests), ``corr`` (Pearson's correlation of the two z),
        ``agree`` (fraction of those pairs on whose call the tests agree), ``only_a`` and
        ``only_b`` (pairs called by one test only). ``corr`` and ``agree`` are ``NaN``
        without pairs (``corr`` also with fewer than two, or a constant z).

    Raises
    ------
    ValueError
        ``z_a`` and ``z_b`` of different sizes."""
    a, b = np.asarray(z_a, dtype=float).ravel(), np.asarray(z_b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"z_a and z_b must hold the same pairs; got {a.size} and {b.size} values")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    ca, cb = a > threshold, b > threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (float(np.corrcoef(a, b)[0, 1]) if a.size > 1 and a.std() > 0 and b.std() > 0
                else float("nan"))
    return {"pairs": int(a.size), "corr": corr,
            "agree": float((ca == cb).mean()) if a.size else float("nan"),
            "only_a": int((ca & ~cb).sum()), "only_b": int((cb & ~ca).sum())}


def uncoupled_null_z(source, target, *, n_targets: int | None = None, n_shifts: int = 150,
                     min_shift: int = 20, rng=None, backend: str = "auto",
                     device=None) -> dict[str, np.ndarray]:
    """z of uncoupled pairs under both tests: the null distribution each test really has.

    The source trains are replaced by :func:`surrogate_uncoupled` copies (one random shift
    each, the same copies for both tests), so no pair is coupled and every z above a
    threshold is a false positive. The exact null is applied to every pair, the
    ``n_shifts``-shift test (``n_shifts`` STTC evaluations per pair) to the pairs of
    ``n_targets`` targets drawn at random.

    Parameters
    ----------
    source, target : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)``.
    n_targets : int, optional
        Targets of the shift test (all when ``None`` or more than there are).
    n_shifts, min_shift : int
        The shift test's number of shifts and smallest shift.
    rng : numpy.random.Generator or int, optional
        The surrogates', targets' and shifts' draws.
    backend, device : where both tests run (:func:`fclib.stats.sttc.sttc`).

    Returns
    -------
    dict of str to ndarray
        ``{"exact": z, "<n_shifts> shifts": z}``, 1-D float arrays of the finite z values."""
    rng = as_generator(rng)
    src = _layer(as_trains(source, "source"))
    tgt = as_trains(target, "target")
    surr = _layer(surrogate_uncoupled(src, min_shift=min_shift, rng=rng))
    n_t = tgt.shape[0]
    k = n_t if n_targets is None else min(int(n_targets), n_t)
    pick = np.sort(rng.choice(n_t, k, replace=False))
    out = {"exact": exact_null(surr, _layer(tgt), backend=backend, device=device)["z"].values,
           f"{n_shifts} shifts": shift_null(surr, _layer(tgt[pick]), n_shifts=n_shifts,
                                            min_shift=min_shift, rng=rng, backend=backend,
                                            device=device)["z"].values}
    return {name: z[np.isfinite(z)].astype(float) for name, z in out.items()}


def _above(t: float) -> str:
    return f"z > {t:g}"


def false_positive_table(null_z: dict, observed: dict, threshold: float,
                         marks=(3.0, 4.0, 5.0), observed_test: str = "exact") -> pd.DataFrame:
    """False-positive rates per layer pair and test, and the share of called edges they explain.

    Parameters
    ----------
    null_z : dict
        ``{layer pair: {test: z of uncoupled pairs}}`` (:func:`uncoupled_null_z`).
    observed : dict
        ``{layer pair: z}`` of the real pairs under ``observed_test`` (any array or
        DataArray; non-finite values are pairs without a defined z and are not counted).
    threshold : float
        The z threshold the edges are called at; every column that depends on it is
        computed at it and named after it.
    marks : sequence of float
        Further thresholds whose false-positive rates are listed.
    observed_test : str
        The test of ``observed`` (a key of each ``null_z`` entry).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(layer pair, test)`` with ``pairs`` (null z values), one ``FPR z > m``
        column per threshold in ``marks`` and ``threshold`` (sorted), ``tested pairs``
        (real pairs with a defined z), ``expected false edges at z > t`` (the test's rate
        times the tested pairs), and, for ``observed_test`` only (``NaN`` for the others),
        ``edges at z > t`` (real pairs called) and ``share explained by chance at z > t`` =
        expected false edges / edges (``NaN`` where no edge is called); ``t`` is
        ``threshold``.

    Raises
    ------
    ValueError
        ``null_z`` holds no layer pair."""
    t_all = sorted({float(m) for m in marks} | {float(threshold)})
    lab = _above(threshold)
    rows = []
    for pair, tests in null_z.items():
        z_obs = np.asarray(observed[pair], dtype=float)
        z_obs = z_obs[np.isfinite(z_obs)]
        edges = int((z_obs > threshold).sum())
        for test, z in tests.items():
            z = np.asarray(z, dtype=float)
            z = z[np.isfinite(z)]
            rate = {m: float((z > m).mean()) if z.size else float("nan") for m in t_all}
            expected = rate[float(threshold)] * z_obs.size
            mine = test == observed_test
            rows.append({"layer pair": pair, "test": test, "pairs": int(z.size),
                         **{f"FPR {_above(m)}": rate[m] for m in t_all},
                         "tested pairs": int(z_obs.size),
                         f"expected false edges at {lab}": expected,
                         f"edges at {lab}": edges if mine else np.nan,
                         f"share explained by chance at {lab}":
                             (expected / edges if edges else np.nan) if mine else np.nan})
    if not rows:
        raise ValueError("null_z holds no layer pair")
    return pd.DataFrame(rows).set_index(["layer pair", "test"])


def false_positive_summary(null_z: dict, threshold: float, alpha: float) -> pd.DataFrame:
    """Each test's false-positive rate at ``threshold`` and its calibrated threshold.

    Parameters
    ----------
    null_z : dict
        ``{test: z of uncoupled pairs}`` (pooled over layer pairs).
    threshold : float
        The z threshold whose rate is listed.
    alpha : float
        The false-positive rate to calibrate for (:func:`calibrated_threshold`).

    Returns
    -------
    pandas.DataFrame
        Indexed by test, plus a row ``"standard normal"`` (the rate a Gaussian z would
        have), with ``pairs``, ``FPR z > threshold`` (its name built from ``threshold``) and
        ``threshold at FPR alpha`` (``NaN`` for a test without z)."""
    check_mapping(null_z, "null_z", "{test: z of uncoupled pairs}")
    from scipy.stats import norm

    lab = f"FPR {_above(threshold)}"
    rows = {}
    for test, z in null_z.items():
        z = np.asarray(z, dtype=float)
        z = z[np.isfinite(z)]
        rows[test] = {"pairs": int(z.size),
                      lab: float((z > threshold).mean()) if z.size else float("nan"),
                      f"threshold at FPR {alpha:g}":
                          calibrated_threshold(z, alpha) if z.size else float("nan")}
    rows["standard normal"] = {"pairs": np.nan, lab: float(norm.sf(threshold)),
                               f"threshold at FPR {alpha:g}": float(norm.isf(alpha))}
    out = pd.DataFrame(rows).T
    out.index.name = "test"
    return out
