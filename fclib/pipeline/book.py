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

__all__ = ["ROOT", "CHAPTERS", "read_chapter", "chapter_fingerprint", "chapter_parameters",
           "route_parameters", "execute_notebooks", "build_book"]

ROOT = Path(__file__).resolve().parents[2]

CHAPTERS = ["01_network_activity", "02_pairwise_correlations", "02b_functional_or_stimulus",
            "03_response_functions",
            "04_two_regimes", "05_scaling", "06_robustness", "07_information", "08_semantics",
            "09_identity", "10_perturbations", "11_permuted", "12_detection",
            "13_when_ensembles_form", "14_mango", "15_synchrony_semantization", "16_sampling", "17_own_recording"]
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


def chapter_parameters(nb) -> set[str]:
    """Names assigned in a chapter's ``parameters`` cell (what papermill may set)."""
    import ast

    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            names = set()
            for node in ast.parse(cell.source).body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else [])
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            return names
    return set()


def route_parameters(params: dict, declared: dict[str, set[str]], root: Path) -> dict[str, dict]:
    """The papermill parameters of each chapter from one set of book parameters.

    ``params`` holds chapter parameters (``threshold``, ``n_shifts``, ...) and run
    parameters of :data:`fclib.pipeline.profiles.PARAMS` (``lr``, ``epochs``, ...), the
    latter at the top level or in ``overrides``. A chapter gets the names its parameters
    cell declares; a run parameter it does not declare goes into its ``overrides`` (which
    reach :func:`fclib.pipeline.run`), so ``lr=0.05`` changes the model every chapter
    analyses. A name that is neither is an error. An absolute ``data_dir`` is made relative
    to the book root, so no shown cell holds a machine's absolute path.
    """
    from fclib.pipeline.profiles import PARAMS

    params = dict(params)
    overrides = dict(params.pop("overrides", None) or {})
    for k in list(params):
        if k in PARAMS and k not in ("profile",):
            overrides[k] = params.pop(k)
    known = set().union(*declared.values()) if declared else set()
    unknown = sorted((set(params) - known) | (set(overrides) - set(PARAMS)))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown}: not a profile parameter "
            f"({', '.join(sorted(PARAMS))}) and declared by no chapter "
            f"({', '.join(sorted(known))})")
    if params.get("data_dir") is not None and Path(params["data_dir"]).is_absolute():
        params["data_dir"] = os.path.relpath(params["data_dir"], root)
    out = {}
    for name, names in declared.items():
        mine = {k: v for k, v in params.items() if k in names}
        rest = {}
        for k, v in overrides.items():
            if k in names:
                mine[k] = v
            else:
                rest[k] = v
        if rest:
            if "overrides" not in names:
                raise ValueError(f"chapter {name} takes no overrides; cannot set {sorted(rest)}")
            mine["overrides"] = rest
        out[name] = mine
    return out


def _execute_chapter(src: Path, out: Path, params: dict, stamp: str, root: Path,
                     progress: bool) -> float:
    """Execute one chapter into ``out`` (via ``.part`` files, so a failure leaves none);
    return its seconds. Module-level so that a process pool can run it."""
    import nbformat
    import papermill as pm

    nb = read_chapter(src)
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
    return time.perf_counter() - t0


def execute_notebooks(root: str | os.PathLike, params: dict, notebooks=None,
                      progress: bool = True, jobs: int = 1,
                      on_done=None) -> dict[str, float]:
    """Execute the chapters ``<root>/book/chapters/NAME.md`` with papermill into
    ``<root>/book/chapters/NAME.ipynb`` (what the book renders).

    A chapter whose source, parameters and the code of the fclib modules it imports
    (:func:`chapter_fingerprint`) are unchanged since its last execution (a stamp in its
    metadata) is not executed again. A failed execution leaves no chapter behind. Returns
    seconds per chapter (0 for a reused one), in book order. ``params`` are routed to each
    chapter by :func:`route_parameters`; an unknown name stops everything before any
    execution.

    ``jobs > 1`` executes that many chapters side by side (separate processes and kernels,
    taken in book order; no progress bars). Chapters share the run's cached artefacts; each
    stage computes under an inter-process lock (:mod:`fclib.pipeline.locks`), so an artefact
    two chapters need is computed once. After a failure no new chapter starts; the first
    error is raised once the running ones end. ``on_done(name, seconds)`` is called as each
    chapter finishes.
    """
    import nbformat

    from fclib.pipeline.locks import HAVE_LOCKS

    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs > 1 and not HAVE_LOCKS:
        raise RuntimeError("jobs > 1 needs inter-process file locks (fcntl), which this system "
                           "lacks; execute the chapters one at a time (jobs=1)")
    root = Path(root).resolve()
    chapter_dir = root / CHAPTER_DIR
    names = [n.removesuffix(".md").removesuffix(".ipynb") for n in notebooks or CHAPTERS]
    sources, nbs = {}, {}
    for name in names:
        sources[name] = chapter_dir / f"{name}.md"
        if not sources[name].exists():
            raise FileNotFoundError(f"chapter {name!r}: {sources[name]} does not exist")
        nbs[name] = read_chapter(sources[name])
    routed = route_parameters(params, {n: chapter_parameters(nb) for n, nb in nbs.items()}, root)
    times, todo = {}, []
    for name in names:
        src, nb = sources[name], nbs[name]
        out = chapter_dir / f"{name}.ipynb"
        stamp = hashlib.sha256(src.read_bytes() + json.dumps(routed[name], sort_keys=True).encode()
                               + chapter_fingerprint(nb).encode()).hexdigest()
        if out.exists():
            try:
                if nbformat.read(out, as_version=4).metadata.get("fclib_stamp") == stamp:
                    times[name] = 0.0
                    if on_done is not None:
                        on_done(name, 0.0)
                    continue
            except Exception:
                pass
        todo.append((name, src, out, routed[name], stamp))
    if jobs == 1 or len(todo) < 2:
        for name, src, out, p, stamp in todo:
            times[name] = _execute_chapter(src, out, p, stamp, root, progress)
            if on_done is not None:
                on_done(name, times[name])
    else:
        _execute_parallel(todo, root, jobs, times, on_done)
    return {name: times[name] for name in names}


def _execute_chapter_in_pool(name, *args) -> float:
    """:func:`_execute_chapter` with any failure turned into a plain ``RuntimeError`` that
    names the chapter (papermill's errors do not survive the trip between processes)."""
    try:
        return _execute_chapter(*args)
    except Exception as exc:
        raise RuntimeError(f"chapter {name} failed: {type(exc).__name__}: {exc}") from None


#: Thread-count variables a chapter's kernel inherits (numba, OpenMP/torch, BLAS).
_THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "OPENBLAS_NUM_THREADS")


def _share_cores(threads: int) -> None:
    """Pool initialiser: the kernels this worker starts use ``threads`` threads each, so
    ``jobs`` kernels side by side do not oversubscribe the cores (spinning OpenMP threads
    slow everything down when they do)."""
    for var in _THREAD_VARS:
        os.environ.setdefault(var, str(threads))  # a value the user set is kept


def _execute_parallel(todo, root: Path, jobs: int, times: dict, on_done) -> None:
    """Run :func:`_execute_chapter` for ``todo`` on ``jobs`` worker processes, in order, each
    kernel with ``cores // jobs`` threads (at least one)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    threads = max(1, (os.cpu_count() or 1) // jobs)
    pending = list(todo)
    running, error = {}, None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                             initializer=_share_cores, initargs=(threads,)) as pool:
        while pending or running:
            while pending and len(running) < jobs and error is None:
                name, src, out, p, stamp = pending.pop(0)
                running[pool.submit(_execute_chapter_in_pool, name, src, out, p, stamp, root,
                                    False)] = name
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                name = running.pop(fut)
                try:
                    times[name] = fut.result()
                except BaseException as exc:  # keep the first; let the others finish
                    error = error or exc
                    continue
                if on_done is not None:
                    on_done(name, times[name])
    if error is not None:
        raise error


def build_book(root: str | os.PathLike) -> Path:
    """Build the HTML book at ``root`` with Sphinx warnings as errors; return index.html.

    The pages load MathJax from the book's own static files (``mathjax_path`` in
    ``_config.yml``, relative to one of its ``html_static_path`` folders) so that formulas
    render offline; a missing copy is an error, not a book with raw TeX in it.
    """
    import yaml

    root = Path(root)
    exe = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or \
        shutil.which("jupyter-book")
    if exe is None:
        raise RuntimeError("jupyter-book is not installed; run `make setup` first")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf8")) or {}
    sphinx_config = (config.get("sphinx") or {}).get("config") or {}
    mathjax = sphinx_config.get("mathjax_path")
    if mathjax and "://" not in mathjax and not mathjax.startswith("/"):
        static = [root / d / mathjax for d in sphinx_config.get("html_static_path", [])]
        static.append(root / "_static" / mathjax)  # jupyter-book adds <root>/_static
        if not any(path.is_file() for path in static):
            raise RuntimeError(
                f"MathJax is missing: _config.yml sets mathjax_path {mathjax!r} but "
                f"{static[0]} does not exist; run `make setup` to install it (npm), "
                f"or the pages would show raw TeX")
    proc = subprocess.run([exe, "build", str(root), "--warningiserror", "--keep-going"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return root / "_build" / "html" / "index.html"
