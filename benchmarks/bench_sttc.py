"""STTC engine benchmarks: ratios against a peer measured in the same run.

    .venv/bin/pip install sttcpy==1.2.0        # benchmark-only dependency
    .venv/bin/python benchmarks/bench_sttc.py [--quick] [--repeats 3]

1. ``versus-sttcpy``: 1,000 x 1,000 neurons, 40,000 frames, firing probability p = 0.05
   (and p = 0.2): fclib's STTC plus the 150-shift null against ``sttcpy``'s two
   backends, numpy (scipy sparse products: fast on sparse trains, slow on dense ones) and
   torch on the CPU (dense float32 products: the same speed at any density); each ratio
   is against the faster backend at that density. sttcpy computes pairs within one
   population, so the cross-layer case hands it both layers stacked (2,000 trains); the
   within-population case hands it 1,000. sttcpy keeps the whole null stack in memory
   (n_shifts x N x N), so its null is timed on ``--peer-shifts`` shifts and scaled to 150
   (each shift costs the same); its STTC is timed once. fclib is timed on all 150.
   Before timing, sttcpy's STTC of the stacked layers is checked equal to fclib's.
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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import fmt, timed, trains  # noqa: E402

from fclib.stats.nulls import exact_null, shift_null  # noqa: E402
from fclib.stats.sttc import sttc  # noqa: E402


def _sttcpy_module(name):
    """A module of sttcpy 1.2.0, loaded from the installed package by path: its package
    ``__init__`` fails to import (its ``helpers`` import a ``cpu_main`` module the wheel
    does not ship), while ``numpy_main.py`` and ``torch_main.py`` are self-contained."""
    import importlib.util
    import sysconfig

    path = Path(sysconfig.get_paths()["purelib"]) / "STTCPy" / f"{name}.py"
    if not path.exists():
        raise SystemExit("sttcpy is not installed: .venv/bin/pip install sttcpy==1.2.0")
    spec = importlib.util.spec_from_file_location(f"sttcpy_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.STTC


def _peers():
    """``{backend: (STTC instance, converts a 0/1 uint8 array to its input)}``.

    Both backends get float32 trains. The numpy backend's sparse products accumulate in
    the input's dtype, so the uint8 trains one would naturally pass overflow at 255
    co-firing frames (wrong STTC wherever two trains share more spikes, e.g. a train with
    itself); float32 counts are exact up to 2**24 frames and are nearly as fast.
    """
    peers = {"numpy": (_sttcpy_module("numpy_main")(dt=0), lambda x: x.astype(np.float32))}
    try:
        import torch
    except ImportError:
        return peers
    peers["torch-cpu"] = (_sttcpy_module("torch_main")(dt=0, device="cpu"),
                          lambda x: torch.from_numpy(x).float())
    return peers


def _scaled(t_sttc, t_null, factor):
    """Peer time for the full test: its STTC once plus its null scaled to all shifts."""
    runs = [a + b * factor for a, b in zip(t_sttc["runs"], t_null["runs"])]
    return {"min": min(runs), "median": statistics.median(runs), "max": max(runs), "runs": runs}


def versus_sttcpy(p, n, L, n_shifts, peer_shifts, repeats):
    rng = np.random.default_rng(0)
    src, tgt = trains(rng, n, L, p), trains(rng, n, L, p)
    # warm the numba kernels
    shift_null(src[:10], tgt[:10], n_shifts=2, rng=0)
    ours = timed(lambda: shift_null(src, tgt, n_shifts=n_shifts, rng=1), repeats)[0]
    ours_within = timed(lambda: shift_null(src, src, n_shifts=n_shifts, rng=1), repeats)[0]
    stacked = np.concatenate([src, tgt])
    factor = n_shifts / peer_shifts
    probe = np.concatenate([src[:50], tgt[:50]])
    check = sttc(probe, probe).values  # within and cross pairs, the diagonal included
    res = {"p": p, "neurons": n, "frames": L, "n_shifts": n_shifts,
           "peer_shifts_timed": peer_shifts, "fclib_cross": ours, "fclib_within": ours_within,
           "sttcpy": {}}
    print(f"p = {p}: {n} x {n} neurons, {L} frames, STTC + {n_shifts}-shift null "
          f"(min / median / max of {repeats})")
    print(f"  fclib cross-layer            {fmt(ours)}")
    print(f"  fclib within-population      {fmt(ours_within)}")
    for name, (peer, conv) in _peers().items():
        got = np.asarray(peer.STTC(conv(probe)))
        np.testing.assert_allclose(got, check, rtol=1e-5, atol=1e-6,
                                   err_msg=f"sttcpy {name} disagrees with fclib")
        out = {}
        for case, x in (("cross", conv(stacked)), ("within", conv(src))):
            t_sttc = timed(lambda: peer.STTC(x), repeats)[0]
            t_null = timed(lambda: peer.STTC_null(x, n_shifts=peer_shifts), repeats)[0]
            out[case] = _scaled(t_sttc, t_null, factor)
        res["sttcpy"][name] = out
        print(f"  sttcpy {name:9s} stacked {2 * n}   {fmt(out['cross'])}   "
              f"({out['cross']['median'] / ours['median']:.0f}x fclib)")
        print(f"  sttcpy {name:9s} within {n}    {fmt(out['within'])}   "
              f"({out['within']['median'] / ours_within['median']:.0f}x fclib)")
    for case, mine in (("cross", ours), ("within", ours_within)):
        best = min(res["sttcpy"], key=lambda k: res["sttcpy"][k][case]["median"])
        peer_t = res["sttcpy"][best][case]
        res[f"speedup_{case}"] = {"versus": best,
                                  "median": peer_t["median"] / mine["median"],
                                  "worst": peer_t["min"] / mine["max"]}
        print(f"  -> {case}: fclib is {res[f'speedup_{case}']['median']:.0f}x faster than the "
              f"faster sttcpy backend ({best}); worst case (peer min / fclib max) "
              f"{res[f'speedup_{case}']['worst']:.0f}x")
    return res


def scale_run(n, L, p, repeats):
    rng = np.random.default_rng(0)
    src, tgt = trains(rng, n, L, p), trains(rng, n, L, p)
    exact_null(src[:10], tgt[:10])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = timed(lambda: exact_null(src, tgt), repeats)[0]
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
    # the scale run first: its peak memory is the process's peak so far (ru_maxrss), which
    # the peers' null stacks would otherwise set
    if args.only in (None, "scale"):
        results["scale"] = scale_run(big, L, 0.05, args.repeats)
    if args.only in (None, "peer"):
        results["versus_sttcpy"] = [versus_sttcpy(p, n, L, 150, args.peer_shifts, args.repeats)
                                    for p in args.densities]
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / ("sttc_quick.json" if args.quick else "sttc.json")).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
