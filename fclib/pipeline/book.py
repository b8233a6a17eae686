"""Executing the chapter notebooks with papermill and building the HTML book."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fclib.store import atomic_write, publish

__all__ = ["ROOT", "CHAPTERS", "CHAPTER_DIR", "EXECUTED_DIR", "read_chapter", "chapter_fingerprint", "chapter_parameters",
           "chapter_defaults", "route_parameters", "chapter_status", "execute_notebooks",
           "execute_workshop", "build_book", "clean_download"]

ROOT = Path(__file__).resolve().parents[2]

CHAPTERS = ["01_network_activity", "02_pairwise_correlations", "03_response_functions", "04_two_regimes",
            "05_scaling", "06_robustness", "07_information", "08_semantics",
            "09_identity", "10_perturbations", "11_permuted", "12_detection",
            "13_functional_or_stimulus", "14_when_ensembles_form", "15_sampling", "16_scale",
            "17_mango", "18_synchrony_semantization", "19_own_recording"]
CHAPTER_DIR = Path("book") / "chapters"
#: Where the executed chapters go (never beside their sources, which a teacher edits and
#: jupytext pairs): ``<root>/_build/chapters/NAME.ipynb``.
EXECUTED_DIR = Path("_build") / "chapters"
#: The tree the HTML is built from: the book's configuration and pages, with the executed
#: chapters in place of their MyST sources (:func:`build_book` makes it).
STAGE_DIR = Path("_build") / "source"
#: Where the executed workshop pages go (:func:`execute_workshop`).
WORKSHOP_EXECUTED = EXECUTED_DIR / "workshop"


def read_chapter(path: str | os.PathLike):
    """A chapter's MyST Markdown source as a notebook (``nbformat`` v4).

    Cell ids are derived from each cell's content (and its rank among identical cells), so
    inserting a cell leaves the other cells' ids unchanged. A file read before (same path,
    size and modification time) is not parsed again; the caller gets its own copy.
    """
    import copy

    st = os.stat(path)
    return copy.deepcopy(_read_chapter(os.path.abspath(path), st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=64)
def _read_chapter(path: str, size: int, mtime_ns: int):
    import jupytext

    nb = jupytext.read(path, fmt="md:myst")
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


#: The default of a chapter parameter that is not a Python literal (nothing to type-check).
NOT_LITERAL = type("NotLiteral", (), {"__repr__": lambda self: "<not a literal>"})()


def chapter_defaults(nb) -> dict[str, object]:
    """Names assigned in a chapter's ``parameters`` cell and their default values (what
    papermill may set); a default that is not a Python literal is :data:`NOT_LITERAL`."""
    import ast

    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            out = {}
            for node in ast.parse(cell.source).body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else [])
                try:
                    value = ast.literal_eval(node.value) if node.value is not None else None
                except (ValueError, SyntaxError, TypeError):
                    value = NOT_LITERAL
                out.update({t.id: value for t in targets if isinstance(t, ast.Name)})
            return out
    return {}


def chapter_parameters(nb) -> set[str]:
    """Names assigned in a chapter's ``parameters`` cell (what papermill may set)."""
    return set(chapter_defaults(nb))


def _typed(name: str, value, default, chapter: str):
    """``value`` of chapter parameter ``name`` in the type of its default: an int where the
    default is a float becomes that float (``5`` and ``5.0`` are one value and one stamp), a
    whole float where it is an int that int; anything else of another type is an error."""
    if default is None or default is NOT_LITERAL or value is None:
        return value
    what = f"{name} (chapter {chapter} declares {name} = {default!r})"
    got = f"got {value!r} ({type(value).__name__})"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ValueError(f"{what} must be True or False, {got}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{what} must be an integer, {got}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{what} must be a number, {got}")
    if isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return value
        raise ValueError(f"{what} must be a list (--set {name}=[...]), {got}")
    if isinstance(default, (str, dict)) and not isinstance(value, type(default)):
        raise ValueError(f"{what} must be a {type(default).__name__}, {got}")
    return value


def _did_you_mean(unknown: list[str], known) -> str:
    import difflib

    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        if close:
            hints.append(f"{name!r}: did you mean {' or '.join(map(repr, close))}?")
    return f" ({'; '.join(hints)})" if hints else ""


def route_parameters(params: dict, declared: dict[str, set[str]], root: Path) -> dict[str, dict]:
    """The papermill parameters of each chapter from one set of book parameters.

    ``params`` holds chapter parameters (``threshold``, ``n_shifts``, ...) and run
    parameters of :data:`fclib.pipeline.profiles.PARAMS` (``lr``, ``epochs``, ...), the
    latter at the top level or in ``overrides``. A chapter gets the names its parameters
    cell declares; a run parameter it does not declare goes into its ``overrides`` (which
    reach :func:`fclib.pipeline.run`), so ``lr=0.05`` changes the model every chapter
    analyses. A name that is neither is an error, with the names it is close to. Where
    ``declared`` maps each chapter to its :func:`chapter_defaults` (not just names), every
    value takes the type of the chapter's default (``threshold=5`` is ``5.0``; ``abc`` is an
    error naming the chapter and its default), before anything runs, and a value equal to
    the default is left out (the chapter runs as without it, under the same stamp). An absolute
    ``data_dir`` is made relative to the book root, so no shown cell holds a machine's
    absolute path.
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
            f"unknown parameter(s) {unknown}{_did_you_mean(unknown, known | set(PARAMS))}: "
            f"not a profile parameter ({', '.join(sorted(PARAMS))}) and declared by no "
            f"chapter ({', '.join(sorted(known))})")
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
        if isinstance(names, dict):  # defaults known: values take their types, and a value
            typed = {}                 # equal to the default is left out (one stamp for both)
            for k, v in mine.items():
                if k not in ("profile", "data_dir", "overrides"):
                    v = _typed(k, v, names[k], name)
                    if names[k] is not NOT_LITERAL and type(v) is type(names[k]) \
                            and v == names[k]:
                        continue
                typed[k] = v
            mine = typed
        if rest:
            if "overrides" not in names:
                raise ValueError(f"chapter {name} takes no overrides; cannot set {sorted(rest)}")
            mine["overrides"] = rest
        out[name] = mine
    return out


def _ipc_kernel_manager(sock_dir: str):
    """A kernel manager whose kernel talks over IPC sockets in ``sock_dir`` instead of TCP
    ports: no "Kernel is running over TCP without encryption" warning on every start, and
    no race for free ports between kernels started side by side (the ``ZMQError: Address
    already in use`` that ``--jobs 2`` printed)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self):
            return "ipc"

        @default("ip")
        def _ip_default(self):
            return os.path.join(sock_dir, "kernel")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel process's own stderr (its log, C-level messages) goes to a file that
            # _execute_chapter shows when the chapter fails and drops when it is interrupted
            # (a kernel stopped mid-cell logs tracebacks of its closed sockets)
            with open(os.path.join(sock_dir, "kernel.log"), "ab") as log:
                kw.setdefault("stderr", log)
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


def _part_files(out: Path) -> tuple[Path, Path]:
    """The temporary files of a chapter's execution: the executed and the source notebook."""
    return out.with_name(out.stem + ".part.ipynb"), out.with_name(out.stem + ".src.part.ipynb")


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished, reaped child processes (a
    chapter's kernel, once it has shut down); 0 where the system does not say."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 0.0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _execute_chapter(src: Path, out: Path, params: dict, stamp: str, root: Path,
                     progress: bool) -> float:
    """Execute one chapter into ``out`` (via ``.part`` files, so a failure leaves none);
    return its seconds. Module-level so that a process pool can run it."""
    import nbformat
    import papermill as pm

    nb = read_chapter(src)
    t0 = time.perf_counter()
    cpu0 = _children_cpu()
    tmp, src_nb = _part_files(out)
    sock_dir = tempfile.mkdtemp(prefix="fclib-kernel-")  # short: a socket path has <108 bytes
    try:
        nbformat.write(nb, src_nb)
        pm.execute_notebook(str(src_nb), str(tmp), parameters=params, cwd=str(root),
                            progress_bar=progress, kernel_name="python3",
                            kernel_manager_class=_ipc_kernel_manager(sock_dir))
        nb_out = nbformat.read(tmp, as_version=4)
        nb_out.metadata["fclib_stamp"] = stamp
        # the kernel's CPU seconds (it has exited and been reaped): against the chapter's
        # wall time, what it computed and what it waited (benchmarks/profile_book.py)
        nb_out.metadata["fclib_kernel_cpu_seconds"] = round(_children_cpu() - cpu0, 2)
        nb_out.metadata.pop("jupytext", None)
        nbformat.write(nb_out, tmp)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        log = Path(sock_dir) / "kernel.log"
        if isinstance(exc, Exception) and log.exists() and log.stat().st_size:
            text = log.read_text(errors="replace")
            print(f"[fclib] the kernel of {src.stem} wrote:\n{text[-4000:]}", file=sys.stderr)
        raise
    finally:
        src_nb.unlink(missing_ok=True)
        shutil.rmtree(sock_dir, ignore_errors=True)
    publish(tmp, out)
    return time.perf_counter() - t0


def _stamped(out: Path, stamp: str) -> bool:
    """Whether the executed notebook ``out`` exists and carries ``stamp`` (an unreadable one
    does not: it is executed again)."""
    import nbformat

    if not out.exists():
        return False
    try:
        return nbformat.read(out, as_version=4).metadata.get("fclib_stamp") == stamp
    except Exception:
        return False


def _plan(root: Path, params: dict, notebooks=None) -> list[tuple]:
    """``(name, source, output, routed parameters, stamp, current)`` of every chapter, in
    book order; ``current``: its output holds this stamp (nothing to execute)."""
    chapter_dir = root / CHAPTER_DIR
    names = [n.removesuffix(".md").removesuffix(".ipynb") for n in notebooks or CHAPTERS]
    sources, nbs = {}, {}
    for name in names:
        sources[name] = chapter_dir / f"{name}.md"
        if not sources[name].exists():
            raise FileNotFoundError(f"chapter {name!r}: {sources[name]} does not exist")
        nbs[name] = read_chapter(sources[name])
    routed = route_parameters(params, {n: chapter_defaults(nb) for n, nb in nbs.items()}, root)
    plan = []
    for name in names:
        src, nb = sources[name], nbs[name]
        out = root / EXECUTED_DIR / f"{name}.ipynb"
        stamp = hashlib.sha256(src.read_bytes() + json.dumps(routed[name], sort_keys=True).encode()
                               + chapter_fingerprint(nb).encode()).hexdigest()
        plan.append((name, src, out, routed[name], stamp, _stamped(out, stamp)))
    return plan


def chapter_status(root: str | os.PathLike, params: dict, notebooks=None) -> dict[str, bool]:
    """Whether each chapter's executed notebook is current for ``params`` (same source,
    parameters and code as its stamp), in book order: ``False`` marks what
    :func:`execute_notebooks` would execute."""
    return {p[0]: p[5] for p in _plan(Path(root).resolve(), params, notebooks)}


def _move_legacy_outputs(root: Path, notebooks=None) -> None:
    """Executed chapters an earlier fclib wrote beside their sources
    (``book/chapters/NAME.ipynb``) move to :data:`EXECUTED_DIR`, where a current one is
    reused instead of executed again; one already there wins (the old one is removed)."""
    names = [n.removesuffix(".md").removesuffix(".ipynb") for n in notebooks or CHAPTERS]
    for name in names:
        old = root / CHAPTER_DIR / f"{name}.ipynb"
        if not old.is_file() or not (root / CHAPTER_DIR / f"{name}.md").exists():
            continue
        new = root / EXECUTED_DIR / f"{name}.ipynb"
        if new.exists():
            old.unlink()
        else:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, new)


def execute_notebooks(root: str | os.PathLike, params: dict, notebooks=None,
                      progress: bool = True, jobs: int = 1,
                      on_done=None) -> dict[str, float]:
    """Execute the chapters ``<root>/book/chapters/NAME.md`` with papermill into
    ``<root>/_build/chapters/NAME.ipynb`` (:data:`EXECUTED_DIR`; what the book renders,
    never beside the sources).

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
    from fclib.pipeline.locks import HAVE_LOCKS

    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs > 1 and not HAVE_LOCKS:
        raise RuntimeError("jobs > 1 needs inter-process file locks (fcntl), which this system "
                           "lacks; execute the chapters one at a time (jobs=1)")
    root = Path(root).resolve()
    _move_legacy_outputs(root, notebooks)
    (root / EXECUTED_DIR).mkdir(parents=True, exist_ok=True)
    names, times, todo = [], {}, []
    for name, src, out, p, stamp, current in _plan(root, params, notebooks):
        names.append(name)
        if current:
            times[name] = 0.0
            if on_done is not None:
                on_done(name, 0.0)
        else:
            todo.append((name, src, out, p, stamp))
    if jobs == 1 or len(todo) < 2:
        for name, src, out, p, stamp in todo:
            times[name] = _execute_chapter(src, out, p, stamp, root, progress)
            if on_done is not None:
                on_done(name, times[name])
    else:   # longest first, so that the last chapter to start is a short one
        expected = expected_seconds(root)
        todo.sort(key=lambda t: -expected.get(t[0], 60.0))
        _execute_parallel(todo, root, jobs, times, on_done)
    _record_seconds(root, {n: times[n] for n in names if times.get(n)})
    return {name: times[name] for name in names}


#: Seconds per chapter of the default book on two cores (two chapters side by side), the
#: order chapters start in until a build has recorded its own (``_build/chapter_seconds.json``):
#: a fresh-clone build's (d52104b, benchmarks/profile_book.py), every chapter listed, so that
#: the short ones start last.
EXPECTED_SECONDS = {"10_perturbations": 600, "13_functional_or_stimulus": 486,
                    "11_permuted": 288, "18_synchrony_semantization": 289, "15_sampling": 212,
                    "17_mango": 180, "14_when_ensembles_form": 162,
                    "02_pairwise_correlations": 156, "09_identity": 118, "08_semantics": 114,
                    "12_detection": 90, "19_own_recording": 50, "05_scaling": 40,
                    "16_scale": 38, "06_robustness": 32, "07_information": 29,
                    "03_response_functions": 21, "04_two_regimes": 17,
                    "01_network_activity": 14}
SECONDS_FILE = Path("_build") / "chapter_seconds.json"


def expected_seconds(root: str | os.PathLike) -> dict:
    """Each chapter's expected execution seconds: the last build's where recorded, else
    :data:`EXPECTED_SECONDS`."""
    out = dict(EXPECTED_SECONDS)
    try:
        out.update(json.loads((Path(root) / SECONDS_FILE).read_text()))
    except (OSError, ValueError):
        pass
    return out


def _record_seconds(root: Path, seconds: dict) -> None:
    if not seconds:
        return
    path = root / SECONDS_FILE
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known.update({k: round(float(v), 1) for k, v in seconds.items()})
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True))


_IN_CHAPTER = False  # a pool worker is executing a chapter (see _on_sigterm)


def _execute_chapter_in_pool(name, *args) -> float:
    """:func:`_execute_chapter` with any failure turned into a plain ``RuntimeError`` that
    names the chapter (papermill's errors do not survive the trip between processes)."""
    global _IN_CHAPTER
    _IN_CHAPTER = True
    try:
        return _execute_chapter(*args)
    except KeyboardInterrupt:  # stopped by the parent (_on_sigterm), cleaned up: leave now
        os._exit(130)
    except Exception as exc:
        raise RuntimeError(f"chapter {name} failed: {type(exc).__name__}: {exc}") from None
    finally:
        _IN_CHAPTER = False


def _on_sigterm(signum, frame):
    """A pool worker told to stop: inside a chapter, unwind it (its ``.part`` files are
    removed on the way out); between chapters, leave quietly."""
    if _IN_CHAPTER:
        raise KeyboardInterrupt
    os._exit(0)


def _init_worker(threads: int) -> None:
    """Pool initialiser: cores shared (:func:`_share_cores`); Ctrl-C left to the parent,
    which stops the workers with SIGTERM (so an interruption prints no worker tracebacks
    and leaves no ``.part`` file)."""
    import signal

    _share_cores(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


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
    running, error, started = {}, None, []
    before = set(mp.active_children())
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))
    try:
        while pending or running:
            while pending and len(running) < jobs and error is None:
                name, src, out, p, stamp = pending.pop(0)
                started.append(out)
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
    except BaseException:  # Ctrl-C, SIGTERM: stop the workers, then the pool
        for proc in set(mp.active_children()) - before:
            proc.terminate()
        for proc in set(mp.active_children()) - before:
            proc.join(timeout=30)
        pool.shutdown(wait=True, cancel_futures=True)
        for out in started:  # a worker killed before its cleanup ran
            for f in _part_files(out):
                f.unlink(missing_ok=True)
        raise
    pool.shutdown(wait=True)
    if error is not None:
        raise error


def execute_workshop(root: str | os.PathLike, timeout: int = 600) -> dict[str, float]:
    """Execute the workshop pages (``book/workshop/NAME.md``) with their solutions filled in
    (:func:`fclib.pipeline.notebooks.solved_notebook`) into
    ``<root>/_build/chapters/workshop/NAME.ipynb`` (:data:`WORKSHOP_EXECUTED`), so that the
    book shows what each result cell prints and draws.

    The page written is the whole page: the outputs of the solved notebook are set on its
    cells (same cell ids), the scaffolds stay without outputs. A page whose source and the
    code of the fclib modules it imports are unchanged since its last execution is reused.
    Returns seconds per page (0 for a reused one); a book without the workshop's pages
    (no ``book/workshop/NAME.md``) executes none. The pages take no profile: they simulate
    their own data.
    """
    import nbformat
    from nbclient import NotebookClient

    from fclib.pipeline.notebooks import WORKSHOP, WORKSHOP_DIR, solved_notebook

    root = Path(root).resolve()
    times = {}
    for name in WORKSHOP:
        src = root / WORKSHOP_DIR / f"{name}.md"
        out = root / WORKSHOP_EXECUTED / f"{name}.ipynb"
        if not src.exists():
            continue
        page = read_chapter(src)
        stamp = hashlib.sha256(src.read_bytes() + chapter_fingerprint(page).encode()).hexdigest()
        if _stamped(out, stamp):
            times[name] = 0.0
            continue
        t0 = time.perf_counter()
        solved = solved_notebook(src)
        sock_dir = tempfile.mkdtemp(prefix="fclib-kernel-")
        try:
            NotebookClient(solved, timeout=timeout, kernel_name="python3",
                           kernel_manager_class=_ipc_kernel_manager(sock_dir),
                           resources={"metadata": {"path": str(root)}}).execute()
        finally:
            shutil.rmtree(sock_dir, ignore_errors=True)
        executed = {c.id: c for c in solved.cells if c.cell_type == "code"}
        for cell in page.cells:
            if cell.cell_type == "code" and cell.id in executed:
                cell.outputs = executed[cell.id].outputs
                cell.execution_count = executed[cell.id].execution_count
        page.metadata["fclib_stamp"] = stamp
        page.metadata.pop("jupytext", None)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(out) as tmp:
            nbformat.write(page, str(tmp))
        times[name] = time.perf_counter() - t0
    return times


def stage_book(root: str | os.PathLike) -> Path:
    """The tree the HTML is built from, ``<root>/_build/source`` (:data:`STAGE_DIR`), made
    anew: links to ``_config.yml``, ``_toc.yml`` and every entry of ``book/`` but
    ``chapters``, and a ``book/chapters`` folder of links to the executed chapters of
    :data:`EXECUTED_DIR`. Sphinx reads the pages through the links; the sources are neither
    copied nor written."""
    root = Path(root).resolve()
    stage = root / STAGE_DIR
    if stage.is_symlink() or stage.is_file():
        stage.unlink()
    shutil.rmtree(stage, ignore_errors=True)
    (stage / CHAPTER_DIR).mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        if (root / name).exists():
            (stage / name).symlink_to(root / name)
    workshop = root / WORKSHOP_EXECUTED
    executed_pages = {p.stem: p for p in workshop.glob("*.ipynb")
                      if not p.name.endswith(".part.ipynb")} if workshop.is_dir() else {}
    for entry in sorted((root / "book").iterdir()):
        if entry.name == CHAPTER_DIR.name:
            continue
        if entry.name == WORKSHOP_EXECUTED.name and entry.is_dir() and executed_pages:
            # the executed workshop pages in place of their sources (:func:`execute_workshop`)
            (stage / "book" / entry.name).mkdir()
            for item in sorted(entry.iterdir()):
                if not (item.suffix == ".md" and item.stem in executed_pages):
                    (stage / "book" / entry.name / item.name).symlink_to(item)
            for stem, page in sorted(executed_pages.items()):
                (stage / "book" / entry.name / f"{stem}.ipynb").symlink_to(page)
            continue
        (stage / "book" / entry.name).symlink_to(entry)
    for executed in sorted((root / EXECUTED_DIR).glob("*.ipynb")):  # (not workshop/)
        if not executed.name.endswith(".part.ipynb"):
            (stage / CHAPTER_DIR / executed.name).symlink_to(executed)
    return stage


def build_book(root: str | os.PathLike) -> Path:
    """Build the HTML book at ``root`` with Sphinx warnings as errors; return index.html.

    The book is built from :func:`stage_book`'s tree (the executed chapters in place of their
    MyST sources) into ``<root>/_build/html``.

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
    stage = stage_book(root)
    proc = subprocess.run([exe, "build", str(stage), "--path-output", str(root.resolve()),
                           "--warningiserror", "--keep-going"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    for download in sorted((root / "_build" / "html" / "_sources").rglob("*.ipynb")):
        nb = json.loads(download.read_text(encoding="utf8"))
        with atomic_write(download) as tmp:
            Path(tmp).write_text(json.dumps(clean_download(nb), indent=1, ensure_ascii=False),
                                 encoding="utf8")
    return root / "_build" / "html" / "index.html"


def clean_download(nb: dict) -> dict:
    """An executed chapter as a reader downloads it (the page's "download .ipynb" button):
    without papermill's injected-parameters cell (its ``data_dir`` is the build machine's
    path; the chapter's own parameters cell stays), without stderr streams (warnings carry
    the build machine's paths; the page never shows them either) and without papermill's
    record of the build (input and output paths, parameters). Returns a new notebook dict."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("papermill", None)
    cells = []
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"]
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
        cells.append(cell)
    nb["cells"] = cells
    return nb
