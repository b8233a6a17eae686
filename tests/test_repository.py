"""The repository URL is set once (_config.yml), is a real GitHub owner/name, and the launch
buttons, README and Binder configuration agree with it."""
import os
import re
from pathlib import Path

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
