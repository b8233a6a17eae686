"""A teacher's artefact bundle: `fclib export` on one data folder, `fclib import` into another,
and every way a bundle can be refused (fclib.pipeline.bundle)."""
import io
import json
import tarfile

import pytest
import xarray as xr

from fclib.pipeline import run
from fclib.pipeline.bundle import (MANIFEST, STAGE_PARENT, BundleError, export_bundle,
                                   import_bundle, read_manifest, stages_to_recompute)
from fclib.pipeline.cache import STAGE_MODULES
from fclib.pipeline.cli import main

LAYERS = ("L1", "L2")


@pytest.fixture(scope="module")
def bundle(smoke_run_core, tmp_path_factory):
    """The session's smoke run with one pairs result cached, exported through the CLI.

    Every test here moves the run as :func:`smoke_run_core` holds it (trained and recorded,
    without what the smoke book adds to the session's folder), as a participant's would: what
    they check (manifest, checksums, import, what is recomputed) does not depend on how many
    more artefacts a run holds, and its bundles are a few MB, not hundreds."""
    smoke_run_core.pairs(*LAYERS)
    out = tmp_path_factory.mktemp("bundle") / "smoke.tar.gz"
    assert main(["export", "smoke", "-o", str(out),
                 "--data-dir", str(smoke_run_core.data_dir)]) == 0
    return out


def _rewrite(src, dst, edit, append=None):
    """Copy the bundle ``src`` to ``dst`` member by member through ``edit(name, data)``,
    which returns the new bytes or ``None`` to drop the member; then add ``append``
    (name -> bytes)."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz", compresslevel=1) as tout:
        for m in tin:
            data = edit(m.name, tin.extractfile(m).read())
            if data is not None:
                m.size = len(data)
                tout.addfile(m, io.BytesIO(data))
        for name, data in (append or {}).items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tout.addfile(ti, io.BytesIO(data))
    return dst


def _edit_manifest(fn):
    def edit(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        fn(manifest)
        return json.dumps(manifest).encode()
    return edit


def test_manifest_names_the_run_its_code_and_every_file(bundle, smoke_run_core):
    m = read_manifest(bundle)
    assert m["profile"] == "smoke" and m["overrides"] == {}
    assert m["stages"]["train"]["key"] == smoke_run_core.train_key
    assert m["stages"]["record"]["key"] == smoke_run_core.record_key
    assert m["stages"]["train"]["inputs"]["code"] == m["code"]["train"]
    assert set(m["code"]) == set(STAGE_MODULES)
    names = {e["path"] for e in m["files"]}
    assert f"runs/{smoke_run_core.train_key}/model.pt" in names
    assert f"runs/{smoke_run_core.train_key}/summary.json" in names
    assert any(n.startswith(f"runs/{smoke_run_core.record_key}/pairs/") for n in names)
    assert m["total_size"] == sum(e["size"] for e in m["files"])
    assert all(len(e["sha256"]) == 64 for e in m["files"])
    assert not any(n.endswith((".part", ".lock", ".tmp")) for n in names)


def test_round_trip_skips_training_and_recording_and_reads_the_same_pairs(bundle, smoke_run_core,
                                                                          tmp_path):
    other = tmp_path / "participant"
    report = import_bundle(bundle, other)
    assert report.changed == [] and report.recompute == [] and report.kept == 0
    assert "will reuse the model and the recording" in str(report)
    r = run("smoke", other, progress=False)
    assert r.timings == {}  # nothing trained, nothing recorded
    xr.testing.assert_identical(r.pairs(*LAYERS), smoke_run_core.pairs(*LAYERS))
    assert r.timings == {}  # the pairs were read, not computed
    assert not [p for p in other.iterdir() if p.name.startswith(".import-")]
    # a second import of the same bundle keeps what is there
    again = import_bundle(bundle, other)
    assert again.placed == 0 and again.kept == report.placed


def test_a_run_folder_exports_with_its_profile(bundle, smoke_run_core, tmp_path):
    out = tmp_path / "folder.tar.gz"
    m = export_bundle(str(smoke_run_core.train_dir), out)
    assert m["profile"] == "smoke" and m["overrides"] == {}
    assert {e["path"]: e["sha256"] for e in m["files"]} == \
        {e["path"]: e["sha256"] for e in read_manifest(bundle)["files"]}


def test_export_of_a_run_not_made_says_how_to_make_it(smoke_run_core, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"fclib run --profile smoke --set epochs=2"):
        export_bundle("smoke", tmp_path / "b.tar.gz", data_dir=smoke_run_core.data_dir,
                      overrides={"epochs": 2})
    with pytest.raises(FileNotFoundError, match="neither a profile"):
        export_bundle("no-such-thing", tmp_path / "b.tar.gz", data_dir=smoke_run_core.data_dir)
    assert list(tmp_path.iterdir()) == []


def _bad_bundles(bundle, tmp_path):
    """``(path, message)`` of each way a bundle goes bad: a byte changed, a member dropped, a
    member added, the file cut short, not a tar at all."""
    tmp_path.mkdir(exist_ok=True)
    m = read_manifest(bundle)
    model = next(e["path"] for e in m["files"] if e["path"].endswith("/model.pt"))
    summary = next(e["path"] for e in m["files"] if e["path"].endswith("/summary.json"))
    extra = f"runs/{m['stages']['train']['key']}/extra.txt"

    def flip(name, data):
        return bytes([data[0] ^ 1]) + data[1:] if name == model else data

    def drop(name, data):
        return None if name == summary else data

    with_extra = _rewrite(bundle, tmp_path / "extra.tar.gz", lambda name, data: data,
                          append={extra: b"hi"})
    cut = tmp_path / "truncated.tar.gz"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    not_tar = tmp_path / "not-a-tar.tar.gz"
    not_tar.write_bytes(b"this is not a bundle\n" * 100)
    return [
        (_rewrite(bundle, tmp_path / "checksum.tar.gz", flip), f"{model} fails its checksum"),
        (_rewrite(bundle, tmp_path / "missing.tar.gz", drop),
         f"{summary} listed in the manifest is missing"),
        (with_extra, f"{extra} is not listed in the manifest"),
        (cut, "truncated or corrupt"),
        (not_tar, r"not a bundle of fclib: not a \(gzip\) tar archive"),
    ]


@pytest.fixture(scope="module")
def bad_bundles(bundle, tmp_path_factory):
    """The bad bundles of :func:`_bad_bundles`, written once for the module's tests."""
    return _bad_bundles(bundle, tmp_path_factory.mktemp("bad"))


def test_bad_bundles_are_refused_naming_the_member_and_leave_nothing(bad_bundles, tmp_path):
    for path, message in bad_bundles:
        target = tmp_path / f"into-{path.stem}"
        with pytest.raises(BundleError, match=message):
            import_bundle(path, target)
        assert list(target.iterdir()) == [], path.name  # no runs/, no temporary folder


def test_truncated_bundle_names_the_member_it_stops_in(bundle, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    with pytest.raises(BundleError) as e:
        import_bundle(cut, tmp_path / "d")
    names = {x["path"] for x in read_manifest(bundle)["files"]}
    assert any(n in str(e.value) for n in names), str(e.value)


def test_cli_import_of_a_bad_bundle_exits_2_naming_it(bad_bundles, tmp_path, capsys):
    path, message = bad_bundles[0]
    assert main(["import", str(path), "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fails its checksum" in err and "model.pt" in err


def test_other_code_for_an_analysis_stage_recomputes_it_and_what_is_built_on_it(bundle,
                                                                                 tmp_path):
    other = _rewrite(bundle, tmp_path / "pairs.tar.gz",
                     _edit_manifest(lambda m: m["code"].update(pairs="0" * 16)))
    report = import_bundle(other, tmp_path / "d")
    assert report.changed == ["pairs"]
    assert report.recompute == ["pairs", "groups", "edges", "response", "ensembles"]
    text = str(report)
    assert "differs from the installed fclib's for the stages pairs" in text
    assert "will recompute pairs, groups, edges, response, ensembles" in text
    assert "model and the recordings are reused" in text


def test_other_training_code_says_training_and_recording_run_again(bundle, tmp_path):
    other = _rewrite(bundle, tmp_path / "train.tar.gz",
                     _edit_manifest(lambda m: m["code"].update(train="0" * 16)))
    report = import_bundle(other, tmp_path / "d")
    assert report.changed == ["train"]
    assert report.recompute[:3] == ["train", "record", "embeddings"]
    assert set(report.recompute) == set(STAGE_MODULES)
    assert "training and recording run again" in str(report)


def test_a_different_run_under_the_same_key_is_a_conflict_not_overwritten(bundle, tmp_path):
    m = read_manifest(bundle)
    tk, rk = m["stages"]["train"]["key"], m["stages"]["record"]["key"]
    mine = tmp_path / "d" / "runs" / tk / "model.pt"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"a model trained here")
    with pytest.raises(FileExistsError, match=f"runs/{tk}/model.pt"):
        import_bundle(bundle, tmp_path / "d")
    assert mine.read_bytes() == b"a model trained here"
    assert not (tmp_path / "d" / "runs" / rk).exists()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["runs"]


def test_stage_parents_name_every_stage():
    assert set(STAGE_PARENT) == set(STAGE_MODULES)
    assert all(p is None or p in STAGE_PARENT for p in STAGE_PARENT.values())
    assert stages_to_recompute(["record"]) == ["record", "accuracy", "pairs", "information",
                                               "groups", "edges", "response", "ensembles"]
    assert stages_to_recompute([]) == []


@pytest.mark.slow
def test_a_chapter_after_import_shows_the_exporting_builds_numbers(smoke_run_core, tmp_path):
    """The teacher executes chapter 3 and exports the run; a participant imports the bundle
    into an empty data folder and executes the same chapter: nothing is trained or recorded,
    and every number the chapter glues equals the teacher's."""
    from fclib.pipeline.book import ROOT as BOOK_ROOT, execute_notebooks
    from fclib.pipeline.claims import notebook_values

    chapter = "03_response_functions"

    def execute(data_dir, where):
        (where / "book" / "chapters").mkdir(parents=True)
        (where / "book" / "chapters" / f"{chapter}.md").write_bytes(
            (BOOK_ROOT / "book" / "chapters" / f"{chapter}.md").read_bytes())
        execute_notebooks(where, {"profile": "smoke", "data_dir": str(data_dir)},
                          notebooks=[chapter], progress=False)
        return notebook_values(where / "_build" / "chapters" / f"{chapter}.ipynb")

    teacher = execute(smoke_run_core.data_dir, tmp_path / "teacher")
    out = tmp_path / "after-chapter.tar.gz"
    export_bundle("smoke", out, data_dir=smoke_run_core.data_dir)
    other = tmp_path / "participant"
    assert import_bundle(out, other).recompute == []

    def files():
        return {p: p.stat().st_mtime_ns for p in (other / "runs").rglob("*")
                if p.is_file() and ".locks" not in p.parts}

    made = files()
    participant = execute(other, tmp_path / "participant-book")
    # nothing trained, recorded or computed: no file of the run is new or rewritten
    assert files() == made
    assert teacher and participant == teacher
