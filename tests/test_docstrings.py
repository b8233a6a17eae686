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


# --------------------------------------------------------------------------- numpydoc sections
def _public_modules():
    """``fclib.stats`` and ``fclib.io`` and their public submodules."""
    import fclib.io
    import fclib.stats

    for pkg in (fclib.stats, fclib.io):
        yield pkg
        for m in pkgutil.iter_modules(pkg.__path__):
            if not m.name.startswith("_"):
                yield importlib.import_module(f"{pkg.__name__}.{m.name}")


def public_functions():
    """Every function named in an ``__all__`` of those modules, once (re-exports too)."""
    seen = {}
    for mod in _public_modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and obj not in seen:
                seen[obj] = f"{obj.__module__}.{obj.__qualname__}"
    return seen


def _own_nodes(func):
    """The AST nodes of ``func``'s own body (not of functions or classes defined in it)."""
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _returns_value(func) -> bool:
    for node in _own_nodes(func):
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
    return False


def _raises(func) -> bool:
    return any(isinstance(n, ast.Raise) and n.exc is not None for n in _own_nodes(func))


def sections(doc: str) -> dict[str, list[str]]:
    """numpydoc sections of a cleaned docstring: header -> its lines."""
    lines = doc.split("\n")
    out, current = {}, None
    i = 0
    while i < len(lines):
        head, under = lines[i], lines[i + 1] if i + 1 < len(lines) else ""
        if (head.strip() and not head.startswith(" ") and under.strip()
                and set(under.strip()) == {"-"} and len(under.strip()) == len(head.strip())):
            current = head.strip()
            out[current] = []
            i += 2
            continue
        if current is not None:
            out[current].append(lines[i])
        i += 1
    return out


def documented_parameters(doc: str) -> set[str]:
    """The names a Parameters section lists (``a, b : type`` documents both; ``**kw``
    documents ``kw``)."""
    names = set()
    for line in sections(doc).get("Parameters", []):
        if not line.strip() or line.startswith((" ", "\t")):
            continue
        head = line.split(" :")[0]
        names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


def numpydoc_problems(func) -> list[str]:
    """What ``func``'s docstring lacks: a Parameters section naming every parameter, a
    Returns (or Yields) section when it returns a value, a Raises section when it raises."""
    doc = inspect.getdoc(func) or ""
    secs = sections(doc)
    params = [p.name for p in inspect.signature(func).parameters.values()
              if p.name not in ("self", "cls")]
    problems = []
    if params and "Parameters" not in secs:
        problems.append("no 'Parameters\\n----------' section")
    elif params:
        missing = [p for p in params if p not in documented_parameters(doc)]
        if missing:
            problems.append(f"parameters not documented: {missing}")
    if _returns_value(func) and not ({"Returns", "Yields"} & set(secs)):
        problems.append("returns a value but has no 'Returns\\n-------' section")
    if _raises(func) and "Raises" not in secs:
        problems.append("raises but has no 'Raises\\n------' section")
    return problems


def _undocumented(x, y=2, *rest, **kw):
    """Adds.

    Parameters
    ----------
    x : int
        A number.
    """
    if x < 0:
        raise ValueError("x must be >= 0")
    return x + y


def test_the_numpydoc_check_finds_what_a_docstring_lacks():
    problems = numpydoc_problems(_undocumented)
    assert problems == ["parameters not documented: ['y', 'rest', 'kw']",
                        "returns a value but has no 'Returns\\n-------' section",
                        "raises but has no 'Raises\\n------' section"]
    assert documented_parameters("Parameters\n----------\na, b : int\n    x.\n**kw\n    y.\n"
                                 "\nReturns\n-------\nc : int\n") == {"a", "b", "kw"}


def test_public_functions_of_stats_and_io_have_numpydoc_sections():
    funcs = public_functions()
    assert len(funcs) > 150  # every submodule's __all__ was read
    bad = {name: numpydoc_problems(f) for f, name in funcs.items()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, "public functions whose docstrings lack numpydoc sections:\n" + "\n".join(
        f"{k}: {'; '.join(v)}" for k, v in sorted(bad.items()))
