"""Chapter 13's ensembles: every way of choosing groups, and the kernels under them.

    .venv/bin/python benchmarks/bench_ensembles.py [--data-dir data] [--pairs L1-L2 ...]
        [--variants circular tuning random] [--repeats 1] [--methods events rows]

On the default profile's recording (made by ``make book``; the script refuses to train one)
and its cached 1FC groups (computed if missing, as the book would), for each layer pair
(default: the three chapter 13 shows, the first, the middle and the last):

1. ``evaluate_variant``: the whole per-neuron analysis of each in-sample variant
   (``fclib.stats.ensembles.evaluate_variant``; the cross-validated ones add the half-frame
   groups, with ``--variants circular_cv stimulus_cv``);
2. ``cofiring`` by each exact method (``--methods``; ``dense`` is slow on two cores);
3. ``presentation_counts`` and the preferred class (``preferred_class`` against
   ``information(..., n_shuffles=0)``, which evaluate_variant used before).

Wall and CPU seconds (this process, all its threads), min / median / max over ``--repeats``;
results go to ``benchmarks/results/ensembles.json``. On a shared machine the CPU column is
the steadier one.

Measured on the 2-core machine of issue 25 (default profile, one numba thread, the machine
loaded by a book build and other work, so CPU seconds of this process; results identical to
the code before, ``xr.testing.assert_identical``):

| | before | after |
|---|---|---|
| co-firing, L1->L2 (3,337 targets, 2.0 M edges, 40,000 frames) | 11.4 s (events) | 3.5 s (rows) |
| presentation_counts, L2 (4,096 x 40,000) | 1.1 s | 0.19 s |
| preferred class, L2 | 1.97 s (information) | 0.28 s (preferred_class) |
| MI + 10 shuffles, 3,337 x 10,000 counts | 3.1 s | 1.5 s |
| evaluate_variant circular / tuning / random, L1->L2 | 20.1 / 21.8 / 22.9 s | 9.0 / 9.2 / 8.7 s |
| evaluate_variant circular, L6->L7 (1,644 targets, 0.7 M edges) | 5.2 s | 2.0 s |
| evaluate_variant circular, L11->L12 (1,023 targets, 0.3 M edges) | 3.0 s | 1.4 s |
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeats):
    wall, cpu, res = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        res = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return res, {"wall": wall, "cpu": cpu}


def fmt(ts):
    w, c = ts["wall"], ts["cpu"]
    return (f"wall {min(w):7.2f} / {statistics.median(w):7.2f} / {max(w):7.2f} s   "
            f"cpu {min(c):7.2f} / {statistics.median(c):7.2f} / {max(c):7.2f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="default: the book's data/")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--pairs", nargs="+", help="layer pairs as SOURCE-TARGET (default: "
                    "chapter 13's first, middle and last)")
    ap.add_argument("--variants", nargs="+", default=["circular", "tuning", "random"])
    ap.add_argument("--methods", nargs="+", default=["events", "rows"])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threshold", type=float, default=4.0)
    args = ap.parse_args(argv)

    import numpy as np

    from fclib.pipeline import run
    from fclib.pipeline.profiles import resolve
    from fclib.pipeline.stages import default_data_dir, stage_keys
    from fclib.stats import response as fr
    from fclib.stats.connectivity import consecutive_pairs
    from fclib.stats.ensembles import evaluate_variant
    from fclib.stats.information import information, presentation_counts, preferred_class

    cfg = resolve(args.profile)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not (data_dir / "runs" / stage_keys(cfg)[0][0] / "summary.json").exists():
        sys.exit(f"no trained {args.profile} model under {data_dir}; run `make book` first")
    r = run(args.profile, data_dir, progress=False)
    rec = r.recording()
    n_classes = len(rec.attrs.get("class_names") or []) or None
    pairs = consecutive_pairs(rec.layers)
    if args.pairs:
        pairs = [tuple(p.split("-")) for p in args.pairs]
    else:
        pairs = [pairs[0], pairs[len(pairs) // 2], pairs[-1]]
    results = {}
    for s, t in pairs:
        name = f"{s}-{t}"
        src, tgt = rec[s].load(), rec[t].load()
        g = r.groups(s, t, args.threshold, null="exact")
        row = {"targets": int(g.sizes["neuron"]), "edges": int(g.sizes["edge"]),
               "frames": int(src.sizes["frame"])}
        print(f"{name}: {row['targets']} targets, {row['edges']} edges, {row['frames']} frames")
        fr.cofiring(src.isel(frame=slice(0, 4 * rec.T)), g)  # compile (or load) the kernels
        for method in args.methods:
            _, ts = timed(lambda: fr.cofiring(src, g, method=method), args.repeats)
            row[f"cofiring_{method}"] = ts
            print(f"  cofiring {method:8s}     {fmt(ts)}")
        _, ts = timed(lambda: presentation_counts(tgt, rec.T), args.repeats)
        row["presentation_counts"] = ts
        print(f"  presentation_counts   {fmt(ts)}")
        a, ts = timed(lambda: preferred_class(tgt, rec.T, n_classes), args.repeats)
        row["preferred_class"] = ts
        print(f"  preferred_class       {fmt(ts)}")
        b, ts = timed(lambda: information(tgt, rec.T, n_shuffles=0, n_classes=n_classes)
                      ["preferred"], args.repeats)
        row["information_preferred"] = ts
        print(f"  information(...)      {fmt(ts)}")
        assert np.array_equal(a.values, b.values)
        for v in args.variants:
            folds = (0, 1) if v.endswith("_cv") else (None,)
            null = "stimulus" if v == "stimulus_cv" else "exact"

            def one():
                for fold in folds:
                    gv = r.groups(s, t, args.threshold, null=null, half=fold)
                    evaluate_variant(src, tgt, gv, rec.T, v,
                                     fit_frames=None if fold is None else r.half_frames(fold),
                                     eval_frames=None if fold is None else r.half_frames(1 - fold),
                                     n_classes=n_classes, rng=r.cfg["seed"])

            _, ts = timed(one, args.repeats)
            row[f"variant_{v}"] = ts
            print(f"  evaluate {v:12s} {fmt(ts)}")
        results[name] = row
    out = ROOT / "benchmarks" / "results" / "ensembles.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
