"""Small helpers several fclib modules share."""
from __future__ import annotations

__all__ = ["progress_bar", "as_generator"]


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
    raise TypeError(f"rng must be a numpy Generator, an int seed, a SeedSequence or None; got "
                    f"{type(rng).__name__} {rng!r}")
