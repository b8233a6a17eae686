"""Inter-process locks around cached artefacts.

``fclib book --jobs 2`` executes chapters side by side, in separate kernels that share one
``data/`` folder. Two chapters may then ask for the same artefact (the pairs of a layer pair,
a perturbed recording) at the same time. Every stage that computes an artefact holds an
exclusive lock named after it while it checks for the file, computes and writes it, so the
second asker waits and then reads what the first wrote: each artefact is computed once and
no two writers share a temporary file.

The locks are ``flock`` locks on small files under ``<data_dir>/runs/.locks/`` (released by
the operating system if a process dies). They are re-entrant within one thread, so a stage
may call another stage, or itself through a helper, without deadlocking; stages only ever
call stages below them (groups → pairs, ensembles → groups), so two processes never wait
for each other. Where ``fcntl`` does not exist (Windows) the lock does nothing and chapters
must run one at a time (``--jobs 1``).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import os
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["artefact_lock", "locked_stage", "HAVE_LOCKS"]

#: Whether inter-process locks exist on this system (chapters may run side by side).
HAVE_LOCKS = fcntl is not None

_held: dict[tuple[int, str], int] = {}          # (thread, lock file) -> depth


def _lock_file(name: str, folder: Path) -> Path:
    return Path(folder) / ".locks" / (hashlib.sha1(name.encode()).hexdigest()[:20] + ".lock")


@contextmanager
def artefact_lock(name: str, folder: str | os.PathLike):
    """Hold the exclusive lock ``name`` (any string) kept in ``folder/.locks/``; waits while
    another process (or thread) holds it; re-entrant in the thread that holds it."""
    path = _lock_file(name, Path(folder))
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
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def locked_stage(name: str | None = None, ignore=("progress",)):
    """Decorate a :class:`~fclib.pipeline.stages.Run` method that computes and caches an
    artefact: it runs under the lock named after the method (or ``name``), the run's keys
    and its arguments bound to the signature with defaults applied (so ``pairs("L1", "L2")``
    and ``pairs("L1", "L2", "original")`` take the same lock), leaving out the arguments in
    ``ignore``, which do not change the artefact. With ``name`` given and no arguments
    wanted in it, pass ``ignore=None``: every call then shares one lock (a file written by
    several calls, such as ``accuracy.json``)."""

    def wrap(method):
        sig = inspect.signature(method)

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if ignore is None:
                what = ""
            else:
                bound = sig.bind(self, *args, **kwargs)
                bound.apply_defaults()
                what = repr(sorted((k, repr(v)) for k, v in bound.arguments.items()
                                   if k != "self" and k not in ignore))
            lock = f"{name or method.__name__}|{self.train_key}|{self.record_key}|{what}"
            with artefact_lock(lock, self.data_dir / "runs"):
                return method(self, *args, **kwargs)

        return wrapper

    return wrap
