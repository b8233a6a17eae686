"""notebooks/ holds every chapter and workshop page as a plain .ipynb, generated from its MyST
source (`make notebooks`, fclib.pipeline.notebooks), without outputs, with the parameters
cell papermill needs, behind one cell that installs fclib only where it is missing (Colab)."""
import json
import subprocess
import sys
import types
from pathlib import Path

import jupytext
import nbformat
import pytest

from fclib.pipeline.book import CHAPTERS
from fclib.pipeline.notebooks import (WORKSHOP, install_cell, notebook_sources,
                                      participant_notebook, repository)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = notebook_sources(ROOT)
IDS = [p.relative_to("notebooks").as_posix() for p in SOURCES]


def _cells(nb):
    """What a reader sees and papermill reads: each cell's type, source and tags (ids,
    kernelspec and other metadata are left out)."""
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def test_one_notebook_per_page_and_nothing_else():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(CHAPTERS), \
        "notebooks/ and fclib.pipeline.book.CHAPTERS differ: run `make notebooks`"
    assert sorted(p.stem for p in (NOTEBOOKS / "workshop").glob("*.ipynb")) == sorted(WORKSHOP), \
        "notebooks/workshop/ and fclib.pipeline.notebooks.WORKSHOP differ: run `make notebooks`"
    assert sorted(p.stem for p in (ROOT / "book" / "workshop").glob("*.md")) == sorted(WORKSHOP)


@pytest.mark.parametrize("nb_path", list(SOURCES), ids=IDS)
def test_notebook_is_what_its_myst_source_gives(nb_path):
    path = ROOT / nb_path
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    source = jupytext.read(str(ROOT / SOURCES[nb_path]), fmt="md:myst")
    fix = (f"{nb_path} differs from {SOURCES[nb_path]} (the source): run `make notebooks` and "
           "commit notebooks/")
    assert _cells(nb)[0] == _cells(nbformat.v4.new_notebook(cells=[install_cell(ROOT)]))[0], fix
    assert _cells(nb)[1:] == _cells(source), fix
    assert nb == participant_notebook(ROOT / SOURCES[nb_path], ROOT), fix  # ids, hidden cells


@pytest.mark.parametrize("nb_path", list(SOURCES), ids=IDS)
def test_notebook_has_no_outputs_and_a_parameters_cell(nb_path):
    raw = json.loads((ROOT / nb_path).read_text())
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), nb_path
    assert code[0]["metadata"]["tags"] == ["install"]
    assert "parameters" in code[1]["metadata"].get("tags", []), \
        f"the first code cell of {nb_path} after the install cell is not tagged parameters"
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    assert "jupytext" not in raw["metadata"]


def test_notebooks_are_tracked_by_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert sorted(p for p in tracked if p.endswith(".ipynb")) == \
        sorted(p.as_posix() for p in SOURCES)


def _run_install_cell(monkeypatch, fclib_importable: bool) -> list:
    """Execute the install cell's source with pip replaced by a recorder; ``fclib`` importable
    or not. Returns the commands it would have run."""
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda cmd, *a, **k: calls.append(cmd) or 0)
    if fclib_importable:
        monkeypatch.setitem(sys.modules, "fclib", sys.modules["fclib"])
    else:  # the first import fails as on Colab; after "pip install" it succeeds
        state = {"installed": False}
        real_import = __builtins__["__import__"] if isinstance(__builtins__, dict) \
            else __builtins__.__import__

        def fake_import(name, *a, **k):
            if name == "fclib" and not state["installed"]:
                raise ImportError("No module named 'fclib'")
            return real_import(name, *a, **k)

        def fake_pip(cmd, *a, **k):
            calls.append(cmd)
            state["installed"] = True
            return 0

        monkeypatch.setattr(subprocess, "check_call", fake_pip)
        monkeypatch.setitem(__builtins__ if isinstance(__builtins__, dict)
                            else vars(__builtins__), "__import__", fake_import)
    exec(compile(install_cell(ROOT).source, "<install cell>", "exec"),
         {"__name__": "__main__", "__builtins__": __builtins__})
    return calls


def test_install_cell_does_nothing_where_fclib_is_installed(monkeypatch):
    assert _run_install_cell(monkeypatch, fclib_importable=True) == []


def test_install_cell_installs_fclib_from_the_book_repository_where_it_is_missing(monkeypatch):
    calls = _run_install_cell(monkeypatch, fclib_importable=False)
    url, branch = repository(ROOT)
    assert len(calls) == 2 and all(c[:4] == [sys.executable, "-m", "pip", "install"]
                                   for c in calls)
    assert f"fclib @ git+{url}@{branch}" in calls[0] and "myst-nb" in calls[0]
    assert calls[1][-2:] == ["--no-deps", "spikingjelly==2.0.0"]
    # the same spikingjelly as `make setup` and Binder
    assert "spikingjelly==2.0.0" in (ROOT / "Makefile").read_text()
    assert "spikingjelly==2.0.0" in (ROOT / "binder" / "postBuild").read_text()


def test_workshop_solutions_come_collapsed():
    for name in WORKSHOP:
        nb = nbformat.read(NOTEBOOKS / "workshop" / f"{name}.ipynb", as_version=4)
        tags = [(c.metadata.get("tags", []), c.metadata.get("jupyter", {})) for c in nb.cells
                if c.cell_type == "code"]
        assert any("solution" in t for t, _ in tags), name
        for t, meta in tags:
            assert meta.get("source_hidden", False) == ("solution" in t), (name, t)
