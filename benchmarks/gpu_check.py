"""The device check: the gpu tests, then the paper-scale timings and agreement, in one table.

    bash benchmarks/gpu_check.sh                       # on the GPU machine (< 5 min on an H200)
    bash benchmarks/gpu_check.sh --device cpu --small  # anywhere: the dry run CI runs

``gpu_check.sh`` puts the carried wheels on the path and calls this script; it can also be
called directly (``python3 benchmarks/gpu_check.py ...``) where every package is installed.

1. **Tests.** ``pytest -m gpu`` on the gpu test files only (:data:`GPU_TESTS`: no other test
   module is collected, so a package the machine lacks elsewhere cannot stop collection).
   On CUDA every one of them must run and pass: a skipped gpu test, no test at all, or a
   failure fails the check. Without CUDA the check fails at once, unless it is the explicit
   dry run ``--device cpu --small``, where the gpu tests are collected and skip.
2. **Statistics** at the paper's size, one layer pair of ``8,192 x 8,192`` neurons over
   ``40,000`` frames at firing probability 0.1: co-firing counts, STTC + exact null, STTC +
   150-shift null, torch backend on ``--device``, each timed after a warm-up call of the same
   shapes (cuFFT plans and cuBLAS handles are made there, not in the timed call). Beside each:
   numba on this machine's CPU on a corner of the same pair (the first ``--cpu-n`` targets and
   sources), scaled to the whole pair by the number of pairs, and the **agreement** of the
   device's result with numba on that corner: counts equal; STTC, z and the null's moments
   within float32 rounding; significance calls (z > 4) equal away from the threshold.
3. **The network** at the paper's size: SEW-ResNet18 trained by :func:`fclib.snn.train.train`
   for two epochs on a generated CIFAR-100-sized split (50,000 + 10,000 images, random
   pixels and labels: the real data path, augmentation, evaluation and checkpoints, not a
   step on one batch); the second epoch's time is the epoch row (the first holds the
   compilations). Then that trained network records 10,000 presentations of all 16 layers
   with the sampling rule (netCDF4, compressed), so the recording row times real spikes; the
   layers' firing rates are printed beside it. A training step on one fixed batch in fp32
   and in bf16 autocast + channels-last is timed too.

The table: each stage's time on the device, the CPU figure of this machine, the target
(DESIGN.md) and the paper's figure, whether the target is met, and the agreement. ``--json``
also writes every figure. Exit status: 0 when the tests ran and passed and every agreement
holds; 1 when a test failed or skipped on CUDA, no test ran, or an agreement failed; 2 when
the device is missing or the arguments are wrong. Missed targets are reported, not failures.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import trains  # noqa: E402

GPU_TESTS = ("tests/test_gpu.py", "tests/test_gpu_snn.py")
PAPER = dict(n=8192, L=40_000, p=0.1, n_shifts=150, layer_pairs=15, cpu_n=1024,
             cpu_n_shifts=256, n_train=50_000, n_test=10_000, image=32, batch=256,
             n_record=10_000, budget=8192)
# the dry run: every code path of the check at sizes a busy 2-core CI machine runs in seconds
SMALL = dict(n=256, L=2000, p=0.1, n_shifts=10, layer_pairs=15, cpu_n=128, cpu_n_shifts=64,
             n_train=64, n_test=32, image=8, batch=32, n_record=32, budget=64)
THRESHOLD, MARGIN = 4.0, 1e-3


class CheckFailed(RuntimeError):
    """The device or the arguments do not allow the check (exit status 2)."""


# --------------------------------------------------------------------------- helpers
def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _timed(fn, device: str):
    """``(seconds, result)`` of one call of ``fn`` with the device synchronised around it."""
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def _peak_gib(device: str) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2 ** 30


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats()


def _row(name, device_s, cpu_s=None, cpu_note=None, target=None, paper="-", agree=None,
         **extra) -> dict:
    """One line of the table; ``target`` is seconds (met when ``device_s <= target``)."""
    met = None if target is None or device_s is None else bool(device_s <= target)
    return dict(name=name, device_s=device_s, cpu_s=cpu_s, cpu_note=cpu_note, target_s=target,
                met=met, paper=paper, agree=agree, **extra)


def _agreement(device: dict, numba: dict, exact: tuple = (), close: dict | None = None) -> dict:
    """Compare a corner of the device's result with numba's: ``exact`` names must be equal,
    ``close`` maps names to ``(rtol, atol)``; ``z``'s calls must agree away from the
    threshold. Returns ``{"ok": bool, "detail": str}``."""
    bad, parts = [], []
    for k in exact:
        a, b = np.asarray(device[k]), np.asarray(numba[k])
        n = int((a != b).sum())
        parts.append(f"{k} equal" if n == 0 else f"{k}: {n} differ")
        if n:
            bad.append(k)
    for k, (rtol, atol) in (close or {}).items():
        a, b = np.asarray(device[k], float), np.asarray(numba[k], float)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        ok = same_nan and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        diff = np.nanmax(np.abs(a - b)) if np.isfinite(a).any() else 0.0
        parts.append(f"{k} max |diff| {diff:.1e}")
        if not ok:
            bad.append(k)
    if "z" in device:
        a, b = np.asarray(device["z"], float), np.asarray(numba["z"], float)
        clear = np.isfinite(a) & np.isfinite(b) & (np.abs(a - THRESHOLD) > MARGIN)
        n = int(((a > THRESHOLD) != (b > THRESHOLD))[clear].sum())
        parts.append(f"calls z > {THRESHOLD:g}: {n} differ")
        if n:
            bad.append("calls")
    detail = ", ".join(parts)
    return {"ok": not bad, "detail": detail + (f" (FAILED: {', '.join(bad)})" if bad else "")}


def _corner(ds, m: int, names) -> dict:
    return {k: np.asarray(ds[k].values)[:m, :m] for k in names}


def _layers(n: int, L: int, p: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    return trains(rng, n, L, p), trains(rng, n, L, p)


# --------------------------------------------------------------------------- statistics
def statistics(args) -> list[dict]:
    """Co-firing counts, STTC + exact null and STTC + shift null of one layer pair on the
    device, each beside numba on a corner (CPU figure and agreement)."""
    from fclib.stats.nulls import exact_null, shift_null
    from fclib.stats.sttc import cofiring_counts

    s, dev = args.size, args.device
    src, tgt = _layers(s["n"], s["L"], s["p"])
    torch_kw = dict(backend="torch", device=dev)
    rows = []

    # co-firing counts: one matrix product per block
    cofiring_counts(tgt, src, **torch_kw)  # warm-up, same shapes
    _reset_peak(dev)
    t_dev, counts = _timed(lambda: cofiring_counts(tgt, src, **torch_kw), dev)
    m = min(s["cpu_n"], s["n"])
    cofiring_counts(tgt[:8], src[:8], backend="numba")  # numba compiles (or loads) first
    t_cpu, want = _timed(lambda: cofiring_counts(tgt[:m], src[:m], backend="numba"), "cpu")
    rows.append(_row(f"co-firing counts, {s['n']}^2 x {s['L']}", t_dev,
                     t_cpu * (s["n"] / m) ** 2, f"numba {m}^2 in {t_cpu:.2f} s, x pairs",
                     agree=_agreement({"counts": counts[:m, :m]}, {"counts": want},
                                      exact=("counts",)), peak_gib=_peak_gib(dev)))

    # STTC + exact null (dt = 0): counts, power spectra, delta method
    exact_null(src, tgt, **torch_kw)  # warm-up at full size: cuFFT plans for these blocks
    _reset_peak(dev)
    t_dev, res = _timed(lambda: exact_null(src, tgt, **torch_kw), dev)
    exact_null(src[:8], tgt[:8], backend="numba")
    t_cpu, ref = _timed(lambda: exact_null(src[:m], tgt[:m], backend="numba"), "cpu")
    rows.append(_row(f"STTC + exact null, {s['n']}^2 x {s['L']}", t_dev,
                     t_cpu * (s["n"] / m) ** 2, f"numba {m}^2 in {t_cpu:.2f} s, x pairs",
                     target=_target(args, 0.5), agree=_agreement(
                         _corner(res, m, ("sttc", "z")), _corner(ref, m, ("sttc", "z")),
                         close={"sttc": (1e-5, 1e-6), "z": (2e-4, 1e-4)}),
                     peak_gib=_peak_gib(dev)))

    # STTC + the paper's random-shift null
    kw = dict(n_shifts=s["n_shifts"], rng=0)
    shift_null(src, tgt, n_shifts=2, rng=0, **torch_kw)  # warm-up: the same block shapes
    _reset_peak(dev)
    t_dev, res = _timed(lambda: shift_null(src, tgt, **kw, **torch_kw), dev)
    m = min(s["cpu_n_shifts"], s["n"])
    shift_null(src[:8], tgt[:8], backend="numba", n_shifts=2, rng=0)
    t_cpu, ref = _timed(lambda: shift_null(src[:m], tgt[:m], backend="numba", **kw), "cpu")
    names = ("sttc", "z", "null_mean", "null_sd")
    rows.append(_row(f"STTC + {s['n_shifts']}-shift null, {s['n']}^2 x {s['L']}", t_dev,
                     t_cpu * (s["n"] / m) ** 2, f"numba {m}^2 in {t_cpu:.2f} s, x pairs",
                     target=_target(args, 5.0), paper="~4 min (1 GPU-hour / 15 pairs)",
                     agree=_agreement(_corner(res, m, names), _corner(ref, m, names),
                                      close={k: (1e-7, 1e-10) for k in names}),
                     peak_gib=_peak_gib(dev)))
    return rows


def _target(args, seconds: float) -> float | None:
    """A target of DESIGN.md holds at the paper's size only; the dry run has none."""
    return None if args.small else seconds


def all_layer_pairs(rows: list[dict], k: int, small: bool = False) -> list[dict]:
    """Both nulls on all ``k`` layer pairs: ``k`` times one pair (derived, not run)."""
    ex = [r for r in rows if r["name"].startswith("STTC + exact")]
    sh = [r for r in rows if "-shift null" in r["name"]]
    if not (ex and sh):
        return []

    def tot(key):
        a, b = ex[0][key], sh[0][key]
        return None if a is None or b is None else k * (a + b)
    return [_row(f"both nulls, all {k} layer pairs (= {k} x one pair, derived)", tot("device_s"),
                 tot("cpu_s"), "derived", target=None if small else 120.0,
                 paper="~1 GPU-hour")]


# --------------------------------------------------------------------------- the network
def _arch(args) -> dict:
    from fclib.snn.models import sew_resnet18_arch, small_sew_resnet_arch

    if args.small:
        return small_sew_resnet_arch(10, 3, widths=(4, 8), blocks=(1, 1), stem_channels=4)
    return sew_resnet18_arch(100, 3)


def _split(args):
    """A generated split of the paper's size (random pixels and labels, CIFAR's shapes)."""
    from fclib.io.datasets import Split

    s = args.size
    n_classes = 10 if args.small else 100
    rng = np.random.default_rng(0)
    shape = (3, s["image"], s["image"])
    return Split(rng.random((s["n_train"], *shape), dtype=np.float32),
                 rng.integers(0, n_classes, s["n_train"]).astype(np.int64),
                 rng.random((s["n_test"], *shape), dtype=np.float32),
                 rng.integers(0, n_classes, s["n_test"]).astype(np.int64),
                 tuple(str(c) for c in range(n_classes)))


def network(args) -> list[dict]:
    """Two epochs of real training, then the trained network's recording (see module doc)."""
    import torch

    from _model_timing import training_step
    from fclib.io import datasets as fdata
    from fclib.snn.matched import node_rates
    from fclib.snn.record import record
    from fclib.snn.train import load_model, train

    s, dev = args.size, args.device
    arch, split = _arch(args), _split(args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fclib-gpu-check-") as d:
        _reset_peak(dev)
        t_train, ck = _timed(lambda: train(arch, split, Path(d) / "run", epochs=2,
                                           batch_size=s["batch"], lr=0.1, augment="cifar",
                                           seed=0, device=dev, progress=False), dev)
        h = ck["history"]
        cpu_s = cpu_note = None
        if not args.no_cpu:
            c = training_step("cpu", batch=8, steps=1, warmup=1, arch=arch, image=s["image"],
                              n_train=s["n_train"])
            cpu_s = c["s_per_epoch"]
            cpu_note = f"one fp32 step at batch 8 in {c['ms_per_step'] / 1e3:.2f} s, x steps"
        rows.append(_row(f"training epoch, {s['n_train']:,} images (batch {s['batch']}, fp32, "
                         "cifar augmentation, evaluation)", h[1]["seconds"], cpu_s, cpu_note,
                         target=_target(args, 15.0),
                         paper="~17 s (1.5 A100-h / 320)", peak_gib=_peak_gib(dev),
                         note=f"first epoch (with compilations) {h[0]['seconds']:.1f} s; both "
                              f"epochs with checkpoints {t_train:.1f} s"))
        for amp, cl in ((False, False), (True, True)):
            if dev == "cpu" and amp:
                continue  # autocast is CUDA-only here
            t = training_step(dev, batch=s["batch"], amp=amp, channels_last=cl, arch=arch,
                              image=s["image"], n_train=s["n_train"],
                              **(dict(steps=1, warmup=1) if args.small else {}))
            label = "bf16 autocast + channels-last" if amp else "fp32"
            rows.append(_row(f"  training step on one fixed batch ({label}), x steps",
                             t["s_per_epoch"], note=f"{t['ms_per_step']:.1f} ms per step"))

        model, _ = load_model(Path(d) / "run" / "model.pt", arch)
        sched = fdata.presentation_params(s["n_record"], len(split.test_images), 1,
                                          jitter=False)
        args_ = (model, split.test_images, split.test_labels, sched)
        t_rec, path = _timed(lambda: record(*args_, Path(d) / "rec.nc", batch_size=250,
                                            budget=s["budget"], device=dev, progress=False), dev)
        size_mb = path.stat().st_size / 2 ** 20
        rates = node_rates(model.to(dev), torch.from_numpy(split.test_images[:256]).to(dev))
        layers = rates[[k for k in rates.index if "downsample" not in k]]
        silent = int((layers < 1e-4).sum())
        cpu_s = cpu_note = None
        if not args.no_cpu:
            k = min(20, s["n_record"])
            sub = {key: v[:k] for key, v in sched.items()}
            t_cpu, _ = _timed(lambda: record(model, split.test_images, split.test_labels, sub,
                                             Path(d) / "cpu.nc", batch_size=k,
                                             budget=s["budget"], device="cpu", progress=False),
                              "cpu")
            cpu_s = t_cpu * s["n_record"] / k
            cpu_note = f"{k} images in {t_cpu:.2f} s, x images"
        rows.append(_row(f"recording {s['n_record']:,} images of the trained network, all "
                         f"layers, sampling rule ({size_mb:.0f} MB)", t_rec, cpu_s, cpu_note,
                         note=f"firing rate per layer {layers.min():.3f} to {layers.max():.3f} "
                              f"spikes per neuron per step; {silent} of {len(layers)} layers "
                              "silent"))
    return rows


MEASUREMENTS = {"statistics": statistics, "network": network}


# --------------------------------------------------------------------------- tests
def run_gpu_tests(device: str, dry_run: bool) -> dict:
    """``pytest -m gpu`` on :data:`GPU_TESTS` only; returns the counts and the verdict
    (:func:`tests_verdict`)."""
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "gpu.xml"
        cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
               "-o", "addopts=-ra", f"--junitxml={xml}", *GPU_TESTS]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        print("$ " + " ".join(cmd[1:]), flush=True)
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        counts = dict(tests=0, failures=0, errors=0, skipped=0)
        if xml.exists():
            suite = ET.parse(xml).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            counts = {k: int(suite.get(k, 0)) for k in counts}
    return tests_verdict(dict(counts, rc=rc), device, dry_run)


def tests_verdict(counts: dict, device: str, dry_run: bool) -> dict:
    """``counts`` (pytest's ``rc`` and the junit ``tests``, ``failures``, ``errors``,
    ``skipped``) with ``passed``, ``verdict`` and ``ok``: on CUDA every gpu test must have
    run and passed; in the dry run they must be collected and none may fail."""
    out = dict(counts)
    passed = out["tests"] - out["failures"] - out["errors"] - out["skipped"]
    out["passed"] = passed
    if out["rc"] not in (0, 5) or out["failures"] or out["errors"]:
        out["verdict"] = (f"FAILED: pytest exit status {out['rc']}, {out['failures']} failed, "
                          f"{out['errors']} errors")
    elif dry_run:
        out["verdict"] = (f"collected {out['tests']} (dry run: {passed} ran, "
                          f"{out['skipped']} skipped without CUDA)")
        if out["tests"] == 0:
            out["verdict"] = "FAILED: no gpu test was collected"
    elif passed == 0 or out["skipped"]:
        out["verdict"] = (f"FAILED: {passed} gpu tests ran on {device}, {out['skipped']} "
                          "skipped; every gpu test must run here")
    else:
        out["verdict"] = f"{passed} passed on {device}"
    out["ok"] = not out["verdict"].startswith("FAILED")
    return out


# --------------------------------------------------------------------------- report
def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f} s" if x < 100 else f"{x / 60:.1f} min"


def report(rows: list[dict], device: str) -> str:
    head = ("measurement", f"this device ({device})", "this machine's CPU", "target", "met",
            "paper", "agreement with numba")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "MISSED")
        agree = "-" if r["agree"] is None else r["agree"]["detail"]
        lines.append(" | ".join([r["name"], _fmt(r["device_s"]), _fmt(r["cpu_s"]),
                                 "-" if r["target_s"] is None else f"<= {_fmt(r['target_s'])}",
                                 met, r["paper"], agree]))
    notes = [f"- {r['name'].strip()}: CPU figure = {r['cpu_note']}" for r in rows
             if r.get("cpu_note")]
    notes += [f"- {r['name'].strip()}: {r['note']}" for r in rows if r.get("note")]
    notes += [f"- {r['name'].strip()}: peak device memory {r['peak_gib']:.1f} GiB" for r in rows
              if r.get("peak_gib") is not None]
    return "\n".join(lines + [""] + notes)


def _describe(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return (f"{torch.cuda.get_device_name(torch.device(device))}, torch {torch.__version__}"
                f", CUDA {torch.version.cuda}")
    return f"CPU, {os.cpu_count()} cores, torch {torch.__version__}"


def check_device(device: str, small: bool) -> None:
    """Refuse a device the check cannot use (:class:`CheckFailed` says what to do)."""
    import torch

    if device == "cpu":
        if not small:
            raise CheckFailed("--device cpu is only the dry run: add --small (the paper-scale "
                              "check on a CPU would take hours and measure nothing of a GPU)")
        return
    if not device.startswith("cuda"):
        raise CheckFailed(f"--device must be 'cuda', 'cuda:N' or (with --small) 'cpu', got "
                          f"{device!r}")
    if not torch.cuda.is_available():
        raise CheckFailed(f"CUDA is absent: torch {torch.__version__} (CUDA build: "
                          f"{torch.version.cuda}) sees no GPU. Run this on the GPU machine, or "
                          "pass --device cpu --small for the dry run")
    from fclib.snn.device import resolve_device

    try:
        resolve_device(device)
    except RuntimeError as e:
        raise CheckFailed(str(e)) from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="'cuda', 'cuda:N', or 'cpu' (dry run)")
    ap.add_argument("--small", action="store_true", help="small sizes (the dry run)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {list(MEASUREMENTS)}")
    ap.add_argument("--skip-tests", action="store_true", help="do not run the gpu tests")
    ap.add_argument("--no-cpu", action="store_true",
                    help="skip the CPU figures (and so the agreement with numba)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    args.size = SMALL if args.small else PAPER
    names = [x for x in args.only.split(",") if x] or list(MEASUREMENTS)
    unknown = set(names) - set(MEASUREMENTS)
    if unknown:
        ap.error(f"unknown measurement(s) {sorted(unknown)}; choose from {list(MEASUREMENTS)}")
    try:
        check_device(args.device, args.small)
    except CheckFailed as e:
        print(f"gpu check: {e}", file=sys.stderr)
        return 2
    dry_run = args.device == "cpu"
    t_start = time.perf_counter()
    tests = None if args.skip_tests else run_gpu_tests(args.device, dry_run)
    print(f"\ndevice: {_describe(args.device)}; sizes: {args.size}", flush=True)
    rows = []
    for name in names:
        t0 = time.perf_counter()
        rows += MEASUREMENTS[name](args)
        print(f"  {name}: done in {time.perf_counter() - t0:.1f} s", flush=True)
    rows += all_layer_pairs(rows, args.size["layer_pairs"], args.small)
    print()
    print(report(rows, args.device))
    agree_ok = all(r["agree"]["ok"] for r in rows if r["agree"] is not None)
    met = [r["met"] for r in rows if r["met"] is not None]
    print(f"\ngpu tests: {'not run (--skip-tests)' if tests is None else tests['verdict']}")
    print(f"agreement with numba: {'every corner agrees' if agree_ok else 'FAILED'}")
    print(f"targets: {sum(met)} of {len(met)} met; total {time.perf_counter() - t_start:.0f} s")
    ok = agree_ok and (tests is None or tests["ok"])
    if args.json:
        Path(args.json).write_text(json.dumps(
            dict(device=_describe(args.device), sizes=args.size, rows=rows, tests=tests,
                 ok=ok), indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
