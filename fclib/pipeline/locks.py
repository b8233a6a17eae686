"""Inter-process locks around cached artefacts.

``fclib book --jobs 2`` executes chapters side by side, in separate kernels that share one
``data/`` folder. Two chapters may then ask for the same artefact (the pairs of a layer pair,
a perturbed recording) at the same time. Every stage that computes an artefact holds an
exclusive lock named after the artefact's path (``Run._lock``; the lock follows the file, not
the call, so two calls that name one file share it) while it checks for the file, computes
and writes it, so the second asker waits and then reads what the first wrote: each artefact is computed once and
no two writers share a temporary file.

The locks are ``flock`` locks on small files under ``<data_dir>/runs/.locks/`` (released by
the operating system if a process dies). They are re-entrant within one thread, so a stage
may call another stage, or itself through a helper, without deadlocking; stages only ever
call stages below them (groups → pairs, ensembles → groups), so two processes never wait
for each other. Where ``fcntl`` does not exist (Windows) the lock does nothing and chapters
must run one at a time (``--jobs 1``).
"""
from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["artefact_lock", "HAVE_LOCKS"]

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
