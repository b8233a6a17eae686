"""Storage: the one way anything fclib makes is written, locked, keyed and cached.

- :func:`atomic_write`: a file is written under a temporary name beside its final one
  (``<name>.<pid>-<8 hex>.part``), flushed to disk (``fsync``) and renamed into
  place; if writing fails, the temporary file is removed and the error raised, so nothing
  half-written is left behind and an existing file is kept unchanged. :func:`publish` is the
  rename step alone, for a writer that keeps its own resumable partial file (a recording).
- :func:`lock`: the exclusive inter-process lock of an artefact, by its path (or by any
  name, kept in a given folder). ``fclib book --jobs 2`` executes chapters side by side in
  separate kernels that share one ``data/`` folder; a cache checks for its file, computes
  and writes it under the file's lock, so the second asker waits and then reads what the
  first wrote. The locks are ``flock`` locks on small files in ``<folder>/.locks/``
  (released by the operating system if a process dies), re-entrant within one thread, so a
  stage may call another stage, or itself through a helper, without deadlocking. Where
  ``fcntl`` does not exist (Windows) a lock does nothing and chapters must run one at a time.
- :func:`artefact_key`: what an artefact was made from, parameters *and* code. The key
  hashes the parameters, the key of the artefact it is computed from (its parent), and a
  fingerprint of the code that computes it: the named modules (and functions) and every
  ``fclib`` module they import, followed transitively (imports inside functions included).
  Each module's syntax tree is hashed with docstrings removed, so a docstring or a comment
  changes nothing, while a change to, say, the exact null changes the key of the pairs and
  of everything built on them, and of nothing upstream. Modules are read from their source
  files without being imported (torch stays out). This module itself is left out of every
  fingerprint: how a file is written and locked shapes no artefact's content, so editing it
  recomputes nothing.
- :func:`cached`: the artefact at a path, computed once: under its lock, read if it
  exists, else computed, stamped with its key and the inputs the key hashes, timed and
  written atomically.

This module is below every other fclib package: it imports nothing of fclib.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
import json
import os
import secrets
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["atomic_write", "publish", "is_partial", "lock", "HAVE_LOCKS", "artefact_key",
           "code_fingerprint", "module_fingerprint", "function_fingerprint",
           "imported_fclib_modules", "stamp", "cached", "default_data_dir"]

#: Whether inter-process locks exist on this system (chapters may run side by side).
HAVE_LOCKS = fcntl is not None

# ---------------------------------------------------------------------------------------
# atomic writes


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, another user's
        return True
    return True


def _sweep(path: Path) -> None:
    """Remove the temporary files of earlier writes of ``path`` whose process is gone (a run
    killed mid-write leaves one; the next write of the same artefact clears it)."""
    for old in path.parent.glob(f"{path.name}.*-*.part"):
        pid = old.name[len(path.name) + 1:].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            old.unlink(missing_ok=True)


def _temporary(path: Path) -> Path:
    """The temporary name of a write of ``path``: beside it, unique to this process and call,
    ending in ``.part`` (a writer that adds its own suffix to a name, such as ``np.savez``,
    writes to an open file instead)."""
    return path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")


def is_partial(name: str | os.PathLike) -> bool:
    """Whether ``name`` is a temporary file of :func:`atomic_write` or another partial file
    (``*.part``, ``*.part.<suffix>``): something to skip when copying a run's artefacts."""
    name = Path(name).name
    return name.endswith(".part") or ".part." in name


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) * path.is_dir()
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - a folder that cannot be opened (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - a file system without fsync on folders
        pass
    finally:
        os.close(fd)


def publish(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Rename the complete file ``tmp`` to ``path`` durably: ``tmp`` is flushed to disk,
    renamed (replacing ``path`` if it exists) and the folder's entry flushed. Returns
    ``path``."""
    tmp, path = Path(tmp), Path(path)
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)
    return path


@contextmanager
def atomic_write(path: str | os.PathLike):
    """Write ``path`` atomically: yields a temporary path beside it (its folder made if
    needed) for the caller to write; on leaving the block the file is flushed and renamed to
    ``path``. If the block raises (or writes nothing), the temporary file is removed and
    ``path`` is left as it was.

    >>> with atomic_write("out.json") as tmp:   # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path)
    tmp = _temporary(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}; {path} is unchanged")
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# locks

_held: dict[tuple[int, str], int] = {}          # (thread, lock file) -> depth


def lock_file(name: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
    """The file whose ``flock`` is the lock ``name`` (see :func:`lock`)."""
    name, folder = _lock_name(name, folder)
    return folder / ".locks" / (hashlib.sha1(name.encode()).hexdigest()[:20] + ".lock")


def _lock_name(name, folder) -> tuple[str, Path]:
    if folder is None:  # a path: the lock of that file, kept beside it
        path = Path(name).resolve()
        return str(path), path.parent
    return str(name), Path(folder)


def held_locks() -> list[str]:
    """The lock files this process holds now (any thread): for tests and diagnostics."""
    return sorted(path for _, path in _held)


@contextmanager
def lock(name: str | os.PathLike, folder: str | os.PathLike | None = None, *,
         timeout: float | None = None):
    """Hold the exclusive inter-process lock of the artefact at the path ``name`` (kept in
    ``<its folder>/.locks/``), or, with ``folder``, of any string ``name`` (kept in
    ``<folder>/.locks/``). Waits while another process or thread holds it; re-entrant in
    the thread that holds it. ``timeout`` (seconds; ``0``: one try): raise
    :class:`TimeoutError` instead of waiting longer."""
    path = lock_file(name, folder)
    key = (threading.get_ident(), str(path))
    if fcntl is None or key in _held:
        _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float | None) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"lock {path} is held by another process or thread; "
                                   f"waited {timeout:g} s") from None
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))


# ---------------------------------------------------------------------------------------
# code fingerprints and keys

#: Modules left out of every fingerprint (they shape no artefact's content).
UNFINGERPRINTED = frozenset({__name__})


@lru_cache(maxsize=64)
def _package_dir(top: str) -> str | None:
    """The folder of the top-level package ``top`` (found, not imported), or None."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return locations[0] if len(locations) == 1 else None


def _source_path(name: str) -> str | None:
    """The ``.py`` file of module ``name``, or None where it is not a module with a source.

    Looked up on disk under its top-level package's folder, so that nothing is imported: a
    fingerprint taken outside a kernel (``fclib book`` checking which chapters are current)
    would otherwise import every package on the way (numba, scipy, torch) just to find files.
    Anything else (a top-level module, a package spread over several folders) goes through
    ``importlib.util.find_spec``."""
    top, _, rest = name.partition(".")
    base = _package_dir(top) if rest else None
    if base is not None:
        path = os.path.join(base, *rest.split("."))
        for candidate in (path + ".py", os.path.join(path, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return spec.origin


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _parse(path: str) -> ast.AST:
    st = os.stat(path)
    return _parse_cached(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ast.AST:
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def imported_fclib_modules(tree: ast.AST, packages=("fclib",)) -> set[str]:
    """Names of the modules of ``packages`` (default: fclib) that a syntax tree imports,
    at any depth (imports inside functions included)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] in packages)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in packages:
            out.add(node.module)
            for a in node.names:  # `from fclib.stats import response` imports a module
                if _source_path(f"{node.module}.{a.name}"):
                    out.add(f"{node.module}.{a.name}")
    return out


def _file_imports(path: str, packages: tuple[str, ...]) -> set[str]:
    st = os.stat(path)
    return _file_imports_cached(path, st.st_mtime_ns, st.st_size, packages)


@lru_cache(maxsize=512)
def _file_imports_cached(path: str, mtime_ns: int, size: int, packages) -> frozenset[str]:
    return frozenset(imported_fclib_modules(_parse_cached(path, mtime_ns, size), packages))


def module_fingerprint(name: str) -> str:
    """Hash of one module's syntax tree, docstrings and comments left out."""
    path = _source_path(name)
    if path is None:
        raise ValueError(f"no Python source for module {name!r}")
    with open(path, "rb") as f:
        source = f.read()
    return _fingerprint_cached(hashlib.sha256(source).hexdigest(), source)


@lru_cache(maxsize=512)
def _fingerprint_cached(digest: str, source: bytes) -> str:
    # keyed by the source's hash (``source`` rides along for the miss): an edited module is
    # hashed again, an unchanged one is parsed once per process
    del digest
    tree = _strip_docstrings(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def _function_node(name: str) -> ast.AST:
    """The syntax tree of the function ``"module:Qual.name"``."""
    module, _, qualname = name.partition(":")
    path = _source_path(module)
    if path is None or not qualname:
        raise ValueError(f"no Python source for function {name!r} (expected 'module:qualname')")
    node = _parse(path)
    for part in qualname.split("."):
        for child in getattr(node, "body", []):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and child.name == part:
                node = child
                break
        else:
            raise ValueError(f"module {module} has no {qualname!r}")
    return node


def function_fingerprint(name: str) -> str:
    """Hash of one function's syntax tree (``"module:Qual.name"``), docstrings and comments
    left out."""
    tree = _strip_docstrings(copy.deepcopy(_function_node(name)))
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def module_closure(names) -> list[str]:
    """``names`` and every module of their packages that they import, transitively (the
    modules a fingerprint hashes; this module left out)."""
    packages = {n.split(".")[0] for n in names}
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _source_path(name)
        if path is not None:
            todo.extend(_file_imports(path, tuple(sorted(packages))) - seen)
    return sorted(n for n in seen if _source_path(n) and n not in UNFINGERPRINTED)


def code_fingerprint(modules, functions=()) -> str:
    """Fingerprint (16 hex digits) of ``modules``, of the ``functions``
    (``"module:Qual.name"``) and of every module of their packages (fclib) that they import,
    transitively."""
    h = hashlib.sha256()
    for name in functions:
        h.update(name.encode() + b"\0" + function_fingerprint(name).encode())
    imported = set()
    for name in functions:
        imported |= imported_fclib_modules(_function_node(name))
    for name in module_closure(tuple(modules) + tuple(sorted(imported))):
        h.update(name.encode() + b"\0" + module_fingerprint(name).encode())
    return h.hexdigest()[:16]


def artefact_key(stage: str, params: dict, parent: str = "", *,
                 code: str | None = None) -> tuple[str, dict]:
    """The key (12 hex digits) of an artefact of ``stage`` made with ``params`` from the
    artefact ``parent``, and the inputs it hashes (to be stored in the artefact).

    ``code``: the fingerprint of the code that computes it; by default that of the module
    named ``stage`` (e.g. ``"fclib.snn.mei"``) and what it imports. The pipeline's stages
    pass their own (:func:`fclib.pipeline.cache.artefact_key`)."""
    inputs = {"stage": stage, "parent": parent,
              "code": code_fingerprint([stage]) if code is None else code, "params": params}
    blob = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12], inputs


# ---------------------------------------------------------------------------------------
# keyed caches


def stamp(obj, key: str, inputs: dict):
    """``obj`` with its key and the inputs the key hashes: in the attrs of an xarray object
    (a copy), or as entries ``fclib_key`` / ``fclib_inputs`` (JSON) of a dict."""
    blob = json.dumps(inputs, sort_keys=True, default=str)
    if hasattr(obj, "attrs") and hasattr(obj, "copy"):
        obj = obj.copy()
        obj.attrs.update(fclib_key=key, fclib_inputs=blob)
        return obj
    if isinstance(obj, dict):
        return {**obj, "fclib_key": key, "fclib_inputs": blob}
    raise TypeError(f"cannot stamp a {type(obj).__name__}: pass an xarray object or a dict")


def cached(path: str | os.PathLike | Callable[[str], os.PathLike], compute: Callable[[], object],
           save: Callable[[object, Path], object], load: Callable[[Path], object], *,
           key: tuple[str, dict] | None = None, lock_folder: str | os.PathLike | None = None,
           timings: dict | None = None, label: str | None = None):
    """The artefact at ``path``, computed at most once.

    Under the lock of ``path`` (:func:`lock`; kept in ``lock_folder`` when given): if the
    file exists it is read with ``load(path)``; otherwise ``compute()`` makes the artefact,
    which is stamped with ``key`` (``(key, inputs)`` of :func:`artefact_key`; see
    :func:`stamp`), written by ``save(obj, tmp)`` to a temporary file renamed into place
    (:func:`atomic_write`) and read back with ``load``. ``path`` may be a function of the key
    (``lambda k: folder / f"meis-{k}.npz"``). With ``timings``, the seconds the computation
    and the write took are stored under ``label`` (default: the file name)."""
    if callable(path):
        if key is None:
            raise ValueError("a path made from the key needs key=(key, inputs)")
        path = path(key[0])
    path = Path(path)
    name = str(path.resolve()) if lock_folder is not None else path
    with lock(name, lock_folder):
        if not path.exists():
            t0 = time.perf_counter()
            obj = compute()
            if key is not None:
                obj = stamp(obj, *key)
            with atomic_write(path) as tmp:
                save(obj, tmp)
            if timings is not None:
                timings[label or path.name] = time.perf_counter() - t0
    return load(path)


def default_data_dir() -> Path:
    """Where artefacts live when no ``data_dir`` is given: ``$FCLIB_DATA_DIR`` if set, else
    the book's own ``data/`` folder (beside ``_config.yml``) when fclib runs from the book's
    checkout, else ``./data``. So papermill or the CLI started from another folder still find
    the book's data instead of training a fresh model."""
    env = os.environ.get("FCLIB_DATA_DIR")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[1]
    if (root / "_config.yml").exists() and (root / "fclib").is_dir():
        return root / "data"
    return Path("data").resolve()
