"""STTC engine benchmarks: ratios against a peer measured in the same run.

    .venv/bin/pip install sttcpy==1.2.0        # benchmark-only dependency
    .venv/bin/python benchmarks/bench_sttc.py [--quick] [--repeats 3]

1. ``versus-sttcpy``: 1,000 x 1,000 neurons, 40,000 frames, firing probability p = 0.05
   (and p = 0.2): fclib's STTC plus the 150-shift null against ``sttcpy`` (numpy
   backend). sttcpy computes pairs within one population, so the cross-layer case hands
   it both layers stacked (2,000 trains); the within-population case hands it 1,000.
   sttcpy keeps the whole null stack in memory (n_shifts x N x N float64), so it is timed
   on ``--peer-shifts`` shifts and its time per shift is scaled to 150 (printed as such);
   fclib is timed on all 150.
2. ``scale``: 8,192 x 8,192 neurons, 40,000 frames: STTC plus the exact null, wall time
   and peak resident memory (target: <= 2 min, <= 4 GB on two cores).

Times are min / median / max over ``--repeats`` runs; results are also written to
``benchmarks/results/sttc.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fclib.nulls import exact_null, shift_null  # noqa: E402


def timed(fn, repeats):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return {"min": min(out), "median": statistics.median(out), "max": max(out), "runs": out}


def fmt(t):
    return f"{t['min']:.2f} / {t['median']:.2f} / {t['max']:.2f} s"


def trains(rng, n, L, p):
    """Bernoulli(p) trains, drawn 256 rows at a time so that drawing them does not set the
    peak memory the benchmark reports."""
    out = np.empty((n, L), dtype=np.uint8)
    for i in range(0, n, 256):
        out[i:i + 256] = rng.random((min(256, n - i), L), dtype=np.float32) < p
    return out


def _sttcpy_numpy():
    """sttcpy 1.2.0's numpy backend. Its package ``__init__`` fails to import (it imports
    a ``cpu_main`` module the wheel does not ship), so the self-contained
    ``numpy_main.py`` is loaded from the installed package by path."""
    import importlib.util
    import sysconfig

    path = Path(sysconfig.get_paths()["purelib"]) / "STTCPy" / "numpy_main.py"
    if not path.exists():
        raise SystemExit("sttcpy is not installed: .venv/bin/pip install sttcpy==1.2.0")
    spec = importlib.util.spec_from_file_location("sttcpy_numpy_main", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.STTC


def versus_sttcpy(p, n, L, n_shifts, peer_shifts, repeats):
    Peer = _sttcpy_numpy()

    rng = np.random.default_rng(0)
    src, tgt = trains(rng, n, L, p), trains(rng, n, L, p)
    # warm the numba kernels
    shift_null(src[:10], tgt[:10], n_shifts=2, rng=0)
    ours = timed(lambda: shift_null(src, tgt, n_shifts=n_shifts, rng=1), repeats)
    ours_within = timed(lambda: shift_null(src, src, n_shifts=n_shifts, rng=1), repeats)
    peer = Peer(dt=0)
    stacked = np.concatenate([src, tgt])

    def peer_run(x):
        peer.STTC(x)
        peer.STTC_null(x, n_shifts=peer_shifts)

    scale = n_shifts / peer_shifts
    t_cross = timed(lambda: peer_run(stacked), repeats)
    t_within = timed(lambda: peer_run(src), repeats)
    peer_cross = {k: (v * scale if k != "runs" else [x * scale for x in v]) for k, v in t_cross.items()}
    peer_within = {k: (v * scale if k != "runs" else [x * scale for x in v]) for k, v in t_within.items()}
    res = {
        "p": p, "neurons": n, "frames": L, "n_shifts": n_shifts, "peer_shifts_timed": peer_shifts,
        "fclib_cross": ours, "sttcpy_cross_scaled": peer_cross,
        "fclib_within": ours_within, "sttcpy_within_scaled": peer_within,
        "speedup_cross_median": peer_cross["median"] / ours["median"],
        "speedup_within_median": peer_within["median"] / ours_within["median"],
    }
    print(f"p = {p}: {n} x {n} neurons, {L} frames, STTC + {n_shifts}-shift null")
    print(f"  fclib  cross-layer        {fmt(ours)}")
    print(f"  sttcpy stacked {2 * n} (x{scale:.0f}) {fmt(peer_cross)}   -> fclib is "
          f"{res['speedup_cross_median']:.0f}x faster (median)")
    print(f"  fclib  within-population  {fmt(ours_within)}")
    print(f"  sttcpy within {n} (x{scale:.0f})  {fmt(peer_within)}   -> fclib is "
          f"{res['speedup_within_median']:.0f}x faster (median)")
    return res


def scale_run(n, L, p, repeats):
    rng = np.random.default_rng(0)
    src, tgt = trains(rng, n, L, p), trains(rng, n, L, p)
    exact_null(src[:10], tgt[:10])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = timed(lambda: exact_null(src, tgt), repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scale: {n} x {n} neurons, {L} frames, p = {p}: STTC + exact null {fmt(t)}; "
          f"peak RSS {peak:.0f} MiB (inputs and warm-up: {base:.0f} MiB)")
    return {"neurons": n, "frames": L, "p": p, "time": t, "peak_rss_mib": peak,
            "rss_before_mib": base}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-shifts", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke check)")
    ap.add_argument("--only", choices=["peer", "scale"], default=None)
    ap.add_argument("--densities", type=float, nargs="+", default=[0.05, 0.2],
                    help="firing probabilities of the sttcpy comparison")
    args = ap.parse_args()
    n, L, big = (200, 4000, 1024) if args.quick else (1000, 40_000, 8192)
    results = {"cpu_count": os.cpu_count()}
    if args.only in (None, "peer"):
        results["versus_sttcpy"] = [versus_sttcpy(p, n, L, 150, args.peer_shifts, args.repeats)
                                    for p in args.densities]
    if args.only in (None, "scale"):
        results["scale"] = scale_run(big, L, 0.05, args.repeats)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / ("sttc_quick.json" if args.quick else "sttc.json")).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
