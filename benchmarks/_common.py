"""Helpers the benchmark scripts share: timing, formatting, synthetic trains."""
from __future__ import annotations

import statistics
import time

import numpy as np


def timed(fn, repeats):
    """Run ``fn`` ``repeats`` times: ``({"min", "median", "max", "runs"}, last result)``."""
    out, res = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t0)
    return {"min": min(out), "median": statistics.median(out), "max": max(out), "runs": out}, res


def fmt(t, digits: int = 2):
    return f"{t['min']:.{digits}f} / {t['median']:.{digits}f} / {t['max']:.{digits}f} s"


def trains(rng, n, L, p):
    """Bernoulli(p) trains, drawn 256 rows at a time so that drawing them does not set the
    peak memory the benchmark reports."""
    out = np.empty((n, L), dtype=np.uint8)
    for i in range(0, n, 256):
        out[i:i + 256] = rng.random((min(256, n - i), L), dtype=np.float32) < p
    return out
