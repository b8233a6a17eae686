"""Functional connectivity across training, cached: the quantities of
:mod:`fclib.stats.emergence` for every training snapshot of a run and for the rate-matched
random network (:mod:`fclib.snn.matched`), recorded on the same presentations.

Artefacts, under the run's ``record_dir`` (keys from :func:`fclib.store.artefact_key`
with the recording's key as parent, so changed parameters or code recompute them):

- ``matched-p<P>-<key>.nc``: the rate-matched network's recording of the first ``P =
  snapshot_presentations`` presentations of the schedule (those every snapshot is recorded
  on, :meth:`fclib.pipeline.Run.snapshot_recording`), with ``matched-p<P>-<key>.json``: its
  calibration report and held-out accuracy;
- ``emergence/<recording>-<key>.csv``: the quantities of one recording.

Every file is computed once under its lock and written atomically (:mod:`fclib.store`).
"""
from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from fclib.io import datasets as fdata
from fclib.io.recordings import Recording, open_recording
from fclib.store import artefact_key, atomic_write, cached, lock

__all__ = ["snapshot_schedule", "matched_recording", "matched_report", "recording_table",
           "emergence"]

_RUNTIME = ("device", "amp", "channels_last", "deterministic")


def _key(stage: str, params: dict, parent: str) -> tuple[str, dict]:
    """:func:`fclib.store.artefact_key`, memoised while no fclib source file
    changes (hashing the code takes a second or more per call; one chapter asks for the
    same keys many times)."""
    return _key_cached(stage, json.dumps(params, sort_keys=True, default=str), parent,
                       _source_stamp())


def _source_stamp() -> tuple:
    root = Path(__file__).resolve().parents[1]
    return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(root.rglob("*.py")))


@lru_cache(maxsize=64)
def _key_cached(stage: str, params: str, parent: str, stamp: tuple) -> tuple[str, dict]:
    return artefact_key(stage, json.loads(params), parent=parent)


def snapshot_schedule(r, split=None) -> dict:
    """The presentations every snapshot is recorded on: the first ``snapshot_presentations``
    of the run's schedule of held-out images (as :meth:`fclib.pipeline.Run.snapshot_recording`)."""
    split = split or r.split()
    sched = fdata.presentation_params(r.cfg["n_presentations"], len(split.test_images),
                                      r.cfg["seed"] + 1, jitter=r.cfg["jitter"])
    m = min(r.cfg["snapshot_presentations"], r.cfg["n_presentations"])
    return {k: v[:m] for k, v in sched.items()}


def _matched_key(r, n_calibration: int, tolerance: float):
    params = {"base": "permuted", "permute_seed": int(r.cfg["seed"]) + 11,
              "n_calibration": int(n_calibration), "tolerance": float(tolerance),
              "snapshot_presentations": int(r.cfg["snapshot_presentations"])}
    return _key("fclib.snn.matched", params, r.record_key)


def _matched_paths(r, n_calibration: int, tolerance: float) -> tuple[Path, Path, str, dict]:
    key, inputs = _matched_key(r, n_calibration, tolerance)
    stem = f"matched-p{r.cfg['snapshot_presentations']}-{key}"
    return r.record_dir / f"{stem}.nc", r.record_dir / f"{stem}.json", key, inputs


def _write_text(text: str, path: Path) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(text)


def _lock(r, path: Path):
    """The lock of the artefact at ``path``, kept where the run's stages keep theirs."""
    return lock(str(Path(path).resolve()), r.data_dir / "runs")


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    """The table as CSV, its key and key inputs (:func:`fclib.store.stamp`) on ``#`` lines
    above it."""
    head = "".join(f"# {k}: {v}\n" for k, v in table.attrs.items() if k.startswith("fclib_"))
    path.write_text(head + table.to_csv(index=False))


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


def matched_recording(r, *, n_calibration: int = 128, tolerance: float = 0.02,
                      progress: bool = False) -> Recording:
    """The recording of the rate-matched random network, made on first use.

    The network: the trained model's weights permuted with the seed of chapter 11's permuted
    network (``seed + 11``), then every spiking layer's threshold gain calibrated so its mean
    rate on the first ``n_calibration`` presentations of the snapshot schedule equals the
    trained model's within ``tolerance`` (:func:`fclib.snn.matched.permuted_rate_matched`).
    Recorded on the snapshot schedule with the run's sampling rule; the calibration report
    and the held-out accuracy are in :func:`matched_report`.
    """
    path, side, key, inputs = _matched_paths(r, n_calibration, tolerance)
    with _lock(r, path):  # another process may be recording it
        if not (path.exists() and side.exists()):
            _record_matched(r, path, side, key, inputs, n_calibration, tolerance, progress)
    return open_recording(path)


def _record_matched(r, path: Path, side: Path, key: str, inputs: dict, n_calibration: int,
                    tolerance: float, progress: bool) -> None:
    """Calibrate and record the rate-matched network (:func:`matched_recording`, under its lock)."""
    from fclib.snn.matched import permuted_rate_matched
    from fclib.snn.perturb import accuracy
    from fclib.snn.record import record

    t0 = time.perf_counter()
    split = r.split()
    sched = snapshot_schedule(r, split)
    calib = fdata.present(split.test_images, sched, 0, min(n_calibration, len(sched["image"])))
    # calibrated on the device it is recorded on: a rate is that device's
    model, report = permuted_rate_matched(r.model(), calib, rng=int(r.cfg["seed"]) + 11,
                                          tolerance=tolerance, device=r.cfg["device"])
    acc = accuracy(model, split.test_images, split.test_labels, device=r.cfg["device"])
    info = {"accuracy": float(acc), "tolerance": float(tolerance),
            "n_calibration": int(calib.shape[0]),
            "report": report.reset_index().to_dict(orient="list"),
            "fclib_key": key, "fclib_inputs": inputs}
    if not path.exists():
        budget = None if r.cfg["sample"] == "all" else r.cfg["neuron_budget"]
        r.record_dir.mkdir(parents=True, exist_ok=True)
        record(model, split.test_images, split.test_labels, sched, path,
               condition="rate-matched", batch_size=r.cfg["record_batch"], budget=budget,
               progress=progress, **{k: r.cfg[k] for k in _RUNTIME},
               attrs=dict(profile=r.cfg["profile"], class_names=list(split.class_names),
                          train_key=r.train_key, fclib_key=key,
                          calibration_tolerance=float(tolerance)))
    _write_text(json.dumps(info, indent=1, default=str), side)
    r.timings["record rate-matched"] = time.perf_counter() - t0


def matched_report(r, *, n_calibration: int = 128, tolerance: float = 0.02) -> pd.DataFrame:
    """The calibration of the rate-matched network (:func:`fclib.snn.matched.rate_matched`'s
    report: per spiking layer ``target``, ``rate``, ``base rate``, ``gain``, ``matched``),
    with its held-out ``accuracy`` in ``attrs``. Records it first if needed."""
    matched_recording(r, n_calibration=n_calibration, tolerance=tolerance)
    info = json.loads(_matched_paths(r, n_calibration, tolerance)[1].read_text())
    rep = pd.DataFrame(info["report"]).set_index("layer")
    rep.attrs.update(accuracy=info["accuracy"], tolerance=info["tolerance"],
                     n_calibration=info["n_calibration"])
    return rep


def recording_table(r, which, *, threshold: float = 4.0, min_frames: int = 10,
                    saturation: float = 0.95, r2_min: float = 0.8, n_shuffles: int = 10,
                    n_calibration: int = 128, tolerance: float = 0.02,
                    progress: bool = False) -> pd.DataFrame:
    """:func:`fclib.stats.emergence.recording_quantities` of one recording, cached as
    ``<record_dir>/emergence/<recording>-<key>.csv``.

    ``which``: a snapshot epoch (int; :meth:`fclib.pipeline.Run.snapshot_recording`) or
    ``"rate-matched"`` (:func:`matched_recording`).
    """
    from fclib.stats.emergence import recording_quantities

    if which == "rate-matched":
        path_rec, _, parent, _ = _matched_paths(r, n_calibration, tolerance)
        stem = path_rec.stem
        get = lambda: matched_recording(r, n_calibration=n_calibration,  # noqa: E731
                                        tolerance=tolerance, progress=progress)
    elif isinstance(which, (int, np.integer)) and not isinstance(which, bool):
        parent = r.record_key
        stem = r.snapshot_recording_path(int(which)).stem
        get = lambda: r.snapshot_recording(int(which), progress=progress)  # noqa: E731
    else:
        raise ValueError(f"which must be a snapshot epoch (one of {r.snapshot_epochs}) or "
                         f"'rate-matched', got {which!r}")
    params = {"recording": stem, "threshold": float(threshold), "min_frames": int(min_frames),
              "saturation": float(saturation), "r2_min": float(r2_min),
              "n_shuffles": int(n_shuffles), "seed": int(r.cfg["seed"])}
    key = _key("fclib.stats.emergence", params, parent)
    path = r.record_dir / "emergence" / f"{stem}-{key[0]}.csv"
    return cached(path, lambda: recording_quantities(get(), threshold=threshold,
                                                     min_frames=min_frames,
                                                     saturation=saturation, r2_min=r2_min,
                                                     n_shuffles=n_shuffles,
                                                     rng=int(r.cfg["seed"])),
                  _write_csv, _read_csv, key=key, lock_folder=r.data_dir / "runs",
                  timings=r.timings, label=f"emergence {stem}")


def emergence(r, *, threshold: float = 4.0, min_frames: int = 10, saturation: float = 0.95,
              r2_min: float = 0.8, n_shuffles: int = 10, controls: bool = True,
              n_calibration: int = 128, tolerance: float = 0.02,
              progress: bool = False) -> pd.DataFrame:
    """The tidy table of the curves (:func:`fclib.stats.emergence.emergence_table`): every
    snapshot of the run (``network="trained"``, ``epoch`` 0 = at initialisation, the
    untrained control) and, with ``controls``, the rate-matched random network
    (``network="rate-matched"``, ``epoch`` NaN), each with its held-out accuracy."""
    from fclib._util import progress_bar
    from fclib.stats.emergence import emergence_table

    kw = dict(threshold=threshold, min_frames=min_frames, saturation=saturation,
              r2_min=r2_min, n_shuffles=n_shuffles, n_calibration=n_calibration,
              tolerance=tolerance, progress=False)
    tables, acc = {}, {}
    for e in progress_bar(r.snapshot_epochs, desc="snapshots", progress=progress):
        tables[("trained", e)] = recording_table(r, e, **kw)
        acc[("trained", e)] = r.snapshot_accuracy(e)
    if controls:
        tables[("rate-matched", None)] = recording_table(r, "rate-matched", **kw)
        acc[("rate-matched", None)] = matched_report(
            r, n_calibration=n_calibration, tolerance=tolerance).attrs["accuracy"]
    return emergence_table(tables, acc)
