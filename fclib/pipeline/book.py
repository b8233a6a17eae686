"""Executing the chapter notebooks with papermill and building the HTML book."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["ROOT", "CHAPTERS", "read_chapter", "chapter_fingerprint", "execute_notebooks",
           "build_book"]

ROOT = Path(__file__).resolve().parents[2]

CHAPTERS = ["01_network_activity", "02_pairwise_correlations", "03_response_functions",
            "04_two_regimes", "05_scaling", "06_robustness", "07_information", "08_semantics",
            "09_identity", "10_perturbations", "11_permuted", "12_detection"]
CHAPTER_DIR = Path("book") / "chapters"


def read_chapter(path: str | os.PathLike):
    """A chapter's MyST Markdown source as a notebook (``nbformat`` v4).

    Cell ids are derived from each cell's content (and its rank among identical cells), so
    inserting a cell leaves the other cells' ids unchanged.
    """
    import jupytext

    nb = jupytext.read(str(path), fmt="md:myst")
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = hashlib.sha1((cell.cell_type + "\0" + cell.source).encode()).hexdigest()[:10]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        cell["id"] = f"c{digest}" + (f"-{n}" if n else "")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def chapter_fingerprint(nb) -> str:
    """Code fingerprint of the fclib modules a chapter imports (docstrings left out)."""
    import ast

    from fclib.pipeline.cache import code_fingerprint, imported_fclib_modules

    modules: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            modules |= imported_fclib_modules(ast.parse(cell.source))
        except SyntaxError:
            continue
    return code_fingerprint(sorted(modules))


def execute_notebooks(root: str | os.PathLike, params: dict, notebooks=None,
                      progress: bool = True) -> dict[str, float]:
    """Execute the chapters ``<root>/book/chapters/NAME.md`` with papermill into
    ``<root>/book/chapters/NAME.ipynb`` (what the book renders).

    A chapter whose source, parameters and the code of the fclib modules it imports
    (:func:`chapter_fingerprint`) are unchanged since its last execution (a stamp in its
    metadata) is not executed again. A failed execution leaves no chapter behind. Returns
    seconds per chapter (0 for a reused one).
    """
    import nbformat
    import papermill as pm

    root = Path(root)
    chapter_dir = root / CHAPTER_DIR
    times = {}
    for name in notebooks or CHAPTERS:
        name = name.removesuffix(".md").removesuffix(".ipynb")
        src = chapter_dir / f"{name}.md"
        if not src.exists():
            raise FileNotFoundError(f"chapter {name!r}: {src} does not exist")
        out = chapter_dir / f"{name}.ipynb"
        nb = read_chapter(src)
        stamp = hashlib.sha256(src.read_bytes() + json.dumps(params, sort_keys=True).encode()
                               + chapter_fingerprint(nb).encode()).hexdigest()
        if out.exists():
            try:
                if nbformat.read(out, as_version=4).metadata.get("fclib_stamp") == stamp:
                    times[name] = 0.0
                    continue
            except Exception:
                pass
        t0 = time.perf_counter()
        tmp = out.with_name(out.stem + ".part.ipynb")
        src_nb = out.with_name(out.stem + ".src.part.ipynb")
        try:
            nbformat.write(nb, src_nb)
            pm.execute_notebook(str(src_nb), str(tmp), parameters=params, cwd=str(root),
                                progress_bar=progress, kernel_name="python3")
            nb_out = nbformat.read(tmp, as_version=4)
            nb_out.metadata["fclib_stamp"] = stamp
            nb_out.metadata.pop("jupytext", None)
            nbformat.write(nb_out, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            src_nb.unlink(missing_ok=True)
        os.replace(tmp, out)
        times[name] = time.perf_counter() - t0
    return times


def build_book(root: str | os.PathLike) -> Path:
    """Build the HTML book at ``root`` with Sphinx warnings as errors; return index.html."""
    root = Path(root)
    exe = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or \
        shutil.which("jupyter-book")
    if exe is None:
        raise RuntimeError("jupyter-book is not installed; run `make setup` first")
    proc = subprocess.run([exe, "build", str(root), "--warningiserror", "--keep-going"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return root / "_build" / "html" / "index.html"


