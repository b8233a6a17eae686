"""fclib.store: atomic writes leave nothing behind, a lock serialises processes, a keyed
cache computes once and stamps what its key hashes."""
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fclib import store


def test_atomic_write_publishes_the_whole_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    with store.atomic_write(path) as tmp:
        assert tmp.parent == path.parent and store.is_partial(tmp) and not path.exists()
        tmp.write_text("done")
    assert path.read_text() == "done"
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("exc", [ValueError, KeyboardInterrupt])
def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path, exc):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(exc):
        with store.atomic_write(path) as tmp:
            tmp.write_text("half")
            raise exc("interrupted")
    assert path.read_text() == "old"                      # the file that was there is kept
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_refuses_a_block_that_wrote_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with store.atomic_write(tmp_path / "out.txt"):
            pass
    assert not list(tmp_path.iterdir())


def test_temporary_names_differ_per_write_and_count_as_partial(tmp_path):
    names = set()
    for _ in range(3):
        with store.atomic_write(tmp_path / "a.nc") as tmp:
            names.add(tmp.name)
            tmp.write_bytes(b"x")
    assert len(names) == 3 and all(n.startswith("a.nc.") and n.endswith(".part") for n in names)
    assert store.is_partial("a.nc.part") and store.is_partial("ch.part.ipynb")
    assert not store.is_partial("a.nc") and not store.is_partial("partial.nc")


# A process that takes the lock, says so, and holds it until the other process has found it
# taken (the other's failed try, written as a file, is the barrier): the overlap is
# observed, not hoped for. The other then waits for the lock and logs when it gets it.
_LOCKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fclib import store
    folder, role = Path(sys.argv[1]), sys.argv[2]
    log = folder / "log.txt"

    def wait_for(name):
        t0 = time.monotonic()
        while not (folder / name).exists():
            if time.monotonic() - t0 > 120:
                sys.exit(f"{role}: no {name} after 120 s")
            time.sleep(0.01)

    def say(what):
        with open(log, "a") as f:
            f.write(f"{role} {what}\\n")

    if role == "first":
        with store.lock("pairs|L1-L2", folder):
            with store.lock("pairs|L1-L2", folder):      # re-entrant: no deadlock
                say("holds")
                (folder / "held").touch()
                wait_for("found-taken")
            say("releases")
    else:
        wait_for("held")
        try:
            with store.lock("pairs|L1-L2", folder, timeout=0):
                sys.exit("second: took a lock the first process holds")
        except TimeoutError:
            say("found-taken")
            (folder / "found-taken").touch()
        with store.lock("pairs|L1-L2", folder):
            say("holds")
""")


@pytest.mark.skipif(not store.HAVE_LOCKS, reason="no fcntl on this system")
def test_a_lock_serialises_two_processes(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", _LOCKER, str(tmp_path), role],
                              stderr=subprocess.PIPE, text=True) for role in ("second", "first")]
    errs = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert (tmp_path / "log.txt").read_text().split("\n")[:-1] == [
        "first holds", "second found-taken", "first releases", "second holds"]
    assert len(list((tmp_path / ".locks").glob("*.lock"))) == 1


@pytest.mark.skipif(not store.HAVE_LOCKS, reason="no fcntl on this system")
def test_a_lock_excludes_another_thread_and_is_reentrant_in_its_own(tmp_path):
    path = tmp_path / "a.nc"
    result = {}
    with store.lock(path):
        with store.lock(path):
            assert store.held_locks() == [str(store.lock_file(path))]
        t = threading.Thread(target=lambda: result.update(
            taken=_try(lambda: store.lock(path, timeout=0))))
        t.start()
        t.join()
    assert result == {"taken": False}
    assert _try(lambda: store.lock(path, timeout=0)) and not store.held_locks()
    assert store.lock_file(path).parent == tmp_path / ".locks"


def _try(make) -> bool:
    try:
        with make():
            return True
    except TimeoutError:
        return False


def test_cached_computes_once_and_stamps_its_key(tmp_path):
    calls = []
    key = store.artefact_key("fclib.stats.sttc", {"dt": 0})

    def compute():
        calls.append(1)
        return xr.Dataset({"v": ("x", np.arange(3.0))})

    def save(ds, tmp):
        ds.to_netcdf(tmp, engine="netcdf4")

    def load(p):
        with xr.open_dataset(p, engine="netcdf4") as ds:
            return ds.load()

    timings = {}
    got = [store.cached(lambda k: tmp_path / f"v-{k}.nc", compute, save, load, key=key,
                        timings=timings, label="v") for _ in range(2)]
    assert len(calls) == 1 and list(timings) == ["v"]
    xr.testing.assert_identical(got[0], got[1])
    assert got[0].attrs["fclib_key"] == key[0]
    assert json.loads(got[0].attrs["fclib_inputs"]) == json.loads(json.dumps(key[1]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", f"v-{key[0]}.nc"]


def test_cached_writes_nothing_when_compute_fails(tmp_path):
    def compute():
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError, match="broken"):
        store.cached(tmp_path / "a.json", compute, lambda o, p: p.write_text(json.dumps(o)),
                     lambda p: json.loads(p.read_text()))
    assert [p.name for p in tmp_path.iterdir()] == [".locks"]
    got = store.cached(tmp_path / "a.json", lambda: {"a": 1},
                       lambda o, p: p.write_text(json.dumps(o)),
                       lambda p: json.loads(p.read_text()), key=("k", {"stage": "s"}))
    assert got == {"a": 1, "fclib_key": "k", "fclib_inputs": '{"stage": "s"}'}


def test_key_follows_parameters_parent_and_code_not_the_store(tmp_path, monkeypatch):
    pkg = tmp_path / "kx"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from kx import b\nfrom fclib import store\n\n\ndef f():\n"
                              "    return b.g()\n")
    (pkg / "b.py").write_text("def g():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    k0, inputs = store.artefact_key("kx.a", {"n": 1})
    assert inputs["stage"] == "kx.a" and inputs["params"] == {"n": 1}
    assert store.artefact_key("kx.a", {"n": 1})[0] == k0
    assert store.artefact_key("kx.a", {"n": 2})[0] != k0
    assert store.artefact_key("kx.a", {"n": 1}, parent="p")[0] != k0
    assert store.module_closure(["kx.a"]) == ["kx", "kx.a", "kx.b"]
    (pkg / "b.py").write_text("def g():\n    return 2\n")     # imported code changed
    assert store.artefact_key("kx.a", {"n": 1})[0] != k0
    # how a file is written and locked shapes no artefact: fclib.store is in no fingerprint
    closure = store.module_closure(["fclib.snn.mei"])
    assert "fclib.snn.mei" in closure and "fclib.store" not in closure


def test_default_data_dir_is_the_books_wherever_the_caller_runs(tmp_path, monkeypatch):
    root = Path(store.__file__).resolve().parents[1]      # the checkout holding fclib/
    monkeypatch.delenv("FCLIB_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    want = root / "data" if (root / "_config.yml").exists() else tmp_path / "data"
    assert store.default_data_dir() == want
    monkeypatch.setenv("FCLIB_DATA_DIR", str(tmp_path / "elsewhere"))
    assert store.default_data_dir() == tmp_path / "elsewhere"


def test_a_killed_writers_temporary_file_is_cleared_by_the_next_write(tmp_path):
    """A process killed mid-write leaves ``NAME.<pid>-<hex>.part``; the next write of the same
    file removes it (its process is gone), and leaves a live writer's file alone."""
    import subprocess
    import sys

    from fclib.store import atomic_write

    path = tmp_path / "a.nc"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    orphan = tmp_path / f"a.nc.{int(dead.stdout)}-deadbeef.part"
    orphan.write_text("half")
    live = tmp_path / "a.nc.1-cafecafe.part"   # pid 1 is alive
    live.write_text("busy")
    other = tmp_path / f"b.nc.{int(dead.stdout)}-deadbeef.part"
    other.write_text("another artefact's")
    with atomic_write(path) as tmp:
        tmp.write_text("whole")
    assert path.read_text() == "whole"
    assert not orphan.exists() and live.exists() and other.exists()


def test_fingerprints_find_module_files_without_importing_them():
    """``fclib book`` checks which chapters are current from their fingerprints: finding the
    files of fclib.figures, fclib.snn (torch) and the rest must not import them (it once took
    ~8 s of a cached rebuild), and must find what importlib would."""
    import importlib.util
    import pkgutil
    import subprocess
    import sys

    import fclib
    from fclib.store import _source_path

    names = ["fclib"] + [m.name for m in pkgutil.walk_packages(fclib.__path__, "fclib.")]
    names += ["fclib.stats.response.fit_relu", "fclib.nope", "numpy.linalg"]
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
            want = spec.origin if spec and spec.origin and spec.origin.endswith(".py") else None
        except (ImportError, ValueError):
            want = None
        assert _source_path(name) == want, name
    code = ("import sys, fclib.store as s; "
            "s.code_fingerprint(['fclib.figures', 'fclib.snn.train', 'fclib.pipeline.stages']); "
            "print(sorted(m for m in ('torch', 'fclib.figures', 'fclib.snn', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
