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
