"""Executed chapters go under _build/ (never beside their MyST sources), the HTML is built from
a staged tree of links, and executed chapters an older fclib left beside the sources are moved
there and reused."""
import json
import os
import shutil
import sys
from pathlib import Path

from fclib.pipeline.book import CHAPTER_DIR, EXECUTED_DIR, STAGE_DIR, execute_notebooks, stage_book

ROOT = Path(__file__).resolve().parent.parent

CHAPTER = """\
---
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
print(6 * 7)
```
"""


def _book(root: Path, names=("a",)) -> Path:
    (root / CHAPTER_DIR).mkdir(parents=True)
    (root / "_config.yml").write_text("title: tiny\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    for name in names:
        (root / CHAPTER_DIR / f"{name}.md").write_text(CHAPTER.format(name=name))
    return root


def test_executed_chapters_go_under_build_and_older_ones_move_there(tmp_path):
    root = _book(tmp_path)
    times = execute_notebooks(root, {"profile": "smoke"}, notebooks=["a"], progress=False)
    out = root / EXECUTED_DIR / "a.ipynb"
    assert times["a"] > 0 and out.exists() and "42" in out.read_text()
    assert sorted(p.name for p in (root / CHAPTER_DIR).iterdir()) == ["a.md"]
    # the kernel's CPU seconds are kept with it (its start alone costs some), and the
    # profile script reads them
    cpu = json.loads(out.read_text())["metadata"]["fclib_kernel_cpu_seconds"]
    assert 0 < cpu
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from profile_book import profile_notebook

    assert profile_notebook(out)[0]["kernel_cpu"] == cpu
    # where an older fclib put it: moved, and reused since it is current
    os.replace(out, root / CHAPTER_DIR / "a.ipynb")
    again = execute_notebooks(root, {"profile": "smoke"}, notebooks=["a"], progress=False)
    assert again == {"a": 0.0} and out.exists()
    assert sorted(p.name for p in (root / CHAPTER_DIR).iterdir()) == ["a.md"]


def test_stage_links_the_pages_and_the_executed_chapters(tmp_path):
    root = _book(tmp_path)
    (root / EXECUTED_DIR).mkdir(parents=True)
    (root / EXECUTED_DIR / "a.ipynb").write_text("{}")
    (root / EXECUTED_DIR / "b.part.ipynb").write_text("{}")
    stage = stage_book(root)
    assert stage == (root / STAGE_DIR).resolve()
    assert (stage / "_config.yml").resolve() == (root / "_config.yml").resolve()
    assert (stage / "book" / "intro.md").resolve() == (root / "book" / "intro.md").resolve()
    assert [p.name for p in (stage / CHAPTER_DIR).iterdir()] == ["a.ipynb"]
    assert (stage / CHAPTER_DIR / "a.ipynb").resolve() == (root / EXECUTED_DIR / "a.ipynb").resolve()
    # made anew: a chapter no longer executed is gone
    (root / EXECUTED_DIR / "a.ipynb").unlink()
    assert list((stage_book(root) / CHAPTER_DIR).iterdir()) == []
    assert (root / CHAPTER_DIR / "a.md").exists()


def test_stage_puts_executed_workshop_pages_in_place_of_their_sources(tmp_path):
    from fclib.pipeline.book import WORKSHOP_EXECUTED

    root = _book(tmp_path)
    ws = root / "book" / "workshop"
    ws.mkdir()
    for name in ("p1.md", "p2.md", "figure.png"):
        (ws / name).write_text("x")
    assert (stage_book(root) / "book" / "workshop").resolve() == ws.resolve()  # none executed
    (root / WORKSHOP_EXECUTED).mkdir(parents=True)
    (root / WORKSHOP_EXECUTED / "p1.ipynb").write_text("{}")
    (root / WORKSHOP_EXECUTED / "p2.part.ipynb").write_text("{}")
    staged = stage_book(root) / "book" / "workshop"
    assert sorted(p.name for p in staged.iterdir()) == ["figure.png", "p1.ipynb", "p2.md"]
    assert (staged / "p1.ipynb").resolve() == (root / WORKSHOP_EXECUTED / "p1.ipynb").resolve()


def test_workshop_pages_execute_with_their_solutions_and_keep_their_scaffolds(tmp_path,
                                                                             monkeypatch):
    """One real page: its result cells carry outputs, its scaffolds none; run again, reused."""
    import nbformat

    from fclib.pipeline.book import ROOT, WORKSHOP_EXECUTED, execute_workshop
    from fclib.pipeline.notebooks import WORKSHOP, WORKSHOP_DIR

    root = tmp_path / "book"
    (root / WORKSHOP_DIR).mkdir(parents=True)
    name = WORKSHOP[0]
    shutil.copy(ROOT / WORKSHOP_DIR / f"{name}.md", root / WORKSHOP_DIR / f"{name}.md")
    monkeypatch.setattr("fclib.pipeline.notebooks.WORKSHOP", [name])
    times = execute_workshop(root)
    assert times[name] > 0
    nb = nbformat.read(root / WORKSHOP_EXECUTED / f"{name}.ipynb", as_version=4)
    tags = [(c.metadata.get("tags", []), c.get("outputs", [])) for c in nb.cells
            if c.cell_type == "code"]
    assert any(t == ["scaffold"] for t, _ in tags)
    assert all(not outs for t, outs in tags if "scaffold" in t)
    assert all(outs for t, outs in tags if t == ["result"])
    assert not any(o.get("output_type") == "error" for _, outs in tags for o in outs)
    assert execute_workshop(root) == {name: 0.0}


def test_the_downloaded_notebook_carries_no_build_machine_trace():
    from fclib.pipeline.book import clean_download

    nb = {"metadata": {"papermill": {"input_path": "/work/x.ipynb"}, "kernelspec": {"name": "k"}},
          "cells": [
              {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "a = 1",
               "outputs": []},
              {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]},
               "source": "data_dir = '/tmp/run'", "outputs": []},
              {"cell_type": "code", "metadata": {}, "source": "f()", "outputs": [
                  {"output_type": "stream", "name": "stderr", "text": "/tmp/x.py:1: Warning"},
                  {"output_type": "stream", "name": "stdout", "text": "42"}]},
              {"cell_type": "markdown", "metadata": {}, "source": "text"}]}
    out = clean_download(nb)
    assert [c["source"] for c in out["cells"]] == ["a = 1", "f()", "text"]
    assert out["cells"][1]["outputs"] == [{"output_type": "stream", "name": "stdout",
                                          "text": "42"}]
    assert out["metadata"] == {"kernelspec": {"name": "k"}}
    assert len(nb["cells"]) == 4 and "papermill" in nb["metadata"]  # the input is not changed
