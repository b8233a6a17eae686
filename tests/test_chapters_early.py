"""What chapters 1-6 show: figures, glued numbers and labels that follow the parameters."""
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# chapter -> (figures it shows, a phrase of its page)
CHAPTERS = {
    "01_network_activity": (["fig_training", "fig_rates", "fig_raster"], "silent"),
    "02_pairwise_correlations": (["fig_sttc_null", "fig_significance", "fig_degree",
                                  "fig_agreement", "fig_fpr", "fig_structural"],
                                 "expected by chance"),
    "13_functional_or_stimulus": (["fig_survival", "fig_variants", "fig_repeats"],
                                   "stimulus-preserving null"),
    "03_response_functions": (["fig_relu_examples", "fig_r2", "fig_nrmse"], "ReLU"),
    "04_two_regimes": (["fig_lines_examples", "fig_inter_frac", "fig_rise_q"], "strong regime"),
    "05_scaling": (["fig_scaling", "fig_collapse", "fig_collapse_scan"], "collapse"),
    "06_robustness": (["fig_batches", "fig_slope_diff"], "resampled"),
}


def _glued(nb) -> dict:
    """``{name: output data}`` of every glued value in an executed notebook."""
    out = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                out[name] = o["data"]
    return out


def _text(data) -> str:
    """The plain text of a glued value (a value glued with ``display=False``, such as the
    claims record, carries it under a papermill-record prefix)."""
    t = next((v for k, v in data.items() if k.endswith("text/plain")), "")
    return "".join(t) if isinstance(t, list) else t


def _shown_tables(nb) -> str:
    return "\n".join("".join(o["data"]["text/html"]) for c in nb["cells"] for o in c.get("outputs", [])
                     if "text/html" in o.get("data", {}))


def _markdown(nb) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_chapter_shows_its_figures_and_numbers(smoke_book, name):
    root, _, _ = smoke_book
    figures, phrase = CHAPTERS[name]
    html = (root / f"_build/html/book/chapters/{name}.html").read_text()
    assert "{glue" not in html and phrase in html
    assert len(re.findall(r"<img[^>]*src=\"[^\"]*_images/", html)) == len(figures)  # not the logos
    nb = json.loads((root / f"_build/chapters/{name}.ipynb").read_text())
    glued = _glued(nb)
    for fig in figures:  # shown when the notebook is run, not only in the book
        assert "image/png" in glued.get(fig, {}), (name, fig)
    numbers = [k for k in glued if k not in figures]
    assert numbers and all(_text(glued[k]) for k in numbers), name
    # every glued name the page uses was glued
    used = set(re.findall(r"\{glue:(?:text|figure)\}`?\s*([A-Za-z_0-9]+)", _markdown(nb)))
    assert used <= set(glued), (name, used - set(glued))
    # captions name the paper's figure, never a book number
    assert not re.search(r"(?<!Paper )(?<!paper's )Fig\. \d", _markdown(nb).replace("Paper Fig", "")
                         .replace("paper's Fig", "").replace("its Fig", "")), name


@pytest.mark.slow
def test_chapter_2_labels_follow_the_threshold(smoke_run, tmp_path):
    """Rerun chapter 2 alone with ``-p threshold 5.0``: every label, caption and table that
    names the threshold says z > 5, and the false-positive share uses z > 5 throughout."""
    from fclib import pipeline

    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book",
                    ignore=shutil.ignore_patterns("*.ipynb", "_build", "_static"))
    pipeline.execute_notebooks(tmp_path, {"profile": "smoke", "data_dir": str(smoke_run.data_dir),
                                          "threshold": 5.0},
                               notebooks=["02_pairwise_correlations"], progress=False)
    nb = json.loads((tmp_path / "_build/chapters/02_pairwise_correlations.ipynb").read_text())
    glued = _glued(nb)
    assert _text(glued["threshold"]) == "'5'"
    md = _markdown(nb)
    # the threshold in prose, captions and table rows comes from the glue; z > 4 only as the paper's
    assert md.count("{glue:text}`threshold`") >= 8
    for m in re.finditer(r"z\s*>\s*4", md):
        assert "paper" in md[max(0, m.start() - 40):m.start()], md[max(0, m.start() - 80):m.end() + 20]
    table = _html_table(_shown_tables(nb), "share explained by chance")
    assert "share explained by chance at z > 5" in table and "edges at z > 5" in table
    assert not [c for c in table if c.endswith("at z > 4")]
    # the glued share is the largest share of the table: false positives and edges both at z > 5
    # (the shown table rounds to three decimals, or three significant digits below 0.01)
    shares = [float(v.replace(",", "")) for v in table["share explained by chance at z > 5"]
              if v not in ("NaN", "—")]
    top = max(shares)
    assert shares and float(_text(glued["fdr_max"])) == pytest.approx(
        top, abs=5e-4 if top >= 0.01 else 5e-3 * top)


def _html_table(html: str, containing: str) -> dict:
    """``{column: [cell text, ...]}`` of the first shown DataFrame whose header holds
    ``containing`` (pandas' HTML: index cells are <th>, values <td>)."""
    import html as html_lib

    for t in re.findall(r"<table.*?</table>", html, flags=re.S):
        if containing not in html_lib.unescape(t):
            continue
        head, body = t.split("<tbody>")
        header = [html_lib.unescape(re.sub(r"<.*?>", "", h)).strip()
                  for h in re.findall(r"<th.*?</th>", head.split("</tr>")[0], flags=re.S)]
        rows = [[re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td.*?</td>", r, flags=re.S)]
                for r in body.split("</tr>") if "<td" in r]
        cols = header[len(header) - len(rows[0]):]
        return {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    raise AssertionError(f"no shown table with {containing!r}")


@pytest.mark.slow
def test_null_stimulus_defines_the_groups_of_the_chapters(smoke_run, tmp_path):
    """``--set null=stimulus`` reaches a chapter's run(): chapter 3's responses come from
    groups whose pairs were tested against the stimulus-preserving null."""
    import xarray as xr

    from fclib import pipeline

    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book",
                    ignore=shutil.ignore_patterns("*.ipynb", "_build", "_static"))
    # 400 presentations of the smoke profile's 50 images: 8 repeats each, enough to permute
    params = {"profile": "smoke", "data_dir": str(smoke_run.data_dir), "null": "stimulus",
              "n_presentations": 400}
    pipeline.execute_notebooks(tmp_path, params, notebooks=["03_response_functions"],
                               progress=False)
    r = pipeline.run("smoke", smoke_run.data_dir, null="stimulus", n_presentations=400,
                     progress=False)
    for s, t in zip(r.recording().layers[:-1], r.recording().layers[1:]):
        key = r.pairs_key(s, t)[0]
        [path] = (r.record_dir / "pairs").glob(f"original_{s}-{t}-{key}.nc")
        with xr.open_dataset(path) as ds:
            assert json.loads(ds.attrs["fclib_inputs"])["params"]["method"] == "stimulus"
        assert json.loads(r.groups(s, t).attrs["fclib_inputs"])["parent"] == key
