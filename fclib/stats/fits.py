"""Weighted fits of response functions: ReLU, two lines (hinge) and power laws.

Pure numerics on ndarrays, used by :mod:`fclib.stats.response`. A response function is a set of
points ``(x_i, y_i)`` with weights ``w_i``: ``x`` the co-firing of a group, ``y`` the
target's firing probability at that co-firing, ``w`` the number of frames behind the point.
Weighting by frames makes a least-squares fit on the points equal to a least-squares fit on
the individual frames (each frame's 0/1 outcome against the model), so a tail point seen in
three frames pulls three frames' worth, not as much as a point seen in thirty thousand.

Goodness of fit, for every model:

- ``r2 = 1 - SSE / SST`` with ``SSE = sum w (y - yhat)^2`` and ``SST = sum w (y - ybar)^2``,
  ``ybar`` the weighted mean;
- ``nrmse = sqrt(SSE / sum w) / (max y - min y)`` over the points with ``w > 0``.

Both are NaN when fewer than ``min_points`` points carry weight or ``y`` is constant.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from fclib.stats._checks import check_numbers

__all__ = ["fit_relu", "fit_two_lines", "fit_power_law", "relu", "two_lines"]


def relu(x, slope, threshold):
    """``slope * max(0, x - threshold)``.

    Parameters
    ----------
    x : array_like
        Co-firing.
    slope, threshold : float or array_like
        The ReLU's slope and threshold.

    Returns
    -------
    ndarray
        The model's values."""
    check_numbers(x, "x")
    return slope * np.maximum(0.0, np.asarray(x, dtype=float) - threshold)


def two_lines(x, intercept, slope_weak, slope_strong, intersection):
    """The continuous two-line model: slope ``slope_weak`` up to ``intersection``, then
    ``slope_strong``; value ``intercept`` at ``x = 0``.

    Parameters
    ----------
    x : array_like
        Co-firing.
    intercept, slope_weak, slope_strong, intersection : float or array_like
        The model's coefficients (:func:`fit_two_lines`).

    Returns
    -------
    ndarray
        The model's values."""
    check_numbers(x, "x")
    x = np.asarray(x, dtype=float)
    return intercept + slope_weak * x + (slope_strong - slope_weak) * np.maximum(0.0, x - intersection)


# --------------------------------------------------------------------------- kernels
@nb.njit(cache=True)
def _gof(y, w, sse):
    """(r2, nrmse, n_points) of a fit with residual sum of squares ``sse``."""
    sw = 0.0
    swy = 0.0
    n = 0
    lo = np.inf
    hi = -np.inf
    for i in range(y.size):
        if w[i] > 0:
            sw += w[i]
            swy += w[i] * y[i]
            n += 1
            lo = min(lo, y[i])
            hi = max(hi, y[i])
    if n == 0:
        return np.nan, np.nan, 0
    ybar = swy / sw
    sst = 0.0
    for i in range(y.size):
        if w[i] > 0:
            sst += w[i] * (y[i] - ybar) ** 2
    r2 = 1.0 - sse / sst if (sst > 0 and hi > lo) else np.nan
    nrmse = np.sqrt(max(sse, 0.0) / sw) / (hi - lo) if hi > lo else np.nan
    return r2, nrmse, n


@nb.njit(cache=True)
def _relu_1d(x, y, w):
    """Least-squares ``y ~ s * max(0, x - theta)`` with ``s >= 0``; ``x`` ascending.

    Between two consecutive points the set of points right of ``theta`` is fixed and the
    residual sum of squares is ``Syy - Sxy^2 / Sxx`` with ``Sxy = A - theta B`` and
    ``Sxx = C - 2 theta D + theta^2 E`` (suffix sums of ``w k y``, ``w y``, ``w k^2``,
    ``w k``, ``w``); its stationary point is ``theta* = (BC - AD) / (BD - AE)``. Checking
    every interval's ends and its clipped ``theta*`` gives the exact optimum.
    Returns (slope, threshold, sse).
    """
    syy = 0.0
    for i in range(x.size):
        syy += w[i] * y[i] * y[i]
    best_sse = syy
    best_s = 0.0
    best_t = np.nan
    A = 0.0
    B = 0.0
    C = 0.0
    D = 0.0
    E = 0.0
    cand = np.empty(3)
    idx = np.flatnonzero(w > 0)
    for q in range(idx.size - 1, -1, -1):  # active set: weighted points q.. (by x)
        j = idx[q]
        A += w[j] * x[j] * y[j]
        B += w[j] * y[j]
        C += w[j] * x[j] * x[j]
        D += w[j] * x[j]
        E += w[j]
        # theta ranges over [previous weighted point, x[j]]
        lo = x[idx[q - 1]] if q > 0 else -np.inf
        hi = x[j]
        nc = 0
        cand[nc] = hi
        nc += 1
        if np.isfinite(lo):
            cand[nc] = lo
            nc += 1
        den = B * D - A * E
        if den != 0.0:
            ts = (B * C - A * D) / den
            if ts > lo and ts < hi:
                cand[nc] = ts
                nc += 1
        for c in range(nc):
            t = cand[c]
            sxy = A - t * B
            sxx = C - 2.0 * t * D + t * t * E
            if sxy > 0 and sxx > 1e-12 * max(C, 1.0):
                sse = syy - sxy * sxy / sxx
                if sse < best_sse - 1e-12 * max(syy, 1e-300):
                    best_sse = sse
                    best_s = sxy / sxx
                    best_t = t
    return best_s, best_t, max(best_sse, 0.0)


@nb.njit(cache=True)
def _solve3(M, r):
    """Solve a 3x3 system by Gaussian elimination with partial pivoting; NaN if singular."""
    a = M.copy()
    b = r.copy()
    for c in range(3):
        p = c
        for i in range(c + 1, 3):
            if abs(a[i, c]) > abs(a[p, c]):
                p = i
        if abs(a[p, c]) < 1e-12 * max(1.0, abs(a[0, 0])):
            return np.full(3, np.nan)
        if p != c:
            for k in range(3):
                a[c, k], a[p, k] = a[p, k], a[c, k]
            b[c], b[p] = b[p], b[c]
        for i in range(c + 1, 3):
            f = a[i, c] / a[c, c]
            for k in range(c, 3):
                a[i, k] -= f * a[c, k]
            b[i] -= f * b[c]
    out = np.empty(3)
    for c in range(2, -1, -1):
        s = b[c]
        for k in range(c + 1, 3):
            s -= a[c, k] * out[k]
        out[c] = s / a[c, c]
    return out


@nb.njit(cache=True)
def _hinge_candidates(x, w, n_sub):
    """Breakpoints tried by the two-line fit: every weighted point from the 2nd to the
    2nd-to-last, and ``n_sub - 1`` evenly spaced points inside each gap between them."""
    idx = np.flatnonzero(w > 0)
    m = idx.size
    if m < 4:
        return np.empty(0)
    pts = x[idx[1:m - 1]]
    out = np.empty((pts.size - 1) * n_sub + 1)
    q = 0
    for i in range(pts.size - 1):
        for s in range(n_sub):
            out[q] = pts[i] + (pts[i + 1] - pts[i]) * s / n_sub
            q += 1
    out[q] = pts[-1]
    return out


@nb.njit(cache=True)
def _hinge_1d(x, y, w, n_sub):
    """Least-squares ``y ~ a + b x + c max(0, x - kappa)``, ``c > 0``, over the candidate breakpoints.

    For each ``kappa`` the 3x3 normal equations come from total and suffix sums, so a
    candidate costs O(1) after one pass. Returns (a, b, c, kappa, sse).
    """
    cands = _hinge_candidates(x, w, n_sub)
    best = (np.nan, np.nan, np.nan, np.nan, np.inf)
    if cands.size == 0:
        return best
    m = x.size
    S0 = 0.0
    S1 = 0.0
    S2 = 0.0
    Sy = 0.0
    Sky = 0.0
    syy = 0.0
    for i in range(m):
        S0 += w[i]
        S1 += w[i] * x[i]
        S2 += w[i] * x[i] * x[i]
        Sy += w[i] * y[i]
        Sky += w[i] * x[i] * y[i]
        syy += w[i] * y[i] * y[i]
    # suffix sums over points with x > kappa: walk kappa downwards
    A = 0.0
    B = 0.0
    C = 0.0
    D = 0.0
    E = 0.0
    j = m - 1
    M = np.empty((3, 3))
    r = np.empty(3)
    for ci in range(cands.size - 1, -1, -1):
        kap = cands[ci]
        while j >= 0 and x[j] > kap:
            A += w[j] * x[j] * y[j]
            B += w[j] * y[j]
            C += w[j] * x[j] * x[j]
            D += w[j] * x[j]
            E += w[j]
            j -= 1
        sh = D - kap * E
        skh = C - kap * D
        shh = C - 2.0 * kap * D + kap * kap * E
        shy = A - kap * B
        M[0, 0] = S0
        M[0, 1] = S1
        M[0, 2] = sh
        M[1, 0] = S1
        M[1, 1] = S2
        M[1, 2] = skh
        M[2, 0] = sh
        M[2, 1] = skh
        M[2, 2] = shh
        r[0] = Sy
        r[1] = Sky
        r[2] = shy
        beta = _solve3(M, r)
        if np.isnan(beta[0]) or not beta[2] > 0:  # the strong regime must be the steeper one
            continue
        sse = syy - (beta[0] * r[0] + beta[1] * r[1] + beta[2] * r[2])
        if sse < best[4]:
            best = (beta[0], beta[1], beta[2], kap, max(sse, 0.0))
    return best


@nb.njit(parallel=True, cache=True)
def _relu_rows(x, y, w, min_points):
    n = y.shape[0]
    out = np.full((n, 5), np.nan)
    for t in nb.prange(n):
        s, th, sse = _relu_1d(x, y[t], w[t])
        r2, nrmse, npt = _gof(y[t], w[t], sse)
        out[t, 4] = npt
        if npt >= min_points:
            out[t, 0] = s
            out[t, 1] = th
            out[t, 2] = r2
            out[t, 3] = nrmse
    return out


@nb.njit(parallel=True, cache=True)
def _hinge_rows(x, y, w, min_points, n_sub):
    n = y.shape[0]
    out = np.full((n, 7), np.nan)
    for t in nb.prange(n):
        a, b, c, kap, sse = _hinge_1d(x, y[t], w[t], n_sub)
        r2, nrmse, npt = _gof(y[t], w[t], sse)
        out[t, 6] = npt
        if npt >= min_points and np.isfinite(kap):
            out[t, 0] = a
            out[t, 1] = b
            out[t, 2] = b + c
            out[t, 3] = kap
            out[t, 4] = r2
            out[t, 5] = nrmse
    return out


# --------------------------------------------------------------------------- public
def _xyw(x, y, w):
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or y.shape != w.shape or y.shape[-1] != x.size:
        raise ValueError(f"x must be 1-D with one value per column of y and w; got x {x.shape}, "
                         f"y {y.shape}, w {w.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    w = np.where(np.isfinite(y), w, 0.0)
    y = np.where(w > 0, y, 0.0)
    return x, y, w


def fit_relu(x, y, w, min_points: int = 3) -> dict[str, np.ndarray]:
    """Weighted least-squares ReLU ``y = slope * max(0, x - threshold)`` per row.

    Parameters
    ----------
    x : (k,) strictly increasing co-firing values, shared by all rows.
    y, w : (n, k) or (k,) response and weights (frames behind each point); points with
        ``w == 0`` or NaN ``y`` are ignored.
    min_points : rows with fewer weighted points get NaN parameters.

    Returns
    -------
    dict of (n,) arrays: ``slope`` (>= 0), ``threshold``, ``r2``, ``nrmse``, ``n_points``.
    The optimum over ``threshold`` is exact (closed form per interval between points), and
    ``threshold`` may lie left of the smallest ``x`` when the response is linear over the
    observed range. A row with no positive trend gets ``slope = 0`` and NaN threshold.
    """
    x, y, w = _xyw(x, y, w)
    out = _relu_rows(x, y, w, int(min_points))
    return dict(slope=out[:, 0], threshold=out[:, 1], r2=out[:, 2], nrmse=out[:, 3],
                n_points=out[:, 4].astype(int))


def fit_two_lines(x, y, w, min_points: int = 4, n_sub: int = 4) -> dict[str, np.ndarray]:
    """Weighted continuous two-line fit per row: the weak and the strong regime.

    ``y = intercept + slope_weak * x + (slope_strong - slope_weak) * max(0, x - intersection)``:
    two lines that meet at ``intersection``, the second steeper than the first
    (``slope_strong > slope_weak``: a rise, not a saturation). The breakpoint is searched
    over the weighted points from the second to the second-to-last and ``n_sub - 1`` points
    inside each gap, so each line has at least two points; the three coefficients are exact
    least squares for each breakpoint. A row with no steeper second line gets NaN.

    Parameters
    ----------
    x, y, w : ndarray
        ``(n, m)`` points and weights per row (weight 0: no point).
    min_points : int
        Rows with fewer weighted points get NaN (at least 4).
    n_sub : int
        Breakpoint candidates per gap between points.

    Returns
    -------
    dict of ndarray
        ``(n,)`` arrays ``intercept``, ``slope_weak``, ``slope_strong``, ``intersection``,
        ``r2``, ``nrmse``, ``n_points``."""
    x, y, w = _xyw(x, y, w)
    out = _hinge_rows(x, y, w, max(int(min_points), 4), int(n_sub))
    return dict(intercept=out[:, 0], slope_weak=out[:, 1], slope_strong=out[:, 2],
                intersection=out[:, 3], r2=out[:, 4], nrmse=out[:, 5],
                n_points=out[:, 6].astype(int))


def fit_power_law(n, value) -> dict[str, float]:
    """``value = a * n^(-beta)`` by least squares in log-log; positive finite pairs only.

    Parameters
    ----------
    n, value : array_like
        The sizes and the values.

    Returns
    -------
    dict
        ``beta``, its standard error ``beta_se``, ``log10_a``, the log-log correlation ``r``
        and the number of points ``n``; NaN with fewer than 3 points.

    Raises
    ------
    ValueError
        ``n`` and ``value`` of different shapes."""
    if np.shape(n) != np.shape(value):
        raise ValueError(f"n and value must have one value per point; got shapes {np.shape(n)} and "
                         f"{np.shape(value)}")
    n = np.asarray(n, dtype=float)
    v = np.asarray(value, dtype=float)
    ok = np.isfinite(n) & np.isfinite(v) & (n > 0) & (v > 0)
    lx, ly = np.log10(n[ok]), np.log10(v[ok])
    k = int(ok.sum())
    if k < 3 or np.ptp(lx) == 0:
        return dict(beta=np.nan, beta_se=np.nan, log10_a=np.nan, r=np.nan, n=k)
    b, a = np.polyfit(lx, ly, 1)
    resid = ly - (a + b * lx)
    se = np.sqrt(resid @ resid / (k - 2) / ((lx - lx.mean()) @ (lx - lx.mean())))
    return dict(beta=float(-b), beta_se=float(se), log10_a=float(a),
                r=float(np.corrcoef(lx, ly)[0, 1]), n=k)
