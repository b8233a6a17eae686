"""The command line: ``python -m fclib.pipeline run|book``."""
from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

from fclib.pipeline.book import ROOT, build_book, execute_notebooks
from fclib.pipeline.stages import run

__all__ = ["main"]

def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"--set takes NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fclib.pipeline", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["run", "book"])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                    help="override one parameter (papermill-style literal values)")
    ap.add_argument("--root", default=str(ROOT), help="book root (holds _config.yml)")
    args = ap.parse_args(argv)
    overrides = _parse_set(args.set)
    t_all = time.perf_counter()
    try:
        r = run(args.profile, args.data_dir, **overrides)
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for stage, sec in r.timings.items():
        print(f"[fclib] {stage}: {sec:.1f} s")
    print(f"[fclib] model: {r.model_path} (held-out accuracy {r.summary['test_accuracy']:.3f})")
    print(f"[fclib] recording: {r.recording_path()}")
    if args.command == "book":
        params = {"profile": args.profile, "data_dir": str(Path(args.data_dir).resolve()),
                  **overrides}
        t0 = time.perf_counter()
        times = execute_notebooks(args.root, params)
        for name, sec in times.items():
            print(f"[fclib] notebook {name}: " + (f"{sec:.1f} s" if sec else "unchanged, reused"))
        t0 = time.perf_counter()
        index = build_book(args.root)
        print(f"[fclib] book build: {time.perf_counter() - t0:.1f} s")
        print(f"[fclib] total: {time.perf_counter() - t_all:.1f} s")
        print(f"The book is at {index.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
