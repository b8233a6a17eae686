"""Small helpers several fclib modules share."""
from __future__ import annotations

__all__ = ["progress_bar"]


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
