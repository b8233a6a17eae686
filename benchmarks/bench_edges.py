"""Edge-list benchmark: significant edges of N x N neurons at full layer size.

    .venv/bin/python benchmarks/bench_edges.py                  # 8,192², 16,384², 32,768²
    .venv/bin/python benchmarks/bench_edges.py --sizes 8192 --repeats 3

Each size runs in its own subprocess: N target and N source neurons, 40,000 frames,
Bernoulli(p = 0.05) trains, STTC and the exact all-shift null, edges at |z| > 4
(:func:`fclib.stats.edges.significant_edges`, in one process, default tiles). The trains
are a lazily generated dask-backed DataArray (seeded per chunk), so they are never held
whole in memory (1.3 GB per layer as uint8 at 32,768), as a file-backed recording is not;
the time includes generating them. Peak memory is the subprocess's ``ru_maxrss``
(tracemalloc does not see numba's or BLAS's allocations). Times are min / median / max
over ``--repeats`` runs (one run for the larger sizes unless asked). The per-pair rate is
the median time over N²; the target is <= 15 min and <= 4 GB at 32,768² on two cores,
linear in pairs. Results go to ``benchmarks/results/bench_edges.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET = {"neurons": 32768, "seconds": 15 * 60, "gib": 4.0}


def _layer(n: int, L: int, p: float, seed: int, chunk: int = 1024):
    """A lazily generated ``DataArray(("neuron", "frame"))`` of Bernoulli(p) trains."""
    import dask.array as da
    import numpy as np
    import xarray as xr

    def gen(block_id=None):
        i = block_id[0]
        rows = min(chunk, n - i * chunk)
        g = np.random.default_rng([seed, i])
        out = np.empty((rows, L), dtype=np.uint8)
        for r in range(0, rows, 256):  # float32 draws 256 rows at a time: small peak
            out[r:r + 256] = g.random((min(256, rows - r), L), dtype=np.float32) < p
        return out

    chunks = ((chunk,) * (n // chunk) + ((n % chunk,) if n % chunk else ()), (L,))
    arr = da.map_blocks(gen, chunks=chunks, dtype=np.uint8)
    return xr.DataArray(arr, dims=("neuron", "frame"))


def child(n: int, L: int, p: float, repeats: int) -> dict:
    """Run in the subprocess: time ``repeats`` edge lists of one size."""
    import dask
    import numpy as np

    sys.path.insert(0, str(HERE.parent))
    from fclib.stats.edges import significant_edges

    dask.config.set(scheduler="synchronous")  # the kernels use the cores; dask only reads
    rng = np.random.default_rng(0)
    warm = (rng.random((64, 500)) < 0.05).astype(np.uint8)
    significant_edges(warm, warm, block=32)  # compile / load the numba kernels
    src, tgt = _layer(n, L, p, 1), _layer(n, L, p, 2)
    runs, cpu, edges = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        edges = significant_edges(src, tgt, 4.0)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"neurons": n, "frames": L, "p": p, "runs": runs, "min": min(runs),
            "median": float(np.median(runs)), "max": max(runs),
            "per_pair_ns": float(np.median(runs)) / n ** 2 * 1e9,
            "cpu_seconds": cpu, "cpu_per_pair_ns": float(np.median(cpu)) / n ** 2 * 1e9,
            "load_average_1min_after": os.getloadavg()[0],
            "peak_rss_gib": rss / 2 ** 30, "edges": int(edges.sizes["edge"]),
            "edges_pos": int((edges["z"].values > 0).sum()),
            "pairs_with_z": int(edges["n_defined"].sum())}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8192, 16384, 32768])
    ap.add_argument("--frames", type=int, default=40_000)
    ap.add_argument("--p", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=3, help="runs at 8,192² (and smaller)")
    ap.add_argument("--repeats-large", type=int, default=1, help="runs above 8,192²")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.frames, args.p, args.repeats)))
        return
    out = HERE / "results" / "bench_edges.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    results.update(cpu_count=os.cpu_count(), target=TARGET)
    sizes = results.setdefault("sizes", {})
    for n in args.sizes:
        reps = args.repeats if n <= 8192 else args.repeats_large
        proc = subprocess.run([sys.executable, __file__, "--child", str(n), "--frames",
                               str(args.frames), "--p", str(args.p), "--repeats", str(reps)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"{n}²: the benchmark subprocess failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        sizes[str(n)] = r
        print(f"{n:>6}² x {args.frames} frames, p = {args.p}: {r['min']:.1f} / "
              f"{r['median']:.1f} / {r['max']:.1f} s (min / median / max of {reps}); "
              f"{r['per_pair_ns']:.2f} ns per pair; CPU time {np.median(r['cpu_seconds']):.1f} s "
              f"({r['cpu_per_pair_ns']:.2f} ns per pair); peak RSS {r['peak_rss_gib']:.2f} GiB; "
              f"{r['edges']} edges; load average {r['load_average_1min_after']:.1f}")
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
    if str(TARGET["neurons"]) in sizes:
        r = sizes[str(TARGET["neurons"])]
        print(f"target at 32,768²: <= {TARGET['seconds']} s and <= {TARGET['gib']} GiB; "
              f"measured {r['median']:.0f} s, {r['peak_rss_gib']:.2f} GiB")
    elif sizes:
        n, r = max(((int(k), v) for k, v in sizes.items()), key=lambda kv: kv[0])
        est = r["per_pair_ns"] * 1e-9 * TARGET["neurons"] ** 2
        cpu = r["cpu_per_pair_ns"] * 1e-9 * TARGET["neurons"] ** 2
        print(f"target at 32,768²: <= {TARGET['seconds']} s; EXTRAPOLATED from {n}² (linear in "
              f"pairs, not measured): {est:.0f} s wall at this run's load, {cpu:.0f} CPU-s "
              f"(>= {cpu / (os.cpu_count() or 1):.0f} s wall on {os.cpu_count()} idle cores)")


if __name__ == "__main__":
    main()
