"""The stage runner behind ``make book``: data -> model -> recording -> notebooks -> book.

Every stage writes under ``<data_dir>/runs/<key>/`` (see :mod:`fclib.pipeline.profiles`) and is
skipped when its artefact exists. From the command line::

    python -m fclib.pipeline book --profile default      # everything, then the HTML book
    python -m fclib.pipeline run --profile smoke --set epochs=1   # train + record only

Notebooks call :func:`run` with their papermill parameters; it returns a :class:`Run`
whose artefacts are then reused, not recomputed.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fclib.io import datasets as fdata
from fclib.pipeline.inputs import arch as _arch
from fclib.pipeline.inputs import load_split
from fclib.pipeline.cache import artefact_key
from fclib.pipeline.profiles import (PARAMS, RECORD_PARAMS, TRAIN_PARAMS, condition_file,
                                     resolve)
from fclib.io.recordings import Recording, load_dataset, open_recording, write_netcdf
from fclib.store import atomic_write, cached, default_data_dir, lock

__all__ = ["Run", "run", "load_split", "default_data_dir", "stage_keys"]

NOTEBOOK_PARAMS = ("profile", "data_dir")


def _check_same_layout(rec: Recording, ref: Recording, condition: str,
                       frames: bool = True) -> None:
    """Refuse a condition's recording whose layers, neurons or (with ``frames``) frames differ
    from the original's."""
    if rec.layers != ref.layers:
        raise ValueError(f"recording {condition!r} has layers {rec.layers}, the original "
                         f"{ref.layers}; record it again from the same model")
    if frames and rec.n_frames != ref.n_frames:
        raise ValueError(f"recording {condition!r} has {rec.n_frames} frames, the original "
                         f"{ref.n_frames}; the groups of the original cannot be applied to it")
    for layer in rec.layers:
        a, b = rec[layer], ref[layer]
        for c in ("channel", "y", "x"):
            if not np.array_equal(a[c].values, b[c].values):
                raise ValueError(f"recording {condition!r}: the neurons of {layer} differ from "
                                 "the original's (sampling rule or model changed)")
    if not frames:
        return
    a, b = rec[rec.layers[0]], ref[ref.layers[0]]
    for c in ("image", "step"):
        if not np.array_equal(a[c].values, b[c].values):
            raise ValueError(f"recording {condition!r}: frame coordinate {c!r} differs from the "
                             "original's; both must present the same schedule")


TRAIN_KEYS = ("epochs", "batch_size", "lr", "momentum", "weight_decay", "augment", "seed")


def _runtime(cfg: dict) -> dict:
    """Where and how torch runs (never part of a key)."""
    return {k: cfg[k] for k in ("device", "amp", "channels_last", "deterministic")}


def _budget(cfg: dict) -> int | None:
    return None if cfg["sample"] == "all" else cfg["neuron_budget"]


def _writable_dir(data_dir: Path) -> Path:
    """``data_dir`` made if needed and checked writable, or an error that names it and says
    what to do (before any stage starts, so no run is left half made)."""
    data_dir = Path(data_dir)
    hint = "; pass another with --data-dir (or data_dir=...) or set $FCLIB_DATA_DIR"
    if data_dir.exists() and not data_dir.is_dir():
        raise NotADirectoryError(f"data directory {data_dir} is a file, not a folder{hint}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".fclib-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise PermissionError(f"data directory {data_dir} cannot be written "
                              f"({e.strerror or e}){hint}") from e
    return data_dir


def _perturb_params(cfg: dict) -> dict:
    """:func:`fclib.snn.perturb.make_perturb`'s settings from a profile (its ``seed`` as
    ``rng``)."""
    return {**{k: cfg[k] for k in ("noise_amplitude", "fgsm_eps", "fgsm_classes")},
            "rng": cfg["seed"]}


def _write_json(obj, path: Path) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, default=str))


@dataclass
class Run:
    """The artefacts of one configuration: model, history and recordings."""

    cfg: dict
    data_dir: Path
    train_key: str
    record_key: str
    timings: dict = field(default_factory=dict)
    _autocorr: dict = field(default_factory=dict, repr=False)
    _client: object = field(default=None, repr=False)
    _layers: dict = field(default_factory=dict, repr=False)

    @property
    def client(self):
        """The ``distributed.Client`` of the run's ``scheduler`` (connected on first use), or
        ``None``: the edge-list tiles then run in this process."""
        if self._client is None and self.cfg.get("scheduler"):
            from fclib.stats.distributed import connect

            self._client = connect(self.cfg["scheduler"])
        return self._client

    @property
    def train_dir(self) -> Path:
        return self.data_dir / "runs" / self.train_key

    @property
    def record_dir(self) -> Path:
        return self.data_dir / "runs" / self.record_key

    @property
    def model_path(self) -> Path:
        return self.train_dir / "model.pt"

    def _lock(self, path: Path):
        """The inter-process lock of the artefact at ``path`` (:func:`fclib.store.lock`, kept
        in ``<data_dir>/runs/.locks``): a stage checks for and computes its file under it, so
        chapters executed side by side compute each artefact once."""
        return lock(str(Path(path).resolve()), self.data_dir / "runs")

    def _cached(self, path: Path, compute, key: tuple[str, dict], label: str | None = None,
                save=write_netcdf, load=load_dataset):
        """:func:`fclib.store.cached` under the run's lock (:meth:`_lock`): the netCDF
        artefact at ``path``, computed once, stamped with ``key``; with ``label``, the
        seconds it took go to :attr:`timings`."""
        return cached(path, compute, save, load, key=key, lock_folder=self.data_dir / "runs",
                      timings=self.timings if label else None, label=label)

    def recording_path(self, condition: str = "original") -> Path:
        return self.record_dir / condition_file(condition, self.cfg)

    #: Loaded layers :meth:`loaded` keeps (the most recently used).
    LOADED_LAYERS = 4

    def loaded(self, layer: str, condition: str = "original"):
        """``self.recording(condition)[layer]``, loaded into memory and kept for the next
        call (the :data:`LOADED_LAYERS` most recently used layers): the stages that read the
        same layers again and again (the five ways of choosing groups, both folds, both
        nulls) read each from disk once. Keyed by the file's path, size and modification
        time, so a rewritten recording is read anew. Callers must not modify it."""
        path = self.recording_path(condition)
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, layer)
        if key in self._layers:
            self._layers[key] = self._layers.pop(key)   # most recent last
            return self._layers[key]
        da = self.recording(condition)[layer].load()
        self._layers[key] = da
        while len(self._layers) > self.LOADED_LAYERS:
            self._layers.pop(next(iter(self._layers)))
        return da

    def recording(self, condition: str = "original", chunks=None) -> Recording:
        """The recording of ``condition``. Any condition other than ``original`` must hold
        the same layers, neurons and frames as the original (``train``, of training images:
        the same layers and neurons); otherwise it is refused."""
        rec = open_recording(self.recording_path(condition), chunks=chunks)
        if condition != "original":
            _check_same_layout(rec, open_recording(self.recording_path("original")), condition,
                               frames=condition != "train")
        return rec

    @property
    def snapshot_epochs(self) -> list[int]:
        """Epochs after which the model was kept (``0``: at initialisation)."""
        return list(self.cfg["snapshot_epochs"])

    def snapshot_model(self, epoch: int, split: fdata.Split | None = None):
        """The eval-mode model kept after ``epoch`` training epochs (on the CPU)."""
        from fclib.snn.train import load_snapshot

        return load_snapshot(self.train_dir, epoch, _arch(self.cfg, split or self.split()))[0]

    def snapshot_accuracy(self, epoch: int) -> float:
        """Held-out accuracy of the model kept after ``epoch`` epochs."""
        import torch

        from fclib.snn.train import snapshot_path

        ck = torch.load(snapshot_path(self.train_dir, epoch), map_location="cpu",
                        weights_only=False)
        return float(ck["test_accuracy"])

    def snapshot_recording_path(self, epoch: int) -> Path:
        return self.record_dir / (f"snapshot-e{int(epoch):04d}-"
                                  f"p{self.cfg['snapshot_presentations']}.nc")

    def snapshot_recording(self, epoch: int, progress: bool = False) -> Recording:
        """The recording of the model kept after ``epoch`` epochs, made on first use: the
        first ``snapshot_presentations`` presentations of the same schedule for every
        snapshot (so all snapshots see the same images, transformed alike)."""
        path = self.snapshot_recording_path(epoch)
        with self._lock(path):  # another process may be computing it
            if not path.exists():
                from fclib.snn.record import record

                t0 = time.perf_counter()
                split = self.split()
                if epoch not in self.snapshot_epochs:
                    raise ValueError(f"no snapshot after epoch {epoch}; this run keeps "
                                     f"{self.snapshot_epochs} (profile parameter snapshot_epochs)")
                model = self.snapshot_model(epoch, split)
                sched = fdata.presentation_params(self.cfg["n_presentations"],
                                                  len(split.test_images), self.cfg["seed"] + 1,
                                                  jitter=self.cfg["jitter"])
                m = min(self.cfg["snapshot_presentations"], self.cfg["n_presentations"])
                sched = {k: v[:m] for k, v in sched.items()}
                self.record_dir.mkdir(parents=True, exist_ok=True)
                record(model, split.test_images, split.test_labels, sched, path,
                       condition="original", batch_size=self.cfg["record_batch"],
                       budget=_budget(self.cfg), progress=progress, **_runtime(self.cfg),
                       attrs=dict(profile=self.cfg["profile"], snapshot_epoch=int(epoch),
                                  class_names=list(split.class_names),
                                  train_key=self.train_key, fclib_key=self.record_key))
                self.timings[f"record snapshot {epoch}"] = time.perf_counter() - t0
        return open_recording(path)

    @property
    def summary(self) -> dict:
        return json.loads((self.train_dir / "summary.json").read_text())

    @property
    def history(self) -> list[dict]:
        return self.summary["history"]

    def split(self) -> fdata.Split:
        return load_split(self.cfg)

    def pairs(self, source: str, target: str, condition: str = "original", *,
              null: str | None = None, half: int | None = None):
        """STTC and z of the active pairs of a layer pair, cached on disk.

        ``null`` (default: the run's ``null``): ``"exact"``, the exact all-shift circular
        null; ``"shifts"``, the paper's ``n_shifts`` random circular shifts (seeded by the
        run's seed); ``"stimulus"``, whole presentations permuted among presentations of the
        same stimulus (the run's ``stimulus``: image or class; a recording that shows every
        image once, such as the detector's training images, falls back to class, noted in
        the attrs). ``half`` (0 or 1): only the frames of that half of the images (:meth:`half_frames`), for cross-validation.
        Stored as ``<record_dir>/pairs/<condition>_<source>-<target>-<key>.nc`` (``sttc``
        and ``z``, float32), computed by :func:`fclib.stats.connectivity.pair_significance`.
        """
        from fclib.stats._frames import take_frames
        from fclib.stats.connectivity import pair_significance

        method = null or self.cfg["null"]
        key = self.pairs_key(source, target, condition, null=method, half=half)
        path = (self.record_dir / "pairs"
                / f"{self._stem(condition)}_{source}-{target}-{key[0]}.nc")

        def compute():
            rec = self.recording(condition)
            src, tgt = rec[source], rec[target]
            if half is not None:  # load first: netCDF's fancy indexing on disk is slow
                frames = self.half_frames(half, condition)
                src = take_frames(self.loaded(source, condition), frames)
                tgt = take_frames(self.loaded(target, condition), frames)
            backend, device = self._backend()
            if method == "exact" and backend == "numba":
                # the target's spectra are reused by the next layer pair
                kw = {"autocorr": self._autocorr}
            elif method == "exact":
                kw = {}
            elif method == "shifts":
                kw = {"n_shifts": self.cfg["n_shifts"], "rng": self.cfg["seed"]}
            else:
                from fclib.stats.connectivity import null_stimulus

                stim, by = null_stimulus(src, rec.T, self.cfg["stimulus"])
                kw = {"stimulus": stim, "T": rec.T}
            if backend == "torch":
                kw.update(backend="torch", device=device)
            ds = pair_significance(src, tgt, method=method, **kw)
            if method == "stimulus":
                ds.attrs["stimulus"] = by
            return ds[["sttc", "z"]]

        return self._cached(path, compute, key, f"pairs {source}-{target}")

    def pairs_key(self, source: str, target: str, condition: str = "original", *,
                  null: str | None = None, half: int | None = None):
        """Key and key inputs of :meth:`pairs`: the recording, the layer pair, the null, the
        frames and the code of :mod:`fclib.stats.connectivity` and what it imports."""
        method = null or self.cfg["null"]
        params = {"recording": self._stem(condition), "source": source, "target": target,
                  "method": method}
        if method == "shifts":
            params.update(n_shifts=self.cfg["n_shifts"], seed=self.cfg["seed"])
        elif method == "stimulus":
            params.update(stimulus=self.cfg["stimulus"])
        if half is not None:
            params.update(half=int(half), half_seed=int(self.cfg["seed"]))
        return artefact_key("pairs", params, parent=self.record_key)

    def half_frames(self, half: int, condition: str = "original") -> np.ndarray:
        """Frame indices of one of two seeded halves of the images (every presentation of an
        image in the same half; :func:`fclib.stats.halves.image_halves`)."""
        from fclib.stats.halves import half_frame_indices

        rec = self.recording(condition)
        return half_frame_indices(rec[rec.layers[0]]["image"].values, half, rng=self.cfg["seed"])

    def groups(self, source: str, target: str, threshold: float = 4.0,
               reference: str = "original", *, null: str | None = None,
               half: int | None = None):
        """1FC groups of a layer pair, from the ``reference`` condition, cached on disk.

        ``<record_dir>/groups/<source>-<target>_z<threshold>-<key>.nc`` (prefixed with the
        reference when it is not the original); ``null`` and ``half`` as in :meth:`pairs`;
        see :func:`fclib.stats.groups.one_fc_groups`.
        """
        from fclib.stats.groups import load_groups, one_fc_groups

        prefix = "" if reference == "original" else f"{self._stem(reference)}_"
        key = self.groups_key(source, target, threshold, reference, null=null, half=half)
        path = (self.record_dir / "groups"
                / f"{prefix}{source}-{target}_z{threshold:g}-{key[0]}.nc")

        def compute():
            method = null or self.cfg["null"]
            if self.cfg["sample"] == "all" and half is None and method in ("exact", "shifts"):
                # every neuron: the streamed edge list, never a dense N x N matrix
                from fclib.stats.edges import groups_from_edges

                return groups_from_edges(self.edges(source, target, threshold, reference,
                                                    null=method), threshold)
            return one_fc_groups(self.pairs(source, target, reference, null=null, half=half),
                                 threshold)

        return self._cached(path, compute, key, load=load_groups)

    def edges(self, source: str, target: str, threshold: float = 4.0,
              condition: str = "original", *, null: str | None = None,
              progress: bool = False):
        """The significant edges (|z| > ``threshold``) of a layer pair with their per-target
        summaries and histograms (:func:`fclib.stats.edges.significant_edges`), streamed in
        tiles (on the run's dask ``scheduler`` when it has one) and cached as
        ``<record_dir>/edges/<condition>_<source>-<target>_z<threshold>-<key>.nc``; an
        interrupted computation resumes from the tiles on disk. ``null``: ``"exact"`` or
        ``"shifts"`` (default: the run's)."""
        from fclib.stats.connectivity import active
        from fclib.stats.edges import significant_edges

        method = null or self.cfg["null"]
        if method not in ("exact", "shifts"):
            raise ValueError(f"edge lists are made with null 'exact' or 'shifts', not {method!r}")
        key, _ = self.edges_key(source, target, threshold, condition, null=method)
        path = (self.record_dir / "edges"
                / f"{self._stem(condition)}_{source}-{target}_z{threshold:g}-{key}.nc")
        path.parent.mkdir(parents=True, exist_ok=True)
        rec = self.recording(condition, chunks={})  # lazy: a layer is never loaded whole
        kw = {"n_shifts": self.cfg["n_shifts"], "rng": self.cfg["seed"]} if method == "shifts" else {}
        backend, _ = self._backend()
        with self._lock(path):  # the tiles and the table are written under path
            return significant_edges(active(rec[source]), active(rec[target]), threshold,
                                     method, client=self.client, path=path, backend=backend,
                                     progress=progress, **kw)

    def edges_key(self, source: str, target: str, threshold: float = 4.0,
                  condition: str = "original", *, null: str | None = None):
        """Key and key inputs of :meth:`edges` (parent: the pairs' key)."""
        return artefact_key("edges", {"threshold": float(threshold)},
                            parent=self.pairs_key(source, target, condition, null=null)[0])

    def groups_key(self, source: str, target: str, threshold: float = 4.0,
                   reference: str = "original", *, null: str | None = None,
                   half: int | None = None):
        """Key and key inputs of :meth:`groups` (parent: the pairs' key)."""
        return artefact_key("groups", {"threshold": float(threshold)},
                            parent=self.pairs_key(source, target, reference, null=null,
                                                  half=half)[0])

    def ensembles(self, source: str, target: str, variant: str, *, threshold: float = 4.0,
                  min_frames: int = 10, saturation: float = 0.95, r2_min: float = 0.8):
        """:func:`fclib.stats.ensembles.evaluate_groups` of a layer pair for one way of
        choosing the groups, cached on disk; a list of Datasets (one per fold).

        ``variant``:

        - ``"circular"``: 1FC groups under the exact circular null, measured on the frames
          they were found on (the paper's analysis, in-sample); preferred classes from all
          frames;
        - ``"circular_cv"``, ``"stimulus_cv"``: groups under the circular or the
          stimulus-preserving null found on one half of the images (:meth:`half_frames`),
          with every target's preferred class from that half, measured on the other half,
          then the halves swapped (two folds);
        - ``"tuning"``: for every target, as many sources as its circular group holds,
          chosen only by similarity of class tuning
          (:func:`fclib.stats.controls.tuning_matched_groups`), in-sample;
        - ``"random"``: as many random sources, matched to the group's firing rates
          (:func:`fclib.stats.controls.random_matched_groups`), in-sample.
        """
        from fclib.stats.ensembles import VARIANTS, evaluate_variant

        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        folds = (0, 1) if variant.endswith("_cv") else (None,)
        null = "stimulus" if variant == "stimulus_cv" else "exact"

        def compute(fold):
            rec = self.recording()
            g = self.groups(source, target, threshold, null=null, half=fold)
            fit = None if fold is None else self.half_frames(fold)
            evaluate = None if fold is None else self.half_frames(1 - fold)
            ds = evaluate_variant(self.loaded(source), self.loaded(target), g, rec.T,
                                  variant, fit_frames=fit, eval_frames=evaluate,
                                  n_classes=len(rec.attrs.get("class_names") or []) or None,
                                  min_frames=min_frames, saturation=saturation,
                                  r2_min=r2_min, rng=self.cfg["seed"])
            ds.attrs["fold"] = -1 if fold is None else int(fold)
            return ds

        out = []
        for fold in folds:
            key = self.ensembles_key(source, target, variant, fold, threshold=threshold,
                                     min_frames=min_frames, saturation=saturation,
                                     r2_min=r2_min)
            path = (self.record_dir / "ensembles"
                    / f"{variant}_{source}-{target}_z{threshold:g}_f{fold}-{key[0]}.nc")
            out.append(self._cached(path, lambda fold=fold: compute(fold), key,
                                    f"ensembles {variant} {source}-{target}"))
        return out

    def ensembles_key(self, source: str, target: str, variant: str, fold: int | None, *,
                      threshold: float = 4.0, min_frames: int = 10, saturation: float = 0.95,
                      r2_min: float = 0.8):
        """Key and key inputs of one fold of :meth:`ensembles` (parent: the groups' key)."""
        null = "stimulus" if variant == "stimulus_cv" else "exact"
        parent = self.groups_key(source, target, threshold, null=null, half=fold)[0]
        return artefact_key(
            "ensembles", {"variant": variant, "fold": fold, "min_frames": int(min_frames),
                          "saturation": float(saturation), "r2_min": float(r2_min),
                          "seed": int(self.cfg["seed"])}, parent=parent)

    def response(self, source: str, target: str, condition: str = "original", *,
                 threshold: float = 4.0, min_frames: int = 10, saturation: float = 0.95,
                 n_batches: int = 4, r2_min: float = 0.8, cross_validate: bool = False):
        """Response functions, fits and the property table of a layer pair, cached on disk.

        ``cross_validate=True``: the groups are found on one seeded half of the images
        (:meth:`groups` with ``half``) and the response functions counted on the frames of the
        other half only, then the halves swap and the counts of both folds are summed (each
        target's ``degree`` is then the mean of its two groups' sizes, rounded): nothing is
        measured on the frames its group was chosen on.

        Groups come from the original condition (:meth:`groups`), except for the permuted
        network, whose analysis is redone from its own pairs; co-firing and target spikes
        come from ``condition``; fits as in :func:`fclib.stats.response.fit_response`.
        Frames are also split into ``n_batches`` disjoint sets of images (seeded by the
        run's seed) and every fit is repeated per batch (the
        temporal-robustness test). Returns one Dataset:

        - ``n_frames``, ``n_fire`` over ``(neuron, cofiring)``: the response functions;
        - the variables of :func:`fclib.stats.response.neuron_properties` over ``neuron``;
        - ``batch_n_frames``, ``batch_n_fire`` over ``(batch, neuron, cofiring)`` and
          ``batch_relu_slope``, ``batch_relu_r2`` over ``(batch, neuron)``.
        """
        from fclib.stats import response as fr

        reference = "permuted" if condition == "permuted" else "original"
        key = self.response_key(source, target, condition, threshold=threshold,
                                min_frames=min_frames, saturation=saturation,
                                n_batches=n_batches, cross_validate=cross_validate)
        name = (f"{self._stem(condition)}_{source}-{target}_z{threshold:g}_m{min_frames}"
                f"_s{saturation:g}_b{n_batches}{'_cv' if cross_validate else ''}-{key[0]}.nc")

        def compute():
            rec = self.recording(condition)
            src, tgt = self.spikes(source, condition), self.spikes(target, condition)
            seed = self.cfg["seed"]
            if cross_validate:
                from fclib.stats.halves import half_images

                ref_images = self.recording(reference)[source]["image"].values
                cb = fr.cross_validated_counts(
                    src, tgt,
                    [self.groups(source, target, threshold, reference=reference, half=f)
                     for f in (0, 1)],
                    [half_images(ref_images, f, rng=seed) for f in (0, 1)],
                    n_batches=n_batches, rng=seed)
            else:
                g = self.groups(source, target, threshold, reference=reference)
                cb = fr.batch_response_counts(src, tgt, g, n_batches=n_batches, rng=seed)
            ds = fr.response_dataset(cb, tgt, rec.T, min_frames=min_frames,
                                     saturation=saturation, r2_min=r2_min)
            ds.attrs.update(source_layer=source, target_layer=target, condition=condition,
                            threshold=float(threshold), min_frames=int(min_frames),
                            n_batches=int(n_batches), batch_seed=int(seed),
                            cross_validated=int(bool(cross_validate)))
            return ds

        ds = self._cached(self.record_dir / "response" / name, compute, key,
                          f"response {condition} {source}-{target}")
        return fr.select_fits(ds, r2_min)

    def response_key(self, source: str, target: str, condition: str = "original", *,
                     threshold: float = 4.0, min_frames: int = 10, saturation: float = 0.95,
                     n_batches: int = 4, cross_validate: bool = False):
        """Key and key inputs of :meth:`response` (parent: the groups' key or keys)."""
        reference = "permuted" if condition == "permuted" else "original"
        params = {"recording": self._stem(condition), "min_frames": int(min_frames),
                  "saturation": float(saturation), "n_batches": int(n_batches),
                  "batch_seed": int(self.cfg["seed"])}
        if cross_validate:
            params["cross_validate"] = True
            parent = "+".join(self.groups_key(source, target, threshold, reference, half=f)[0]
                              for f in (0, 1))
        else:
            parent = self.groups_key(source, target, threshold, reference)[0]
        return artefact_key("response", params, parent=parent)

    def _stem(self, condition: str) -> str:
        """Cache-file prefix of a condition: its recording's name, which carries the noise
        amplitude or the FGSM step, so a changed parameter never reuses a stale file."""
        return condition_file(condition, self.cfg).removesuffix(".nc")

    def analysed_frames(self, condition: str):
        """Frame indices analysed under ``condition``: for FGSM on a subset of classes
        (``fgsm_classes``), the frames of attacked images; otherwise ``None`` (all)."""
        if condition != "fgsm" or not self.cfg["fgsm_classes"]:
            return None
        rec = self.recording(condition)
        from fclib.stats.information import frames_of_classes

        return frames_of_classes(rec[rec.layers[0]]["label"].values,
                                 rec.attrs["attacked_classes"])

    def spikes(self, layer: str, condition: str = "original"):
        """The spikes of ``layer`` under ``condition`` on the frames analysed there
        (:meth:`analysed_frames`): ``DataArray(("neuron", "frame"))``, read lazily where all
        frames are analysed, else loaded."""
        from fclib.stats._frames import take_frames

        da = self.recording(condition)[layer]
        frames = self.analysed_frames(condition)
        # loaded, then gathered: fancy indexing of frames on disk is far slower
        return da if frames is None else take_frames(da.load(), frames)

    def _backend(self) -> tuple[str, object]:
        """The statistics backend of this run's ``backend``/``device`` parameters (the device
        only matters to torch: ``auto`` takes torch on a CUDA device, numba otherwise)."""
        from fclib.stats.sttc import resolve_backend

        return resolve_backend(self.cfg["backend"], None if self.cfg["device"] == "auto"
                               else self.cfg["device"])

    def information(self, layer: str, condition: str = "original", n_shuffles: int = 20):
        """:func:`fclib.stats.information.information` of every neuron of ``layer`` (silent ones
        included) under ``condition``, shuffles seeded by the run's seed, cached on disk as
        ``<record_dir>/information/<condition>_<layer>_s<n_shuffles>.nc``. Under FGSM on a
        subset of classes only the attacked images count (:meth:`analysed_frames`)."""
        from fclib.stats.information import information

        key = self.information_key(layer, condition, n_shuffles)
        path = (self.record_dir / "information"
                / f"{self._stem(condition)}_{layer}_s{n_shuffles}-{key[0]}.nc")

        def compute():
            rec = self.recording(condition)
            n_classes = len(rec.attrs.get("class_names") or []) or None
            backend, device = self._backend()
            return information(self.spikes(layer, condition), rec.T, n_shuffles=n_shuffles,
                               rng=self.cfg["seed"], n_classes=n_classes, backend=backend,
                               device=device)

        return self._cached(path, compute, key)

    def information_key(self, layer: str, condition: str = "original", n_shuffles: int = 20):
        """Key and key inputs of :meth:`information` (parent: the recording's key)."""
        return artefact_key(
            "information", {"recording": self._stem(condition), "layer": layer,
                            "n_shuffles": int(n_shuffles), "seed": int(self.cfg["seed"])},
            parent=self.record_key)

    def embeddings_key(self, backend: str = "minilm", names=None):
        """Key and key inputs of :meth:`embeddings` (parent: the training's key)."""
        names = [str(n) for n in (self.summary["class_names"] if names is None else names)]
        return artefact_key("embeddings", {"backend": backend, "class_names": names},
                            parent=self.train_key)

    def accuracy_key(self, condition: str = "original", n_images: int | None = None,
                     **perturb) -> str:
        """The entry of :meth:`accuracy` for ``condition`` in ``accuracy.json``."""
        cfg = self._perturbed_cfg(perturb)
        params = {"condition": condition}
        if n_images is not None:
            params["n_images"] = int(n_images)
        stem = condition_file(condition, cfg).removesuffix(".nc")
        return f"{stem}-" + artefact_key("accuracy", params, parent=self.record_key)[0]

    def _perturbed_cfg(self, perturb: dict) -> dict:
        """The run's parameters with a perturbation's strength replaced (``noise_amplitude``,
        ``fgsm_eps``), checked like any profile parameter."""
        unknown = set(perturb) - {"noise_amplitude", "fgsm_eps"}
        if unknown:
            raise ValueError(f"only noise_amplitude and fgsm_eps can be varied here, got "
                             f"{sorted(unknown)}")
        if not perturb:
            return self.cfg
        return resolve(self.cfg["profile"], **{**{k: v for k, v in self.cfg.items()
                                                  if k in PARAMS}, **perturb})

    def embeddings(self, backend: str = "minilm"):
        """Text embeddings of the run's class names (:func:`fclib.stats.semantic.embed_class_names`,
        computed with the installed model, offline), cached on disk as
        ``<train_dir>/embeddings/<backend>-<key>.nc``; dims ``("class", "dim")``."""
        from fclib.stats.semantic import embed_class_names

        names = [str(n) for n in self.summary["class_names"]]
        key = self.embeddings_key(backend, names)
        ds = self._cached(self.train_dir / "embeddings" / f"{backend}-{key[0]}.nc",
                          lambda: embed_class_names(names, backend=backend).to_dataset(
                              name="embedding"), key, f"embeddings {backend}")
        emb = ds["embedding"]
        emb.attrs.update({k: v for k, v in ds.attrs.items() if not k.startswith("fclib_")})
        return emb

    def model(self, condition: str = "original", split: fdata.Split | None = None):
        """The trained model (the permuted copy for ``condition="permuted"``), in eval mode."""
        return self._model_and_perturb(condition, split)[0]

    def _model_and_perturb(self, condition: str, split: fdata.Split | None = None,
                           cfg: dict | None = None):
        from fclib.snn.perturb import make_perturb
        from fclib.snn.train import load_model

        model, _ = load_model(self.model_path, _arch(self.cfg, split or self.split()))
        model, perturb = make_perturb(condition, model, **_perturb_params(cfg or self.cfg))
        return model.eval(), perturb

    def accuracy(self, condition: str = "original", *, n_images: int | None = None,
                 **perturb) -> float:
        """Held-out accuracy (each test image once, untransformed) under ``condition``,
        cached in ``<record_dir>/accuracy.json``. ``n_images``: only the first that many test
        images (a cheaper sweep); ``noise_amplitude=`` / ``fgsm_eps=``: another strength of
        the perturbation than the run's (the sweeps of the perturbation chapter)."""
        path = self.record_dir / "accuracy.json"
        key = self.accuracy_key(condition, n_images, **perturb)
        with self._lock(path):  # one file for every condition: read, add, write under it
            acc = json.loads(path.read_text()) if path.exists() else {}
            if key not in acc:
                from fclib.snn.perturb import accuracy

                split = self.split()
                model, fn = self._model_and_perturb(condition, split,
                                                    self._perturbed_cfg(perturb))
                n = len(split.test_images) if n_images is None else int(n_images)
                acc[key] = accuracy(model, split.test_images[:n], split.test_labels[:n], fn,
                                    device=self.cfg["device"])
                self.record_dir.mkdir(parents=True, exist_ok=True)
                _write_json(acc, path)
        return float(acc[key])

    def responses(self, condition: str = "original", progress: bool = True, **kw) -> dict:
        """:meth:`response` of every consecutive layer pair: ``{"L1→L2": Dataset, ...}``."""
        from fclib._util import progress_bar

        from fclib.stats.connectivity import consecutive_pairs

        layers = self.recording(condition).layers
        out = {}
        for s, t in progress_bar(consecutive_pairs(layers), desc=f"responses ({condition})",
                                 progress=progress):
            out[f"{s}→{t}"] = self.response(s, t, condition, **kw)
        return out


def stage_keys(cfg: dict) -> tuple[tuple[str, dict], tuple[str, dict]]:
    """``(key, inputs)`` of the training and of the recording stage of a configuration."""
    train = artefact_key("train", {k: cfg[k] for k in TRAIN_PARAMS})
    return train, artefact_key("record", {k: cfg[k] for k in RECORD_PARAMS}, parent=train[0])


def run(profile: str = "default", data_dir: str | os.PathLike | None = None, *,
        conditions=("original",), progress: bool = True, **overrides) -> Run:
    """Make sure the model and the recordings of a configuration exist; return them.

    Parameters
    ----------
    profile : a name of :data:`fclib.profiles.PROFILES` (``"smoke"``, ``"workshop"``, ``"default"``,
        ``"fashion"``, ``"paper"``).
    data_dir : where ``runs/<key>/`` live; ``None``: :func:`default_data_dir` (the book's
        ``data/``, wherever the caller runs from).
    overrides : individual parameters (see :data:`fclib.pipeline.profiles.PARAMS`); ``None``
        keeps the profile's value.
    """
    cfg = resolve(profile, **overrides)
    data_dir = _writable_dir(default_data_dir() if data_dir is None else Path(data_dir))
    (train_key, train_inputs), (record_key, record_inputs) = stage_keys(cfg)
    r = Run(cfg, data_dir, train_key, record_key)
    locks = data_dir / "runs"
    with lock(f"train|{train_key}", locks):
        split = _train_stage(r, cfg, train_inputs, progress)
    conditions = ("original", *[c for c in conditions if c != "original"])
    for condition in conditions:
        with lock(f"record|{record_key}|{condition}", locks):
            split = _record_stage(r, cfg, condition, record_inputs, split, profile, progress)
    return r


def _train_stage(r: Run, cfg: dict, train_inputs: dict, progress: bool):
    """Train the run's model unless its summary exists; the split if it was loaded."""
    split = None
    train_key = r.train_key
    if not (r.train_dir / "summary.json").exists():
        from fclib.snn.train import train

        t0 = time.perf_counter()
        split = load_split(cfg)
        r.train_dir.mkdir(parents=True, exist_ok=True)
        _write_json({k: cfg[k] for k in TRAIN_PARAMS}, r.train_dir / "params.json")
        ckpt = train(_arch(cfg, split), split, r.train_dir, progress=progress,
                     snapshot_epochs=cfg["snapshot_epochs"], **_runtime(cfg),
                     **{k: cfg[k] for k in TRAIN_KEYS})
        _write_json(dict(history=ckpt["history"], test_accuracy=ckpt["test_accuracy"],
                         arch=ckpt["arch"], n_train=len(split.train_images),
                         n_test=len(split.test_images), class_names=list(split.class_names),
                         fclib_key=train_key, fclib_inputs=train_inputs),
                    r.train_dir / "summary.json")
        r.timings["train"] = time.perf_counter() - t0
    return split


def _record_stage(r: Run, cfg: dict, condition: str, record_inputs: dict, split, profile: str,
                  progress: bool):
    """Record ``condition`` unless its recording exists; the split (loaded if needed)."""
    train_key, record_key = r.train_key, r.record_key
    if not r.recording_path(condition).exists():
        from fclib.snn.perturb import make_perturb
        from fclib.snn.record import file_hash, record
        from fclib.snn.train import load_model

        t0 = time.perf_counter()
        split = split or load_split(cfg)
        model, _ = load_model(r.model_path, _arch(cfg, split))
        model, perturb = make_perturb(condition, model, **_perturb_params(cfg))
        extra = {}
        if condition == "fgsm":
            from fclib.snn.perturb import attacked_classes

            extra["attacked_classes"] = attacked_classes(split.n_classes, cfg["fgsm_classes"],
                                                         cfg["seed"]).tolist()
        if condition == "train":  # training images, for the adversarial detector's groups
            images, labels = split.train_images, split.train_labels
            sched = fdata.presentation_params(cfg["detector_presentations"], len(images),
                                              cfg["seed"] + 2, jitter=cfg["jitter"])
        else:
            images, labels = split.test_images, split.test_labels
            sched = fdata.presentation_params(cfg["n_presentations"], len(images),
                                              cfg["seed"] + 1, jitter=cfg["jitter"])
        r.record_dir.mkdir(parents=True, exist_ok=True)
        _write_json({"train_key": train_key, **{k: cfg[k] for k in RECORD_PARAMS},
                     "fclib_key": record_key, "fclib_inputs": record_inputs},
                    r.record_dir / "params.json")
        record(model, images, labels, sched, r.recording_path(condition),
               condition=condition, batch_size=cfg["record_batch"], budget=_budget(cfg),
               perturb=perturb, **_runtime(cfg),
               attrs=dict(profile=profile, checkpoint=file_hash(r.model_path),
                          class_names=list(split.class_names), train_key=train_key,
                          fclib_key=record_key,
                          fclib_inputs=json.dumps(record_inputs, sort_keys=True, default=str),
                          noise_amplitude=cfg["noise_amplitude"], fgsm_eps=cfg["fgsm_eps"],
                          **extra),
               progress=progress)
        r.timings[f"record {condition}"] = time.perf_counter() - t0
    return split
