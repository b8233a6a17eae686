"""The `fclib` command line and how book parameters reach the chapters."""
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fclib import pipeline
from fclib.pipeline.book import (CHAPTER_DIR, EXECUTED_DIR, chapter_parameters, read_chapter,
                                 route_parameters)
from fclib.pipeline.stages import default_data_dir

ROOT = Path(__file__).resolve().parent.parent
DECLARED = {n: chapter_parameters(read_chapter(ROOT / CHAPTER_DIR / f"{n}.md"))
            for n in pipeline.CHAPTERS}


def test_every_chapter_declares_the_run_parameters():
    for name, names in DECLARED.items():
        assert {"profile", "data_dir", "overrides"} <= names, name


def test_profile_parameters_reach_every_chapter_and_chapter_parameters_their_own():
    routed = route_parameters({"profile": "smoke", "lr": 0.05, "epochs": 3, "threshold": 5.0},
                              DECLARED, ROOT)
    for name, p in routed.items():
        # lr is no chapter's own parameter: it reaches run() through overrides
        assert p["overrides"]["lr"] == 0.05 and p["profile"] == "smoke", name
        if "epochs" in DECLARED[name]:
            assert p["epochs"] == 3 and "epochs" not in p["overrides"]
        else:
            assert p["overrides"]["epochs"] == 3
        assert ("threshold" in p) == ("threshold" in DECLARED[name])
    assert any("threshold" in p for p in routed.values())


def test_unknown_parameter_is_an_error_before_anything_runs(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['nope'\]"):
        route_parameters({"profile": "smoke", "nope": 1}, DECLARED, ROOT)
    with pytest.raises(ValueError, match="unknown parameter"):
        route_parameters({"profile": "smoke", "overrides": {"threshold_typo": 1}}, DECLARED, ROOT)
    code = pipeline.main(["book", "--profile", "smoke", "--data-dir", str(tmp_path / "d"),
                          "--set", "nope=1"])
    assert code == 2 and "unknown parameter(s) ['nope']" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # nothing trained
    assert pipeline.main(["run", "--profile", "smoke", "--set", "threshold=5"]) == 2
    assert "unknown parameter(s) ['threshold']" in capsys.readouterr().err


def test_absolute_data_dir_reaches_chapters_as_a_relative_path(tmp_path):
    routed = route_parameters({"profile": "smoke", "data_dir": str(tmp_path / "d")}, DECLARED,
                              ROOT)
    for p in routed.values():
        assert not os.path.isabs(p["data_dir"])
        assert (ROOT / p["data_dir"]).resolve() == (tmp_path / "d").resolve()


def test_default_data_dir_is_the_books_wherever_the_command_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("FCLIB_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == ROOT / "data"
    monkeypatch.setenv("FCLIB_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"


def test_sttc_command_writes_the_pairs_of_a_layer_pair(smoke_run, tmp_path, capsys):
    r = smoke_run
    s, t = r.recording().layers[:2]
    out = tmp_path / "pairs.nc"
    assert pipeline.main(["sttc", str(r.recording_path()), "--source", s, "--target", t,
                          "-o", str(out)]) == 0
    assert f"{s}->{t}" in capsys.readouterr().out
    with xr.open_dataset(out) as got:
        ref = r.pairs(s, t)
        np.testing.assert_allclose(got["sttc"].values, ref["sttc"].values, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(got["z"].values > 4, ref["z"].values > 4)
    assert pipeline.main(["sttc", str(r.recording_path()), "--source", "L99", "--target", t,
                          "-o", str(tmp_path / "x.nc")]) == 2
    assert "no layer 'L99'" in capsys.readouterr().err and not (tmp_path / "x.nc").exists()
    assert pipeline.main(["sttc", str(tmp_path / "missing.nc"), "--source", s, "--target", t,
                          "-o", str(tmp_path / "y.nc")]) == 2


def test_chapter_cell_ids_are_stable_when_a_cell_is_inserted(tmp_path):
    src = (ROOT / CHAPTER_DIR / "03_response_functions.md").read_text()
    before = [c["id"] for c in read_chapter(ROOT / CHAPTER_DIR / "03_response_functions.md").cells]
    marker = "## Example neurons"
    assert marker in src
    edited = tmp_path / "ch.md"
    edited.write_text(src.replace(marker, "```{code-cell}\nx = 1\n```\n\n" + marker, 1))
    nb = read_chapter(edited)
    after = [c["id"] for c in nb.cells]
    assert len(after) == len(before) + 1 and len(set(after)) == len(after)
    assert [i for i in after if i in before] == before  # every old cell keeps its id
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "threshold" in chapter_parameters(nb)


def test_a_scheduler_that_does_not_answer_is_named(tmp_path, capsys, monkeypatch):
    from fclib.pipeline.cli import main
    from fclib.stats.distributed import connect

    # the refusal is under test, not dask's wait: the CLI's connect times out after 1 s
    monkeypatch.setitem(connect.__kwdefaults__, "timeout", 1.0)
    rc = main(["run", "--profile", "smoke", "--data-dir", str(tmp_path),
               "--scheduler", "tcp://127.0.0.1:9"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "tcp://127.0.0.1:9" in err and "within 1 s" in err
    assert not (tmp_path / "runs").exists()  # refused before anything ran


def test_every_neuron_groups_come_from_the_edge_list_and_equal_the_dense_path(smoke_run):
    from fclib.pipeline import run

    r = run("smoke", smoke_run.data_dir, sample="all", progress=False)
    assert r.train_key == smoke_run.train_key and r.record_key != smoke_run.record_key
    s, t = r.recording().layers[:2]
    g_all, g_dense = r.groups(s, t), smoke_run.groups(s, t)
    assert list((r.record_dir / "edges").glob(f"original_{s}-{t}_z4-*.nc"))
    assert not (r.record_dir / "pairs").exists()  # no dense matrix was made
    for v in ("target", "source"):
        np.testing.assert_array_equal(g_all[v].values, g_dense[v].values)
    np.testing.assert_allclose(g_all["z"].values, g_dense["z"].values, rtol=1e-5)  # float32
    np.testing.assert_array_equal(g_all["degree"].values, g_dense["degree"].values)


# ------------------------------------------------------------ your own data on the command line
@pytest.fixture(scope="module")
def own_populations():
    """Two populations of a simulated recording, binned with trials and stimuli."""
    import warnings

    from fclib.io import SpikeBinningWarning, bin_spikes
    from fclib.stats.simulate import simulate_recording

    sim = simulate_recording(n_units=30, n_stimuli=3, n_repeats=20, n_targets=3, rng=0)
    kw = dict(trial_onsets=sim["trial_onsets"], trial_stimulus=sim["trial_stimulus"],
              trial_duration=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikeBinningWarning)
        a = bin_spikes(sim["spike_times"][:18], 0.025, **kw)
        b = bin_spikes(sim["spike_times"][18:], 0.025, **kw)
    return a, b


def test_save_recording_round_trip_and_open_recording(own_populations, tmp_path):
    from fclib.io import load_recording, save_recording
    from fclib.io.recordings import open_recording

    a, b = own_populations   # 18 and 12 units: no one Dataset holds both (MergeError)
    path = save_recording({"A": a, "B": b}, tmp_path / "own.nc", attrs={"animal": "m1"})
    got = load_recording(path)
    assert list(got) == ["A", "B"]
    for name, x in (("A", a), ("B", b)):
        y = got[name]
        assert y.dtype == bool and y.attrs["T"] == 10 and y.attrs["layer"] == name
        np.testing.assert_array_equal(y.values, x.values)
        for c in x.coords:
            np.testing.assert_array_equal(y[c].values, x[c].values)
        for k, v in x.attrs.items():
            assert y.attrs[k] == v, k
    rec = open_recording(path)   # fclib's own reader takes it too
    assert rec.layers == ["A", "B"] and rec.T == 10 and rec.attrs["animal"] == "m1"
    np.testing.assert_array_equal(rec["B"].values.astype(bool), b.values)
    # a single bin_spikes DataArray saved by xarray reads back under its name
    a.rename("V1").to_netcdf(tmp_path / "one.nc")
    assert list(load_recording(tmp_path / "one.nc")) == ["V1"]


@pytest.mark.parametrize("populations, exc, match", [
    ("frames", ValueError, r"must share their frames .*'A': 600, 'B': 300"),
    ("counts", ValueError, r"population 'A' must hold 0/1 trains; found values \[2\]"),
    ("dims", ValueError, r"population 'A' must have dims \('neuron', 'frame'\)"),
    ("list", TypeError, "populations must be a non-empty dict"),
])
def test_save_recording_bad_input_leaves_no_file(own_populations, tmp_path, populations, exc,
                                                 match):
    from fclib.io import save_recording

    a, b = own_populations
    pops = {"frames": {"A": a, "B": b.isel(frame=slice(0, 300))},
            "counts": {"A": a.astype(int) * 2},
            "dims": {"A": a.rename(neuron="unit")},
            "list": [a, b]}[populations]
    with pytest.raises(exc, match=match):
        save_recording(pops, tmp_path / "x.nc")
    assert not list(tmp_path.iterdir())


def test_sttc_command_on_own_populations_every_method(own_populations, tmp_path, capsys):
    from fclib.io import save_recording
    from fclib.stats.connectivity import pair_significance

    a, b = own_populations
    path = save_recording({"A": a, "B": b}, tmp_path / "own.nc")
    for method in ("exact", "shifts", "stimulus"):
        out = tmp_path / f"{method}.nc"
        assert pipeline.main(["sttc", str(path), "--source", "A", "--target", "B", "-o",
                              str(out), "--method", method]) == 0, capsys.readouterr().err
        assert f"A->B ({method} null)" in capsys.readouterr().out
        kw = {"rng": 0, "n_shifts": 150} if method == "shifts" else {}
        ref = pair_significance(a.rename("A"), b.rename("B"), method, **kw)
        with xr.open_dataset(out) as got:
            np.testing.assert_allclose(got["z"].values, ref["z"].values, rtol=1e-5, atol=1e-6)


def _err(capsys) -> str:
    return capsys.readouterr().err


def test_sttc_command_names_what_it_cannot_read(own_populations, tmp_path, capsys):
    a, b = own_populations
    args = ["--source", "A", "--target", "B", "-o", str(tmp_path / "out.nc")]
    # an .npz of the trains
    np.savez(tmp_path / "own.npz", A=a.values, B=b.values)
    assert pipeline.main(["sttc", str(tmp_path / "own.npz"), *args]) == 2
    err = _err(capsys)
    assert "is a zip archive (.npz?), not a netCDF file" in err
    assert "fclib.io.save_recording" in err and "delete" not in err
    # one group per layer, written by hand, with other dims: named, not KeyError: 'spikes'
    path = tmp_path / "groups.nc"
    a.rename(neuron="unit", frame="bin").to_dataset(name="x").to_netcdf(path, group="A")
    b.to_dataset(name="y").to_netcdf(path, group="B", mode="a")
    assert pipeline.main(["sttc", str(path), *args]) == 2
    err = _err(capsys)
    assert "group 'A' of" in err and "no variable(s) with dims ('neuron', 'frame')" in err
    assert "x ('unit', 'bin')" in err and "KeyError" not in err
    # the same with the dims right reads, whatever the variables are called
    path2 = tmp_path / "groups2.nc"
    a.to_dataset(name="x").to_netcdf(path2, group="A")
    b.to_dataset(name="y").to_netcdf(path2, group="B", mode="a")
    assert pipeline.main(["sttc", str(path2), *args]) == 0
    capsys.readouterr()
    # --method stimulus on trains without trials
    from fclib.io import save_recording

    plain = save_recording({"A": a.drop_vars(["step", "stimulus", "image"]).assign_attrs(T=None),
                            "B": b}, tmp_path / "plain.nc")
    out = tmp_path / "stim.nc"
    assert pipeline.main(["sttc", str(plain), "--source", "A", "--target", "B", "-o", str(out),
                          "--method", "stimulus"]) == 2
    assert "layer 'A' of" in (err := _err(capsys)) and "--method stimulus needs trials" in err
    assert not out.exists()


# ------------------------------------------------------------ fclib book checks what it is given
def test_chapter_parameters_take_the_type_of_their_default():
    from fclib.pipeline.book import chapter_defaults

    defaults = {n: chapter_defaults(read_chapter(ROOT / CHAPTER_DIR / f"{n}.md"))
                for n in pipeline.CHAPTERS}
    assert defaults["02_pairwise_correlations"]["threshold"] == 4.0
    five = route_parameters({"profile": "smoke", "threshold": 5}, defaults, ROOT)
    five_f = route_parameters({"profile": "smoke", "threshold": 5.0}, defaults, ROOT)
    assert five == five_f   # one value, so one stamp: nothing re-executes for 5 vs 5.0
    assert all(type(p["threshold"]) is float for p in five.values() if "threshold" in p)
    with pytest.raises(ValueError, match=r"threshold \(chapter \w+ declares threshold = 4.0\) "
                       r"must be a number, got 'abc' \(str\)"):
        route_parameters({"profile": "smoke", "threshold": "abc"}, defaults, ROOT)
    with pytest.raises(ValueError, match=r"n_shifts .* must be an integer, got 150.5"):
        route_parameters({"profile": "smoke", "n_shifts": 150.5}, defaults, ROOT)
    assert route_parameters({"profile": "smoke", "n_shifts": 300.0}, defaults,
                            ROOT)["02_pairwise_correlations"]["n_shifts"] == 300


def test_book_refuses_a_mistyped_or_misspelt_parameter_before_anything_runs(tmp_path, capsys):
    d = tmp_path / "d"
    assert pipeline.main(["book", "--profile", "smoke", "--data-dir", str(d),
                          "--set", "threshold=abc"]) == 2
    err = capsys.readouterr().err
    assert "threshold (chapter" in err and "must be a number, got 'abc' (str)" in err
    assert "Traceback" not in err and not d.exists()   # nothing trained
    assert pipeline.main(["book", "--profile", "smoke", "--data-dir", str(d),
                          "--set", "treshold=5"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter(s) ['treshold'] ('treshold': did you mean 'threshold'?)" in err
    assert not d.exists()


_BOOK_SCRIPT = """
import sys
from pathlib import Path
import fclib.pipeline.book as book
import fclib.pipeline.cli as cli
book.CHAPTERS[:] = ["a", "b"]             # the same list object the CLI reads
cli.run = lambda *a, **k: None            # no training: the chapters are the subject
cli._report_run = lambda r: None
cli.build_book = lambda root: Path(root) / "index.html"
sys.exit(cli.main(["book", "--root", sys.argv[1], "--jobs", sys.argv[2], *sys.argv[3:]]))
"""

_PARAMETERS = '''```{{code-cell}}
:tags: [parameters]

profile = "default"
data_dir = None
overrides = {{}}
{extra}
```

```{{code-cell}}
{body}
```
'''


def _tiny_book(root: Path) -> None:
    (root / CHAPTER_DIR).mkdir(parents=True)
    (root / "_config.yml").write_text("title: tiny\n")
    (root / CHAPTER_DIR / "a.md").write_text(_PARAMETERS.format(
        extra="nap = 0.0", body="import time\ntime.sleep(nap / 2)"))
    (root / CHAPTER_DIR / "b.md").write_text(_PARAMETERS.format(
        extra="nap = 0.0", body="import time\ntime.sleep(nap)"))


def _book_process(root, jobs, *sets):
    import signal
    import subprocess
    import sys

    cmd = [sys.executable, "-c", _BOOK_SCRIPT, str(root), str(jobs)]
    if sets:
        cmd += ["--set", *sets]
    # SIGINT at its default even where this test runs as a background job (a shell without
    # job control starts those with SIGINT ignored, and Python then installs no handler)
    return subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
@pytest.mark.parametrize("jobs, sig", [(2, "SIGTERM"), (1, "SIGINT")])
def test_book_progress_stamps_and_an_interruption_summary(tmp_path, jobs, sig):
    import signal
    import time

    root = tmp_path / "book"
    _tiny_book(root)
    chapters = root / EXECUTED_DIR  # the executed chapters and their .part files
    p = _book_process(root, jobs)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "[fclib] 2 of 2 chapters to execute" in out
    assert "(1/2 executed, about" in out and "(2/2 executed)" in out
    assert "without encryption" not in err + out          # the kernel's TCP warning
    # nap=0 is the default 0.0: one stamp, nothing to execute
    p = _book_process(root, jobs, "nap=0")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0 and "0 of 2 chapters to execute (all current)" in out, err
    # a long nap, interrupted while the chapters run (side by side with --jobs 2)
    p = _book_process(root, jobs, "nap=900")  # never ends by itself within the timeouts
    t0 = time.time()
    while not (chapters / "a.part.ipynb").exists() and time.time() - t0 < 90:
        time.sleep(0.2)
    assert (chapters / "a.part.ipynb").exists(), p.communicate(timeout=5)
    time.sleep(1.0)
    p.send_signal(getattr(signal, sig))
    out, err = p.communicate(timeout=240)  # kernels shut down slowly on a loaded machine
    assert "2 of 2 chapters to execute" in out
    assert p.returncode == 130, err
    assert "interrupted: 0/2 chapters current, the HTML not rebuilt" in err
    assert "Traceback" not in err, err
    assert not list(chapters.glob("*.part*")), list(chapters.iterdir())
    assert not list((root / CHAPTER_DIR).glob("*.ipynb")), "nothing is written beside the sources"
