"""A run killed at any stage and started again ends with the results of an uninterrupted run.

Each stage runs in a subprocess that SIGKILLs itself at a chosen point (no cleanup, no
``finally``, as a killed job or a pulled plug): during training (between checkpoints),
during recording (one batch written), during an analysis stage (the STTC of a layer pair
written but not yet renamed into place) and during the book build (a chapter executed but
not yet stamped and renamed). The next run picks up from what is on disk; the artefacts must
equal those of an uninterrupted run made the same way (a subprocess with the same settings:
training in another thread count would take another floating-point path).
"""
import json
import subprocess
import sys
import textwrap

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent

# Run ``pre``, then wrap ``target`` (module:attribute, or module:Class.method) so that its
# ``n``-th call kills the process, before the call (``when="before"``) or right after it
# returned (``when="after"``), then run ``body``.
KILLER = textwrap.dedent('''
    import importlib, os, signal, sys
    target, n, when = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    exec(sys.argv[5])
    mod, _, attr = target.partition(":")
    owner = importlib.import_module(mod)
    *path, name = attr.split(".")
    for p in path:
        owner = getattr(owner, p)
    real = getattr(owner, name)
    calls = [0]
    def wrapped(*a, **k):
        calls[0] += 1
        if calls[0] == n and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        out = real(*a, **k)
        if calls[0] == n and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    setattr(owner, name, wrapped)
    exec(sys.argv[4])
''')


def _killed(target: str, n: int, when: str, body: str, pre: str = "", env=None):
    proc = subprocess.run([sys.executable, "-c", KILLER, target, str(n), when, body, pre],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == -9, (f"expected the run to be killed at {target} call {n}; it "
                                   f"ended with {proc.returncode}:\n{proc.stderr[-3000:]}")


def _run_body(data) -> str:
    return f"from fclib.pipeline import run; r = run('smoke', {str(data)!r}, progress=False)"


@pytest.mark.slow
def test_a_run_killed_at_every_stage_finishes_with_identical_results(tmp_path):
    import torch

    from fclib import pipeline
    from fclib.pipeline.profiles import resolve
    from fclib.pipeline.stages import stage_keys

    (train_key, _), (record_key, _) = stage_keys(resolve("smoke"))
    # the reference: the same run, uninterrupted, in a subprocess like the killed ones
    ref = tmp_path / "reference"
    proc = subprocess.run([sys.executable, "-c", _run_body(ref) + "; r.pairs('L1', 'L2')"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = tmp_path / "data"
    run_body = _run_body(data)
    # 1. training: killed before the checkpoint of the second epoch is written
    _killed("fclib.snn.train:_atomic_save", 3, "before", run_body)
    train_dir = data / "runs" / train_key
    assert not (train_dir / "model.pt").exists()
    assert [p.name for p in (train_dir / "checkpoints").iterdir()] == ["epoch_0000.pt"]
    # 2. recording: resumed training finishes; recording killed after its first batch
    _killed("fclib.io.recordings:RecordingWriter.write", 1, "after", run_body)
    assert (train_dir / "model.pt").exists()
    rec_path = data / "runs" / record_key / "original.nc"
    assert not rec_path.exists()
    # 3. an analysis stage: recording resumed; the pairs' file written, killed before its rename
    _killed("os:replace", 1, "before", "r.pairs('L1', 'L2')", pre=run_body)
    assert rec_path.exists()
    assert len(list((data / "runs").rglob("*.part"))) == 1  # the pairs, never renamed
    # 4. the rest, uninterrupted (in a subprocess, as the reference): every artefact equals
    # the uninterrupted run's
    proc = subprocess.run([sys.executable, "-c", run_body + "; r.pairs('L1', 'L2')"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r, r_ref = pipeline.run("smoke", data, progress=False), pipeline.run("smoke", ref,
                                                                         progress=False)
    for k, v in torch.load(r_ref.model_path, weights_only=False)["model"].items():
        assert torch.equal(torch.load(r.model_path, weights_only=False)["model"][k], v), k
    a, b = r_ref.recording(), r.recording()
    for layer in a.layers:
        assert np.array_equal(a[layer].values, b[layer].values), layer
    xr.testing.assert_identical(r_ref.pairs("L1", "L2"), r.pairs("L1", "L2"))
    # 5. the book build: a chapter executed, killed before it is stamped and renamed
    chapter = "01_network_activity"  # the lightest chapter that reads the run
    book, clean = tmp_path / "book", tmp_path / "clean"
    for root in (book, clean):
        (root / "book" / "chapters").mkdir(parents=True)
        (root / "book" / "chapters" / f"{chapter}.md").write_bytes(
            (ROOT / "book" / "chapters" / f"{chapter}.md").read_bytes())
    body = (f"from fclib import pipeline; pipeline.execute_notebooks({str(book)!r}, "
            f"{{'profile': 'smoke', 'data_dir': {str(data)!r}}}, notebooks=[{chapter!r}], "
            f"progress=False)")
    _killed("papermill:execute_notebook", 1, "after", body)
    out = book / "_build" / "chapters" / f"{chapter}.ipynb"  # never beside the source
    assert not out.exists()
    times = pipeline.execute_notebooks(book, {"profile": "smoke", "data_dir": str(data)},
                                       notebooks=[chapter], progress=False)
    assert times[chapter] > 0 and out.exists()
    assert not list(book.rglob("*.part.ipynb"))

    def shown(path):
        nb = json.loads(path.read_text())
        return [[{k: v for k, v in o.get("data", {}).items() if k == "text/plain"}
                 for o in c.get("outputs", [])] for c in nb["cells"] if c["cell_type"] == "code"]

    pipeline.execute_notebooks(clean, {"profile": "smoke", "data_dir": str(data)},
                               notebooks=[chapter], progress=False)
    assert shown(out) == shown(clean / "_build" / "chapters" / f"{chapter}.ipynb")
    assert not list((book / "book" / "chapters").glob("*.ipynb"))
    assert not list((data / "runs").rglob("*.part"))
