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

__all__ = ["module_fingerprint", "function_fingerprint", "code_fingerprint", "artefact_key",
           "STAGE_MODULES", "STAGE_FUNCTIONS", "imported_fclib_modules"]

# The modules of each stage (the code that computes its artefact). Their fclib imports are
# followed, so only the entry points are named here.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("fclib.pipeline.inputs", "fclib.snn.train"),
    "record": ("fclib.pipeline.inputs", "fclib.snn.record", "fclib.snn.perturb"),
    "accuracy": ("fclib.pipeline.inputs", "fclib.snn.perturb"),
    "pairs": ("fclib.stats.connectivity", "fclib.stats.halves"),
    "groups": ("fclib.stats.groups", "fclib.stats.edges"),
    "edges": ("fclib.stats.edges",),
    "response": ("fclib.stats.response",),
    "information": ("fclib.stats.information",),
    "embeddings": ("fclib.stats.semantic",),
    "ensembles": ("fclib.stats.ensembles", "fclib.stats.controls", "fclib.stats.information"),
}

# The pipeline's own code that shapes an artefact (which frames, groups, folds and
# conditions a stage hands to the statistics): ``"module:qualname"`` of functions, each
# fingerprinted like a module, and the fclib modules they import (inside the function too)
# followed as above. Editing ``Run.response`` thus recomputes the responses and nothing
# upstream; editing the CLI recomputes nothing.
_S = "fclib.pipeline.stages:"
STAGE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "train": (_S + "_train_stage",),
    "record": (_S + "_record_stage", _S + "_budget", _S + "_perturb_params"),
    "accuracy": (_S + "Run.accuracy", _S + "Run._model_and_perturb", _S + "Run._perturbed_cfg",
                 _S + "_perturb_params"),
    "pairs": (_S + "Run.pairs", _S + "Run.half_frames"),
    "groups": (_S + "Run.groups", _S + "Run.edges"),
    "edges": (_S + "Run.edges",),
    "response": (_S + "Run.response", _S + "Run.spikes", _S + "Run.analysed_frames"),
    "information": (_S + "Run.information", _S + "Run.spikes", _S + "Run.analysed_frames"),
    "embeddings": (_S + "Run.embeddings",),
    "ensembles": (_S + "Run.ensembles",),
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


def _file_imports(path: str, packages: tuple[str, ...]) -> set[str]:
    st = os.stat(path)
    return _file_imports_cached(path, st.st_mtime_ns, st.st_size, packages)


@lru_cache(maxsize=512)
def _file_imports_cached(path: str, mtime_ns: int, size: int, packages) -> frozenset[str]:
    return frozenset(imported_fclib_modules(_parse_cached(path, mtime_ns, size), packages))


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


def _function_node(name: str) -> ast.AST:
    """The syntax tree of the function ``"module:Qual.name"``."""
    module, _, qualname = name.partition(":")
    path = _source_path(module)
    if path is None or not qualname:
        raise ValueError(f"no Python source for function {name!r} (expected 'module:qualname')")
    node = _parse(path)
    for part in qualname.split("."):
        for child in getattr(node, "body", []):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and child.name == part:
                node = child
                break
        else:
            raise ValueError(f"module {module} has no {qualname!r}")
    return node


def function_fingerprint(name: str) -> str:
    """Hash of one function's syntax tree (``"module:Qual.name"``), docstrings and comments
    left out."""
    import copy

    tree = _strip_docstrings(copy.deepcopy(_function_node(name)))
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
            todo.extend(_file_imports(path, tuple(sorted(packages))) - seen)
    return sorted(n for n in seen if _source_path(n))


def code_fingerprint(modules) -> str:
    """Fingerprint (16 hex digits) of ``modules`` and every module of their packages (fclib)
    that they import, transitively; ``modules`` may also be a stage name of
    :data:`STAGE_MODULES`, whose functions of :data:`STAGE_FUNCTIONS` then count too (with the
    modules they import)."""
    functions: tuple[str, ...] = ()
    if isinstance(modules, str):
        functions = STAGE_FUNCTIONS.get(modules, ())
        modules = STAGE_MODULES.get(modules, (modules,))
    h = hashlib.sha256()
    for name in functions:
        h.update(name.encode() + b"\0" + function_fingerprint(name).encode())
    imported = set()
    for name in functions:
        imported |= imported_fclib_modules(_function_node(name))
    for name in _closure(tuple(modules) + tuple(sorted(imported))):
        h.update(name.encode() + b"\0" + module_fingerprint(name).encode())
    return h.hexdigest()[:16]


def artefact_key(stage: str, params: dict, parent: str = "") -> tuple[str, dict]:
    """The key (12 hex digits) of an artefact of ``stage`` made with ``params`` from the
    artefact ``parent``, and the inputs it hashes (stored in the artefact's attrs)."""
    inputs = {"stage": stage, "parent": parent, "code": code_fingerprint(stage),
              "params": params}
    blob = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12], inputs
