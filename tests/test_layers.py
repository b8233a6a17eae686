"""Layers that hold: imports only go down (shared/DESIGN.md, "Layout").

The import graph of fclib is read from the syntax trees of its sources (imports inside
functions included, and ``importlib.import_module("fclib....")`` with a literal name, so a
detour does not hide an edge); every edge from one package to a package it must not import
fails, named by file and line.

    pipeline -> figures -> snn, ttfs -> optim -> stats -> io -> store

(the package root ``fclib/__init__.py`` and the shared helpers ``fclib._util`` and
``fclib._precision`` sit outside the order: anything may import the helpers; ``fclib.store``
imports nothing of fclib but ``fclib._util``).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fclib

PKG = Path(fclib.__file__).resolve().parent

HELPERS = {"fclib._util", "fclib._precision"}

# package -> the fclib packages it must not import (the rules, and DESIGN's order)
FORBIDDEN = {
    "fclib.store": {"*"},  # anything of fclib but the helpers
    "fclib.io": {"fclib.stats", "fclib.snn", "fclib.ttfs", "fclib.optim", "fclib.figures",
                 "fclib.pipeline"},
    "fclib.stats": {"fclib.snn", "fclib.ttfs", "fclib.optim", "fclib.figures",
                    "fclib.pipeline"},
    "fclib.optim": {"fclib.snn", "fclib.ttfs", "fclib.figures", "fclib.pipeline"},
    "fclib.snn": {"fclib.figures", "fclib.pipeline"},
    "fclib.ttfs": {"fclib.figures", "fclib.pipeline"},
    "fclib.figures": {"fclib.pipeline"},
}

# Modules of fclib.stats that are torch backends: only they may import torch at module level,
# and the other modules import them inside the function that asks for the backend.
TORCH_BACKENDS = {"fclib.stats._torch"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path):
    """``(imported module, line, at module level)`` of every import in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        top = id(node) not in in_function
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno, top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, node.lineno, top
            for a in node.names:  # `from fclib import stats` imports fclib.stats
                sub = f"{module}.{a.name}"
                if (PKG.parent / sub.replace(".", "/")).is_dir() \
                        or (PKG.parent / (sub.replace(".", "/") + ".py")).is_file():
                    yield sub, node.lineno, top
        elif isinstance(node, ast.Call) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                and (getattr(node.func, "attr", None) == "import_module"
                     or getattr(node.func, "id", None) in ("import_module", "__import__")):
            yield node.args[0].value, node.lineno, top


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _edges():
    for path in sorted(PKG.rglob("*.py")):
        for module, line, top in _imports(path):
            yield _module_name(path), path, module, line, top


def _forbidden_edges() -> list[str]:
    bad = []
    for source, path, module, line, _ in _edges():
        if module.split(".")[0] != "fclib" or module in HELPERS or module == "fclib":
            continue
        rules = FORBIDDEN.get(_package(source), set())
        target = _package(module)
        if target != _package(source) and ("*" in rules or target in rules):
            bad.append(f"{path.relative_to(PKG.parent)}:{line}: {source} imports {module}")
    return bad


def test_no_package_imports_a_layer_above_it():
    bad = _forbidden_edges()
    assert not bad, "imports that go up a layer:\n" + "\n".join(bad)


def test_stats_imports_torch_only_in_its_backends_and_only_when_asked():
    bad = []
    for source, path, module, line, top in _edges():
        if not source.startswith("fclib.stats") or source in TORCH_BACKENDS or not top:
            continue
        if module.split(".")[0] == "torch" or module in TORCH_BACKENDS:
            bad.append(f"{path.relative_to(PKG.parent)}:{line}: {source} imports {module} "
                       "when imported")
    assert not bad, "torch imported by fclib.stats at module level:\n" + "\n".join(bad)


def test_the_checker_sees_imports_inside_functions_and_detours(tmp_path, monkeypatch):
    """The walk finds what a forbidden edge can hide behind: an import inside a function,
    a relative import, ``from fclib import pipeline``, ``importlib.import_module``."""
    body = ("import importlib\n"
            "from . import sttc\n"
            "def f():\n"
            "    from fclib import pipeline\n"
            "    return importlib.import_module('fclib.snn.mei')\n")
    fake = tmp_path / "fclib" / "stats"
    fake.mkdir(parents=True)
    (fake / "probe.py").write_text(body)
    (fake / "sttc.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PKG", tmp_path / "fclib")
    (tmp_path / "fclib" / "pipeline").mkdir()
    found = {(m, top) for m, _, top in _imports(fake / "probe.py")}
    assert {("fclib.stats.sttc", True), ("fclib.pipeline", False),
            ("fclib.snn.mei", False)} <= found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_every_layer_named_exists(package):
    assert (PKG.parent / package.replace(".", "/")).is_dir() \
        or (PKG.parent / (package.replace(".", "/") + ".py")).is_file()
