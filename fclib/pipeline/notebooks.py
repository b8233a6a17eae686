"""``notebooks/``: every chapter and workshop page as a plain ``.ipynb`` a participant opens.

The MyST Markdown pages under ``book/`` are the sources a teacher edits; ``make notebooks``
(:func:`write_notebooks`) converts each into ``notebooks/`` with jupytext (the cells of
:func:`fclib.pipeline.book.read_chapter`, no outputs), and puts one cell in front:
:func:`install_cell`, which installs fclib from the book's repository where ``import fclib``
fails (Colab) and does nothing anywhere else. The launch buttons of the HTML book (Binder,
Colab) open these files, not the pages' sources (:func:`launch_notebook`, used by the Sphinx
extension :mod:`fclib.pipeline.launch`).

Workshop pages (``book/workshop/``) hold exercises: a code cell tagged ``scaffold`` for the
participant to complete, and its solution, a code cell tagged ``solution`` between
sphinx-exercise's ``solution-start``/``solution-end`` (a dropdown in the HTML). In
``notebooks/workshop/`` the solution cells come collapsed (``jupyter.source_hidden``);
:func:`solved_notebook` is the page with every scaffold replaced by its solution, what the
tests execute.
"""
from __future__ import annotations

import os
from pathlib import Path

from fclib.pipeline.book import CHAPTER_DIR, CHAPTERS, ROOT, read_chapter
from fclib.store import atomic_write

__all__ = ["NOTEBOOK_DIR", "WORKSHOP_DIR", "WORKSHOP", "notebook_sources", "launch_notebook",
           "repository", "install_cell", "participant_notebook", "solved_notebook",
           "write_notebooks"]

NOTEBOOK_DIR = Path("notebooks")
WORKSHOP_DIR = Path("book") / "workshop"
#: The workshop's exercise pages, in the order of ``_toc.yml``.
WORKSHOP = ["01_sttc_by_hand", "02_one_group", "03_noise", "04_own_spikes"]

#: Folders of MyST sources and the ``notebooks/`` folder each is converted into.
_FOLDERS = {CHAPTER_DIR.as_posix(): NOTEBOOK_DIR, WORKSHOP_DIR.as_posix(): NOTEBOOK_DIR / "workshop"}


def notebook_sources(root: str | os.PathLike = ROOT) -> dict[Path, Path]:
    """``{notebook: MyST source}`` of every chapter and workshop page, relative to ``root``."""
    out = {}
    for name in CHAPTERS:
        out[NOTEBOOK_DIR / f"{name}.ipynb"] = CHAPTER_DIR / f"{name}.md"
    for name in WORKSHOP:
        out[NOTEBOOK_DIR / "workshop" / f"{name}.ipynb"] = WORKSHOP_DIR / f"{name}.md"
    return out


def launch_notebook(docname: str) -> str | None:
    """The repository path of the notebook a launch button of page ``docname`` (a Sphinx
    docname such as ``book/chapters/01_network_activity``) opens; ``None`` for a page that has
    none (the introduction, the GPU page)."""
    folder, _, name = docname.rpartition("/")
    target = _FOLDERS.get(folder)
    if target is None:
        return None
    path = target / f"{name}.ipynb"
    return path.as_posix() if path in notebook_sources() else None


def repository(root: str | os.PathLike = ROOT) -> tuple[str, str]:
    """The book's repository URL and branch, from ``_config.yml`` (the one place they are
    set)."""
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf8")) or {}
    repo = config.get("repository") or {}
    if not repo.get("url"):
        raise ValueError(f"{Path(root) / '_config.yml'} sets no repository.url; the notebooks' "
                         "install cell and the launch buttons need it")
    return repo["url"].rstrip("/"), repo.get("branch") or "main"


_INSTALL = '''\
# Colab (or any Python without fclib): install fclib from the book's repository, the same
# branch the launch buttons open. Where fclib is installed (make setup, Binder) nothing happens.
try:
    import fclib  # noqa: F401
except ImportError:
    import subprocess
    import sys

    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "fclib @ git+{url}@{branch}", "myst-nb"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "spikingjelly==2.0.0"])
    import fclib  # noqa: F401'''


def install_cell(root: str | os.PathLike = ROOT):
    """The first cell of every notebook in ``notebooks/``: installs fclib (with myst-nb,
    which the pages' ``glue`` needs, and spikingjelly without its dependencies, as ``make
    setup`` does) from the repository of ``_config.yml`` only where ``import fclib`` fails."""
    import hashlib

    import nbformat

    url, branch = repository(root)
    source = _INSTALL.format(url=url, branch=branch)
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["install"]})
    cell["id"] = "install-" + hashlib.sha1(source.encode()).hexdigest()[:8]
    return cell


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def participant_notebook(source: str | os.PathLike, root: str | os.PathLike = ROOT):
    """The notebook of ``notebooks/`` for one MyST page: :func:`install_cell`, then the page's
    cells (no outputs), solution cells collapsed."""
    nb = read_chapter(source)
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in _tags(cell):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    nb.cells.insert(0, install_cell(root))
    nb.metadata.pop("jupytext", None)
    return nb


def solved_notebook(source: str | os.PathLike):
    """A workshop page as a notebook with its solutions filled in: every ``scaffold`` cell
    left out, the ``solution`` cells kept (what a test executes to check the results)."""
    nb = read_chapter(source)
    nb.cells = [c for c in nb.cells if "scaffold" not in _tags(c)]
    nb.metadata.pop("jupytext", None)
    return nb


def write_notebooks(root: str | os.PathLike = ROOT) -> list[Path]:
    """Write ``notebooks/`` from the MyST sources (each file written beside and renamed into
    place); return the notebooks written."""
    import nbformat

    root = Path(root)
    written = []
    for nb_path, src in notebook_sources(root).items():
        out = root / nb_path
        with atomic_write(out) as part:
            nbformat.write(participant_notebook(root / src, root), str(part))
        written.append(out)
    return written
