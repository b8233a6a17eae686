"""Sphinx extension: every captioned figure's image gets its caption as alt text.

myst-nb writes a glued figure as an image named by the hash of its PNG and sets no ``alt``,
so Sphinx's HTML writer falls back to the file name (``alt="1f3a…e9.png"``): what a screen
reader reads, and what a browser shows when the image does not load. Here, once a page's
doctree is resolved (after myst-nb has pasted every glued output), each image inside a
``figure`` node that has a ``caption`` and no ``alt`` of its own takes the caption's text,
whitespace collapsed. An ``:alt:`` given in the chapter is kept.
"""
from __future__ import annotations

from docutils import nodes


def caption_alt(doctree: nodes.Node) -> int:
    """Set ``alt`` of every image in a captioned figure of ``doctree`` that has none to the
    caption's text; return how many images were given one."""
    n = 0
    for figure in doctree.findall(nodes.figure):
        caption = next((c for c in figure.children if isinstance(c, nodes.caption)), None)
        if caption is None:
            continue
        text = " ".join(caption.astext().split())
        if not text:
            continue
        for image in figure.findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = text
                n += 1
    return n


def _on_doctree_resolved(app, doctree, docname):
    caption_alt(doctree)


def setup(app):
    app.connect("doctree-resolved", _on_doctree_resolved)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
