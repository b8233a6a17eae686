"""notebooks/ holds every chapter as a plain .ipynb, generated from its MyST source
(`make notebooks`), without outputs, with the parameters cell papermill needs."""
import json
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest

from fclib.pipeline.book import CHAPTER_DIR, CHAPTERS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _cells(nb):
    """What a reader sees and papermill reads: each cell's type, source and tags (ids,
    kernelspec and other metadata are left out)."""
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def test_one_notebook_per_chapter_and_nothing_else():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(CHAPTERS), \
        "notebooks/ and fclib.pipeline.book.CHAPTERS differ: run `make notebooks`"


@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_is_what_its_myst_source_gives(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    source = jupytext.read(str(ROOT / CHAPTER_DIR / f"{name}.md"), fmt="md:myst")
    assert _cells(nb) == _cells(source), (
        f"{path.relative_to(ROOT)} differs from {CHAPTER_DIR / name}.md (the source): run "
        "`make notebooks` and commit notebooks/")


@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_has_no_outputs_and_a_parameters_cell(name):
    raw = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), name
    assert "parameters" in code[0]["metadata"].get("tags", []), \
        f"the first code cell of {name} is not tagged parameters (papermill needs it)"
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


def test_notebooks_are_tracked_by_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert sorted(Path(p).stem for p in tracked if p.endswith(".ipynb")) == sorted(CHAPTERS)
