"""Slow, obvious twins of the fast kernels (compared in the tests)."""
import numpy as np


def tiled(train, dt):
    """Boolean mask of frames within dt of a spike (clipped at the ends)."""
    L = len(train)
    out = np.zeros(L, bool)
    for t in np.flatnonzero(train):
        out[max(0, t - dt):min(L, t + dt + 1)] = True
    return out


def sttc_pair(a, b, dt=0):
    """Cutts & Eglen's STTC for two binned trains, written out term by term."""
    a = np.asarray(a).astype(bool)
    b = np.asarray(b).astype(bool)
    if a.sum() == 0 or b.sum() == 0:
        return np.nan
    ta, tb = tiled(a, dt).mean(), tiled(b, dt).mean()
    pa = (a & tiled(b, dt)).sum() / a.sum()
    pb = (b & tiled(a, dt)).sum() / b.sum()

    def half(p, t):
        return 1.0 if p * t == 1 else (p - t) / (1 - p * t)

    return 0.5 * (half(pa, tb) + half(pb, ta))


def sttc_all(source, target, dt=0):
    return np.array([[sttc_pair(t, s, dt) for s in source] for t in target])


def shifted_counts(a, b):
    """Co-firing count of a with b circularly shifted by every s = 0..L-1."""
    L = len(a)
    return np.array([(a.astype(int) * np.roll(b, s).astype(int)).sum() for s in range(L)])


# ----------------------------------------------------------------- 1FC groups and response
def cofiring_dense(source, members_of, n_source):
    """Co-firing by a dense membership matrix product: M (targets x sources) @ spikes."""
    M = np.zeros((len(members_of), n_source), dtype=np.int64)
    for t, m in enumerate(members_of):
        M[t, m] = 1
    return M @ np.asarray(source, dtype=np.int64)


def response_loops(cof, spk, K):
    """Frames and target spikes at every co-firing value, one frame at a time."""
    nf = np.zeros((cof.shape[0], K), np.int64)
    fire = np.zeros((cof.shape[0], K), np.int64)
    for t in range(cof.shape[0]):
        for f in range(cof.shape[1]):
            nf[t, cof[t, f]] += 1
            fire[t, cof[t, f]] += spk[t, f]
    return nf, fire


def wsse(y, w, yhat):
    return float(np.sum(w * (y - yhat) ** 2))


def relu_grid(x, y, w, thetas):
    """Best ReLU over a grid of thresholds: slope by weighted least squares (clipped at 0)."""
    best = (np.inf, np.nan, np.nan)
    for th in thetas:
        u = np.maximum(0.0, x - th)
        sxx = np.sum(w * u * u)
        s = max(0.0, np.sum(w * u * y) / sxx) if sxx > 0 else 0.0
        e = wsse(y, w, s * u)
        if e < best[0]:
            best = (e, s, th)
    return best


def two_lines_lstsq(x, y, w, kappas):
    """Best continuous two-line fit (second line steeper) over given breakpoints, by lstsq."""
    best = (np.inf, None, np.nan)
    sw = np.sqrt(w)
    for kap in kappas:
        X = np.stack([np.ones_like(x), x, np.maximum(0.0, x - kap)], 1)
        beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
        e = wsse(y, w, X @ beta)
        if beta[2] > 0 and e < best[0]:
            best = (e, beta, kap)
    return best


# ----------------------------------------------------------------- information and semantics
def mi_bits(x, y):
    """Plug-in mutual information in bits, from the definition."""
    x, y = np.asarray(x), np.asarray(y)
    n = x.size
    out = 0.0
    for a in np.unique(x):
        for b in np.unique(y):
            pxy = np.sum((x == a) & (y == b)) / n
            if pxy > 0:
                out += pxy * np.log2(pxy / (np.mean(x == a) * np.mean(y == b)))
    return out


def bin_stats_loops(bins, labels, preferred, sim, n_bins):
    n, L = bins.shape
    nf = np.zeros((n, n_bins))
    ssum = np.zeros((n, n_bins))
    match = np.zeros((n, n_bins))
    for t in range(n):
        for f in range(L):
            b = bins[t, f]
            if b >= 0:
                nf[t, b] += 1
                ssum[t, b] += sim[labels[f], preferred[t]]
                match[t, b] += labels[f] == preferred[t]
    return nf, ssum, match


def ttfs_select(t, w, rel_tol=1e-12):
    """The spike interval of every (sample, neuron) of an exact-TTFS layer, vectorised over
    every interval (the formulation fclib.ttfs.neuron used before its numba kernel): ``found``
    and A, B of the first interval whose membrane reaches the threshold, and ``r``."""
    order = np.argsort(t, axis=1, kind="stable")
    ts = np.take_along_axis(t, order, axis=1)
    fin = np.isfinite(ts)
    r = np.where(fin[:, 0], ts[:, 0], 0.0)
    tf = np.where(fin, ts, r[:, None])
    et = np.where(fin, np.exp(tf - r[:, None]), 0.0)
    ws = w[order]
    A = np.cumsum(ws * et[..., None], axis=1)
    B = np.cumsum(ws * (tf * et)[..., None], axis=1)
    t_next = np.concatenate([ts[:, 1:], np.full((ts.shape[0], 1), np.inf)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = (A > 0) & fin[..., None]
        peak = np.where(pos, B / np.where(pos, A, 1.0) + 1.0, 0.0)
        te = np.clip(peak, ts[..., None], t_next[..., None])
        te = np.where(pos, te, ts[..., None])
        v = np.exp(-(te - r[:, None, None])) * (A * te - B)
        hit = pos & (v >= 1.0 - rel_tol)
    k = np.argmax(hit, axis=1)
    Ak = np.take_along_axis(A, k[:, None, :], axis=1)[:, 0]
    Bk = np.take_along_axis(B, k[:, None, :], axis=1)[:, 0]
    return hit.any(axis=1), Ak, Bk, r
