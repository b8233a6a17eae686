"""Docstrings that can be trusted: every ``fclib.x.y`` they name exists, the MANGO paper is
named by its title rather than its file number, and the public functions of ``fclib.stats``
and ``fclib.io`` carry numpydoc Parameters / Returns sections that list every parameter."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import fclib

ROOT = Path(fclib.__file__).parent
# a dotted name starting with fclib (not inside a path or a longer word)
REF = re.compile(r"(?<![\w./-])fclib(?:\.[A-Za-z_]\w*)+")


def _docstrings(path: Path):
    """``(qualified name, docstring)`` of the module, its classes and functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield getattr(node, "name", "<module>"), doc


def resolves(ref: str) -> bool:
    """``ref`` names a module, or an attribute reached from the longest importable prefix."""
    parts = ref.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except AttributeError:
            return False
        return True
    return False


def _references():
    for path in sorted(ROOT.rglob("*.py")):
        for name, doc in _docstrings(path):
            for m in REF.finditer(doc):
                yield f"{path.relative_to(ROOT.parent)}:{name}", m.group(0).rstrip(".")


def test_the_resolver_tells_a_stale_path_from_a_live_one():
    assert resolves("fclib.stats.response.fit_response")
    assert resolves("fclib.io.datasets")
    assert not resolves("fclib.response.fit_response")  # the pre-layout path
    assert not resolves("fclib.fits.fit_relu")
    assert not resolves("fclib.stats.response.no_such_function")


def test_every_fclib_name_in_a_docstring_resolves():
    refs = list(_references())
    assert len(refs) > 100  # the walk sees the docstrings
    stale = sorted({f"{where}: {ref}" for where, ref in refs if not resolves(ref)})
    assert not stale, "docstrings name what does not exist:\n" + "\n".join(stale)


MANGO_MODULES = ["optim/__init__.py", "optim/protes.py", "optim/baselines.py",
                 "optim/reference.py", "stats/mei.py", "figures/mango.py", "snn/mei.py",
                 "snn/generators.py", "pipeline/mango.py"]


@pytest.mark.parametrize("module", MANGO_MODULES)
def test_the_mango_paper_is_named_not_numbered(module):
    """"003" is the paper's file name in the project's papers folder, no name a reader knows."""
    found = [f"{name}: …{doc[max(0, m.start() - 30):m.end() + 30]}…"
             for name, doc in _docstrings(ROOT / module) for m in re.finditer(r"\b003\b", doc)]
    assert not found, f"fclib/{module} names the MANGO paper '003':\n" + "\n".join(found)
