"""Response-function benchmarks: every fit of every neuron, against a per-neuron peer.

    .venv/bin/python benchmarks/bench_response.py [--data-dir data] [--repeats 3]

On the default profile's recording (made by ``make book``; the script refuses to train one):

1. ``all fits``: for every consecutive layer pair, the ReLU and two-line fits of every
   analysed target on all frames and on each of 4 batches (``fclib.stats.response.fit_response``),
   from cached co-firing counts. Target: all fits of the default profile in under a minute.
2. ``versus per-neuron curve_fit``: the same ReLU fits as most analysis code writes them,
   ``scipy.optimize.curve_fit`` of ``s * max(0, k - theta)`` neuron by neuron (weights
   ``sigma = 1 / sqrt(frames)``), timed on ``--peer-neurons`` neurons of each layer pair
   and compared with fclib on the same neurons; the ratio is printed.
3. ``co-firing``: ``fclib.stats.response.cofiring`` by events, by blocked dense products and as
   ``auto`` picks, against one plain numpy product ``membership @ spikes`` (float32), on the
   layer pair with the most targets.

Times are min / median / max over ``--repeats`` runs; results go to
``benchmarks/results/response.json``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fclib.stats import response as fr  # noqa: E402
from fclib.stats.connectivity import consecutive_pairs  # noqa: E402
from fclib.pipeline import run  # noqa: E402
from fclib.pipeline.profiles import resolve  # noqa: E402
from fclib.pipeline.stages import default_data_dir, stage_keys  # noqa: E402


def timed(fn, repeats):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t0)
    return res, out


def mmm(ts):
    return f"{min(ts):.3f} / {statistics.median(ts):.3f} / {max(ts):.3f} s"


def curve_fit_peer(counts, neurons, min_frames):
    from scipy.optimize import curve_fit

    def relu(k, s, th):
        return s * np.maximum(0.0, k - th)

    k = counts["cofiring"].values.astype(float)
    out = []
    for nid in neurons:
        nf = counts["n_frames"].sel(neuron=nid).values
        fire = counts["n_fire"].sel(neuron=nid).values
        ok = nf >= min_frames
        x, y = k[ok], fire[ok] / nf[ok]
        try:
            p, _ = curve_fit(relu, x, y, p0=(0.01, np.median(x)), sigma=1 / np.sqrt(nf[ok]),
                             maxfev=5000)
        except RuntimeError:
            p = (np.nan, np.nan)
        out.append(p)
    return np.array(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="default: the book's data/")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-neurons", type=int, default=100)
    ap.add_argument("--min-frames", type=int, default=10)
    args = ap.parse_args(argv)
    cfg = resolve(args.profile)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    key = stage_keys(cfg)[0][0]
    if not (data_dir / "runs" / key / "summary.json").exists():
        sys.exit(f"no trained {args.profile} model under {args.data_dir}; run `make book` first")
    r = run(args.profile, data_dir, progress=False)
    rec = r.recording()
    pairs = consecutive_pairs(rec.layers)
    res = {f"{s}-{t}": r.response(s, t) for s, t in pairs}  # cached counts
    results = {}

    def all_fits():
        for ds in res.values():
            fr.fit_response(ds[["n_frames", "n_fire"]], min_frames=args.min_frames)
            fr.fit_response(fr.batch_counts(ds), min_frames=args.min_frames)

    fr.fit_response(next(iter(res.values()))[["n_frames", "n_fire"]])  # compile
    n_neurons = sum(ds.sizes["neuron"] for ds in res.values())
    _, ts = timed(all_fits, args.repeats)
    results["all_fits"] = dict(neurons=n_neurons, layer_pairs=len(res), seconds=ts)
    print(f"all fits, {n_neurons} neurons x (1 + 4 batches), {len(res)} layer pairs: {mmm(ts)}")

    rng = np.random.default_rng(0)
    peer_t, ours_t, agree = [], [], []
    for name, ds in res.items():
        ids = np.sort(rng.choice(ds["neuron"].values, min(args.peer_neurons, ds.sizes["neuron"]),
                                 replace=False))
        sub = ds[["n_frames", "n_fire"]].sel(neuron=ids)
        (ours), t1 = timed(lambda: fr.fit_response(sub, min_frames=args.min_frames,
                                                   saturation=None), args.repeats)
        peer, t2 = timed(lambda: curve_fit_peer(sub, ids, args.min_frames), 1)
        ours_t.append(statistics.median(t1))
        peer_t.append(t2[0])
        s_ours = ours["relu_slope"].values
        ok = np.isfinite(peer[:, 0]) & (s_ours > 0)
        agree.append(np.median(np.abs(peer[ok, 0] / s_ours[ok] - 1)) if ok.any() else np.nan)
    ratio = sum(peer_t) / sum(ours_t)
    results["versus_curve_fit"] = dict(neurons_per_pair=args.peer_neurons, fclib_s=sum(ours_t),
                                       curve_fit_s=sum(peer_t), ratio=ratio,
                                       median_rel_slope_difference=float(np.nanmedian(agree)))
    print(f"ReLU fits on {args.peer_neurons} neurons per layer pair: fclib {sum(ours_t):.3f} s "
          f"(ReLU + two lines), scipy curve_fit {sum(peer_t):.2f} s (ReLU only): {ratio:.0f}x; "
          f"median |slope ratio - 1| {np.nanmedian(agree):.3g}")

    s, t = max(pairs, key=lambda p: res[f"{p[0]}-{p[1]}"].sizes["neuron"])
    g = r.groups(s, t)
    src = rec[s].load()
    _, t_ev = timed(lambda: fr.cofiring(src, g, method="events"), args.repeats)
    _, t_de = timed(lambda: fr.cofiring(src, g, method="dense"), args.repeats)
    _, t_auto = timed(lambda: fr.cofiring(src, g), args.repeats)
    tid = g["neuron"].values
    M = np.zeros((tid.size, src.sizes["neuron"]), np.float32)
    M[np.searchsorted(tid, g["target"].values), g["source"].values] = 1
    S = src.values.astype(np.float32)
    _, t_np = timed(lambda: M @ S, args.repeats)
    results["cofiring"] = dict(pair=f"{s}-{t}", edges=int(g.sizes["edge"]), events=t_ev,
                               dense=t_de, auto=t_auto, numpy_dense_product=t_np)
    print(f"co-firing {s}->{t} ({g.sizes['edge']:,} edges, {src.sizes['frame']:,} frames): "
          f"events {mmm(t_ev)}, dense {mmm(t_de)}, auto {mmm(t_auto)}; numpy M @ S in one "
          f"product (float32, no int16 output) {mmm(t_np)}")
    out = Path(__file__).parent / "results" / "response.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
