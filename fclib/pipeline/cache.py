"""Code-aware cache keys: what an artefact was made from, parameters *and* code.

Every cached artefact's key hashes the parameters that make it, the key of the artefact it
is computed from (its parent), and a fingerprint of the code of the stage that computes it:
the stage's own modules and every ``fclib`` module they import, followed transitively. The
fingerprint hashes each module's syntax tree with docstrings removed, so a docstring or a
comment changes nothing, while a change to, say, the exact null changes the key of the
pairs and, through the parent keys, of the groups and responses built on them, and of
nothing upstream.

Modules are read from their source files without being imported (torch stays out).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
from functools import lru_cache

__all__ = ["module_fingerprint", "code_fingerprint", "artefact_key", "STAGE_MODULES",
           "imported_fclib_modules"]

# The modules of each stage (the code that computes its artefact). Their fclib imports are
# followed, so only the entry points are named here.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("fclib.pipeline.inputs", "fclib.snn.train"),
    "record": ("fclib.pipeline.inputs", "fclib.snn.record", "fclib.snn.perturb"),
    "accuracy": ("fclib.pipeline.inputs", "fclib.snn.perturb"),
    "pairs": ("fclib.stats.connectivity",),
    "groups": ("fclib.stats.groups", "fclib.stats.edges"),
    "edges": ("fclib.stats.edges",),
    "response": ("fclib.stats.response",),
    "information": ("fclib.stats.information",),
    "embeddings": ("fclib.stats.semantic",),
    "ensembles": ("fclib.stats.ensembles", "fclib.stats.controls", "fclib.stats.information"),
}


def _source_path(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return spec.origin


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and isinstance(
                    body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _parse(path: str) -> ast.AST:
    st = os.stat(path)
    return _parse_cached(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ast.AST:
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def imported_fclib_modules(tree: ast.AST, packages=("fclib",)) -> set[str]:
    """Names of the modules of ``packages`` (default: fclib) that a syntax tree imports,
    at any depth (imports inside functions included)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] in packages)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in packages:
            out.add(node.module)
            for a in node.names:  # `from fclib.stats import response` imports a module
                if _source_path(f"{node.module}.{a.name}"):
                    out.add(f"{node.module}.{a.name}")
    return out


def module_fingerprint(name: str) -> str:
    """Hash of one module's syntax tree, docstrings and comments left out."""
    path = _source_path(name)
    if path is None:
        raise ValueError(f"no Python source for module {name!r}")
    with open(path, "rb") as f:
        source = f.read()
    return _fingerprint_cached(hashlib.sha256(source).hexdigest(), source)


@lru_cache(maxsize=512)
def _fingerprint_cached(digest: str, source: bytes) -> str:
    # keyed by the source's hash (``source`` rides along for the miss): an edited module is
    # hashed again, an unchanged one is parsed once per process
    del digest
    tree = _strip_docstrings(ast.parse(source))
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def _closure(names) -> list[str]:
    packages = {n.split(".")[0] for n in names}
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _source_path(name)
        if path is not None:
            todo.extend(imported_fclib_modules(_parse(path), packages) - seen)
    return sorted(n for n in seen if _source_path(n))


def code_fingerprint(modules) -> str:
    """Fingerprint (16 hex digits) of ``modules`` and every module of their packages (fclib)
    that they import, transitively; ``modules`` may also be a stage name of :data:`STAGE_MODULES`."""
    if isinstance(modules, str):
        modules = STAGE_MODULES.get(modules, (modules,))
    h = hashlib.sha256()
    for name in _closure(modules):
        h.update(name.encode() + b"\0" + module_fingerprint(name).encode())
    return h.hexdigest()[:16]


def artefact_key(stage: str, params: dict, parent: str = "") -> tuple[str, dict]:
    """The key (12 hex digits) of an artefact of ``stage`` made with ``params`` from the
    artefact ``parent``, and the inputs it hashes (stored in the artefact's attrs)."""
    inputs = {"stage": stage, "parent": parent, "code": code_fingerprint(stage),
              "params": params}
    blob = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12], inputs
