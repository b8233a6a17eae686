import numpy as np
"""The spine end to end on the smoke profile: stages, cache, notebooks and the book."""
import shutil
from pathlib import Path

import pytest

from fclib import pipeline
from fclib.io.recordings import open_recording

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_run_makes_model_and_recording(smoke_run):
    r = smoke_run
    assert r.model_path.exists() and r.recording_path().exists()
    # run() trained and recorded (other tests of the session may add later stages' timings)
    assert {"train", "record original"} <= set(r.timings)
    rec = open_recording(r.recording_path())
    assert rec.n_frames == r.cfg["n_presentations"] * r.cfg["T"]
    assert rec.attrs["profile"] == "smoke" and rec.attrs["train_key"] == r.train_key
    assert len(r.history) == r.cfg["epochs"]
    assert not list(r.record_dir.glob("*.part"))


def test_second_run_reuses_every_artefact(smoke_run):
    again = pipeline.run("smoke", smoke_run.data_dir, progress=False)
    assert again.timings == {}
    assert again.train_key == smoke_run.train_key and again.record_key == smoke_run.record_key
    # a recording parameter makes a new recording key but reuses the model
    other = pipeline.run("smoke", smoke_run.data_dir, n_presentations=20, progress=False)
    assert other.train_key == smoke_run.train_key and other.record_key != smoke_run.record_key
    assert set(other.timings) == {"record original"}
    assert open_recording(other.recording_path()).n_frames == 80


def test_cli_reports_bad_profile(capsys):
    assert pipeline.main(["run", "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert pipeline.main(["run", "--profile", "smoke", "--set", "epochs='2'"]) == 2
    assert "epochs must be int" in capsys.readouterr().err


def test_notebooks_execute_and_book_builds(smoke_run, smoke_book):
    book_root, params, times = smoke_book
    assert set(times) == set(pipeline.CHAPTERS) and all(t > 0 for t in times.values())
    assert (book_root / "_build/html/index.html").exists()
    for name in pipeline.CHAPTERS:  # what each chapter shows is tested in test_chapters_*.py
        html = (book_root / f"_build/html/book/chapters/{name}.html").read_text()
        assert "<img" in html and "{glue" not in html, name
    # the layer-pair results, groups and responses are cached next to the recording, under
    # the keys the run computes for them (the default null, all frames)
    layers = smoke_run.recording().layers
    for s, t in zip(layers[:-1], layers[1:]):
        assert list((smoke_run.record_dir / "pairs").glob(f"original_{s}-{t}-{smoke_run.pairs_key(s, t)[0]}.nc"))
        assert list((smoke_run.record_dir / "groups").glob(f"{s}-{t}_z4-{smoke_run.groups_key(s, t)[0]}.nc"))
        assert list((smoke_run.record_dir / "groups").glob(f"permuted_{s}-{t}_z4-*.nc"))
        assert list((smoke_run.record_dir / "response").glob(f"original_{s}-{t}_z4_*.nc"))
    # unchanged notebooks, parameters and code: nothing is executed again
    again = pipeline.execute_notebooks(book_root, params, progress=False)
    assert all(t == 0.0 for t in again.values())


def test_wrong_parameter_type_stops_notebook_and_leaves_nothing(smoke_run, tmp_path):
    root = tmp_path
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("*.ipynb"))
    params = {"profile": "smoke", "data_dir": str(smoke_run.data_dir), "epochs": "three"}
    with pytest.raises(Exception, match="epochs must be int"):
        pipeline.execute_notebooks(root, params, progress=False)
    assert not list((root / "book" / "chapters").glob("*.ipynb"))
    assert not list((root / "_build" / "chapters").glob("*.ipynb"))


def test_paper_profile_dry_run_through_the_pipeline(tmp_path):
    """The paper profile's own code path (CIFAR-100 archive -> SEW-ResNet18 -> 16 layers)
    on a generated archive in the official format, with tiny sizes."""
    from conftest import make_cifar_archive

    make_cifar_archive(tmp_path / "cifar", "cifar100", n_train=8, n_test=4)
    r = pipeline.run("paper", tmp_path / "data", cifar_root=str(tmp_path / "cifar"),
                     verify_md5=False, epochs=1, batch_size=4, n_presentations=4,
                     record_batch=2, progress=False)
    rec = r.recording()
    assert rec.layers == [f"L{i}" for i in range(1, 17)]
    assert [rec[n].sizes["neuron"] for n in rec.layers] == [7744] * 4 + [8192] * 4 + [9216] * 4 + [8192] * 4
    assert rec.n_frames == 16 and rec.attrs["profile"] == "paper"
    assert r.summary["arch"]["widths"] == [64, 128, 256, 512]
    assert r.summary["n_train"] == 8 and len(r.summary["class_names"]) == 100
    with pytest.raises(ValueError, match="MD5"):
        pipeline.run("paper", tmp_path / "data2", cifar_root=str(tmp_path / "cifar"),
                     epochs=1, progress=False)
    assert not (tmp_path / "data2" / "runs").exists() or not any((tmp_path / "data2" / "runs").rglob("*.pt"))


def test_conditions_are_recorded_and_mismatches_refused(smoke_run):
    existed = {c: smoke_run.recording_path(c).exists() for c in ("noise", "fgsm")}
    r = pipeline.run("smoke", smoke_run.data_dir, conditions=("noise", "fgsm"), progress=False)
    # recorded here unless chapter 10 of the smoke book recorded it earlier in the session
    assert set(r.timings) == {f"record {c}" for c, was in existed.items() if not was}
    assert r.recording_path("noise").exists() and r.recording_path("fgsm").exists()
    assert pipeline.run("smoke", smoke_run.data_dir, conditions=("noise",), progress=False).timings == {}
    noise, orig = r.recording("noise"), r.recording("original")
    assert noise.attrs["condition"] == "noise" and noise.n_frames == orig.n_frames
    assert r.recording_path("noise").name == f"noise-a{r.cfg['noise_amplitude']:g}.nc"
    # the noisy presentations change the spikes; the frames and neurons are the same
    assert (noise["L1"].values != orig["L1"].values).any()
    ds = r.response("L1", "L2", "noise")
    assert ds.attrs["condition"] == "noise" and ds.sizes["neuron"] == r.response("L1", "L2").sizes["neuron"]
    assert 0 <= r.accuracy("fgsm") <= r.accuracy("original")
    # FGSM on 3 of the 10 classes: the others are presented clean, and only attacked
    # frames enter the analysis of that condition
    sub = pipeline.run("smoke", smoke_run.data_dir, conditions=("fgsm",), fgsm_classes=3,
                       progress=False)
    assert sub.record_dir == r.record_dir and sub.recording_path("fgsm").name.endswith("-c3.nc")
    fg = sub.recording("fgsm")
    attacked = np.asarray(fg.attrs["attacked_classes"])
    labels = fg["L1"]["label"].values
    frames = sub.analysed_frames("fgsm")
    np.testing.assert_array_equal(frames, np.flatnonzero(np.isin(labels, attacked)))
    clean = np.setdiff1d(np.arange(fg.n_frames), frames)
    assert len(attacked) == 3 and 0 < len(frames) < fg.n_frames
    np.testing.assert_array_equal(fg["L2"].values[:, clean], orig["L2"].values[:, clean])
    assert (fg["L2"].values[:, frames] != orig["L2"].values[:, frames]).any()
    sub_ds = sub.response("L1", "L2", "fgsm")
    assert (sub_ds["n_frames"].sum("cofiring") == len(frames)).all()
    assert sub.analysed_frames("noise") is None and r.analysed_frames("fgsm") is None
    # a recording with other frames is refused under a condition's name
    other = pipeline.run("smoke", smoke_run.data_dir, n_presentations=20, progress=False)
    shutil.copy(other.recording_path(), r.record_dir / "permuted.nc")
    with pytest.raises(ValueError, match="frames"):
        r.recording("permuted")
    (r.record_dir / "permuted.nc").unlink()


def test_information_is_cached_and_equals_the_direct_computation(smoke_run, monkeypatch):
    import fclib.stats.information as fi

    r = smoke_run
    layer = r.recording().layers[-1]
    got = r.information(layer)
    [path] = (r.record_dir / "information").glob(f"original_{layer}_s20-*.nc")
    assert got.attrs.get("fclib_key") and got.attrs["fclib_key"] in path.name
    direct = fi.information(r.recording()[layer], r.recording().T, n_shuffles=20, rng=r.cfg["seed"],
                            n_classes=len(r.split().class_names))
    for v in ("mi", "mi_corrected", "preferred", "entropy"):
        np.testing.assert_allclose(got[v].values, direct[v].values, rtol=0, atol=1e-12)
    monkeypatch.setattr(fi, "information", lambda *a, **k: pytest.fail("recomputed"))
    assert r.information(layer)["mi"].equals(got["mi"])


def test_code_fingerprint_ignores_docstrings_and_comments(tmp_path, monkeypatch):
    from fclib.pipeline.cache import code_fingerprint, module_fingerprint

    pkg = tmp_path / "fpx"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text('"""Doc."""\nfrom fpx import b\n\n\ndef f(x):\n    """Doc."""\n    return b.g(x) + 1\n')
    (pkg / "b.py").write_text("def g(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    a0, closure0 = module_fingerprint("fpx.a"), code_fingerprint(["fpx.a"])
    (pkg / "a.py").write_text('"""Other words."""\nfrom fpx import b  # a comment\n\n\n'
                              'def f(x):\n    """Also other words."""\n\n    return b.g(x) + 1\n')
    assert module_fingerprint("fpx.a") == a0 and code_fingerprint(["fpx.a"]) == closure0
    (pkg / "b.py").write_text("def g(x):\n    return 3 * x\n")  # an imported module's code
    assert module_fingerprint("fpx.a") == a0 and code_fingerprint(["fpx.a"]) != closure0
    # but fclib's own stages: the pairs' code is the null's, not the groups'
    from fclib.pipeline.cache import stage_closure

    pairs = stage_closure("pairs")
    assert "fclib.stats.nulls" in pairs and "fclib.stats.sttc" in pairs
    assert "fclib.stats.groups" not in pairs and not any(m.startswith("fclib.snn") for m in pairs)
    assert "fclib.stats.groups" in stage_closure("response")


def test_changed_stage_code_recomputes_that_stage_and_dependants_only(smoke_run, monkeypatch):
    import json

    import fclib.store as store

    r = smoke_run
    s, t = r.recording().layers[:2]
    r.response(s, t)  # pairs, groups and response exist now
    files = {d: set((r.record_dir / d).glob("original_*.nc" if d != "groups" else "L*.nc"))
             for d in ("pairs", "groups", "response")}
    g_path = r.record_dir / "groups" / f"{s}-{t}_z4-{r.groups_key(s, t)[0]}.nc"
    assert g_path in files["groups"]
    assert open_recording(r.recording_path()).attrs["fclib_inputs"]["stage"] == "record"
    import xarray as xr

    with xr.open_dataset(g_path) as g:
        inputs = json.loads(g.attrs["fclib_inputs"])
    assert inputs["stage"] == "groups" and inputs["params"] == {"threshold": 4.0}
    assert inputs["parent"] == r.pairs_key(s, t)[0] and g.attrs["fclib_key"] in g_path.name
    model_mtime = r.model_path.stat().st_mtime_ns
    rec_mtime = r.recording_path().stat().st_mtime_ns

    real = store.module_fingerprint
    monkeypatch.setattr(store, "module_fingerprint",
                        lambda name: real(name) + ("changed" if name == "fclib.stats.groups" else ""))
    again = pipeline.run("smoke", r.data_dir, progress=False)
    assert again.timings == {} and again.train_key == r.train_key  # nothing upstream
    assert again.record_key == r.record_key
    again.response(s, t)
    assert set(again.timings) == {f"response original {s}-{t}"}  # pairs were not recomputed
    new = {d: set((r.record_dir / d).glob("original_*.nc" if d != "groups" else "L*.nc"))
           for d in ("pairs", "groups", "response")}
    assert new["pairs"] == files["pairs"]
    assert len(new["groups"] - files["groups"]) == 1 and len(new["response"] - files["response"]) == 1
    assert r.model_path.stat().st_mtime_ns == model_mtime
    assert r.recording_path().stat().st_mtime_ns == rec_mtime


def test_cross_validated_response_measures_every_frame_once_on_the_other_halfs_groups(smoke_run):
    r = smoke_run
    s, t = r.recording().layers[:2]
    cv = r.response(s, t, cross_validate=True)
    ins = r.response(s, t)
    n = r.recording().n_frames
    assert cv.attrs["cross_validated"] == 1 and ins.attrs["cross_validated"] == 0
    np.testing.assert_array_equal(cv["n_frames"].sum("cofiring").values, n)  # both folds: all frames
    np.testing.assert_array_equal(cv["batch_n_frames"].sum(("batch", "cofiring")).values, n)
    np.testing.assert_array_equal(cv["neuron"].values, ins["neuron"].values)
    g0, g1 = (r.groups(s, t, half=f) for f in (0, 1))
    np.testing.assert_array_equal(cv["degree"].values,
                                  np.rint((g0["degree"].values + g1["degree"].values) / 2))
    # fold 0's groups are measured only on images of half 1
    a, b = r.half_frames(0), r.half_frames(1)
    images = r.recording()[s]["image"].values
    assert not set(images[a]) & set(images[b]) and a.size + b.size == n
