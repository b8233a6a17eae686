"""The ``fclib`` command line.

    fclib book [--profile default] [--set NAME=VALUE ...] [--jobs 2]   # train, record, chapters, HTML
    fclib run  [--profile default] [--set NAME=VALUE ...]   # train and record only
    fclib sttc IN.nc --source L1 --target L2 -o pairs.nc    # STTC + z of one layer pair
                     [--method exact|shifts|stimulus]    # (IN.nc: fclib.io.save_recording)
    fclib export PROFILE_OR_RUN_FOLDER -o bundle.tar.gz [--set NAME=VALUE ...]  # a run's artefacts
    fclib import bundle.tar.gz [--data-dir D]            # checked, placed where chapters find them

``--set`` takes profile parameters (``epochs=30``, ``lr=0.05``: they change the model and
recordings that every chapter analyses) and chapter parameters (``threshold=5.0``,
``n_shifts=300``: each chapter that declares one gets it); any other name is an error
naming the close ones. Values are Python literals (``widths=[16,32]``); anything else is
taken as a string; a chapter parameter takes the type of its default (``threshold=5`` is
``5.0``; ``threshold=abc`` is an error before anything runs). ``fclib book`` says which
chapters it will execute, reports each with an estimate of the time left, and on Ctrl-C or
SIGTERM stops with one line saying how many chapters are current (no ``.part`` file left).
Artefacts live in the book's ``data/`` (``--data-dir`` or ``$FCLIB_DATA_DIR`` to move them),
wherever the command runs from. ``python -m fclib.pipeline`` is the same command.
"""
from __future__ import annotations

import argparse
import ast
import signal
import sys
import threading
import time
from pathlib import Path

from fclib.pipeline.book import (CHAPTER_DIR, CHAPTERS, ROOT, build_book, chapter_defaults,
                                 chapter_status, execute_notebooks, execute_workshop,
                                 read_chapter, route_parameters)
from fclib.pipeline.profiles import PARAMS, PROFILES
from fclib.pipeline.stages import run

__all__ = ["main"]


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set takes NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k.strip()] = v
    return out


def _book(args, overrides: dict) -> int:
    root = Path(args.root).resolve()
    if not (root / "_config.yml").exists():
        raise FileNotFoundError(f"{root} holds no _config.yml; --root must name the book's folder")
    declared = {n: chapter_defaults(read_chapter(root / CHAPTER_DIR / f"{n}.md"))
                for n in CHAPTERS}
    params = {"profile": args.profile, **overrides}
    if args.data_dir is not None:
        params["data_dir"] = str(Path(args.data_dir).resolve())
    # unknown names and values of the wrong type fail before any training
    route_parameters(params, declared, root)
    args.book_params = params  # for the summary of an interruption
    status = chapter_status(root, params)
    todo = [n for n, current in status.items() if not current]
    print(f"[fclib] {len(todo)} of {len(status)} chapters to execute"
          + (f": {', '.join(todo)}" if 0 < len(todo) < len(status) else "")
          + ("" if todo else " (all current)"), flush=True)
    t_all = time.perf_counter()
    r = run(args.profile, args.data_dir, **{k: v for k, v in overrides.items() if k in PARAMS})
    _report_run(r)
    t_chapters, n_done = time.perf_counter(), 0

    def done(name, sec):
        nonlocal n_done
        if not sec:
            print(f"[fclib] chapter {name}: unchanged, reused", flush=True)
            return
        n_done += 1
        left = (time.perf_counter() - t_chapters) / n_done * (len(todo) - n_done)
        eta = f", about {_duration(left)} left" if n_done < len(todo) else ""
        print(f"[fclib] chapter {name}: {sec:.1f} s ({n_done}/{len(todo)} executed{eta})",
              flush=True)

    if args.jobs > 1:
        print(f"[fclib] executing the chapters {args.jobs} at a time", flush=True)
    execute_notebooks(root, params, jobs=args.jobs, on_done=done)
    t0 = time.perf_counter()
    pages = execute_workshop(root)
    ran = [n for n, sec in pages.items() if sec]
    print(f"[fclib] workshop pages: {len(ran)} executed ({sum(pages.values()):.1f} s), "
          f"{len(pages) - len(ran)} reused", flush=True)
    t0 = time.perf_counter()
    index = build_book(root)
    print(f"[fclib] book build: {time.perf_counter() - t0:.1f} s")
    print(f"[fclib] total: {time.perf_counter() - t_all:.1f} s")
    print(f"The book is at {index.resolve()}")
    return 0


def _duration(sec: float) -> str:
    return f"{sec:.0f} s" if sec < 90 else f"{sec / 60:.0f} min"


def _interrupted(args) -> str:
    """The one line an interrupted command leaves: what is current, what is not."""
    if args.command != "book":
        return ("interrupted; run the same command again to resume (finished stages are "
                "reused, an interrupted recording resumes from its .part file)")
    root = Path(args.root).resolve()
    try:
        status = chapter_status(root, getattr(args, "book_params", {"profile": args.profile}))
    except Exception:
        return "interrupted: the HTML not rebuilt; run the same command again to finish"
    n = sum(status.values())
    html = root / "_build" / "html" / "index.html"
    old = ""
    if html.exists():
        old = f"; {html.parent} is from an earlier build"
        if n < len(status):
            old += (", and the chapters not current hold earlier outputs, possibly of other "
                    "parameters")
    return (f"interrupted: {n}/{len(status)} chapters current, the HTML not rebuilt{old}; "
            "run the same command again to finish (current chapters and cached stages are "
            "reused)")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _report_run(r) -> None:
    for stage, sec in r.timings.items():
        print(f"[fclib] {stage}: {sec:.1f} s")
    print(f"[fclib] model: {r.model_path} (held-out accuracy {r.summary['test_accuracy']:.3f})")
    print(f"[fclib] recording: {r.recording_path()}")


def _sttc(args) -> int:
    from fclib.io import load_recording
    from fclib.io.recordings import save_dataset
    from fclib.stats._checks import attached_stimulus, attached_T
    from fclib.stats.connectivity import pair_significance

    path = Path(args.recording)
    if not path.exists():
        raise FileNotFoundError(f"no recording at {path}")
    pops = load_recording(path)
    for layer in (args.source, args.target):
        if layer not in pops:
            raise ValueError(f"{path} has no layer {layer!r}; it holds {list(pops)}")
    src, tgt = pops[args.source], pops[args.target]
    kw = {"rng": args.seed, "n_shifts": args.n_shifts} if args.method == "shifts" else {}
    if args.method == "stimulus":
        T = attached_T(src)
        if T is None or attached_stimulus(src, T) is None:
            raise ValueError(f"--method stimulus needs trials and their stimuli: layer "
                             f"{args.source!r} of {path} carries no T attribute or step "
                             "coordinate, or no stimulus (or image) coordinate; bin the spike "
                             "times with fclib.io.bin_spikes(..., trial_onsets=, "
                             "trial_stimulus=) and save them with fclib.io.save_recording")
    t0 = time.perf_counter()
    ds = pair_significance(src, tgt, method=args.method, **kw)
    ds.attrs.update(recording=str(path.name), method=args.method)
    out = save_dataset(ds[["sttc", "z"]], args.output)
    n_sig = int(((ds["z"] > args.threshold) & (ds["sttc"] > 0)).sum())
    print(f"[fclib] {args.source}->{args.target} ({args.method} null): {ds.sizes['target']} x "
          f"{ds.sizes['source']} active pairs, {n_sig} with z > {args.threshold:g} and STTC > 0, "
          f"{time.perf_counter() - t0:.1f} s -> {out}")
    return 0


def _export(args) -> int:
    from fclib.pipeline.bundle import export_bundle

    t0 = time.perf_counter()
    manifest = export_bundle(args.source, args.output, data_dir=args.data_dir,
                             overrides=_parse_set(args.set))
    size = Path(args.output).stat().st_size
    print(f"[fclib] bundle {args.output}: {len(manifest['files'])} files, "
          f"{manifest['total_size'] / 1e6:.1f} MB of artefacts in {size / 1e6:.1f} MB "
          f"(train {manifest['stages']['train']['key']}, record "
          f"{manifest['stages']['record']['key']}, profile {manifest['profile']}), "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


def _import(args) -> int:
    from fclib.pipeline.bundle import BundleError, import_bundle

    try:
        report = import_bundle(args.bundle, args.data_dir)
    except (BundleError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[fclib] {report}")
    return 0


def _cluster(args, overrides: dict):
    """The dask client of ``--scheduler``/``--workers`` (``None`` without either); its address
    becomes the run's ``scheduler`` parameter, so every chapter's kernel uses it too."""
    if args.scheduler is None and args.workers is None:
        return None
    from fclib.stats.distributed import connect

    client = connect(args.scheduler, args.workers)
    overrides["scheduler"] = client.scheduler.address
    print(f"[fclib] dask scheduler {client.scheduler.address} "
          f"({len(client.scheduler_info()['workers'])} workers)")
    return client


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fclib", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name, help_ in (("run", "train and record (cached)"),
                        ("book", "run, execute every chapter, build the HTML book")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--profile", default="default", help=", ".join(PROFILES))
        p.add_argument("--data-dir", default=None,
                       help="artefact folder (default: $FCLIB_DATA_DIR or the book's data/)")
        p.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                       help="a profile or chapter parameter (Python literal values)")
        if name == "book":
            p.add_argument("--root", default=str(ROOT), help="the book's folder (holds _config.yml)")
            p.add_argument("--jobs", type=int, default=2, metavar="N",
                           help="chapters executed side by side (default 2; 1: one at a time, "
                                "with progress bars)")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="an existing dask scheduler (tcp://host:8786) for the edge lists "
                            "of sample=all")
        p.add_argument("--workers", type=int, default=None, metavar="N",
                       help="start a local dask cluster of N worker processes for them")
    p = sub.add_parser("sttc", help="STTC and significance of one layer pair of a recording")
    p.add_argument("recording", help="a recording (.nc) of fclib, a file of "
                   "fclib.io.save_recording (your own binned populations) or a bin_spikes "
                   "DataArray saved with .to_netcdf")
    p.add_argument("--source", required=True, help="source layer, e.g. L1")
    p.add_argument("--target", required=True, help="target layer, e.g. L2")
    p.add_argument("-o", "--output", required=True, help="output netCDF file (sttc, z)")
    p.add_argument("--method", choices=["exact", "shifts", "stimulus"], default="exact",
                   help="the null: exact circular shifts, random shifts, or whole trials "
                        "permuted among trials of the same stimulus (needs the T and stimulus "
                        "that bin_spikes attaches)")
    p.add_argument("--n-shifts", type=int, default=150, help="shifts of --method shifts")
    p.add_argument("--seed", type=int, default=0, help="seed of --method shifts")
    p.add_argument("--threshold", type=float, default=4.0, help="z threshold in the summary")
    p = sub.add_parser("export", help="write a run's cached artefacts into one bundle file")
    p.add_argument("source", metavar="RUN_OR_PROFILE",
                   help="a profile (smoke, default, ...) or a run folder data/runs/<key>/")
    p.add_argument("-o", "--output", required=True, help="the bundle to write (.tar.gz)")
    p.add_argument("--data-dir", default=None,
                   help="where the run lives (default: $FCLIB_DATA_DIR or the book's data/)")
    p.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="a profile parameter, as for `fclib run`")
    p = sub.add_parser("import", help="check a bundle and place its artefacts in the data folder")
    p.add_argument("bundle", help="a bundle written by `fclib export`")
    p.add_argument("--data-dir", default=None,
                   help="where to place it (default: $FCLIB_DATA_DIR or the book's data/)")
    args = ap.parse_args(argv)
    client = None
    sigterm = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like Ctrl-C: temporary files removed, one line of summary
        sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.command == "sttc":
            return _sttc(args)
        if args.command == "export":
            return _export(args)
        if args.command == "import":
            return _import(args)
        overrides = _parse_set(args.set)
        client = _cluster(args, overrides)  # kept open while the command runs
        if args.command == "book":
            return _book(args, overrides)
        unknown = sorted(set(overrides) - set(PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for `fclib run`; profile "
                             f"parameters: {', '.join(sorted(PARAMS))}")
        _report_run(run(args.profile, args.data_dir, **overrides))
        return 0
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError,
            ConnectionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{_interrupted(args)}", file=sys.stderr, flush=True)
        return 130
    finally:
        if client is not None:
            client.close()
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)


if __name__ == "__main__":
    sys.exit(main())
