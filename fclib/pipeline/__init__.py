"""Profiles, stages with their artefact cache, the book build and the command line.

The data flow goes one way: :mod:`fclib.io` -> :mod:`fclib.snn` (recordings) ->
:mod:`fclib.stats` -> :mod:`fclib.figures`; this package calls each stage and caches its
artefact under ``<data_dir>/runs/<key>/``.
"""
from fclib.pipeline.book import CHAPTERS, build_book, execute_notebooks
from fclib.pipeline.cli import main
from fclib.pipeline.stages import Run, load_split, run

__all__ = ["Run", "run", "load_split", "CHAPTERS", "execute_notebooks", "build_book", "main"]
