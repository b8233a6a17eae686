"""The repository URL is set once (_config.yml), is a real GitHub owner/name, and the launch
buttons, README and Binder configuration agree with it; in a built book (the real _config.yml
and _toc.yml over stand-in pages) every launch link opens a notebook git tracks, and the
workshop's solutions are hidden."""
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# GitHub's rules: an owner is 1-39 letters, digits or single hyphens, not at either end; a
# repository name is letters, digits, '.', '-', '_' (not '.' or '..').
GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38})/"
                    r"(?P<name>[A-Za-z0-9._-]{1,100})$")
PLACEHOLDERS = {"owner", "user", "username", "your-name", "yourname", "example", "org",
                "organisation", "organization", "todo", "tbd", "xxx", "name", "repo"}


def _owner_name():
    url = CONFIG["repository"]["url"]
    m = GITHUB.match(url)
    assert m, f"_config.yml repository.url {url!r} is not https://github.com/<owner>/<name>"
    return m["owner"], m["name"]


def test_repository_url_is_a_real_owner_and_name():
    owner, name = _owner_name()
    assert name not in {".", ".."} and not name.endswith(".git")
    assert owner.lower() not in PLACEHOLDERS and name.lower() not in PLACEHOLDERS
    assert "to be confirmed" not in (ROOT / "_config.yml").read_text().lower()


def test_launch_buttons_are_built_from_that_url():
    """jupyter-book turns repository.url into the theme's repository_url, from which
    sphinx-book-theme builds the Binder and Colab links; nothing overrides it."""
    from jupyter_book.config import get_final_config

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT,
                                 cli_config={"latex_individualpages": False})
    theme = config["html_theme_options"]
    assert theme["repository_url"] == CONFIG["repository"]["url"]
    assert theme["launch_buttons"]["binderhub_url"] and theme["launch_buttons"]["colab_url"]
    assert theme.get("repository_branch", "main") == CONFIG["repository"]["branch"]


def test_readme_links_use_the_same_repository():
    owner, name = _owner_name()
    branch = CONFIG["repository"]["branch"]
    readme = (ROOT / "README.md").read_text()
    assert CONFIG["repository"]["url"] in readme
    binder = re.findall(r"mybinder\.org/v2/gh/([^/\s)]+)/([^/\s)]+)/([^/?\s)]+)", readme)
    colab = re.findall(r"colab\.research\.google\.com/github/([^/\s)]+)/([^/\s)]+)/blob/"
                       r"([^/\s)]+)", readme)
    assert binder and colab, "README has no Binder or no Colab link"
    for link in binder + colab:
        assert link == (owner, name, branch), link


def test_binder_installs_the_pinned_environment_spikingjelly_and_fclib():
    req = (ROOT / "binder" / "requirements.txt").read_text().split("\n")
    assert "-r ../requirements.txt" in req
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    lines = post.read_text().splitlines()
    assert lines[0].startswith("#!")
    assert any(re.search(r"pip install .*--no-deps spikingjelly==2\.0\.0\b", x) for x in lines)
    assert any(re.search(r"pip install .*--no-deps -e \.$", x) for x in lines)
    # the same spikingjelly as `make setup`
    assert "spikingjelly==2.0.0" in (ROOT / "Makefile").read_text()


# --- launch buttons in the built HTML ---------------------------------------------------

def _tracked() -> set[str]:
    import subprocess

    return set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.split())


def _launch_target(url: str) -> str | None:
    """The repository path a Binder or Colab link opens (None for another link)."""
    from urllib.parse import parse_qs, urlsplit

    u = urlsplit(url)
    owner, name = _owner_name()
    branch = CONFIG["repository"]["branch"]
    if u.netloc == "mybinder.org":
        assert u.path == f"/v2/gh/{owner}/{name}/{branch}", url
        (path,) = parse_qs(u.query)["urlpath"]
        assert path.startswith("lab/tree/"), url
        return path.removeprefix("lab/tree/")
    if u.netloc == "colab.research.google.com":
        prefix = f"/github/{owner}/{name}/blob/{branch}/"
        assert u.path.startswith(prefix), url
        return u.path.removeprefix(prefix)
    return None


def _tiny_book(root: Path) -> Path:
    """The book's _config.yml and _toc.yml over stand-in pages: every chapter a one-cell
    notebook at book/chapters/NAME.ipynb (where the build puts the executed chapters), the
    workshop pages as they are, the other pages a title; the book's local extensions
    (book/_ext) come along, the static files (MathJax) do not."""
    import shutil

    import nbformat

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    for key in ("html_static_path", "mathjax_path"):
        config["sphinx"]["config"].pop(key, None)
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    if (ROOT / "book" / "_ext").is_dir():
        shutil.copytree(ROOT / "book" / "_ext", root / "book" / "_ext",
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    for page in pages:
        path = root / page
        path.parent.mkdir(parents=True, exist_ok=True)
        if page.startswith("book/chapters/"):
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {path.name}"),
                                                 nbformat.v4.new_code_cell("x = 1")])
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                         "language": "python"}
            nbformat.write(nb, path.with_suffix(".ipynb"))
        elif page.startswith("book/workshop/"):
            shutil.copy(ROOT / f"{page}.md", path.with_suffix(".md"))
        else:
            path.with_suffix(".md").write_text(f"# {path.name}\n\nText.\n")
    return root


@pytest.fixture(scope="module")
def tiny_html(tmp_path_factory):
    import shutil
    import subprocess
    import sys

    root = _tiny_book(tmp_path_factory.mktemp("book"))
    exe = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    proc = subprocess.run([exe, "build", str(root), "--warningiserror", "--keep-going"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return root / "_build" / "html"


@pytest.mark.slow
def test_every_launch_link_opens_a_tracked_notebook(tiny_html):
    """Binder and Colab open notebooks/NAME.ipynb (git tracks it), not the page's source
    (book/chapters/NAME.ipynb is build output, a workshop page's .md Colab cannot open)."""
    from html.parser import HTMLParser

    from fclib.pipeline.notebooks import notebook_sources

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            if tag == "a" and dict(attrs).get("href"):
                self.hrefs.append(dict(attrs)["href"])

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = _tracked()
    expected = {p.as_posix() for p in notebook_sources(ROOT)}
    opened = {}
    for page in sorted(tiny_html.rglob("*.html")):
        parser = Links()
        parser.feed(page.read_text(encoding="utf8"))
        for href in parser.hrefs:
            target = _launch_target(href)
            if target is not None:
                assert target in tracked, f"{page.relative_to(tiny_html)}: {href} opens " \
                    f"{target}, which git does not track"
                opened.setdefault(target, set()).add(href.split("/")[2])
    # every chapter and workshop page has both buttons, and nothing else has any
    assert set(opened) == expected
    assert all(hosts == {"mybinder.org", "colab.research.google.com"} for hosts in opened.values())


def test_launch_extension_leaves_no_link_to_an_untracked_source():
    """The hook on a theme context: a chapter's buttons retargeted, Thebe kept, a URL of an
    unknown form dropped, and a page without a notebook left without a launch menu."""
    from fclib.pipeline.launch import retarget_launch_buttons

    def context(page):
        return {"header_buttons": [{"label": "download-buttons", "buttons": []}, {
            "label": "launch-buttons", "type": "group", "buttons": [
                {"type": "link", "text": "Binder", "url": "https://mybinder.org/v2/gh/o/n/main"
                 f"?urlpath=lab/tree/{page}.ipynb"},
                {"type": "link", "text": "Colab",
                 "url": f"https://colab.research.google.com/github/o/n/blob/main/{page}.md"},
                {"type": "link", "text": "Other", "url": "https://example.org/somewhere"},
                {"type": "javascript", "text": "Live Code", "javascript": "initThebeSBT()"}]}]}

    ctx = context("book/chapters/03_response_functions")
    retarget_launch_buttons(None, "book/chapters/03_response_functions", "page.html", ctx)
    (group,) = [g for g in ctx["header_buttons"] if g["label"] == "launch-buttons"]
    assert [b.get("url") for b in group["buttons"]] == [
        "https://mybinder.org/v2/gh/o/n/main?urlpath=lab/tree/notebooks/03_response_functions.ipynb",
        "https://colab.research.google.com/github/o/n/blob/main/notebooks/03_response_functions.ipynb",
        None]
    ctx = context("book/gpu")
    retarget_launch_buttons(None, "book/gpu", "page.html", ctx)
    assert [g["label"] for g in ctx["header_buttons"]] == ["download-buttons"]


@pytest.mark.slow
def test_workshop_solutions_are_hidden_in_the_html(tiny_html):
    """Every solution cell of a workshop page sits in a sphinx-exercise solution marked
    dropdown (sphinx-togglebutton collapses it), every scaffold outside one."""
    from html.parser import HTMLParser

    from fclib.pipeline.notebooks import WORKSHOP

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.found = [], []

        def handle_starttag(self, tag, attrs):
            if tag in ("br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"):
                return
            classes = (dict(attrs).get("class") or "").split()
            self.stack.append(classes)
            for tag_ in ("tag_solution", "tag_scaffold"):
                if tag_ in classes:
                    hidden = any({"solution", "dropdown"} <= set(c) for c in self.stack[:-1])
                    self.found.append((tag_, hidden))

        def handle_endtag(self, tag):
            if tag not in ("br", "img", "input", "meta", "link", "hr", "col", "source", "wbr") \
                    and self.stack:
                self.stack.pop()

    for name in WORKSHOP:
        parser = Cells()
        parser.feed((tiny_html / "book" / "workshop" / f"{name}.html").read_text(encoding="utf8"))
        kinds = {k for k, _ in parser.found}
        assert kinds == {"tag_solution", "tag_scaffold"}, (name, parser.found)
        for kind, hidden in parser.found:
            assert hidden == (kind == "tag_solution"), (name, parser.found)
