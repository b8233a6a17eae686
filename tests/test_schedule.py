"""Chapters start longest first when run side by side, by the last build's recorded seconds."""
from __future__ import annotations

import json

from fclib.pipeline import book


def test_chapters_start_longest_first_and_their_seconds_are_recorded(tmp_path, monkeypatch):
    names = ["01_a", "02_b", "03_c"]
    plan = [(n, tmp_path / f"{n}.md", tmp_path / f"{n}.ipynb", {}, "s", False) for n in names]
    monkeypatch.setattr(book, "_plan", lambda root, params, notebooks=None: plan)
    monkeypatch.setattr(book, "_move_legacy_outputs", lambda root, notebooks: None)
    order = []

    def fake_parallel(todo, root, jobs, times, on_done):
        for name, *_ in todo:
            order.append(name)
            times[name] = {"01_a": 5.0, "02_b": 50.0, "03_c": 20.0}[name]

    monkeypatch.setattr(book, "_execute_parallel", fake_parallel)
    (tmp_path / "_build").mkdir()
    (tmp_path / book.SECONDS_FILE).write_text(json.dumps({"01_a": 9.0, "02_b": 1.0}))
    book.execute_notebooks(tmp_path, {}, jobs=2, progress=False)
    assert order == ["03_c", "01_a", "02_b"]      # unknown: 60 s; then 9 s, 1 s
    recorded = json.loads((tmp_path / book.SECONDS_FILE).read_text())
    assert recorded == {"01_a": 5.0, "02_b": 50.0, "03_c": 20.0}
    order.clear()
    book.execute_notebooks(tmp_path, {}, jobs=2, progress=False)
    assert order == ["02_b", "03_c", "01_a"]      # the recorded seconds now
    assert not list((tmp_path / "_build").glob("*.part"))
