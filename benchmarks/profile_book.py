"""Where an executed book spends its time: per chapter and per cell.

    .venv/bin/python benchmarks/profile_book.py [--chapters _build/chapters] [--top 25]
        [--csv out.csv] [--markdown out.md] [--execute NAME ...] [--profile default]

Reads the executed notebooks a build leaves (``_build/chapters/NN_name.ipynb`` after
``make book`` or ``fclib book``): papermill writes every cell's wall time
(``metadata.papermill.duration``) and the chapter's (the notebook's
``metadata.papermill.duration``, from its start to its end). Prints two tables, slowest
first: the chapters (wall seconds, cells, the share of the chapter its slowest cell takes,
and the cell sum, which falls short of the chapter's wall time by the kernel's start and
the parameters injection) and the ``--top`` slowest cells of the whole book (chapter, cell
index, tags, first line of source). ``--csv`` and ``--markdown`` write the cell table (every
cell, not only the top) and the chapter table to files (``<stem>_chapters.<ext>`` beside the
cells').

Papermill records no CPU time; ``fclib book`` writes each kernel's (user + system, from the
operating system's accounting of the finished kernel process) into the executed notebook's
``metadata.fclib_kernel_cpu_seconds``, shown as ``kernel_cpu``. A CPU time above the wall
time means the kernel ran threads in parallel (numba, torch, BLAS); one far below it means
the kernel waited (for a lock another chapter held, for a core, for disk).

``--execute NAME ...`` executes those chapters once more, one after another, into a
temporary folder (the book's own notebooks are not touched; the run's cached artefacts are
read, and computed where missing), adds the wall time measured around each
(``wall_measured``), and profiles the notebooks it wrote, with their kernels' CPU.

On a build executed with ``--jobs 2`` two chapters share the machine, so a chapter's wall
time depends on what ran beside it; its kernel's CPU does not.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _first_line(src: str, width: int = 60) -> str:
    """The cell's first line that is not blank, a comment or an import (else its first),
    and how many code lines follow it: a cell's time is that of all its lines."""
    lines = [ln.strip() for ln in src.splitlines() if ln.strip()]
    code = [ln for ln in lines if not ln.startswith(("#", "import ", "from "))]
    pick = code[0] if code else (lines[0] if lines else "")
    pick = pick if len(pick) <= width else pick[:width - 1] + "…"
    more = len(code) - 1
    return f"{pick} (+{more} lines)" if more > 0 else pick


def profile_notebook(path: Path) -> tuple[dict, list[dict]]:
    """``(chapter row, cell rows)`` of one executed notebook; durations in seconds (None
    where the notebook holds none: not executed by papermill)."""
    nb = json.loads(Path(path).read_text())
    meta = nb.get("metadata", {}).get("papermill", {})
    cells = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        pm = cell.get("metadata", {}).get("papermill", {})
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        tags = cell.get("metadata", {}).get("tags", [])
        cells.append({"chapter": path.stem, "cell": i, "seconds": pm.get("duration"),
                      "tags": ",".join(t for t in tags if t not in ("remove-output",
                                                                     "remove-input")),
                      "source": _first_line(src)})
    timed = [c["seconds"] for c in cells if c["seconds"] is not None]
    slowest = max(timed, default=0.0)
    wall = meta.get("duration")
    cpu = nb.get("metadata", {}).get("fclib_kernel_cpu_seconds")
    chapter = {"chapter": path.stem, "seconds": wall, "kernel_cpu": cpu, "cells": len(cells),
               "cell_sum": sum(timed) if timed else None,
               "slowest_cell": slowest if timed else None,
               "slowest_share": (slowest / wall) if timed and wall else None,
               "start": meta.get("start_time"), "end": meta.get("end_time")}
    return chapter, cells


def chapter_durations(folder) -> dict[str, float]:
    """``{chapter: wall seconds}`` of the executed notebooks in ``folder`` (papermill's
    ``metadata.papermill.duration``; chapters without one are left out): what a scheduler
    can read from the last build to start the longest chapters first."""
    out = {}
    for p in sorted(Path(folder).glob("*.ipynb")):
        if p.name.endswith(".part.ipynb"):
            continue
        sec = json.loads(p.read_text()).get("metadata", {}).get("papermill", {}).get("duration")
        if sec is not None:
            out[p.stem] = float(sec)
    return out


def _key(row):
    return -(row["seconds"] or 0.0)


def _fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            v = _fmt(v, 2 if c in ("slowest_share",) else 1)
            cells.append(str(v).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_csv(rows: list[dict], columns: list[str], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def execute(names: list[str], profile: str, data_dir: str | None) -> tuple[Path, dict]:
    """Execute chapters one at a time into a temporary copy; their wall seconds (each
    executed notebook keeps its kernel's CPU seconds)."""
    import shutil

    from fclib.pipeline.book import execute_notebooks

    tmp = Path(tempfile.mkdtemp(prefix="fclib-profile-"))
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp / name)
    shutil.copytree(ROOT / "book", tmp / "book",
                    ignore=shutil.ignore_patterns("*.ipynb", "_build", "_static"))
    params = {"profile": profile}
    if data_dir:
        params["data_dir"] = str(Path(data_dir).resolve())
    wall = {}
    for name in names:
        t0 = time.perf_counter()
        execute_notebooks(tmp, params, notebooks=[name], progress=False)
        wall[name] = {"wall_measured": time.perf_counter() - t0}
    return tmp / "_build" / "chapters", wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chapters", default=str(ROOT / "_build" / "chapters"),
                    help="folder of executed notebooks (default: _build/chapters)")
    ap.add_argument("--top", type=int, default=25, help="slowest cells to print")
    ap.add_argument("--csv", help="write the cell table here (and <stem>_chapters.csv)")
    ap.add_argument("--markdown", help="write both tables here as markdown")
    ap.add_argument("--execute", nargs="+", metavar="NAME",
                    help="execute these chapters (one at a time) and profile them")
    ap.add_argument("--profile", default="default", help="profile for --execute")
    ap.add_argument("--data-dir", default=None, help="data folder for --execute")
    args = ap.parse_args(argv)

    folder, measured = Path(args.chapters), {}
    if args.execute:
        folder, measured = execute(args.execute, args.profile, args.data_dir)
    paths = sorted(p for p in folder.glob("*.ipynb")
                   if not p.name.endswith(".part.ipynb"))
    if not paths:
        print(f"no executed notebooks in {folder}: build the book first (make book)",
              file=sys.stderr)
        return 1
    chapters, cells = [], []
    for p in paths:
        ch, cl = profile_notebook(p)
        if ch["seconds"] is None and not any(c["seconds"] for c in cl):
            continue  # not executed by papermill
        ch.update(measured.get(ch["chapter"], {}))
        chapters.append(ch)
        cells.extend(cl)
    chapters.sort(key=_key)
    cells.sort(key=_key)
    ch_cols = ["chapter", "seconds", "cells", "cell_sum", "slowest_cell", "slowest_share"]
    cpu = [c["kernel_cpu"] for c in chapters if c.get("kernel_cpu") is not None]
    if cpu:
        ch_cols.insert(2, "kernel_cpu")
    if measured:
        ch_cols += ["wall_measured"]
    cell_cols = ["chapter", "cell", "seconds", "tags", "source"]
    total = sum(c["seconds"] or 0.0 for c in chapters)
    starts = [c["start"] for c in chapters if c["start"]]
    ends = [c["end"] for c in chapters if c["end"]]
    print(f"{len(chapters)} chapters, {total:.0f} s of chapter time"
          + (f" (first start {min(starts)}, last end {max(ends)})" if starts and ends else ""))
    if cpu:
        print(f"the kernels' CPU: {sum(cpu):.0f} s (user + system, recorded by the build)")
    print()
    print(markdown_table(chapters, ch_cols))
    print()
    print(f"The {min(args.top, len(cells))} slowest cells:")
    print(markdown_table(cells[:args.top], cell_cols))
    if args.csv:
        out = Path(args.csv)
        write_csv(cells, cell_cols, out)
        write_csv(chapters, ch_cols + ["start", "end"],
                  out.with_name(out.stem + "_chapters" + out.suffix))
    if args.markdown:
        Path(args.markdown).write_text(
            "## Chapters\n\n" + markdown_table(chapters, ch_cols) + "\n\n## Cells\n\n"
            + markdown_table(cells, cell_cols) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
