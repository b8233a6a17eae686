"""Small helpers several fclib modules share."""
from __future__ import annotations

__all__ = ["progress_bar", "as_generator", "seed_of", "profile_settings"]


def progress_bar(iterable=None, *, progress: bool = True, **kw):
    """A progress bar (``tqdm``) over ``iterable``, or one with ``total=`` updated by hand.

    ``progress=False``: a silent ``tqdm.std`` bar. ``progress=True``: ``tqdm.auto.tqdm`` on a
    terminal or in a notebook; where stderr is neither (a log file, a pipe, CI), the bar draws
    nothing while it runs and writes its final state as one line when it closes (an
    interrupted loop closes it too), so a log holds one line per stage rather than every
    redraw of the bar on one endless line.

    ``tqdm.auto`` is imported only when a bar is shown: in a notebook without ipywidgets its
    import alone warns ("IProgress not found"), which would land in every chapter's output.
    """
    if not progress:
        from tqdm import tqdm

        return tqdm(iterable, disable=True, **kw)
    if _interactive():
        from tqdm.auto import tqdm

        return tqdm(iterable, **kw)
    return _log_bar()(iterable, **kw)


def _interactive() -> bool:
    """stderr is a terminal, or this is a Jupyter kernel (tqdm.auto draws a widget)."""
    import sys

    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):  # a replaced or closed stream
        pass
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") \
        else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _Discard:
    """A file that drops what is written to it (the log bar's drawing surface)."""

    def write(self, s):
        return len(s)

    def flush(self):
        pass


_LOG_BAR = None


def _log_bar():
    """The class of the one-line bar (made once, on first use: importing fclib imports no
    tqdm)."""
    global _LOG_BAR
    if _LOG_BAR is None:
        from tqdm.std import tqdm

        class LogBar(tqdm):
            """Counts like a tqdm bar, draws nothing, writes its final state once on close."""

            def __init__(self, *args, file=None, **kw):
                import sys

                self._log = file if file is not None else sys.stderr
                super().__init__(*args, file=_Discard(), **kw)

            def close(self):
                if getattr(self, "disable", True):
                    return
                line = self.format_meter(**dict(self.format_dict, ncols=None))
                super().close()
                try:
                    print(line, file=self._log, flush=True)
                except ValueError:  # the log was closed
                    pass

        _LOG_BAR = LogBar
    return _LOG_BAR


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


def seed_of(rng=0) -> int:
    """An integer seed from ``rng``: an int seed is returned as it is; a
    ``numpy.random.Generator`` draws one (``rng.integers(2**32)``).

    For code whose randomness is keyed by an integer rather than drawn from one Generator:
    a cache key that must hold the seed, per-item streams ``default_rng([seed, i])``, torch
    or Nevergrad generators. ``rng=0`` therefore reproduces what ``seed=0`` gave. ``None``
    and other types are a ``TypeError`` (a cache key needs a fixed number)."""
    import numpy as np

    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**32))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    raise TypeError(f"rng must be an integer seed or a numpy.random.Generator; got "
                    f"{type(rng).__name__} {rng!r}")


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
