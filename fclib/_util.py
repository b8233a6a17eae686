"""Small helpers several fclib modules share."""
from __future__ import annotations

__all__ = ["progress_bar", "as_generator", "profile_settings"]


def progress_bar(iterable=None, *, progress: bool = True, **kw):
    """``tqdm.auto.tqdm(iterable, **kw)`` when ``progress``, else a silent ``tqdm.std`` bar.

    ``tqdm.auto`` is imported only when a bar is shown: in a notebook without ipywidgets its
    import alone warns ("IProgress not found"), which would land in every chapter's output.
    """
    if progress:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(iterable, disable=not progress, **kw)


def as_generator(rng=None):
    """A ``numpy.random.Generator`` from ``rng``: a Generator (returned as is), an int seed,
    a ``SeedSequence`` or ``None`` (fresh entropy). Anything else is a ``TypeError``."""
    import numpy as np

    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, np.random.SeedSequence)) \
            and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, an integer seed, a SeedSequence or None; "
                    f"got {type(rng).__name__} {rng!r}. Make one with "
                    "numpy.random.default_rng(seed)")


def profile_settings(table: dict, profile: str, overrides: dict, what: str = "parameter") -> dict:
    """A copy of ``table[profile]`` with ``overrides`` applied (``None`` keeps a value); an
    unknown profile or name is an error naming the known ones."""
    if profile not in table:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(table)}")
    out = dict(table[profile])
    for k, v in overrides.items():
        if k not in out:
            raise ValueError(f"unknown {what} {k!r}; known: {sorted(out)}")
        if v is not None:
            out[k] = v
    return out
