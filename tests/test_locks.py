"""Inter-process artefact locks of the pipeline's stages (fclib.store.lock) and chapters
executed side by side."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fclib import store
from fclib.pipeline.book import execute_notebooks

pytestmark = pytest.mark.skipif(not store.HAVE_LOCKS, reason="no fcntl on this system")

# Two processes taking turns on one lock, synchronised by a barrier file: tests/test_store.py.


def test_accuracy_of_every_condition_runs_under_the_lock_of_its_one_file(smoke_run, tmp_path,
                                                                        monkeypatch):
    """``accuracy.json`` holds every condition's accuracy, so each call reads, adds and writes
    it under the lock of that file, whatever the condition (two chapters adding different
    conditions at once must not lose one)."""
    import shutil

    import fclib.snn.perturb as perturb
    from fclib.pipeline import run

    data = tmp_path / "data"
    shutil.copytree(smoke_run.data_dir, data, ignore=shutil.ignore_patterns("accuracy.json",
                                                                           ".locks"))
    r = run("smoke", data, progress=False)
    expected = store.lock_file(str((r.record_dir / "accuracy.json").resolve()), data / "runs")
    held = []
    real = perturb.accuracy

    def accuracy(*a, **k):
        held.append(store.held_locks())
        return real(*a, **k)

    monkeypatch.setattr(perturb, "accuracy", accuracy)
    r.accuracy("original"), r.accuracy("noise")
    assert held == [[str(expected)], [str(expected)]]
    assert not store.held_locks()                           # all released


def _chapter(root: Path, name: str, body: str) -> None:
    (root / "book" / "chapters").mkdir(parents=True, exist_ok=True)
    (root / "book" / "chapters" / f"{name}.md").write_text(textwrap.dedent(f"""\
        ---
        jupytext:
          text_representation:
            format_name: myst
        kernelspec:
          display_name: Python 3
          language: python
          name: python3
        ---

        # {name}

        ```{{code-cell}}
        :tags: [parameters]

        profile = "smoke"
        data_dir = None
        ```

        ```{{code-cell}}
        {body}
        ```
        """))


def test_chapters_side_by_side_give_what_one_at_a_time_gives(tmp_path, monkeypatch):
    for name, value in (("a", 1), ("b", 2), ("c", 3)):
        _chapter(tmp_path, name, f"import os; print({value} * 7, os.environ['OMP_NUM_THREADS'])")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    threads = max(1, (os.cpu_count() or 1) // 2)   # each of the 2 kernels gets its share
    seen = []
    times = execute_notebooks(tmp_path, {"profile": "smoke"}, notebooks=["a", "b", "c"],
                              progress=False, jobs=2, on_done=lambda n, s: seen.append(n))
    assert list(times) == ["a", "b", "c"] and sorted(seen) == ["a", "b", "c"]
    for name, value in (("a", 1), ("b", 2), ("c", 3)):
        text = (tmp_path / "_build" / "chapters" / f"{name}.ipynb").read_text()
        assert f'"{value * 7} {threads}\\n"' in text
    again = execute_notebooks(tmp_path, {"profile": "smoke"}, notebooks=["a", "b", "c"],
                              progress=False, jobs=2)
    assert again == {"a": 0.0, "b": 0.0, "c": 0.0}          # stamps hold: nothing re-run


def test_a_failing_chapter_side_by_side_is_named_and_leaves_nothing(tmp_path):
    _chapter(tmp_path, "ok", "x = 1")
    _chapter(tmp_path, "bad", "raise ValueError('broken on purpose')")
    with pytest.raises(RuntimeError, match="(?s)chapter bad failed.*broken on purpose"):
        execute_notebooks(tmp_path, {"profile": "smoke"}, notebooks=["bad", "ok"],
                          progress=False, jobs=2)
    chapters = tmp_path / "_build" / "chapters"
    assert not (chapters / "bad.ipynb").exists()
    assert not list(chapters.glob("*.part.ipynb"))
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        execute_notebooks(tmp_path, {"profile": "smoke"}, notebooks=["ok"], jobs=0)


# "first" computes the pairs and holds their lock until "second" has found it taken (the
# barrier file "found-taken"); "second" then waits for the lock and must read, not compute.
_ASK_PAIRS = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import fclib.stats.connectivity as conn
    from fclib import store
    from fclib.pipeline import run
    data, null, role = Path(sys.argv[1]), (None if sys.argv[2] == "none" else sys.argv[2]), sys.argv[3]

    def wait_for(name):
        t0 = time.monotonic()
        while not (data / name).exists():
            if time.monotonic() - t0 > 240:
                sys.exit(f"{role}: no {name} after 240 s")
            time.sleep(0.01)

    slow = conn.pair_significance
    def pair_significance(*a, **k):  # computing: let the other process find the lock taken
        (data / "computing").touch()
        wait_for("found-taken")
        return slow(*a, **k)
    conn.pair_significance = pair_significance
    r = run("smoke", data, progress=False)
    if role == "second":
        wait_for("computing")
        key = r.pairs_key("L1", "L2", null=null)[0]
        path = (r.record_dir / "pairs" / f"original_L1-L2-{key}.nc").resolve()
        try:
            with store.lock(str(path), data / "runs", timeout=0):
                sys.exit("second: the pairs' lock was free while the first computed them")
        except TimeoutError:
            (data / "found-taken").touch()
    ds = r.pairs("L1", "L2", null=null)
    print(json.dumps({"computed": "pairs L1-L2" in r.timings, "n": int(ds.sizes["target"])}))
""")


def test_one_artefact_asked_for_two_ways_at_once_is_computed_once(smoke_run, tmp_path):
    """``pairs("L1", "L2")`` and ``pairs("L1", "L2", null="exact")`` name the same file: two
    processes asking at the same moment get it computed once (the lock follows the path,
    not the call), and neither sees a half-written file."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(smoke_run.data_dir, data, ignore=shutil.ignore_patterns("pairs", "groups",
                                                                           ".locks"))
    assert smoke_run.cfg["null"] == "exact"
    procs = [subprocess.Popen([sys.executable, "-c", _ASK_PAIRS, str(data), null, role],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for null, role in (("none", "first"), ("exact", "second"))]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-3000:] for _, e in outs]
    res = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    assert [r["computed"] for r in res] == [True, False]     # first computed, second read
    assert res[0]["n"] == res[1]["n"]
    files = list((data / "runs").glob("*/pairs/original_L1-L2-*"))
    assert len(files) == 1 and files[0].suffix == ".nc"
