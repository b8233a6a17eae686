"""Sphinx extension: the landing page's "results at a glance" from the executed chapters,
papermill's injected-parameters cell kept off the pages, and figures left unnumbered.

The directive ``results-at-a-glance`` reads, at build time, the ``claims_record`` each executed
chapter notebook glued (``fclib.pipeline.claims.claims_section``) and the banner of the first
chapter that has one, and renders them as one table: claim | paper | this build | verdict, each
row linked to its chapter. Nothing in it is typed; a chapter that was not executed adds no row.
The page holding the directive is re-read on every build, so the table follows the chapters.
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

BANNER_START = "**This page was computed on:**"


def chapter_notebooks(env) -> list[tuple[str, Path]]:
    """(docname, path) of every executed chapter notebook in the build, in book order."""
    out = []
    for doc in sorted(env.found_docs):
        if not doc.startswith("book/chapters/"):
            continue
        path = Path(env.doc2path(doc))
        if path.suffix == ".ipynb" and path.exists():
            out.append((doc, path))
    return out


def _title(nb: dict, fallback: str) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _banner(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown")
            text = "".join(text) if isinstance(text, list) else text
            if text and text.startswith(BANNER_START):
                return text.replace(BANNER_START, "**This build:**", 1)
    return None


class ResultsAtAGlance(SphinxDirective):
    has_content = False

    def run(self):
        from fclib.pipeline.claims import RULE_TEXT, read_record, results_markdown

        records, banner = [], None
        for doc, path in chapter_notebooks(self.env):
            self.env.note_dependency(str(path))
            nb = json.loads(path.read_text())
            banner = banner or _banner(nb)
            records.append((doc, _title(nb, doc), read_record(path)))
        text = ((banner + "\n\n") if banner else "") + RULE_TEXT + "\n\n" + \
            results_markdown(records)
        container = nodes.container(classes=["results-at-a-glance"])
        self.state.nested_parse(StringList(text.splitlines(), source="results-at-a-glance"),
                                self.content_offset, container)
        return [container]


def remove_injected_parameters(app, doctree):
    """Papermill's injected-parameters cell is not shown: each chapter shows one parameters
    cell (the tagged one), and its first line says which run built the page."""
    for node in list(doctree.findall(nodes.container)):
        if "tag_injected-parameters" in node.get("classes", []):
            node.parent.remove(node)


def keep_only_exercise_numbers(app, env):
    """No "Fig. 4.1" before a caption: each caption names the paper's figure it reproduces.
    sphinx-exercise switches ``numfig`` on for its exercises; every other numbered type
    (figures, tables, code blocks) loses its number here, exercises keep theirs."""
    for types in env.toc_fignumbers.values():
        for figtype in [t for t in types if t != "exercise"]:
            del types[figtype]
    return []


def setup(app):
    app.add_directive("results-at-a-glance", ResultsAtAGlance)
    app.connect("doctree-read", remove_injected_parameters)
    app.connect("env-get-updated", keep_only_exercise_numbers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
