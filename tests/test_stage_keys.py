"""No stale result: editing the code of a stage's computation changes the key of that stage
and of everything built on it, and nothing upstream; and ``Run`` itself computes nothing that
no fingerprint sees.

The edits are made in a temporary copy of the fclib package, which the fingerprinter is
pointed at; the keys are those the pipeline uses to name its cached files.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import fclib
from fclib import store
from fclib.pipeline import cache
from fclib.pipeline.profiles import resolve
from fclib.pipeline.stages import Run, stage_keys

PKG = Path(fclib.__file__).resolve().parent

ALL = {"train", "record", "accuracy", "pairs", "pairs_half", "groups", "edges", "response",
       "response_cv", "information", "embeddings", "ens_circular", "ens_cv"}
RECORD_DOWN = ALL - {"train", "embeddings"}
GROUPS_DOWN = {"groups", "response", "response_cv", "ens_circular", "ens_cv"}
PAIRS_DOWN = {"pairs", "pairs_half", "edges"} | GROUPS_DOWN
RESPONSE = {"response", "response_cv"}
ENSEMBLES = {"ens_circular", "ens_cv"}

# (what is edited, the keys that must change); every other key must stay
MODULE_EDITS = [
    ("fclib.snn.train", ALL),
    ("fclib.snn.record", RECORD_DOWN),
    ("fclib.stats.connectivity", PAIRS_DOWN),
    ("fclib.stats.nulls", PAIRS_DOWN),
    ("fclib.stats.halves", PAIRS_DOWN),
    ("fclib.stats.groups", GROUPS_DOWN),
    ("fclib.stats.edges", {"edges"} | GROUPS_DOWN),
    ("fclib.stats.response", RESPONSE | ENSEMBLES),
    ("fclib.stats.fits", RESPONSE | ENSEMBLES),
    # the FGSM condition's analysed frames (Run.analysed_frames) come from information too
    ("fclib.stats.information", {"information"} | ENSEMBLES | RESPONSE),
    # the ensembles count strong frames and class matches themselves (_strong_frames)
    ("fclib.stats.semantic", {"embeddings"}),
    ("fclib.stats.ensembles", ENSEMBLES),
    ("fclib.stats.controls", ENSEMBLES),
]
S = "fclib.pipeline.stages:"
FUNCTION_EDITS = [
    (S + "_train_stage", ALL),
    (S + "_record_stage", RECORD_DOWN),
    (S + "_budget", RECORD_DOWN),
    (S + "Run.accuracy", {"accuracy"}),
    (S + "Run._model_and_perturb", {"accuracy"}),
    (S + "Run._perturbed_cfg", {"accuracy"}),
    (S + "Run.pairs", PAIRS_DOWN),
    (S + "Run.half_frames", PAIRS_DOWN),
    (S + "Run.groups", GROUPS_DOWN),
    (S + "Run.edges", {"edges"} | GROUPS_DOWN),
    (S + "Run.response", RESPONSE),
    (S + "Run.spikes", RESPONSE | {"information"}),
    (S + "Run.analysed_frames", RESPONSE | {"information"}),
    (S + "Run.information", {"information"}),
    (S + "Run.embeddings", {"embeddings"}),
    (S + "Run.ensembles", ENSEMBLES),
]


def _keys() -> dict[str, str]:
    cfg = resolve("smoke")
    (train, _), (record, _) = stage_keys(cfg)
    r = Run(cfg, Path("/nonexistent"), train, record)
    return {
        "train": train, "record": record, "accuracy": r.accuracy_key("noise"),
        "pairs": r.pairs_key("L1", "L2")[0], "pairs_half": r.pairs_key("L1", "L2", half=0)[0],
        "groups": r.groups_key("L1", "L2")[0], "edges": r.edges_key("L1", "L2")[0],
        "response": r.response_key("L1", "L2")[0],
        "response_cv": r.response_key("L1", "L2", cross_validate=True)[0],
        "information": r.information_key("L2")[0],
        "embeddings": r.embeddings_key(names=["a", "b"])[0],
        "ens_circular": r.ensembles_key("L1", "L2", "circular", None)[0],
        "ens_cv": r.ensembles_key("L1", "L2", "stimulus_cv", 0)[0],
    }


@pytest.fixture(scope="module")
def _copied_package(tmp_path_factory):
    """A copy of fclib that the fingerprinter reads instead of the installed sources (one per
    module; every test restores what it edits)."""
    root = tmp_path_factory.mktemp("src")
    shutil.copytree(PKG, root / "fclib", ignore=shutil.ignore_patterns("__pycache__"))
    real = store._source_path

    def copied(name: str):
        path = real(name)
        if path is None:
            return None
        return str(root / Path(path).resolve().relative_to(PKG.parent))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "_source_path", copied)
        yield root


@pytest.fixture
def package_copy(_copied_package):
    files = {p: p.read_text() for p in (_copied_package / "fclib").rglob("*.py")}
    yield _copied_package
    for p, text in files.items():
        if p.read_text() != text:
            p.write_text(text)


def _edit_module(root: Path, module: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + "\n_fclib_test_edit = 1\n")


def _edit_function(root: Path, name: str) -> None:
    """Insert one statement at the top of the function's body (after its docstring)."""
    module, _, qualname = name.partition(":")
    path = root / (module.replace(".", "/") + ".py")
    lines = path.read_text().splitlines(keepends=True)
    node = ast.parse("".join(lines))
    for part in qualname.split("."):
        node = next(c for c in node.body if getattr(c, "name", None) == part)
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1:
        first = node.body[1]
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}_fclib_test_edit = 1\n")
    path.write_text("".join(lines))


def _moved_by(edit) -> set[str]:
    before = _keys()
    edit()
    after = _keys()
    return {k for k in before if before[k] != after[k]}


@pytest.mark.parametrize("module, changed", MODULE_EDITS, ids=[m for m, _ in MODULE_EDITS])
def test_module_edit_recomputes_stage_and_dependants_only(package_copy, module, changed):
    moved = _moved_by(lambda: _edit_module(package_copy, module))
    assert moved == changed, f"editing {module}: changed {sorted(moved)}, expected {sorted(changed)}"


@pytest.mark.parametrize("function, changed", FUNCTION_EDITS, ids=[f.split(":")[1] for f, _ in FUNCTION_EDITS])
def test_pipeline_edit_recomputes_stage_and_dependants_only(package_copy, function, changed):
    moved = _moved_by(lambda: _edit_function(package_copy, function))
    assert moved == changed, f"editing {function}: changed {sorted(moved)}, expected {sorted(changed)}"


def test_docstring_edit_recomputes_nothing(package_copy):
    before = _keys()
    path = package_copy / "fclib" / "stats" / "response.py"
    src = path.read_text()
    path.write_text(src.replace('"""Co-firing of 1FC groups', '"""Edited: co-firing of 1FC groups', 1))
    assert path.read_text() != src
    assert _keys() == before


def test_every_stage_function_exists_and_every_stage_is_covered():
    for stage, functions in cache.STAGE_FUNCTIONS.items():
        assert stage in cache.STAGE_MODULES
        for f in functions:
            cache.function_fingerprint(f)  # raises for a renamed or removed function
    assert set(cache.STAGE_FUNCTIONS) == set(cache.STAGE_MODULES)
    edited = {f for f, _ in FUNCTION_EDITS}
    listed = {f for fs in cache.STAGE_FUNCTIONS.values() for f in fs}
    assert listed - edited <= {S + "_perturb_params"}, sorted(listed - edited)


# Run may read files, pick frames and call: it never computes with numpy or xarray itself
# (what it computed would sit in no fingerprint but its own method's).
_ALLOWED = {("xr", "open_dataset"), ("np", "ndarray"), ("np", "array_equal")}


def test_run_computes_nothing_itself():
    tree = ast.parse((PKG / "pipeline" / "stages.py").read_text())
    run = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Run")
    bad = []
    for fn in (n for n in run.body if isinstance(n, ast.FunctionDef)):
        body = ast.Module(body=fn.body, type_ignores=[])
        for node in ast.walk(body):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in ("np", "xr", "pd") \
                    and (node.value.id, node.attr) not in _ALLOWED:
                bad.append(f"Run.{fn.name}: {node.value.id}.{node.attr} (line {node.lineno})")
    assert not bad, "Run computes outside any fingerprint: " + "; ".join(bad)
