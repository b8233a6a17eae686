"""The device check: the gpu tests, then the paper-scale timings, beside this machine's CPU.

    .venv/bin/python benchmarks/gpu_check.py                      # on a CUDA machine (< 5 min)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --small # anywhere: a dry run
    .venv/bin/python benchmarks/gpu_check.py --only sttc_exact,sttc_shifts --skip-tests

1. ``pytest -m gpu -q`` (torch backend on CUDA against numba; they skip without CUDA).
2. One layer pair at the paper's scale, ``8,192 x 8,192`` neurons over ``40,000`` frames at
   firing probability 0.1 (a real recording's order): STTC + exact null
   (:func:`fclib.stats.nulls.exact_null`) and STTC + 150-shift null
   (:func:`fclib.stats.nulls.shift_null`), torch backend on ``--device``. Beside each: the same
   computation with the numba backend on this machine's CPU at a smaller size, scaled
   linearly in pairs to the paper's size (the work is proportional to the pairs; the line
   says which size was run), the issue's target and the paper's figure. ``all 15 layer
   pairs`` is 15 times one pair of both nulls (the paper's network has 16 recorded layers).
3. The model side (``MODEL_MEASUREMENTS``): a SEW-ResNet18 training step at batch 256, fp32
   and with bf16 autocast + channels-last (the implied epoch of 50,000 images), and the
   recording of 10,000 images of all 16 layers with the sampling rule.

``--small`` shrinks everything (512 neurons, 4,000 frames, 20 shifts) so the script can be
tried on a CPU. ``--json PATH`` also writes the figures as JSON. Every figure is wall time
after one warm-up call, with the device synchronised (results are copied to the host).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import trains  # noqa: E402

PAPER = dict(n=8192, L=40_000, p=0.1, n_shifts=150, layer_pairs=15)
SMALL = dict(n=512, L=4000, p=0.1, n_shifts=20, layer_pairs=15)


# --------------------------------------------------------------------------- helpers
def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _time(fn, device: str, warmup=None) -> float:
    """Seconds of one call of ``fn`` after ``warmup()`` (or one call of ``fn``)."""
    (warmup or fn)()
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def _layers(n: int, L: int, p: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    return trains(rng, n, L, p), trains(rng, n, L, p)


def _peak_gib(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2 ** 30


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats()


def _row(name, device_s, cpu_s, cpu_note, target, paper, **extra) -> dict:
    return dict(name=name, device_s=device_s, cpu_s=cpu_s, cpu_note=cpu_note, target=target,
                paper=paper, **extra)


# --------------------------------------------------------------------------- statistics
def sttc_exact(args) -> list[dict]:
    """STTC + exact all-shift null of one n x n x L layer pair (torch on the device), and
    numba on the CPU at ``cpu_n`` neurons scaled to n^2 pairs."""
    from fclib.stats.nulls import exact_null

    s = args.size
    src, tgt = _layers(s["n"], s["L"], s["p"])
    warm_s, warm_t = src[:256, :], tgt[:256, :]
    _reset_peak(args.device)
    dev_s = _time(lambda: exact_null(src, tgt, backend="torch", device=args.device),
                  args.device, lambda: exact_null(warm_s, warm_t, backend="torch",
                                                  device=args.device))
    peak = _peak_gib(args.device)
    cpu_s = cpu_note = None
    if not args.no_cpu:
        m = args.cpu_n
        cpu_raw = _time(lambda: exact_null(src[:m], tgt[:m], backend="numba"), "cpu",
                        lambda: exact_null(src[:64], tgt[:64], backend="numba"))
        cpu_s = cpu_raw * (s["n"] / m) ** 2
        cpu_note = f"numba, {m} x {m} run in {cpu_raw:.2f} s, x {(s['n'] / m) ** 2:.0f} in pairs"
    return [_row(f"STTC + exact null, {s['n']}^2 x {s['L']}", dev_s, cpu_s, cpu_note,
                 "<= 0.5 s", "-", peak_gib=peak)]


def sttc_shifts(args) -> list[dict]:
    """STTC + the paper's random-shift null (``n_shifts`` rolled products) of one layer pair."""
    from fclib.stats.nulls import shift_null

    s = args.size
    src, tgt = _layers(s["n"], s["L"], s["p"])
    kw = dict(n_shifts=s["n_shifts"], rng=0)
    _reset_peak(args.device)
    dev_s = _time(lambda: shift_null(src, tgt, backend="torch", device=args.device, **kw),
                  args.device, lambda: shift_null(src[:256], tgt[:256], backend="torch",
                                                  device=args.device, n_shifts=2, rng=0))
    peak = _peak_gib(args.device)
    cpu_s = cpu_note = None
    if not args.no_cpu:
        m = args.cpu_n_shifts
        cpu_raw = _time(lambda: shift_null(src[:m], tgt[:m], backend="numba", **kw), "cpu",
                        lambda: shift_null(src[:32], tgt[:32], backend="numba", n_shifts=2, rng=0))
        cpu_s = cpu_raw * (s["n"] / m) ** 2
        cpu_note = f"numba, {m} x {m} run in {cpu_raw:.2f} s, x {(s['n'] / m) ** 2:.0f} in pairs"
    return [_row(f"STTC + {s['n_shifts']}-shift null, {s['n']}^2 x {s['L']}", dev_s, cpu_s,
                 cpu_note, "<= 5 s", "~4 min (1 GPU-hour / 15 pairs)", peak_gib=peak)]


def all_layer_pairs(rows: list[dict], k: int) -> list[dict]:
    """Both nulls on all ``k`` layer pairs: ``k`` times one pair (derived, not run)."""
    ex = [r for r in rows if r["name"].startswith("STTC + exact")]
    sh = [r for r in rows if "-shift null" in r["name"]]
    if not (ex and sh):
        return []

    def tot(key):
        a, b = ex[0][key], sh[0][key]
        return None if a is None or b is None else k * (a + b)
    return [_row(f"both nulls, all {k} layer pairs (= {k} x one pair)", tot("device_s"),
                 tot("cpu_s"), "derived", "<= 2 min", "~1 GPU-hour")]


STAT_MEASUREMENTS = {"sttc_exact": sttc_exact, "sttc_shifts": sttc_shifts}

# =========================================================================== model side
# A SEW-ResNet18 training step at batch 256 (fp32, then bf16 autocast + channels-last) and a
# recording of 10,000 images of all 16 layers with the sampling rule; the CPU figures come
# from a smaller run of the same code, scaled linearly in images (said on each row).
def _epoch_from_step(t: dict) -> float:
    return t["s_per_epoch"]


def train_step(args) -> list[dict]:
    """SEW-ResNet18 training step at batch 256 on the device, fp32 and amp+channels-last; the
    implied epoch of 50,000 images beside the target and the paper's."""
    from _model_timing import training_step

    batch = 16 if args.small else 256
    rows = []
    cpu_s = cpu_note = None
    if not args.no_cpu:
        c = training_step("cpu", batch=8, steps=1, warmup=1)
        cpu_s = c["s_per_epoch"]
        cpu_note = (f"batch 8 step in {c['ms_per_step'] / 1e3:.2f} s, scaled to an epoch of "
                    f"50,000 images")
    for amp, cl in ((False, False), (True, True)):
        if args.device == "cpu" and amp:
            continue  # autocast is CUDA-only here
        t = training_step(args.device, batch=batch, amp=amp, channels_last=cl)
        label = "bf16 autocast + channels-last" if amp else "fp32"
        rows.append(_row(f"SEW-ResNet18 epoch of 50,000 (batch {batch}, {label}; "
                         f"{t['ms_per_step']:.1f} ms/step)", _epoch_from_step(t), cpu_s,
                         cpu_note, "<= 15 s", "~17 s (1.5 A100-h / 320)"))
    return rows


def recording_10k(args) -> list[dict]:
    """Recording 10,000 images of all 16 layers with the sampling rule (netCDF4, compressed)."""
    from _model_timing import recording

    n = 200 if args.small else 10_000
    t = recording(args.device, n_images=n)
    cpu_s = cpu_note = None
    if not args.no_cpu:
        c = recording("cpu", n_images=20, batch=20)
        cpu_s = c["s"] * n / 20
        cpu_note = f"20 images in {c['s']:.1f} s, x {n // 20} in images"
    return [_row(f"recording {n} images, 16 layers ({t['file_mb']:.0f} MB)", t["s"], cpu_s,
                 cpu_note, "-", "-")]


MODEL_MEASUREMENTS: dict = {"train_step": train_step, "recording": recording_10k}
# =========================================================================== end of model side

MEASUREMENTS = {**STAT_MEASUREMENTS, **MODEL_MEASUREMENTS}


# --------------------------------------------------------------------------- driver
def run_gpu_tests() -> int:
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider"]
    print("$ pytest -m gpu -q", flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f} s" if x < 100 else f"{x / 60:.1f} min"


def report(rows: list[dict], device: str) -> str:
    head = ("measurement", f"this device ({device})", "this machine's CPU", "target", "paper")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        lines.append(" | ".join([r["name"], _fmt(r["device_s"]), _fmt(r["cpu_s"]), r["target"],
                                 r["paper"]]))
    notes = [f"- {r['name']}: CPU figure = {r['cpu_note']}" for r in rows if r.get("cpu_note")]
    notes += [f"- {r['name']}: peak device memory {r['peak_gib']:.1f} GiB" for r in rows
              if r.get("peak_gib") is not None]
    return "\n".join(lines + [""] + notes)


def _describe(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU, {os.cpu_count()} cores, torch {torch.__version__}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="torch device of the torch backend")
    ap.add_argument("--small", action="store_true", help="a small dry run (e.g. on a CPU)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {list(MEASUREMENTS)}")
    ap.add_argument("--skip-tests", action="store_true", help="do not run pytest -m gpu")
    ap.add_argument("--no-cpu", action="store_true", help="skip the numba CPU figures")
    ap.add_argument("--cpu-n", type=int, default=None, help="neurons of the CPU exact-null run")
    ap.add_argument("--cpu-n-shifts", type=int, default=None,
                    help="neurons of the CPU shift-null run")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    args.size = SMALL if args.small else PAPER
    n = args.size["n"]
    args.cpu_n = args.cpu_n or min(n, 256 if args.small else 1024)
    args.cpu_n_shifts = args.cpu_n_shifts or min(n, 128 if args.small else 256)
    names = [x for x in args.only.split(",") if x] or list(MEASUREMENTS)
    unknown = set(names) - set(MEASUREMENTS)
    if unknown:
        ap.error(f"unknown measurement(s) {sorted(unknown)}; choose from {list(MEASUREMENTS)}")

    from fclib.stats.sttc import resolve_backend

    resolve_backend("torch", args.device)  # a missing device is an error naming those that exist
    t_start = time.perf_counter()
    rc = 0 if args.skip_tests else run_gpu_tests()
    print(f"\ndevice: {_describe(args.device)}; sizes: {args.size}", flush=True)
    rows = []
    for name in names:
        t0 = time.perf_counter()
        rows += MEASUREMENTS[name](args)
        print(f"  {name}: done in {time.perf_counter() - t0:.1f} s", flush=True)
    rows += all_layer_pairs(rows, args.size["layer_pairs"])
    print()
    print(report(rows, args.device))
    print(f"\ngpu tests: {'passed' if rc == 0 else 'skipped' if args.skip_tests else 'FAILED'}"
          f"; total {time.perf_counter() - t_start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(device=_describe(args.device),
                                                   sizes=args.size, rows=rows,
                                                   gpu_tests_rc=rc), indent=1))
    return rc


if __name__ == "__main__":
    sys.exit(main())
