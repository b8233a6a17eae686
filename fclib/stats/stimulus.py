"""Stimulus-preserving null for STTC: presentations permuted among repeats of one stimulus.

A circular shift moves every spike of the source to another presentation, so two neurons
tuned to the same stimuli co-fire more than their shifted trains do and pass ``z > 4``
without any coupling. This null instead permutes the source's whole presentations (its
``T`` consecutive frames kept together and in order; frames are presentation-major,
``frame = p T + k``) among the presentations of the *same* stimulus, independently per
stimulus: what survives it is coupling beyond shared tuning.

**STTC is an increasing function of the co-firing count.** At ``dt = 0``, with the
target's and source's spike counts ``n_A``, ``n_B`` on the ``L`` frames (fixed by the
permutation), ``t = n / L`` and ``c`` the co-firing count (:mod:`fclib.stats.sttc`)::

    STTC(c) = 1/2 [ (c/n_A - t_B) / (1 - c t_B / n_A) + (c/n_B - t_A) / (1 - c t_A / n_B) ]

Each half is a Moebius map of ``c`` with slope ``(1 - t^2) / (n (1 - p t)^2) > 0``, so
STTC is strictly increasing in ``c`` -- but it is *not* affine in ``c`` (it is convex:
the slope changes by the factor ``(1 - p t)^-2``, ``p = c / n``; at firing probability
0.05, ``p t ~ t^2``, that is 0.5 %). So the permutation distribution of the STTC is the
image of that of ``c``, a pair's permutation p-value is the same for both, and the test
is done on ``c``, whose null moments are exact:
``z = (c - E[c]) / sd[c]``. The STTC null's ``mean`` and ``sd`` are reported as the
delta-method images ``f(E[c])`` and ``f'(E[c]) sd[c]`` (as :func:`fclib.stats.nulls.exact_null`
does); :func:`stimulus_permutation_null` estimates the exact ones by sampling.

**Exact moments (Hoeffding's combinatorial CLT).** Let stimulus ``g`` be shown ``m_g``
times; ``x_q`` the source's ``T``-vector in presentation ``q``, ``y_p`` the target's. With
``sigma_g`` a uniform permutation of the presentations of ``g``, independent across ``g``,
``c = sum_g c_g`` with ``c_g = sum_{p in g} <x_{sigma(p)}, y_p>``. For ``a(q, p)`` over
an ``m x m`` table, ``sum_p a(sigma(p), p)`` has mean ``(1/m) sum_{q,p} a(q, p)`` and
variance ``1/(m - 1) sum_{q,p} d(q, p)^2``, ``d`` the doubly centred table. Here
``a(q, p) = <x_q, y_p>`` and ``d(q, p) = <x_q - xbar, y_p - ybar>``, so::

    E[c]   = sum_g <A(g), B(g)> / m_g,            A(g, k) = sum_{q in g} x_q(k)
    Var[c] = sum_g <Sx(g), Sy(g)>_F / (m_g - 1),  Sx(g)[k, l] = sum_{q in g} x_q(k) x_q(l)
                                                                 - A(g, k) A(g, l) / m_g

(``B``, ``Sy`` likewise for the target; ``sum_{q,p} (x~_q' y~_p)^2 = tr(Sx Sy)``). For all
pairs these are two matrix products over per-neuron feature rows: ``G T`` columns for the
mean, ``G T (T + 1) / 2`` for the variance (the symmetric ``Sx`` entries, off-diagonals
doubled on the source side; the target's divided by ``m_g - 1``). A presentation whose
stimulus is shown once cannot move: it is left out of the observed STTC *and* the null,
so both are on the same frames (``dropped_frames`` in the result's attrs).

**Precision.** Per-group sums and scatter matrices are computed in float64 by a numba
kernel (``Sx`` subtracts large numbers). The products run in float32 (BLAS), with the
mean split as ``E = (1/M) sum_k N_A(k) N_B(k) + sum_g <A~(g), B~(g)> / m_g``, where
``N(k)`` is a neuron's spike count at step ``k`` over the ``M`` kept presentations and
``A~(g, k) = A(g, k) - m_g N_A(k) / M`` (the cross terms vanish because ``sum_g A~ = 0``):
the large rank-one part is exact in float64 and float32 only rounds the tuning part.
Against float64 formulas at 40,000 frames z agrees to 5e-7 relative (the float32 output's
rounding; tested at 1e-4); float32 products of the uncentred sums were off by up to 4e-5
at firing probability 0.3, float64 products cost twice the time. A variance below
``1e-4`` of its Cauchy-Schwarz bound ``|Sx-row| |Sy-row|`` (float32 noise of a null
without spread, e.g. targets firing once per presentation at varying steps) is taken as
0. ``z`` is ``NaN`` where a train is silent on the kept frames or the null has no spread.

**Torch backend** (``backend="torch"``, :mod:`fclib.stats._torch`): the same feature rows
(per-group sums and scatter entries by two einsums of the 0/1 trains with the one-hot
stimulus matrix, exact in float32, centred in float64), the same float32 products and the
same z in float64, on any torch device; co-firing counts by a matrix product.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import xarray as xr
from numba import njit, prange

from fclib._util import as_generator
from fclib.stats._checks import attached_stimulus, attached_T, resolve_T
from fclib.stats.sttc import (as_trains, cofiring_bits, cofiring_counts, pack_trains,
                              pair_coords, resolve_backend, sttc_from_counts, target_blocks,
                              transpose_bits)

__all__ = ["stimulus_null", "stimulus_permutation_null", "surrogate_within_stimulus"]

_VAR_RTOL = 1e-4  # variance below this fraction of its Cauchy-Schwarz bound counts as 0


# ----------------------------------------------------------------------------- kernels
@njit(parallel=True, cache=True)
def _presentation_features(trains, group, m, T, we, wv, off, tot_out, e_out, v_out, vn_out):
    """Per-neuron feature rows of the stimulus null (see the module docstring).

    ``trains (n, M T)`` uint8, presentation-major; ``group (M,)`` the stimulus ``0..G-1``
    of every presentation, ``m (G,)`` the presentations per stimulus. Writes, for every
    neuron ``i`` and stimulus ``g``:

    * ``tot_out[i, k]`` = spikes at step ``k`` over all ``M`` presentations;
    * ``e_out[i, g T + k] = (A(g, k) - m_g tot[k] / M) * we[g]``;
    * ``v_out[i, g Q + r] = Sx(g)[k, l] * wv[g] * (off if k < l else 1)`` for the
      ``Q = T (T + 1) / 2`` entries ``k <= l`` in row-major order ``r``;
    * ``vn_out[i]`` = the Euclidean norm of the row ``v_out[i]`` as stored.

    Sums and scatter entries are float64; ``e_out``/``v_out`` take the caller's dtype.
    One sequential scan of each train; only its spikes do work.
    """
    n, L = trains.shape
    G = m.shape[0]
    M = group.shape[0]
    Q = T * (T + 1) // 2
    for i in prange(n):
        a = np.zeros((G, T))
        q = np.zeros((G, Q))
        row = trains[i]
        for f in range(L):
            if row[f] != 0:
                p = f // T
                k = f - p * T
                g = group[p]
                a[g, k] += 1.0
                r = k * T - k * (k - 1) // 2  # entry (k, k)
                q[g, r] += 1.0
                for l in range(k + 1, T):
                    if row[p * T + l] != 0:
                        q[g, r + l - k] += 1.0
        for k in range(T):
            t = 0.0
            for g in range(G):
                t += a[g, k]
            tot_out[i, k] = t
        norm2 = 0.0
        for g in range(G):
            for k in range(T):
                e_out[i, g * T + k] = (a[g, k] - m[g] * tot_out[i, k] / M) * we[g]
            r = 0
            for k in range(T):
                for l in range(k, T):
                    s = (q[g, r] - a[g, k] * a[g, l] / m[g]) * wv[g]
                    v_out[i, g * Q + r] = s if k == l else s * off
                    x = np.float64(v_out[i, g * Q + r])
                    norm2 += x * x
                    r += 1
        vn_out[i] = np.sqrt(norm2)


@njit(parallel=True, cache=True, error_model="numpy")
def _z_block(c0, e_dev, v, tot_t, tot_s, M, vn_t, vn_s, z_out, mom_out):
    """z of a block of pairs: ``E = tot_t . tot_s / M + e_dev``, ``z = (c0 - E) / sqrt(v)``.

    ``NaN`` where a train is silent (its total is 0) or ``v <= _VAR_RTOL vn_t vn_s``.
    ``mom_out (2, rows, cols)`` (or an empty array) receives ``E`` and ``sqrt(v)``.
    """
    rows, cols = c0.shape
    T = tot_t.shape[1]
    moments = mom_out.shape[1] == rows and rows > 0
    for i in prange(rows):
        na = 0.0
        for k in range(T):
            na += tot_t[i, k]
        for j in range(cols):
            nb = 0.0
            e = 0.0
            for k in range(T):
                nb += tot_s[j, k]
                e += tot_t[i, k] * tot_s[j, k]
            e = e / M + e_dev[i, j]
            var = np.float64(v[i, j])
            if na == 0.0 or nb == 0.0:
                z = e = sd = np.nan
            elif var > _VAR_RTOL * vn_t[i] * vn_s[j]:
                sd = np.sqrt(var)
                z = (c0[i, j] - e) / sd
            else:
                z = np.nan
                sd = 0.0
            z_out[i, j] = z
            if moments:
                mom_out[0, i, j] = e
                mom_out[1, i, j] = sd


# ----------------------------------------------------------------------------- design
@dataclass(frozen=True)
class _Design:
    """Which presentations are kept and how they group: ``keep`` (frame indices into the
    original frames, or None when all are kept), ``group`` (stimulus index 0..G-1 of every
    kept presentation), ``order`` (kept presentations grouped by stimulus, stably),
    ``m`` (presentations per stimulus), and the counts the attrs report."""
    T: int
    keep: np.ndarray | None
    group: np.ndarray
    order: np.ndarray
    m: np.ndarray
    dropped_frames: int

    @property
    def n_presentations(self) -> int:
        return int(self.group.size)

    @property
    def n_frames(self) -> int:
        return self.n_presentations * self.T

    def kept(self, trains: np.ndarray) -> np.ndarray:
        return trains if self.keep is None else np.ascontiguousarray(trains[:, self.keep])

    def attrs(self) -> dict:
        return {"method": "stimulus", "T": self.T, "n_frames": self.n_frames, "dt": 0,
                "dropped_frames": self.dropped_frames,
                "n_presentations": self.n_presentations, "n_stimuli": int(self.m.size)}


def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 1:
        raise ValueError(f"T (frames per presentation) must be an int >= 1, got {T!r}")
    return int(T)


def _frames_of(x) -> int:
    if isinstance(x, xr.DataArray):
        if "frame" not in x.dims:
            raise ValueError(f"target must have dims ('neuron', 'frame'), got {x.dims}")
        return x.sizes["frame"]
    shape = np.shape(x)
    if len(shape) != 2:
        raise ValueError(f"target must be 2-D (neurons x frames), got shape {shape}")
    return shape[1]


def _design(stimulus, T: int, n_frames: int, n_target_frames: int) -> _Design:
    """Validate the frames and stimulus labels; group the presentations by stimulus."""
    if n_target_frames != n_frames:
        raise ValueError(f"source has {n_frames} frames but target has {n_target_frames}; "
                         "they must be the same frames")
    if n_frames % T:
        raise ValueError(f"{n_frames} frames is not a whole number of presentations of T={T} "
                         f"frames; pass the frames of whole presentations")
    labels = np.asarray(stimulus)
    n_pres = n_frames // T
    if labels.ndim != 1 or labels.size != n_pres:
        raise ValueError(f"stimulus must hold one label per presentation: n_frames // T = "
                         f"{n_frames} // {T} = {n_pres} labels, got shape {labels.shape}")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    repeated = counts >= 2
    if not repeated.any():
        raise ValueError(f"every one of the {n_pres} presentations shows a different stimulus: "
                         "nothing to permute (the stimulus null needs stimuli shown at least "
                         "twice)")
    keep_pres = repeated[inverse]
    new_index = np.cumsum(repeated) - 1  # stimulus index among the repeated ones
    group = new_index[inverse[keep_pres]].astype(np.int64)
    m = counts[repeated].astype(np.int64)
    order = np.argsort(group, kind="stable").astype(np.int64)
    keep = None
    if not keep_pres.all():
        keep = (np.flatnonzero(keep_pres)[:, None] * T + np.arange(T)).ravel()
    return _Design(T=T, keep=keep, group=group, order=order, m=m,
                   dropped_frames=int((~keep_pres).sum()) * T)


def _features(trains: np.ndarray, d: _Design, side: str):
    """Spike counts per step ``(n, T)`` (float64), mean and variance feature rows (float32)
    and the variance rows' norms (float64) of kept-frame trains; ``side`` is ``"source"``
    (off-diagonals doubled) or ``"target"`` (divided by ``m_g`` and ``m_g - 1``)."""
    n, T, G = trains.shape[0], d.T, d.m.size
    Q = T * (T + 1) // 2
    m = d.m.astype(np.float64)
    if side == "source":
        we, wv, off = np.ones(G), np.ones(G), 2.0
    else:
        we, wv, off = 1.0 / m, 1.0 / (m - 1.0), 1.0
    tot = np.empty((n, T))
    fe = np.empty((n, G * T), dtype=np.float32)
    fv = np.empty((n, G * Q), dtype=np.float32)
    vn = np.empty(n)
    _presentation_features(trains, d.group, d.m.astype(np.float64), T, we, wv, off, tot, fe,
                           fv, vn)
    return tot, fe, fv, vn


def _sttc_moments(mu, sd, n_a, n_b, L):
    """Delta-method STTC null mean ``f(mu)`` and sd ``f'(mu) sd`` of a block of pairs from
    their co-firing moments (``n_a``: target spike counts, ``n_b``: source's, ``L`` frames)."""
    mean = sttc_from_counts(mu, mu, n_a, n_b, n_a / L, n_b / L)
    n_a, n_b = n_a[:, None], n_b[None, :]
    t_a, t_b = n_a / L, n_b / L
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = 0.5 * ((1 - t_b * t_b) / (n_a * (1 - mu / n_a * t_b) ** 2)
                       + (1 - t_a * t_a) / (n_b * (1 - mu / n_b * t_a) ** 2))
    return mean, slope * sd


def _dataset(res: dict, source, target, attrs: dict) -> xr.Dataset:
    return xr.Dataset({k: (("target", "source"), v) for k, v in res.items()},
                      coords=pair_coords(source, target), attrs=attrs)


def _presentations(source, stimulus, T):
    """``(stimulus, T)`` given, or where ``None`` what ``source`` carries: its ``T``
    attribute (or ``step`` coordinate) and its ``stimulus`` (or ``image``) frame coordinate,
    as :func:`fclib.io.bin_spikes` attaches them; a ``T`` that contradicts them is refused."""
    if T is None or stimulus is None:
        if not isinstance(source, xr.DataArray) or attached_T(source) is None:
            missing = " and ".join(n for n, v in (("stimulus=", stimulus), ("T=", T)) if v is None)
            raise ValueError("the stimulus-preserving null needs stimulus= (one label per "
                             "presentation) and T= (frames per presentation); the source spikes "
                             "carry no T attribute or step coordinate to take them from "
                             "(fclib.io.bin_spikes attaches both given trial_onsets and "
                             f"trial_stimulus): pass {missing}")
    if isinstance(source, xr.DataArray):
        T = resolve_T(source, T, "source")
        if stimulus is None:
            stimulus = attached_stimulus(source, T)
            if stimulus is None:
                raise ValueError("the stimulus-preserving null needs stimulus= (one label per "
                                 "presentation); the source spikes carry no 'stimulus' or "
                                 "'image' coordinate (fclib.io.bin_spikes attaches it given "
                                 "trial_stimulus): pass stimulus=")
    return stimulus, T


def _prepare(source, target, stimulus, T, block):
    stimulus, T = _presentations(source, stimulus, T)
    T = _check_T(T)
    if isinstance(block, bool) or not isinstance(block, numbers.Integral) or block < 1:
        raise ValueError(f"block must be an int >= 1 (target neurons per block), got {block!r}")
    src = as_trains(source, "source")
    d = _design(stimulus, T, src.shape[1], _frames_of(target))
    return d, d.kept(src)


# ----------------------------------------------------------------------------- public
def stimulus_null(source, target, stimulus=None, T: int | None = None, *, moments: bool = False,
                  block: int = 1024, backend: str = "auto", device=None) -> xr.Dataset:
    """STTC (dt = 0) and its exact stimulus-preserving null for every (target, source) pair.

    The null permutes the source's presentations (``T`` consecutive frames each, kept in
    order) among the presentations of the same stimulus, independently per stimulus; its
    mean and variance of the co-firing count ``c`` are exact (Hoeffding; module docstring)::

        E[c]   = sum_g <A_j(g), B_i(g)> / m_g
        Var[c] = sum_g <Sx_j(g), Sy_i(g)>_F / (m_g - 1)
        z      = (c - E[c]) / sqrt(Var[c])

    with ``A``/``B`` a source's/target's spikes per step summed over the ``m_g``
    presentations of stimulus ``g`` and ``S`` their ``T x T`` scatter matrices. STTC is a
    strictly increasing (not affine) function of ``c``, so a pair's permutation p-value is
    the same for both; ``z`` standardises ``c`` by its exact null moments. Presentations of
    stimuli shown once are left out of the observed STTC and the null alike.

    Parameters
    ----------
    source, target : ``DataArray(("neuron", "frame"))`` (dask-backed targets are read
        ``block`` neurons at a time) or 0/1 arrays (neurons x frames), the same frames.
    stimulus : one label per presentation (length ``n_frames // T``; any sortable values),
        e.g. :func:`fclib.io.recordings.presentation_stimuli`. ``None``: the source's
        ``stimulus`` frame coordinate (as :func:`fclib.io.bin_spikes` attaches it), else its
        ``image`` coordinate.
    T : frames per presentation; frame ``f`` belongs to presentation ``f // T``. ``None``:
        the source's ``T`` attribute (or the period of its ``step`` coordinate); a ``T``
        that contradicts the attribute is an error.
    moments : also return the null moments (below).
    block : target neurons per block (bounds the memory).
    backend, device : ``"numba"``, ``"torch"`` (on ``device``) or ``"auto"`` (torch where a
        CUDA device exists); see :func:`fclib.stats.sttc.sttc`.

    Returns
    -------
    Dataset over ``(target, source)``: ``sttc`` (on the kept frames) and ``z`` (float32,
    ``NaN`` where a train is silent on the kept frames or the null has no spread); with
    ``moments=True`` also ``null_mean``/``null_sd`` (the STTC null's delta-method mean and
    sd, ``f(E[c])`` and ``f'(E[c]) sd[c]``) and ``cofiring``/``cofiring_mean``/``cofiring_sd``
    (co-firing frames and their exact null moments). Neuron coordinates are carried over as
    ``target_*``/``source_*``; attrs: ``method="stimulus"``, ``T``, ``n_frames`` (kept),
    ``dropped_frames``, ``n_presentations`` (kept), ``n_stimuli`` (shown at least twice).
    Memory: feature rows of ``G T (T + 3) / 2`` float32 per neuron (``G`` stimuli), per-block
    arrays of ``block x n_source`` and the outputs.
    """
    backend, dev = resolve_backend(backend, device)
    d, src = _prepare(source, target, stimulus, T, block)
    n_s, L, M = src.shape[0], d.n_frames, d.n_presentations
    n_t = target.sizes["neuron"] if isinstance(target, xr.DataArray) else np.shape(target)[0]
    if backend == "torch":
        return _stimulus_null_torch(source, target, d, src, n_t, block, moments, dev)
    tot_s, fe_s, fv_s, vn_s = _features(src, d, "source")
    n_b = tot_s.sum(axis=1)
    sttc_all = np.empty((n_t, n_s), dtype=np.float32)
    z_all = np.empty((n_t, n_s), dtype=np.float32)
    mom = np.empty((2, n_t if moments else 0, n_s if moments else 0), dtype=np.float64)
    extra = {k: np.empty((n_t, n_s), dtype=np.float32) for k in ("null_mean", "null_sd")} \
        if moments else {}
    cof = np.empty((n_t, n_s), dtype=np.int32) if moments else None
    src_bits = transpose_bits(pack_trains(src))   # packed once, not once per target block
    for i0, tgt in target_blocks(target, block, d.n_frames + d.dropped_frames):
        sl = slice(i0, i0 + tgt.shape[0])
        tgt = d.kept(tgt)
        tot_t, fe_t, fv_t, vn_t = _features(tgt, d, "target")
        n_a = tot_t.sum(axis=1)
        c0 = cofiring_bits(tgt, src_bits)
        _z_block(c0, fe_t @ fe_s.T, fv_t @ fv_s.T, tot_t, tot_s, float(M), vn_t, vn_s,
                 z_all[sl], mom[:, sl])
        sttc_all[sl] = sttc_from_counts(c0, c0, n_a, n_b, n_a / L, n_b / L)
        if moments:
            extra["null_mean"][sl], extra["null_sd"][sl] = _sttc_moments(
                mom[0, sl], mom[1, sl], n_a, n_b, L)
            cof[sl] = c0
    res = {"sttc": sttc_all, "z": z_all}
    if moments:
        res.update(extra, cofiring=cof, cofiring_mean=mom[0].astype(np.float32),
                   cofiring_sd=mom[1].astype(np.float32))
    return _dataset(res, source, target, d.attrs())


def _weights(d: _Design):
    """``side -> (we, wv, off)``: the feature weights of :func:`_features`."""
    m = d.m.astype(np.float64)

    def weights(side):
        if side == "source":
            return np.ones(m.size), np.ones(m.size), 2.0
        return 1.0 / m, 1.0 / (m - 1.0), 1.0
    return weights


def _stimulus_null_torch(source, target, d: _Design, src, n_t, block, moments, dev):
    """:func:`stimulus_null` on the torch backend (same outputs)."""
    from fclib.stats import _torch

    L = d.n_frames
    c0, z, mom = _torch.stimulus_null(src, target_blocks(target, block, L + d.dropped_frames),
                                      n_t, d, d.kept, _weights(d), dev, _VAR_RTOL, moments)
    n_a = _spike_counts(target, block, d)
    n_b = src.sum(axis=1, dtype=np.int64).astype(np.float64)
    res = {"sttc": sttc_from_counts(c0, c0, n_a, n_b, n_a / L, n_b / L).astype(np.float32),
           "z": z}
    if moments:
        null_mean, null_sd = _sttc_moments(mom[0], mom[1], n_a, n_b, L)
        res.update(null_mean=null_mean.astype(np.float32), null_sd=null_sd.astype(np.float32),
                   cofiring=c0.astype(np.int32), cofiring_mean=mom[0].astype(np.float32),
                   cofiring_sd=mom[1].astype(np.float32))
    return _dataset(res, source, target, d.attrs())


def _spike_counts(target, block, d: _Design) -> np.ndarray:
    """Spike counts of the target neurons on the kept frames (float64)."""
    parts = [d.kept(t).sum(axis=1, dtype=np.int64)
             for _, t in target_blocks(target, block, d.n_frames + d.dropped_frames)]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def _draw_permutation(rng: np.random.Generator, d: _Design) -> np.ndarray:
    """A uniform random permutation of the kept presentations within each stimulus:
    presentation ``p`` of the permuted train is presentation ``perm[p]`` of the original."""
    shuffled = np.lexsort((rng.random(d.group.size), d.group))
    perm = np.empty_like(d.order)
    perm[d.order] = shuffled
    return perm


def stimulus_permutation_null(source, target, stimulus=None, T: int | None = None, *,
                              n_shuffles: int = 1000, rng=None, moments: bool = False, block: int = 1024,
                              progress: bool = False, backend: str = "auto",
                              device=None) -> xr.Dataset:
    """The sampled twin of :func:`stimulus_null`: ``n_shuffles`` random within-stimulus
    permutations of the source's presentations.

    Every permutation (drawn in Python from ``rng``, the same for all sources) reorders
    the presentations of each stimulus at random; the co-firing count ``c`` and the STTC of
    every pair are accumulated as running sums of their deviations from the observed values
    (float64, so no cancellation). ``z = (c_0 - mean_c) / sd_c`` (sample sd, ``ddof=1``),
    which tends to :func:`stimulus_null`'s z as ``n_shuffles`` grows; ``null_mean``/``null_sd``
    are the sampled STTC moments (not delta-method images). Costs ``n_shuffles`` co-firing
    counts: for checks and small data.

    Parameters
    ----------
    source, target, stimulus, T, block : as :func:`stimulus_null`.
    n_shuffles : number of permutations (>= 2).
    rng : ``numpy.random.Generator``, int seed or ``None``.
    moments : also return the null moments.
    progress : show a progress bar over the permutations.
    backend, device : where the co-firing counts are computed (:func:`stimulus_null`).

    Returns
    -------
    Dataset over ``(target, source)`` as :func:`stimulus_null` (float32 ``sttc``, ``z``;
    with ``moments=True`` the sampled ``null_mean``, ``null_sd``, ``cofiring_mean``,
    ``cofiring_sd`` and ``cofiring``); attrs as there plus ``method="stimulus-permutation"``
    and ``n_shuffles``.

    Raises
    ------
    ValueError
        ``n_shuffles`` not an int >= 2 (and the errors of :func:`stimulus_null`).
    """
    from fclib._util import progress_bar

    backend, dev = resolve_backend(backend, device)
    kw = dict(backend=backend, device=dev)
    rng = as_generator(rng)
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, numbers.Integral) or n_shuffles < 2:
        raise ValueError(f"n_shuffles must be an int >= 2, got {n_shuffles!r}")
    d, src = _prepare(source, target, stimulus, T, block)
    n_s, L, M = src.shape[0], d.n_frames, d.n_presentations
    n_b = src.sum(axis=1, dtype=np.int64)
    blocks = []
    for i0, tgt in target_blocks(target, block, d.n_frames + d.dropped_frames):
        tgt = d.kept(tgt)
        blocks.append((slice(i0, i0 + tgt.shape[0]), tgt, tgt.sum(axis=1, dtype=np.int64)))
    n_t = blocks[-1][0].stop if blocks else 0
    c0 = np.empty((n_t, n_s), dtype=np.int64)
    obs = np.empty((n_t, n_s))
    def counter(source):
        """Co-firing of each target block with ``source``, packed once for all blocks on
        the numba path."""
        if backend == "torch":
            return lambda tgt: cofiring_counts(tgt, source, **kw)
        bits = transpose_bits(pack_trains(source))
        return lambda tgt: cofiring_bits(tgt, bits)

    count = counter(src)
    for sl, tgt, n_a in blocks:
        c0[sl] = count(tgt)
        obs[sl] = sttc_from_counts(c0[sl], c0[sl], n_a, n_b, n_a / L, n_b / L)
    sums = {k: np.zeros((n_t, n_s)) for k in ("c1", "c2", "s1", "s2")}
    src3 = src.reshape(n_s, M, d.T)
    for _ in progress_bar(range(n_shuffles), desc="stimulus null", progress=progress):
        count = counter(src3[:, _draw_permutation(rng, d), :].reshape(n_s, L))
        for sl, tgt, n_a in blocks:
            c = count(tgt)
            dc = (c - c0[sl]).astype(np.float64)
            sums["c1"][sl] += dc
            sums["c2"][sl] += dc * dc
            ds = sttc_from_counts(c, c, n_a, n_b, n_a / L, n_b / L) - obs[sl]
            sums["s1"][sl] += ds
            sums["s2"][sl] += ds * ds

    def mean_sd(s1, s2):
        m = s1 / n_shuffles
        return m, np.sqrt(np.maximum((s2 - n_shuffles * m * m) / (n_shuffles - 1), 0.0))

    dc_mean, c_sd = mean_sd(sums["c1"], sums["c2"])
    ds_mean, s_sd = mean_sd(sums["s1"], sums["s2"])
    silent = np.isnan(obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -dc_mean / c_sd
    z[~(c_sd > 0) | silent] = np.nan
    res = {"sttc": obs.astype(np.float32), "z": z.astype(np.float32)}
    if moments:
        c_mean = np.where(silent, np.nan, c0 + dc_mean)
        res.update(null_mean=(obs + ds_mean).astype(np.float32),
                   null_sd=np.where(silent, np.nan, s_sd).astype(np.float32),
                   cofiring=c0.astype(np.int32), cofiring_mean=c_mean.astype(np.float32),
                   cofiring_sd=np.where(silent, np.nan, c_sd).astype(np.float32))
    attrs = {**d.attrs(), "method": "stimulus-permutation", "n_shuffles": int(n_shuffles)}
    return _dataset(res, source, target, attrs)


def surrogate_within_stimulus(trains, stimulus=None, T: int | None = None,
                              rng=None) -> np.ndarray:
    """Each train's presentations permuted at random among presentations of the same
    stimulus, independently for every train.

    Keeps every train's tuning (its spikes on each stimulus and step) and removes any
    coupling between trains beyond it: uncoupled data on which the stimulus-preserving null
    should call edges only at its false-positive rate. Presentations of stimuli shown once
    stay in place.

    Parameters
    ----------
    trains : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)``.
    stimulus, T : as :func:`stimulus_null` (default: what the trains carry).
    rng : numpy.random.Generator or int, optional
        The permutations' draws.

    Returns
    -------
    ndarray
        uint8 ``(neuron, frame)``."""
    stimulus, T = _presentations(trains, stimulus, T)
    x = as_trains(trains)
    T = _check_T(T)
    d = _design(stimulus, T, x.shape[1], x.shape[1])
    gen = as_generator(rng)
    kept = (np.arange(x.shape[1] // T) if d.keep is None else d.keep[::T] // T)
    out = x.copy()
    for i in range(x.shape[0]):
        perm = _draw_permutation(gen, d)  # kept presentation p takes kept perm[p]
        src = kept[perm]
        frames = (src[:, None] * T + np.arange(T)).ravel()
        dst = (kept[:, None] * T + np.arange(T)).ravel()
        out[i, dst] = x[i, frames]
    return out
