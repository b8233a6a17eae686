"""Sphinx extension: the launch buttons (Binder, Colab, ...) of a page open its notebook in
``notebooks/``.

sphinx-book-theme builds a launch URL from the page's source path
(``book/chapters/NAME.ipynb`` of the staged tree, an executed notebook the repository does
not track, or a
workshop page's ``.md``, which Colab cannot open). This hook runs after the theme's
(``html-page-context``, priority 502 > the theme's 501) and puts
:func:`fclib.pipeline.notebooks.launch_notebook`'s path in its place; a page with no notebook
there loses its launch menu rather than keep a link that leads nowhere. Enabled by
``sphinx.extra_extensions`` in ``_config.yml``.
"""
from __future__ import annotations

import re

from fclib.pipeline.notebooks import launch_notebook

__all__ = ["retarget_launch_buttons", "setup"]


def retarget_launch_buttons(app, pagename: str, templatename: str, context: dict,
                            doctree=None) -> None:
    """Rewrite the launch buttons of ``context["header_buttons"]`` (the theme's group labelled
    ``launch-buttons``) to open :func:`launch_notebook` of ``pagename``."""
    groups = context.get("header_buttons") or []
    target = launch_notebook(pagename)
    source = re.compile(re.escape(pagename) + r"\.(?:ipynb|md)(?=$|[?#&])")
    for group in list(groups):
        if group.get("label") != "launch-buttons":
            continue
        if target is None:
            groups.remove(group)
            continue
        kept = []
        for button in group.get("buttons", []):
            if button.get("type") != "link":
                kept.append(button)  # Thebe's live code: no URL
                continue
            url, n = source.subn(target, button["url"])
            if n:  # a URL of another form would still name the untracked source: drop it
                kept.append({**button, "url": url})
        group["buttons"] = kept
        if not kept:
            groups.remove(group)


def setup(app):
    app.connect("html-page-context", retarget_launch_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
