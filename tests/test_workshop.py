"""The workshop's exercise pages (book/workshop/): each has scaffolds and hidden solutions in
the form sphinx-exercise expects, and each, executed with its solutions filled in
(fclib.pipeline.notebooks.solved_notebook), gives the results its text promises; the
example recording in data/ is what its script makes."""
import ast
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from fclib.pipeline.book import _ipc_kernel_manager, read_chapter
from fclib.pipeline.notebooks import WORKSHOP, WORKSHOP_DIR, solved_notebook

ROOT = Path(__file__).resolve().parent.parent


# a sphinx-exercise gate: ```{exercise-start} / {solution-start} LABEL, its :options:, ```
_GATE = re.compile(r"```\{(exercise|solution)-(start|end)\}[ \t]*(\S*)\n((?::[^\n]*\n)*)```")


def _tags(cell):
    return cell.metadata.get("tags", [])


@pytest.mark.parametrize("name", WORKSHOP)
def test_every_exercise_has_a_scaffold_and_a_dropdown_solution(name):
    nb = read_chapter(ROOT / WORKSHOP_DIR / f"{name}.md")
    inside, labels, solutions, scaffolds = None, [], [], 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":  # one cell may hold several gates, in order
            for m in _GATE.finditer(cell.source):
                kind, edge, arg, options = m.groups()
                if edge == "start":
                    assert inside is None, (name, m[0])
                    inside = kind
                    if kind == "exercise":
                        labels.append(re.search(r":label: (\S+)", options)[1])
                    else:
                        assert ":class: dropdown" in options, \
                            f"{name}: the solution of {arg} is not in a dropdown"
                        solutions.append(arg)
                else:
                    assert inside == kind, (name, m[0])
                    inside = None
        elif "scaffold" in _tags(cell):
            assert inside == "exercise", f"{name}: a scaffold outside an exercise"
            assert "..." in cell.source
            compile(cell.source, name, "exec")  # runs (as Ellipsis) before it is completed
            scaffolds += 1
        elif "solution" in _tags(cell):
            assert inside == "solution", f"{name}: a solution cell outside a solution"
    assert labels and labels == solutions, name
    assert scaffolds >= len(labels)
    assert all(label.startswith("ws-") for label in labels)


def test_exercise_labels_are_unique_across_the_workshop():
    labels = []
    for name in WORKSHOP:
        labels += re.findall(r":label: (\S+)", (ROOT / WORKSHOP_DIR / f"{name}.md").read_text())
    assert len(labels) == len(set(labels)) >= 4


def _run(name: str) -> dict:
    """Execute ``name`` with its solutions; return its glued values (the result cells')."""
    from nbclient import NotebookClient

    nb = solved_notebook(ROOT / WORKSHOP_DIR / f"{name}.md")
    sock_dir = tempfile.mkdtemp(prefix="fclib-ws-")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       kernel_manager_class=_ipc_kernel_manager(sock_dir),
                       resources={"metadata": {"path": str(ROOT)}}).execute()
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    values = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", (name, out)
            key = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if key is not None:
                assert "result" in _tags(cell), f"{name}: {key} glued outside a result cell"
                values[key] = ast.literal_eval(
                    out["data"]["application/papermill.record/text/plain"])
    return values


def test_sttc_by_hand_equals_fclib():
    v = _run("01_sttc_by_hand")
    assert v["sttc_hand"] == pytest.approx(v["sttc_fclib"], abs=1e-12)
    # exact_null keeps float32: the null moments agree to its rounding
    assert v["count_mean_hand"] == pytest.approx(v["count_mean_fclib"], rel=1e-6)
    assert v["count_sd_hand"] == pytest.approx(v["count_sd_fclib"], rel=1e-6)
    # z over all shifts vs the delta method: close, not equal
    assert v["z_hand"] == pytest.approx(v["z_fclib"], rel=0.02)
    assert v["z_fclib"] > 4, "the page's planted pair should be significant at the paper's z > 4"


def test_one_group_found_and_its_relu_equals_fclib():
    v = _run("02_one_group")
    assert v["n_found"] == 5, "every planted driver of the page's target is in its group"
    assert v["n_found"] + v["n_extra"] == v["group_size"]
    assert v["slope_hand"] == pytest.approx(v["slope_fclib"], rel=1e-9)
    assert v["threshold_hand"] == pytest.approx(v["threshold_fclib"], rel=1e-9, abs=1e-12)
    assert v["slope_hand"] > 0 and v["r2_hand"] > 0.8


def test_noise_lowers_the_planted_pairs_z():
    v = _run("03_noise")
    # the first level of each damage is none: the same clean recording
    assert v["added_found"][0] == v["kept_found"][0]
    assert v["added_median_z"][0] == pytest.approx(v["kept_median_z"][0])
    for z in (v["added_median_z"], v["kept_median_z"]):
        assert all(a > b for a, b in zip(z, z[1:])), z
    assert v["added_found"][-1] < v["added_found"][0] <= v["n_planted"]
    assert v["kept_found"][-1] < v["kept_found"][0]


def test_own_spikes_stimulus_null_keeps_planted_pairs_and_drops_tuning():
    v = _run("04_own_spikes")
    from fclib.pipeline.example import EXAMPLE_PARAMS

    assert v["T"] == round(EXAMPLE_PARAMS["trial_duration"] / 0.01)
    assert v["n_frames"] == v["T"] * EXAMPLE_PARAMS["n_stimuli"] * EXAMPLE_PARAMS["n_repeats"]
    assert v["n_planted"] == EXAMPLE_PARAMS["n_targets"] * EXAMPLE_PARAMS["n_drivers"]
    assert v["exact_planted"] == v["stimulus_planted"] == v["n_planted"]
    assert v["stimulus_tuned"] < v["exact_tuned"] / 10
    assert v["z_before"] < 4.0 < v["z_planted"]


def test_example_recording_is_what_its_script_makes(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "example.npz"
    subprocess.run([sys.executable, str(ROOT / "data" / "make_example_recording.py"), "-o",
                    str(out)], check=True, capture_output=True)
    tracked = ROOT / "data" / "example_recording.npz"
    assert tracked.stat().st_size < 3e6
    with np.load(tracked) as a, np.load(out) as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        assert np.all(np.diff(a["unit"]) >= 0)


def test_example_recording_is_made_where_missing(tmp_path):
    from fclib.pipeline.example import EXAMPLE_FILE, example_recording

    path = example_recording(tmp_path)
    assert path == tmp_path / EXAMPLE_FILE and path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [EXAMPLE_FILE]  # no temporary file left
    with np.load(path) as f:
        assert f["planted"].shape[1] == 2
