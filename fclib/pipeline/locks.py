"""Inter-process locks around cached artefacts: :func:`fclib.store.lock` under the name the
pipeline has used (``artefact_lock(name, folder)``); see :mod:`fclib.store` for how they
work."""
from __future__ import annotations

from fclib.store import HAVE_LOCKS
from fclib.store import lock as artefact_lock

__all__ = ["artefact_lock", "HAVE_LOCKS"]
