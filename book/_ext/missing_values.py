"""Sphinx extension: a glued number that is not a number reads "—", not "nan".

A chapter glues NaN where its run gives a quantity no value (a layer with no active pair, a
profile too small for a comparison); ``{glue:text}`key:.2f``` then pastes "nan" into the
prose or a Markdown table. Once a page's doctree is resolved, every pasted text that reads
"nan" (any sign or case, with or without a format's "%") becomes an em dash, and a unit
that directly follows it (" %", " bits", …) goes with it, since "— %" says nothing more.
"""
from __future__ import annotations

import re

from docutils import nodes

_NAN = re.compile(r"^[+-]?nan%?$", re.I)
_UNIT = re.compile(r"^\s?(%|bits?|spikes per image|s)(?=\W|$)")
DASH = "—"


def dash_missing(doctree: nodes.Node) -> int:
    """Replace every pasted "nan" of ``doctree`` by an em dash (and drop the unit right after
    it); return how many were replaced."""
    n = 0
    for node in list(doctree.findall(nodes.inline)):
        if "pasted-text" not in node.get("classes", []) or not _NAN.match(node.astext().strip()):
            continue
        node.children = [nodes.Text(DASH)]
        parent = node.parent
        i = parent.index(node)
        if i + 1 < len(parent.children) and isinstance(parent[i + 1], nodes.Text):
            after = str(parent[i + 1])
            stripped = _UNIT.sub("", after, count=1)
            if stripped != after:
                parent.replace(parent[i + 1], nodes.Text(stripped))
        n += 1
    return n


def _on_doctree_resolved(app, doctree, docname):
    dash_missing(doctree)


def setup(app):
    app.connect("doctree-resolved", _on_doctree_resolved)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
