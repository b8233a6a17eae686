"""A teacher's artefact bundle: one run's cached artefacts in one file, checked on the way in.

    fclib export smoke -o bundle.tar.gz [--set epochs=3] [--data-dir D]   # or a run folder
    fclib import bundle.tar.gz [--data-dir D]

A bundle is a gzip-compressed tar archive. Its first member, ``fclib-bundle.json``, is the
manifest; the others are every file under ``runs/<train_key>/`` (model, snapshots,
summary) and ``runs/<record_key>/`` (recordings and every analysis cached on them: pairs,
groups, responses, ...), at the paths :func:`fclib.pipeline.run` looks for them. The
manifest holds

- ``profile`` and ``overrides`` (what ``fclib run --profile P --set ...`` reproduces the two
  keys from; ``null`` when a run folder matched no profile), ``parameters`` (the resolved
  configuration);
- ``stages``: the train and record keys with the inputs each hashes
  (:func:`fclib.pipeline.cache.artefact_key`);
- ``code``: per stage of :data:`fclib.pipeline.cache.STAGE_MODULES`, the code fingerprint
  (:func:`fclib.pipeline.cache.code_fingerprint`): for train and record, that of the code
  that made the artefacts (from their key inputs); for the analysis stages, that of the
  exporting fclib (each analysis file also carries its own key in its name);
- ``fclib_version``, and ``files``: path, size and sha256 of every member.

Importing reads the archive member by member into a temporary folder inside the data
directory, checks each member's size and checksum against the manifest (a member missing,
unlisted, truncated or altered refuses the whole bundle, naming it), and only then renames
the key folders into ``runs/`` (a key folder already there gets the files it lacks, the
completion markers ``summary.json`` last). The temporary folder is removed whatever happens,
so a refused or interrupted import leaves nothing behind. A stage whose code fingerprint
differs from the installed fclib's computes new keys and so recomputes, with every stage built
on it (:data:`STAGE_PARENT`); the import says which.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fclib import __version__
from fclib.pipeline.cache import STAGE_MODULES, code_fingerprint
from fclib.pipeline.locks import artefact_lock
from fclib.pipeline.profiles import (PROFILES, RECORD_PARAMS, TRAIN_PARAMS, condition_file,
                                     resolve)
from fclib.pipeline.stages import default_data_dir, stage_keys
from fclib.store import atomic_write, is_partial, publish

__all__ = ["export_bundle", "import_bundle", "read_manifest", "stages_to_recompute",
           "BundleError", "ImportReport", "MANIFEST", "STAGE_PARENT"]

#: The manifest's member name (the archive's first member).
MANIFEST = "fclib-bundle.json"
_FORMAT = "fclib-bundle"
_FORMAT_VERSION = 1

#: The artefact each stage's key takes as its parent (``Run.*_key`` in
#: :mod:`fclib.pipeline.stages`): a stage whose code changes gets new keys, and so do the
#: stages below it. ``tests/test_bundle.py`` checks this names every stage of
#: :data:`fclib.pipeline.cache.STAGE_MODULES`.
STAGE_PARENT: dict[str, str | None] = {
    "train": None, "record": "train", "embeddings": "train",
    "accuracy": "record", "pairs": "record", "information": "record",
    "groups": "pairs", "edges": "pairs",
    "response": "groups", "ensembles": "groups",
}

_KEY = re.compile(r"^[0-9a-f]{12}$")
_CHUNK = 1 << 20


class BundleError(ValueError):
    """A bundle that cannot be imported (not a bundle, truncated, altered, incomplete)."""


def _temporary(name: str) -> bool:
    """Files a stage is still writing (or a lock): never part of a bundle."""
    return is_partial(name) or name.endswith((".tmp", ".lock"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} cannot be read as JSON ({e}); the run folder is incomplete: "
                         "run `fclib run` for its profile again") from e


def _params_without_keys(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("fclib_") and k != "train_key"}


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


def _set_args(overrides: dict) -> str:
    """``overrides`` as the ``--set`` options of the command line."""
    return "".join(f" --set {k}={v!r}".replace(", ", ",") for k, v in overrides.items())


def _match_profile(params: dict, train_key: str, record_key: str):
    """``(profile, overrides)`` that resolve to ``params`` and the two keys, the profile with
    the fewest overrides first; ``(None, None)`` when none does (other code or profiles)."""
    names = TRAIN_PARAMS + RECORD_PARAMS
    candidates = []
    for profile in PROFILES:
        cfg = _jsonable(resolve(profile))
        over = {k: params[k] for k in names if k in params and params[k] != cfg.get(k)}
        candidates.append((len(over), profile, over))
    for _, profile, over in sorted(candidates):
        try:
            (tk, _), (rk, _) = stage_keys(resolve(profile, **over))
        except (ValueError, TypeError, KeyError):
            continue
        if (tk, rk) == (train_key, record_key):
            return profile, over
    return None, None


def _locate(source: str, data_dir: Path, overrides: dict):
    """The train and record folders of ``source`` (a profile or a run folder), with the
    profile, overrides and parameters for the manifest."""
    runs = data_dir / "runs"
    path = Path(source)
    if source not in PROFILES and not path.is_dir() and _KEY.match(source) \
            and (runs / source).is_dir():
        path = runs / source
    if source in PROFILES and not path.is_dir():
        cfg = resolve(source, **overrides)
        (tk, _), (rk, _) = stage_keys(cfg)
        train_dir, record_dir = runs / tk, runs / rk
        cmd = f"fclib run --profile {source}{_set_args(overrides)}"
        for need in (train_dir / "summary.json", record_dir / condition_file("original", cfg)):
            if not need.exists():
                raise FileNotFoundError(
                    f"no cached run of profile {source!r}"
                    + (f" with {overrides}" if overrides else "")
                    + f" in {data_dir}: {need} is missing; run `{cmd}"
                    + (f" --data-dir {data_dir}" if data_dir != default_data_dir() else "")
                    + "` first, or pass the --data-dir that holds it")
        params = _jsonable(cfg)
        return train_dir, record_dir, source, _jsonable(overrides), params
    if overrides:
        raise ValueError(f"--set applies to a profile, not to the run folder {source}; the "
                         "folder's parameters are fixed")
    if not path.is_dir():
        raise FileNotFoundError(f"{source!r} is neither a profile ({', '.join(sorted(PROFILES))}) "
                                f"nor a run folder (a data/runs/<key>/ directory)")
    path = path.resolve()
    if (path / "summary.json").exists():  # a train folder: find its one recording folder
        train_dir = path
        record_dirs = [p for p in sorted(path.parent.iterdir())
                       if (p / "params.json").exists() and not (p / "summary.json").exists()
                       and _read_json(p / "params.json").get("train_key") == path.name]
        if len(record_dirs) != 1:
            raise ValueError(f"the run folder {path} holds a trained model with "
                             f"{len(record_dirs)} recording folders "
                             f"({', '.join(p.name for p in record_dirs) or 'none'}); name one "
                             f"recording folder (data/runs/<record_key>/) to export"
                             + ("" if record_dirs else ", or run `fclib run` first"))
        record_dir = record_dirs[0]
    elif (path / "params.json").exists() and "train_key" in _read_json(path / "params.json"):
        record_dir = path
        train_dir = path.parent / _read_json(path / "params.json")["train_key"]
        if not (train_dir / "summary.json").exists():
            raise FileNotFoundError(f"{record_dir} records the model of {train_dir}, which is "
                                    "missing or unfinished; export from the data folder that "
                                    "holds both")
    else:
        raise ValueError(f"{path} is not a run folder of fclib (no summary.json, no params.json "
                         "naming a train_key); pass data/runs/<key>/ or a profile name")
    params = {**_params_without_keys(_read_json(train_dir / "params.json")),
              **_params_without_keys(_read_json(record_dir / "params.json"))}
    profile, over = _match_profile(params, train_dir.name, record_dir.name)
    if profile is not None:
        params = {**_jsonable(resolve(profile, **over)), **params}
    return train_dir, record_dir, profile, over, params


def _stage_inputs(train_dir: Path, record_dir: Path) -> dict:
    train = _read_json(train_dir / "summary.json").get("fclib_inputs", {})
    record = _read_json(record_dir / "params.json").get("fclib_inputs", {})
    return {"train": {"key": train_dir.name, "inputs": train},
            "record": {"key": record_dir.name, "inputs": record}}


def _files(train_dir: Path, record_dir: Path) -> list[tuple[str, Path]]:
    out = []
    for folder in (train_dir, record_dir):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink() and not _temporary(path.name):
                rel = path.relative_to(folder).as_posix()
                out.append((f"runs/{folder.name}/{rel}", path))
    return out


def export_bundle(source: str, output: str | os.PathLike, *, data_dir=None,
                  overrides: dict | None = None, compresslevel: int = 1) -> dict:
    """Write the cached artefacts of one run into the bundle ``output`` (``.tar.gz``).

    Parameters
    ----------
    source : a profile name (resolved with ``overrides`` like ``fclib run``), a run folder
        (``data/runs/<key>/``, the train or the record folder) or a bare key in ``data_dir``.
    output : the bundle to write; written as a temporary file beside it and renamed into
        place when complete.
    data_dir : where the runs live (default: :func:`fclib.pipeline.stages.default_data_dir`).
    compresslevel : gzip's level, 1 (fastest) to 9. Level 1 by default: most of a run's
        bytes are floating-point matrices (STTC, z), which higher levels hardly shrink. The
        smoke run after its book: level 1 in 6.9 s, 194 MB; level 6 in 16.5 s, 185 MB.

    Returns
    -------
    The manifest written (a dict; see the module docstring).
    """
    data_dir = Path(default_data_dir() if data_dir is None else data_dir)
    train_dir, record_dir, profile, over, params = _locate(str(source), data_dir,
                                                           dict(overrides or {}))
    stages = _stage_inputs(train_dir, record_dir)
    code = {stage: code_fingerprint(stage) for stage in STAGE_MODULES}
    for stage in ("train", "record"):  # the code that made these artefacts
        code[stage] = stages[stage]["inputs"].get("code", code[stage])
    files = _files(train_dir, record_dir)
    entries = [{"path": name, "size": path.stat().st_size, "sha256": _sha256(path)}
               for name, path in files]
    manifest = {"format": _FORMAT, "format_version": _FORMAT_VERSION,
                "fclib_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "profile": profile, "overrides": over, "parameters": params,
                "stages": stages, "code": code,
                "total_size": sum(e["size"] for e in entries), "files": entries}
    output = Path(output)
    if output.is_dir():
        raise ValueError(f"-o {output} is a folder; name the bundle file, e.g. "
                                f"{output / 'bundle.tar.gz'}")
    with atomic_write(output) as tmp:
        with tarfile.open(tmp, "w:gz", compresslevel=compresslevel) as tf:
            blob = json.dumps(manifest, indent=1, sort_keys=True).encode()
            tf.addfile(_tarinfo(MANIFEST, len(blob), time.time()), io.BytesIO(blob))
            for (name, path), entry in zip(files, entries):
                with open(path, "rb") as f:
                    reader = _HashingReader(f)
                    tf.addfile(_tarinfo(name, entry["size"], path.stat().st_mtime), reader)
                if reader.hexdigest() != entry["sha256"]:
                    raise RuntimeError(f"{path} changed while it was exported (another "
                                       "process writing it?); run the export again")
    return manifest


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode = size, int(mtime), 0o644
    return ti


class _HashingReader:
    def __init__(self, f):
        self.f, self.h = f, hashlib.sha256()

    def read(self, n=-1):
        block = self.f.read(n)
        self.h.update(block)
        return block

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def _check_manifest(manifest, where: str) -> dict:
    bad = f"{where} is not a bundle of fclib (its manifest {MANIFEST}"
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise BundleError(f"{bad} does not say format {_FORMAT!r}); make one with `fclib export`")
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise BundleError(f"{where} is a bundle of format version "
                          f"{manifest.get('format_version')!r}; this fclib ({__version__}) "
                          f"reads version {_FORMAT_VERSION}: export it again with this fclib")
    try:
        keys = {manifest["stages"][s]["key"] for s in ("train", "record")}
        files = {e["path"]: (int(e["size"]), str(e["sha256"])) for e in manifest["files"]}
        dict(manifest["code"])
    except (KeyError, TypeError, ValueError) as e:
        raise BundleError(f"{bad} lacks or garbles {e}); export it again") from e
    if not all(isinstance(k, str) and _KEY.match(k) for k in keys):
        raise BundleError(f"{bad} names the stage keys {sorted(map(str, keys))}, not 12 hex "
                          "digits each); export it again")
    for name in files:
        parts = PurePosixPath(name).parts
        if len(parts) < 3 or parts[0] != "runs" or parts[1] not in keys or ".." in parts \
                or name.startswith("/") or "\\" in name:
            raise BundleError(f"{where}: member {name!r} lies outside runs/<train_key>/ and "
                              "runs/<record_key>/; the bundle is refused")
    return files


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of the bundle at ``path`` (its first member), checked for form."""
    path = Path(path)
    try:
        with tarfile.open(path, "r:*") as tf:
            first = tf.next()
            if first is None or first.name != MANIFEST:
                raise BundleError(f"{path} is not a bundle of fclib: its first member is "
                                  f"{first.name if first else 'missing'!r}, not {MANIFEST}")
            manifest = json.loads(tf.extractfile(first).read())
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as e:
        if isinstance(e, BundleError):
            raise
        raise BundleError(f"{path} is not a readable bundle ({type(e).__name__}: {e}); "
                          "copy it again or export a new one with `fclib export`") from e
    _check_manifest(manifest, str(path))
    return manifest


def stages_to_recompute(changed) -> list[str]:
    """The stages of ``changed`` and every stage built on one of them (:data:`STAGE_PARENT`),
    in the order of :data:`STAGE_PARENT`."""
    out = set(changed)
    grew = True
    while grew:
        grew = False
        for stage, parent in STAGE_PARENT.items():
            if parent in out and stage not in out:
                out.add(stage)
                grew = True
    return [s for s in list(STAGE_PARENT) + sorted(set(out) - set(STAGE_PARENT)) if s in out]


@dataclass
class ImportReport:
    """What :func:`import_bundle` did, and what the installed fclib will reuse."""

    data_dir: Path
    profile: str | None
    overrides: dict | None
    train_key: str
    record_key: str
    placed: int
    kept: int
    size: int
    changed: list[str] = field(default_factory=list)
    recompute: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"bundle checked ({self.placed + self.kept} files, {self.size / 1e6:.1f} MB); "
                 f"{self.placed} placed in {self.data_dir / 'runs'}"
                 + (f", {self.kept} already there kept" if self.kept else "")
                 + f" (train {self.train_key}, record {self.record_key})"]
        return "\n".join(lines + self.notes)


def _fingerprint_notes(manifest: dict):
    code = manifest["code"]
    changed = [s for s in STAGE_MODULES if code.get(s) != code_fingerprint(s)]
    recompute = stages_to_recompute(changed)
    if not changed:
        return changed, recompute, []
    version = (f"fclib {manifest.get('fclib_version')} made it, {__version__} is installed")
    if "train" in recompute or "record" in recompute:
        what = ("train" if "train" in changed else "record")
        note = (f"warning: the bundle's code differs from the installed fclib's for the stages "
                f"{', '.join(changed)} ({version}): this fclib will recompute "
                f"{', '.join(recompute)}; the {what} stage's new key does not match the "
                "bundle's, so training and recording run again and the imported files stay "
                "unused. Install the fclib the bundle was made with (same commit), or ask for "
                "a bundle exported by this one.")
    else:
        note = (f"note: the bundle's code differs from the installed fclib's for the stages "
                f"{', '.join(changed)} ({version}): this fclib will recompute "
                f"{', '.join(recompute)} when a chapter asks; the model and the recordings "
                "are reused (no training, no recording).")
    return changed, recompute, [note]


def _key_notes(manifest: dict, changed: list[str]) -> list[str]:
    """Whether ``run(profile, **overrides)`` of the installed fclib finds the imported run."""
    profile, over = manifest.get("profile"), manifest.get("overrides") or {}
    tk, rk = manifest["stages"]["train"]["key"], manifest["stages"]["record"]["key"]
    sets = _set_args(over)
    if profile is None:
        return [f"the bundle names no profile; its parameters are {manifest['parameters']}"]
    try:
        cfg = resolve(profile, **over)
        (tk2, _), (rk2, _) = stage_keys(cfg)
    except (ValueError, TypeError, KeyError) as e:
        return [f"warning: the installed fclib cannot resolve the bundle's profile {profile!r} "
                f"with {over} ({e}); the imported run will not be found"]
    if (tk2, rk2) == (tk, rk):
        return [f"`fclib run --profile {profile}{sets}` (and the chapters with profile="
                f"{profile!r}) will reuse the model and the recording"]
    if "train" in changed or "record" in changed:
        return []  # said by the fingerprint note
    params = manifest["parameters"]
    mine = _jsonable(cfg)
    diff = {k: (params.get(k), mine.get(k)) for k in TRAIN_PARAMS + RECORD_PARAMS
            if params.get(k) != mine.get(k)}
    return [f"warning: the installed profile {profile!r} resolves to other parameters than the "
            f"bundle's ({', '.join(f'{k}: {a!r} there, {b!r} here' for k, (a, b) in diff.items())}"
            "); pass the bundle's values with --set to use the imported run"]


def _copy_member(tf: tarfile.TarFile, member: tarfile.TarInfo, dst: Path, where: str) -> str:
    """Copy one member to ``dst``; its sha256. Read errors name the member."""
    h = hashlib.sha256()
    src = tf.extractfile(member)
    with open(dst, "wb") as out:
        n = 0
        while True:
            try:
                block = src.read(_CHUNK)
            except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
                raise BundleError(f"{where}: member {member.name} is truncated or corrupt "
                                  f"({type(e).__name__}: {e}); copy the bundle again") from e
            if not block:
                break
            n += len(block)
            h.update(block)
            out.write(block)
    if n != member.size:
        raise BundleError(f"{where}: member {member.name} is truncated ({n} of {member.size} "
                          "bytes); copy the bundle again")
    return h.hexdigest()


def _extract(path: Path, tmp: Path) -> dict:
    """Every member of the bundle into ``tmp``, each checked; the manifest."""
    where = str(path)
    try:
        tf = tarfile.open(path, "r:*")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        first = str(e).splitlines()[0].rstrip(":") if str(e) else ""
        raise BundleError(f"{where} is not a bundle of fclib: not a (gzip) tar archive "
                          f"({type(e).__name__}: {first}); make one with `fclib export`") from e
    with tf:
        manifest, files, seen, last = None, {}, set(), None
        while True:
            try:
                member = tf.next()
            except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
                after = f"after member {last}" if last else "at its start"
                raise BundleError(f"{where} is truncated or corrupt {after} "
                                  f"({type(e).__name__}: {e}); copy the bundle again") from e
            if member is None:
                break
            if manifest is None:
                if member.name != MANIFEST or not member.isfile():
                    raise BundleError(f"{where} is not a bundle of fclib: its first member is "
                                      f"{member.name!r}, not {MANIFEST}")
                dst = tmp / MANIFEST
                _copy_member(tf, member, dst, where)
                try:
                    manifest = json.loads(dst.read_text())
                except ValueError as e:
                    raise BundleError(f"{where}: member {MANIFEST} is not valid JSON ({e}); "
                                      "copy the bundle again") from e
                files = _check_manifest(manifest, where)
                last = member.name
                continue
            name = member.name
            if name not in files:
                raise BundleError(f"{where}: member {name} is not listed in the manifest; the "
                                  "bundle was altered after export and is refused")
            if name in seen or not member.isfile():
                raise BundleError(f"{where}: member {name} is "
                                  f"{'repeated' if name in seen else 'not a regular file'}; "
                                  "the bundle is refused")
            seen.add(name)
            dst = tmp / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            digest = _copy_member(tf, member, dst, where)
            size, sha = files[name]
            if member.size != size or digest != sha:
                raise BundleError(f"{where}: member {name} fails its checksum (sha256 {digest[:16]}"
                                  f"…, {member.size} bytes; the manifest says {sha[:16]}…, "
                                  f"{size} bytes): the bundle is corrupt, copy it again")
            last = name
    if manifest is None:
        raise BundleError(f"{where} is an empty archive, not a bundle of fclib")
    missing = sorted(set(files) - seen)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise BundleError(f"{where}: member {missing[0]}{more} listed in the manifest is "
                          "missing from the archive (truncated or altered); copy the bundle "
                          "again")
    return manifest


def _defines_run(rel: str) -> bool:
    """Files that are the run (model, summary, recordings); a different one already present
    is a conflict, while an analysis file computed here may differ in rounding and is kept."""
    parts = PurePosixPath(rel).parts
    return len(parts) == 1 and (rel.endswith((".pt", ".nc")) or rel == "summary.json")


def _place(tmp_runs: Path, runs: Path, key: str, lock_name: str) -> tuple[int, int]:
    """Move ``tmp_runs/key`` into ``runs/key``: one rename when the folder is new, else the
    files it lacks (``summary.json`` last, as the stage itself writes it). ``(placed, kept)``."""
    src, dst = tmp_runs / key, runs / key
    files = sorted((p for p in src.rglob("*") if p.is_file()),
                   key=lambda p: (p.name == "summary.json", p.as_posix()))
    with artefact_lock(lock_name, runs):
        if not dst.exists():
            try:
                os.rename(src, dst)
                return len(files), 0
            except OSError:  # made meanwhile by another process: merge below
                pass
        placed = kept = 0
        for p in files:
            rel = p.relative_to(src)
            target = dst / rel
            if target.exists():
                kept += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            publish(p, target)
            placed += 1
        return placed, kept


def _conflicts(tmp_runs: Path, runs: Path, keys) -> list[str]:
    out = []
    for key in keys:
        for p in sorted((tmp_runs / key).rglob("*")):
            rel = p.relative_to(tmp_runs / key).as_posix()
            target = runs / key / rel
            if p.is_file() and _defines_run(rel) and target.is_file() \
                    and _sha256(target) != _sha256(p):
                out.append(f"runs/{key}/{rel}")
    return out


def import_bundle(path: str | os.PathLike, data_dir=None) -> ImportReport:
    """Check the bundle at ``path`` and place its artefacts under ``data_dir/runs/``.

    Every member is checked against the manifest's size and sha256 before anything is
    placed; a bundle that is not a tar archive, lacks a member, holds an unlisted one or one
    that fails its checksum raises :class:`BundleError` naming it, and leaves ``data_dir``
    as it was. A run already in ``data_dir`` under the same key whose model, summary or
    recording differs from the bundle's is a conflict (``FileExistsError``), never
    overwritten.

    Returns
    -------
    :class:`ImportReport`: keys, files placed and kept, the stages whose code differs from
    the installed fclib's and those that will therefore recompute, and notes to print.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no bundle at {path}; make one with `fclib export PROFILE -o "
                                f"{path.name}`")
    data_dir = Path(default_data_dir() if data_dir is None else data_dir)
    runs = data_dir / "runs"
    try:  # the temporary folder is on the same file system as runs/: renames are atomic
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=data_dir))
    except OSError as e:
        raise PermissionError(f"cannot write in {data_dir} ({e.strerror or e}); pass another "
                              "--data-dir") from e
    try:
        manifest = _extract(path, tmp)
        tk = manifest["stages"]["train"]["key"]
        rk = manifest["stages"]["record"]["key"]
        tmp_runs = tmp / "runs"
        keys = [k for k in dict.fromkeys((tk, rk)) if (tmp_runs / k).is_dir()]
        conflicts = _conflicts(tmp_runs, runs, keys)
        if conflicts:
            raise FileExistsError(
                f"{data_dir} already holds a different run under the bundle's keys "
                f"({', '.join(conflicts[:3])}{' ...' if len(conflicts) > 3 else ''} differ: "
                f"trained or recorded here); import into another --data-dir, or remove "
                f"{runs / tk} and {runs / rk} to use the bundle's")
        runs.mkdir(exist_ok=True)
        placed = kept = 0
        for key in keys:
            lock = f"train|{key}" if key == tk else f"record|{key}|original"
            p, k = _place(tmp_runs, runs, key, lock)
            placed, kept = placed + p, kept + k
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    changed, recompute, notes = _fingerprint_notes(manifest)
    notes += _key_notes(manifest, changed)
    return ImportReport(data_dir=data_dir, profile=manifest.get("profile"),
                        overrides=manifest.get("overrides"), train_key=tk, record_key=rk,
                        placed=placed, kept=kept, size=int(manifest.get("total_size", 0)),
                        changed=changed, recompute=recompute, notes=notes)
