"""The built smoke book as a reader sees it: every page opened offline in headless Chromium.

Each page of ``_toc.yml`` (and ``index.html``) is loaded from disk with every host name
unresolvable, MathJax is given virtual time to typeset, and the DOM Chromium ends with is
checked: formulas typeset by the book's own MathJax (no raw ``\\(`` left), figures present
with images that exist on disk, no local file that failed to load, and no traceback, warning
or absolute path of the build machine in what the page shows. The static checks at the end
need no browser: the download and launch buttons, no stderr outputs, no global figure
numbers.

Chromium is Debian's ``chromium`` (``make test`` installs it). Without it these tests skip,
unless ``FCLIB_REQUIRE_BROWSER=1`` (set by ``make test``), when they fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from fclib.pipeline.claims import CLAIMS, INTERNAL_WORDS

ROOT = Path(__file__).resolve().parent.parent


def _toc_pages(toc_path: Path) -> list[str]:
    """The documents of a jupyter-book ``_toc.yml``, root first (paths without suffix)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return pages


PAGES = _toc_pages(ROOT / "_toc.yml")
CHAPTER_PAGES = [p for p in PAGES if p.startswith("book/chapters/")]

# What a reader must never see in a cell's output.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*\w+Error: |^\s*\w+Exception: ",
                       re.M)
WARNING = re.compile(r"Warning|WARNING")
# ... nor anywhere on a page: paths of the machine that built the book.
ABSOLUTE_PATH = re.compile(r"/tmp/|/work/|/root/|/home/|site-packages")
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")
# Sphinx 7.4 writes an inline script that sphinx-thebe (loaded by jupyter-book, unused here)
# adds after the builder starts twice (`add_js_file(None, ...)` is not deduplicated against
# the registry's `''`), so `const THEBE_JS_URL` is declared twice. It touches no content.
KNOWN_CONSOLE_ERRORS = re.compile(r"Identifier 'THEBE_JS_URL' has already been declared")


@dataclass
class Rendered:
    page: str            # e.g. "book/chapters/02_pairwise_correlations" or "index"
    path: Path           # the html file opened
    dom: BeautifulSoup   # the DOM after scripts ran (MathJax typeset)
    static: BeautifulSoup  # the html file as built
    console: list[str]   # Chromium's console messages


@pytest.fixture(scope="session")
def chromium():
    """Path of the Chromium executable; skips (or fails under FCLIB_REQUIRE_BROWSER=1)."""
    exe = shutil.which("chromium")
    if exe is None:
        reason = ("chromium is not installed (Debian package `chromium`; `make test` installs "
                  "it): the built book is not checked in a browser")
        if os.environ.get("FCLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; FCLIB_REQUIRE_BROWSER=1 requires this check")
        pytest.skip(reason)
    return exe


# Written into a copy of each page before it is opened: once the page has loaded, every image
# records the width it is displayed at and its own width in pixels, so the test sees whether the
# browser shrank a figure (and with it the figure's text) to fit the column.
MEASURE = ("<script>window.addEventListener('load', function () {"
           "for (const img of document.images) {"
           "img.setAttribute('data-shown-width', img.getBoundingClientRect().width);"
           "img.setAttribute('data-natural-width', img.naturalWidth);}});</script>")
# The window a reader on a laptop has; the book's content column is 756 px wide in it.
WINDOW = "1400,1000"


def _render(exe: str, html: Path, profile_dir: Path) -> tuple[str, list[str]]:
    """Open ``html`` offline in headless Chromium in a 1,400 px window; return the final DOM
    (images carrying their displayed and natural widths) and the console lines."""
    page = html.read_text(encoding="utf8")
    measured = html.with_name(f".measure-{html.name}")  # beside it: relative links hold
    measured.write_text(page.replace("</head>", MEASURE + "</head>", 1), encoding="utf8")
    try:
        return _chromium(exe, measured, profile_dir)
    finally:
        measured.unlink()


def _chromium(exe: str, html: Path, profile_dir: Path) -> tuple[str, list[str]]:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           f"--window-size={WINDOW}",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", f"--user-data-dir={profile_dir}",
           # every host name fails to resolve: the page gets nothing from the network
           "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=20000", "--dump-dom", html.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium could not render {html} (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


@pytest.fixture(scope="session")
def book_root(request) -> Path:
    """The built book under test: the smoke book, or the already built book at
    ``$FCLIB_BROWSER_BOOK`` (its root, e.g. the default book after ``make book``)."""
    env = os.environ.get("FCLIB_BROWSER_BOOK")
    if env:
        return Path(env)
    return request.getfixturevalue("smoke_book")[0]


@pytest.fixture(scope="module")
def rendered(chromium, book_root, tmp_path_factory) -> dict[str, Rendered]:
    """Every page of the book rendered once: page -> :class:`Rendered`."""
    root = book_root
    html_dir = root / "_build" / "html"
    profiles = tmp_path_factory.mktemp("chromium")
    out = {}
    for i, page in enumerate(["index"] + _toc_pages(root / "_toc.yml")):
        path = html_dir / f"{page}.html"
        assert path.exists(), f"{page}: {path} was not built"
        dom, console = _render(chromium, path, profiles / str(i))
        out[page] = Rendered(page, path, BeautifulSoup(dom, "html.parser"),
                             BeautifulSoup(path.read_text(encoding="utf8"), "html.parser"),
                             console)
    return out


def _visible_text(node, skip_code_input: bool = True) -> str:
    """Text a reader can see (collapsed <details> included): no scripts, styles, or the
    hidden MathML that MathJax adds for screen readers; optionally without code cells'
    source (code may hold a backslash or ``$$`` that is no formula)."""
    node = BeautifulSoup(str(node), "html.parser")
    drop = ["script", "style", "noscript", "template", "mjx-assistive-mml"]
    for tag in node.find_all(drop):
        tag.decompose()
    if skip_code_input:
        for tag in node.select(".cell_input, div.highlight, pre.literal-block"):
            tag.decompose()
    return node.get_text(" ")


def _article(soup: BeautifulSoup):
    return soup.select_one("article.bd-article") or soup.select_one("main") or soup.body


def _excerpt(text: str, match: re.Match, width: int = 80) -> str:
    a, b = max(0, match.start() - width), match.end() + width
    return " ".join(text[a:b].split())


@pytest.mark.parametrize("page", ["index"] + PAGES)
def test_page_typesets_every_formula_offline(rendered, page):
    r = rendered[page]
    assert r.dom.select_one("article"), f"{page}: no article in the rendered page"
    # every formula Sphinx wrote (span.math / div.math) now holds MathJax's output
    maths = r.dom.select(".math")
    untypeset = [m.get_text()[:80] for m in maths if m.find("mjx-container") is None]
    assert not untypeset, (f"{page}: {len(untypeset)} of {len(maths)} formulas not typeset "
                           f"by MathJax, e.g. {untypeset[:3]}")
    if r.static.select(".math"):
        assert r.dom.find("mjx-container"), f"{page}: math on the page but no mjx-container"
        scripts = [s.get("src", "") for s in r.static.find_all("script")]
        assert any("_static/mathjax/" in s for s in scripts), \
            f"{page}: MathJax is not loaded from the book's _static/mathjax: {scripts}"
    text = _visible_text(r.dom.body)
    raw = [_excerpt(text, m) for m in RAW_TEX.finditer(text)]
    assert not raw, f"{page}: raw TeX delimiters left in the page's text: {raw[:5]}"


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
LOADING_LINKS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut"}


def _loaded_urls(dom: BeautifulSoup, page: Path) -> list[tuple[str, Path | None]]:
    """What the final DOM makes the browser fetch: scripts, stylesheets (and the url()s in
    those that are local), images, and the url()s of inline styles (MathJax writes its
    @font-face rules there). Each as (url, local file or None when not a file URL)."""
    out, seen = [], set()

    def add(url: str, base: Path):
        if not url or url.startswith(("data:", "#", "about:", "blob:", "javascript:")):
            return
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") or url.startswith("//"):
            out.append((url, None))
            return
        if parts.scheme == "file":
            target = Path(unquote(parts.path))
        else:
            target = (base.parent / unquote(parts.path)).resolve()
        if target in seen:
            return
        seen.add(target)
        out.append((url, target))
        if target.suffix == ".css" and target.is_file():
            for ref in CSS_URL.findall(target.read_text(encoding="utf8", errors="replace")):
                add(ref, target)

    for tag in dom.find_all(["script", "img", "source", "iframe", "embed"]):
        add(tag.get("src", ""), page)
    for tag in dom.find_all("link"):
        if LOADING_LINKS & set(tag.get("rel", [])):
            add(tag.get("href", ""), page)
    for tag in dom.find_all("style"):
        for ref in CSS_URL.findall(tag.get_text()):
            add(ref, page)
    for tag in dom.find_all(style=True):
        for ref in CSS_URL.findall(tag["style"]):
            add(ref, page)
    return out


@pytest.mark.parametrize("page", ["index"] + PAGES)
def test_page_loads_nothing_missing_and_nothing_remote(rendered, page):
    r = rendered[page]
    # index.html redirects to the root page: its DOM is that page's
    path = r.path if page != "index" else r.path.parent / f"{PAGES[0]}.html"
    urls = _loaded_urls(r.dom, path)
    remote = [u for u, target in urls if target is None]
    assert not remote, f"{page}: loads from the network (offline it shows without): {remote[:5]}"
    missing = [u for u, target in urls if not target.is_file()]
    assert not missing, f"{page}: loads files that were not built: {missing[:5]}"
    assert any("mathjax/output/chtml/fonts" in u for u, _ in urls) or not r.dom.select(".math"), \
        f"{page}: MathJax's fonts are not loaded from the book's files"
    errors = [line for line in r.console
              if "Uncaught" in line and not KNOWN_CONSOLE_ERRORS.search(line)]
    assert not errors, f"{page}: JavaScript errors: {errors[:5]}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_shows_its_figures(rendered, book_root, page):
    r = rendered[page]
    source = (book_root / f"{page}.md").read_text(encoding="utf8")
    n_glued = len(re.findall(r"^\s*(?:`{3,}|:{3,})\{glue:figure\}", source, re.M))
    images = _article(r.dom).find_all("img")
    assert images, f"{page}: no figure on the page"
    figures = [f for f in _article(r.dom).find_all("figure") if f.find("img")]
    assert len(figures) >= n_glued, \
        f"{page}: {len(figures)} figures with an image, the source glues {n_glued}"
    for img in r.dom.find_all("img"):
        src = img.get("src", "")
        assert src and not src.startswith(("http:", "https:", "//")), \
            f"{page}: image {src!r} is not served by the book"
        if src.startswith("data:"):
            continue
        target = (r.path.parent / unquote(urlsplit(src).path)).resolve()
        assert target.is_file(), f"{page}: image {src!r} does not exist ({target})"
    # figures are drawn at the content column's width (756 px at a 1,400 px window), so
    # the browser never shrinks their text; their alt text is the caption, not a file name
    from PIL import Image

    for fig in figures:
        img = fig.find("img")
        src = img.get("src", "")
        if src.startswith("data:") or not src.endswith(".png"):
            continue
        with Image.open(r.path.parent / unquote(urlsplit(src).path)) as im:
            assert im.width <= 756, f"{page}: {src} is {im.width} px wide (column: 756 px)"
        # as the browser lays it out: shown at its own size, so its text (>= 8 pt at 100 dpi,
        # tests/test_figure_style.py) is >= 11 px high on the screen
        shown, natural = float(img["data-shown-width"]), float(img["data-natural-width"])
        assert natural > 0, f"{page}: {src} did not load"
        assert shown >= natural - 1, (f"{page}: {src} ({natural:.0f} px) is shown "
                                      f"{shown:.0f} px wide: its text is shrunk to "
                                      f"{shown / natural:.0%}")
        alt = img.get("alt", "")
        assert alt and not re.fullmatch(r"[0-9a-f]{20,}\.png|.*\.(png|svg)", alt), \
            f"{page}: figure alt text is {alt!r}"


@pytest.mark.parametrize("page", ["index"] + PAGES)
def test_outputs_hold_no_traceback_warning_or_machine_path(rendered, page):
    r = rendered[page]
    problems = []
    for out in r.dom.select(".cell_output"):
        text = _visible_text(out, skip_code_input=False)
        if out.select(".traceback, .stderr"):
            problems.append(f"a {'traceback' if out.select('.traceback') else 'stderr'} "
                            f"output: {' '.join(text.split())[:160]!r}")
        for pattern, what in ((TRACEBACK, "traceback"), (WARNING, "warning")):
            problems += [f"{what}: {_excerpt(text, m)!r}" for m in pattern.finditer(text)]
    # a path of the machine that built the book, anywhere on the page (code cells included)
    text = _visible_text(_article(r.dom), skip_code_input=False)
    problems += [f"absolute path: {_excerpt(text, m)!r}" for m in ABSOLUTE_PATH.finditer(text)]
    assert not problems, f"{page}:\n  " + "\n  ".join(problems[:10])


@pytest.mark.parametrize("page", ["index"] + PAGES)
def test_page_speaks_to_readers(rendered, page):
    """No page says the project's working words (session, issue, "the text we have",
    ``papers/``, lent) or a source paper's file name; the landing page holds the results table
    and every chapter with claims its verdicts."""
    r = rendered[page]
    text = _visible_text(_article(r.dom), skip_code_input=False)
    found = [_excerpt(text, m) for m in INTERNAL_WORDS.finditer(text)]
    assert not found, f"{page}: internal words: {found[:5]}"
    if page in ("index", PAGES[0]):
        table = r.dom.select_one(".results-at-a-glance table")
        assert table is not None, f"{page}: no results table"
        assert len(table.select("tbody tr")) >= 10, f"{page}: results table nearly empty"
    # a glued number the run gives no value reads "—" (book/_ext/missing_values.py)
    nans = [p.get_text() for p in _article(r.dom).select(".pasted-text")
            if p.get_text().strip().lower().lstrip("+-").rstrip("%") == "nan"]
    assert not nans, f"{page}: glued values shown as {nans[:3]}"
    name = page.rsplit("/", 1)[-1]
    if name in CLAIMS:
        assert "The paper’s claims beside this run" in text or \
            "The paper's claims beside this run" in text, f"{page}: no claims section"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_has_download_and_launch_buttons(book_root, page):
    html_dir = book_root / "_build" / "html"
    path = html_dir / f"{page}.html"
    soup = BeautifulSoup(path.read_text(encoding="utf8"), "html.parser")
    links = {a.get("href", "") for a in soup.select(".dropdown-download-buttons a, "
                                                    "a.btn-download-notebook-button")}
    ipynb = [h for h in links if urlsplit(h).path.endswith(".ipynb")]
    assert ipynb, f"{page}: no 'download notebook' button ({sorted(links)})"
    for href in ipynb:
        target = (path.parent / unquote(urlsplit(href).path)).resolve()
        assert target.is_file(), f"{page}: the download button links {href}, not built"
        # the notebook a reader downloads: no stderr, no path of the machine that built it
        nb = json.loads(target.read_text(encoding="utf8"))
        for i, cell in enumerate(nb["cells"]):
            assert "injected-parameters" not in cell.get("metadata", {}).get("tags", []), \
                f"{page}: the download holds papermill's injected parameters (cell {i})"
            for out in cell.get("outputs", []):
                assert out.get("name") != "stderr", f"{page}: the download shows stderr (cell {i})"
                m = ABSOLUTE_PATH.search(json.dumps(out))
                assert m is None, f"{page}: the download's cell {i} output names {m.group(0)!r}"
        m = ABSOLUTE_PATH.search(json.dumps(nb.get("metadata", {})))
        assert m is None, f"{page}: the download's metadata names {m.group(0)!r}"
    launch = {a.get("href", "") for a in soup.select(".dropdown-launch-buttons a")}
    assert any(h.startswith("https://mybinder.org/v2/gh/") for h in launch), \
        f"{page}: no Binder launch button ({sorted(launch)})"
    assert any(h.startswith("https://colab.research.google.com/github/") for h in launch), \
        f"{page}: no Colab launch button ({sorted(launch)})"


@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_stderr_outputs_and_no_global_figure_numbers(book_root, page):
    path = book_root / "_build" / "html" / f"{page}.html"
    soup = BeautifulSoup(path.read_text(encoding="utf8"), "html.parser")
    stderr = soup.select(".cell_output .stderr")
    assert not stderr, f"{page}: stderr shown: {stderr[0].get_text()[:200]!r}"
    # (the workshop's exercises keep their numbers: "Exercise 21.1")
    numbers = [n.get_text() for n in soup.select(".caption-number")
               if not n.get_text().startswith("Exercise")]
    assert not numbers, f"{page}: Sphinx numbered the figures: {numbers[:3]}"
    # cells tagged hide-input / hide-output / hide-cell are collapsed behind a toggle
    for cell in soup.select(".cell.tag_hide-input, .cell.tag_hide-output, .cell.tag_hide-cell"):
        details = cell.select("details.hide")
        assert details and not any(d.has_attr("open") for d in details), \
            f"{page}: a cell tagged {cell['class']} is shown without a collapsed toggle"
    scripts = [s.get("src", "") for s in soup.find_all("script")]
    assert any("togglebutton.js" in s for s in scripts), f"{page}: sphinx-togglebutton not loaded"


def test_build_book_refuses_to_build_without_the_local_mathjax(tmp_path):
    """Without book/_static/mathjax the pages would show raw TeX offline: no build."""
    from fclib.pipeline import build_book

    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    with pytest.raises(RuntimeError, match=r"MathJax is missing.*make setup"):
        build_book(tmp_path)
    assert not (tmp_path / "_build").exists()
