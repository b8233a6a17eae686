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
    circular autocorrelation: one FFT per neuron and one matrix product for all pairs.
    STTC at ``dt = 0`` is a smooth increasing function ``f(c)`` of the count (the spike
    counts and tiles do not change under a shift), so by the delta method
    ``z = (f(c_0) - f(mu)) / (f'(mu) sigma)``.

Both are seeded (``rng``) and return z as ``DataArray(("target", "source"))``; pairs with
a silent train, or whose null has no spread, get ``NaN``.
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.fft
import xarray as xr

from .sttc import (_and_popcount, _labelled, _n_neurons, _rotated_bits, _sttc_packed,
                   _train_parts, as_trains, doubled_bits, sttc_from_counts, target_blocks)

__all__ = ["sttc_zscore", "exact_null", "shift_null", "surrogate_uncoupled",
           "false_positive_rate", "calibrated_threshold"]


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _autocorr_half(trains: np.ndarray, block: int = 512) -> np.ndarray:
    """Centred circular autocorrelations folded to ``L // 2 + 1`` lags, float32.

    Row ``i`` is ``sqrt(w_tau) (R_i(tau) - n_i^2 / L)`` with ``w = 1`` at lag 0 (and
    ``L/2``) and ``2`` elsewhere, so that a dot product of two rows equals
    ``sum_{tau=0}^{L-1} (R_A - n_A^2/L)(R_B - n_B^2/L)`` (``R(tau) = R(L - tau)``).
    """
    n, L = trains.shape
    H = L // 2 + 1
    w = np.ones(H)
    w[1:(L + 1) // 2] = 2.0
    sw = np.sqrt(w)
    out = np.empty((n, H), dtype=np.float32)
    for i0 in range(0, n, block):
        x = trains[i0:i0 + block].astype(np.float64)
        f = scipy.fft.rfft(x, axis=1, workers=-1)
        r = scipy.fft.irfft(f.real ** 2 + f.imag ** 2, n=L, axis=1, workers=-1)[:, :H]
        nn = x.sum(axis=1)
        r -= (nn ** 2 / L)[:, None]
        out[i0:i0 + block] = r * sw
    return out


def _dsttc_dc(c, n_a, n_b, L):
    """Derivative of STTC (dt = 0) with respect to the co-firing count ``c``."""
    t_a, t_b = n_a / L, n_b / L
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = c / n_a, c / n_b
        return 0.5 * ((1 - t_b ** 2) / (n_a * (1 - p_a * t_b) ** 2)
                      + (1 - t_a ** 2) / (n_b * (1 - p_b * t_a) ** 2))


def _trains_key(bits: np.ndarray, L: int) -> str:
    """Identity of a set of trains (their packed bits), for the autocorrelation cache."""
    h = hashlib.blake2b(np.ascontiguousarray(bits).view(np.uint8), digest_size=16)
    h.update(np.asarray([bits.shape[0], L], dtype=np.int64).tobytes())
    return h.hexdigest()


def exact_null(source, target, *, moments: bool = False, block: int = 1024,
               autocorr: dict | None = None) -> xr.Dataset:
    """STTC (dt = 0) with its exact all-shift null for every (target, source) pair.

    Returns a Dataset over ``(target, source)`` with ``sttc`` and ``z`` (float32); with
    ``moments=True`` also ``null_mean`` and ``null_sd`` (the STTC null's delta-method mean
    and standard deviation) and ``cofiring``/``cofiring_mean``/``cofiring_sd`` (co-firing
    frames and their null moments). Memory: the sources' folded autocorrelations
    (``2 L`` bytes per neuron), per-block arrays of ``block x n_source`` and the outputs.

    ``autocorr``: an optional dict the caller keeps between calls. The folded
    autocorrelations of the target layer are left in it, and a later call whose source is
    that layer (the next layer pair) reuses them instead of computing them again; it holds
    one layer at a time (``2 L`` bytes per neuron).
    """
    src = as_trains(source, "source")
    n_s, L = src.shape
    n_t = _n_neurons(target)
    src_bits, _, n_b, t_b = _train_parts(src, 0)
    src_key = _trains_key(src_bits, L) if autocorr is not None else None
    rb = autocorr.get(src_key) if autocorr is not None else None
    if rb is None:
        rb = _autocorr_half(src)
    tgt_acorr = [] if autocorr is not None else None
    n_b = n_b.astype(np.float64)
    names = ("sttc", "z") + (("null_mean", "null_sd", "cofiring", "cofiring_mean", "cofiring_sd")
                             if moments else ())
    res = {k: np.empty((n_t, n_s), dtype=np.float32 if k != "cofiring" else np.int32) for k in names}
    for i0, tgt in target_blocks(target, block, L):
        sl = slice(i0, i0 + tgt.shape[0])
        tgt_bits, _, n_a, t_a = _train_parts(tgt, 0)
        c0 = np.empty((tgt.shape[0], n_s), dtype=np.int64)
        _and_popcount(tgt_bits, src_bits, c0)
        n_a = n_a.astype(np.float64)[:, None]
        ra = _autocorr_half(tgt)
        if tgt_acorr is not None:
            tgt_acorr.append((ra, tgt_bits))
        m = (ra @ rb.T).astype(np.float64)
        c = c0.astype(np.float64)
        mu_all = n_a * n_b / L
        mean = (L * mu_all - c) / (L - 1)
        second = (m + L * mu_all ** 2 - c ** 2) / (L - 1)
        var = np.maximum(second - mean ** 2, 0.0)
        sd = np.sqrt(var)
        obs = sttc_from_counts(c0, c0, n_a[:, 0], n_b, t_a, t_b)
        f_mean = sttc_from_counts(mean, mean, n_a[:, 0], n_b, t_a, t_b)  # f at the null mean
        null_sd = _dsttc_dc(mean, n_a, n_b, L) * sd
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (obs - f_mean) / null_sd
        z[~(null_sd > 0)] = np.nan
        res["sttc"][sl], res["z"][sl] = obs, z
        if moments:
            res["null_mean"][sl], res["null_sd"][sl] = f_mean, null_sd
            res["cofiring"][sl], res["cofiring_mean"][sl], res["cofiring_sd"][sl] = c0, mean, sd
    if autocorr is not None:
        autocorr.clear()
        if tgt_acorr:
            bits = np.concatenate([b for _, b in tgt_acorr])
            autocorr[_trains_key(bits, L)] = np.concatenate([a for a, _ in tgt_acorr])
    coords = _labelled(res["sttc"], source, target).coords
    return xr.Dataset({k: (("target", "source"), v) for k, v in res.items()}, coords=coords,
                      attrs={"method": "exact", "n_frames": L, "dt": 0})


def shift_null(source, target, *, n_shifts: int = 150, min_shift: int = 20, dt: int = 0,
               rng=None, block: int = 2048, progress: bool = False) -> xr.Dataset:
    """STTC with the paper's random circular-shift null (any ``dt``).

    The same ``n_shifts`` offsets, drawn from ``[min_shift, L - min_shift]``, shift every
    source train. Returns a Dataset over ``(target, source)`` with ``sttc``, ``z``,
    ``null_mean`` and ``null_sd`` (sample sd, ``ddof=1``), and the offsets as an attribute.
    """
    from tqdm.auto import tqdm

    src = as_trains(source, "source")
    tgt = as_trains(target, "target")
    L = src.shape[1]
    if tgt.shape[1] != L:
        raise ValueError(f"source has {L} frames but target has {tgt.shape[1]}")
    if not 1 <= min_shift <= L // 2:
        raise ValueError(f"min_shift must be in [1, L/2 = {L // 2}], got {min_shift}")
    if n_shifts < 2:
        raise ValueError(f"n_shifts must be >= 2, got {n_shifts}")
    shifts = _rng(rng).integers(min_shift, L - min_shift + 1, size=n_shifts)

    tparts = [_train_parts(tgt[i:i + block], dt) for i in range(0, tgt.shape[0], block)]
    bits, dil_bits, n_b, t_b = _train_parts(src, dt)
    # a circular shift keeps spike counts; at dt = 0 it also keeps the tiles, so the
    # shifted trains are rotated in their packed form instead of being packed anew
    doubled = doubled_bits(src) if dt == 0 else None
    rotated = np.empty_like(bits)

    def one(s):
        nonlocal bits, dil_bits, t_b
        if s and dt == 0:
            _rotated_bits(doubled, s, L, rotated)
            bits = rotated
        elif s:
            bits, dil_bits, _, t_b = _train_parts(np.roll(src, s, axis=1), dt)
        parts = [_sttc_packed(tp, bits, dil_bits, n_b, t_b, dt) for tp in tparts]
        return np.concatenate(parts) if parts else np.empty((0, src.shape[0]))

    obs = one(0)
    s1 = np.zeros_like(obs)
    s2 = np.zeros_like(obs)
    for s in tqdm(shifts, desc="shift null", disable=not progress):
        v = one(int(s))
        s1 += v
        s2 += v * v
    mean = s1 / n_shifts
    var = np.maximum((s2 - n_shifts * mean ** 2) / (n_shifts - 1), 0.0)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (obs - mean) / sd
    z[~(sd > 0)] = np.nan
    coords = _labelled(obs, source, target).coords
    return xr.Dataset({"sttc": (("target", "source"), obs), "z": (("target", "source"), z),
                       "null_mean": (("target", "source"), mean),
                       "null_sd": (("target", "source"), sd)}, coords=coords,
                      attrs={"method": "shifts", "n_shifts": n_shifts, "min_shift": min_shift,
                             "dt": dt, "shifts": shifts.tolist()})


def sttc_zscore(source, target, method: str = "exact", n_shifts: int = 150, rng=None, *,
                min_shift: int = 20, dt: int = 0) -> xr.DataArray:
    """z-score of every pair's STTC against a circular-shift null.

    Parameters
    ----------
    source, target : ``DataArray(("neuron", "frame"))`` or 0/1 arrays (neurons x frames).
    method : ``"exact"`` (all shifts, dt = 0) or ``"shifts"`` (``n_shifts`` random shifts).
    n_shifts, min_shift : the random-shift test's parameters (paper: 150 shifts).
    rng : seed or ``numpy.random.Generator`` for the random shifts.

    Returns
    -------
    DataArray ``(target, source)`` of z (``NaN`` where undefined).
    """
    if method == "exact":
        if dt != 0:
            raise ValueError("the exact null is derived for dt = 0; use method='shifts' for dt >= 1")
        return exact_null(source, target)["z"]
    if method == "shifts":
        return shift_null(source, target, n_shifts=n_shifts, min_shift=min_shift, dt=dt, rng=rng)["z"]
    raise ValueError(f"method must be 'exact' or 'shifts', got {method!r}")


def surrogate_uncoupled(trains, min_shift: int = 20, rng=None) -> np.ndarray:
    """Each train circularly shifted by its own random offset in ``[min_shift, L - min_shift]``.

    Keeps every train's spike count and autocorrelation and removes its alignment with any
    other train: data with no coupling but the same firing statistics.
    """
    x = as_trains(trains)
    L = x.shape[1]
    offs = _rng(rng).integers(min_shift, L - min_shift + 1, size=x.shape[0])
    idx = (np.arange(L)[None, :] - offs[:, None]) % L
    return np.take_along_axis(x, idx, axis=1)


def false_positive_rate(source, target, method: str = "exact", thresholds=(3.0, 4.0, 5.0),
                        rng=None, **kw) -> dict[float, float]:
    """Fraction of pairs called significant (``z > threshold``) on uncoupled surrogates.

    The source trains are replaced by :func:`surrogate_uncoupled` copies, so no pair is
    coupled and every significant pair is a false positive. Returns
    ``{threshold: rate}`` over the pairs with a defined z.
    """
    rng = _rng(rng)
    z = sttc_zscore(surrogate_uncoupled(source, rng=rng), target, method=method, rng=rng, **kw)
    z = z.values[np.isfinite(z.values)]
    return {float(t): float((z > t).mean()) if z.size else float("nan") for t in thresholds}


def calibrated_threshold(null_z, alpha: float) -> float:
    """The z threshold whose false-positive rate on null z values is ``alpha``."""
    z = np.asarray(null_z, dtype=float).ravel()
    z = z[np.isfinite(z)]
    if not 0 < alpha < 1 or z.size == 0:
        raise ValueError("alpha must be in (0, 1) and null_z must hold finite values")
    return float(np.quantile(z, 1 - alpha))
