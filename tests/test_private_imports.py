"""No module imports another's private name (STYLE.md rule 13).

A helper two modules need becomes public in a small shared module (``fclib._util``,
``fclib.stats._checks``; a private *module* may be imported, its private *names* may not).
Read from the syntax trees of fclib's sources: ``from fclib.x import _name`` and
``x._name`` where ``x`` is another fclib module (imported at the top or inside a function)
both fail, named by file and line.
"""
from __future__ import annotations

import ast
from pathlib import Path

import fclib

PKG = Path(fclib.__file__).resolve().parent

# Uses that wait for a fix in a file owned elsewhere: (file, "module._name"). Each entry names
# its fix; remove the entry with the fix (the test then guards it).
PENDING: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = PKG.parent / name.replace(".", "/")
    return base.is_dir() or base.with_suffix(".py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path):
    """``(line, "module._name")`` of every private name of another fclib module that
    ``path`` uses."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = {}  # local name -> fclib module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "fclib":
                    modules[a.asname or a.name.split(".")[0]] = a.name if a.asname else "fclib"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "fclib":
                continue
            for a in node.names:
                full = f"{module}.{a.name}"
                if _is_module(full):
                    modules[a.asname or a.name] = full
                elif _private(a.name) and module != me:
                    yield node.lineno, full
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _dotted(node.value, modules)
            if owner and owner != me and _is_module(owner):
                yield node.lineno, f"{owner}.{node.attr}"


def _dotted(node, modules) -> str | None:
    """The fclib module an expression such as ``nulls`` or ``fclib.stats.nulls`` names."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value, modules)
        return f"{head}.{node.attr}" if head else None
    return None


def _all_uses():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).as_posix()
        for line, name in private_uses(path):
            yield rel, line, name


def test_no_module_uses_another_modules_private_names():
    bad = [f"{rel}:{line}: {name}" for rel, line, name in _all_uses()
           if (rel, name) not in PENDING]
    assert not bad, "private names used across modules:\n" + "\n".join(bad)


def test_every_pending_entry_is_still_needed():
    used = {(rel, name) for rel, _, name in _all_uses()}
    assert not PENDING - used, f"fixed, remove from PENDING: {sorted(PENDING - used)}"


def test_the_checker_finds_both_forms(tmp_path, monkeypatch):
    pkg = tmp_path / "fclib"
    (pkg / "stats").mkdir(parents=True)
    for name in ("__init__.py", "stats/__init__.py", "stats/sttc.py", "stats/_checks.py"):
        (pkg / name).write_text("")
    probe = pkg / "stats" / "probe.py"
    probe.write_text("from fclib.stats.sttc import _kernel, public\n"
                     "from fclib.stats import _checks\n"
                     "def f():\n"
                     "    import fclib.stats.sttc as s\n"
                     "    from . import sttc\n"
                     "    return s._other(), sttc._third(), _checks.fine(), _checks._not()\n"
                     "def _mine():\n"
                     "    return _mine\n")
    monkeypatch.setattr(__import__(__name__), "PKG", pkg)
    assert sorted(n for _, n in private_uses(probe)) == [
        "fclib.stats._checks._not", "fclib.stats.sttc._kernel", "fclib.stats.sttc._other",
        "fclib.stats.sttc._third"]
