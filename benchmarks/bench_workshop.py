"""Wall time of every workshop page executed with its solutions (the budget: 2 min each on two
CPU cores), kernel start included, one page at a time.

    .venv/bin/python benchmarks/bench_workshop.py [NAME ...]
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from fclib.pipeline.book import _ipc_kernel_manager
from fclib.pipeline.notebooks import WORKSHOP, WORKSHOP_DIR, solved_notebook

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=WORKSHOP, help=f"pages (default: {WORKSHOP})")
    args = ap.parse_args(argv)
    print("| page | seconds |\n|---|---|")
    for name in args.names:
        nb = solved_notebook(ROOT / WORKSHOP_DIR / f"{name}.md")
        sock_dir = tempfile.mkdtemp(prefix="fclib-bench-")
        t0 = time.perf_counter()
        try:
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           kernel_manager_class=_ipc_kernel_manager(sock_dir),
                           resources={"metadata": {"path": str(ROOT)}}).execute()
        finally:
            shutil.rmtree(sock_dir, ignore_errors=True)
        print(f"| {name} | {time.perf_counter() - t0:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
