"""Tables as readers see them (fclib.pipeline.tables) and the book's results extension
(book/_ext/results.py) on a tiny Sphinx project."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fclib.pipeline import claims
from fclib.pipeline.tables import format_value, human_label, show_table

ROOT = Path(__file__).resolve().parent.parent


def test_values_are_formatted_for_readers():
    assert format_value(1943720.0) == "1,943,720"
    assert format_value(np.int64(12345)) == "12,345"
    assert format_value(float("nan")) == "—" and format_value(None) == "—"
    assert format_value(0.123456) == "0.123"
    assert format_value(0.000123456) == "0.000123"
    assert format_value(np.bool_(True)) == "yes"
    assert format_value("L1→L2") == "L1→L2"
    assert human_label("median_r2") == "median R²"
    assert human_label("iqr_low_mi") == "IQR low MI" and human_label("layer pair") == "layer pair"
    assert human_label(("a_b", "c")) == "a b · c"


def test_show_table_renders_headers_cells_and_collapses_wide_tables():
    df = pd.DataFrame({"n_pairs": [1943720.0, 12.0], "frac_pos": [0.01234, np.nan]},
                      index=pd.Index(["L1→L2", "L2→L3"], name="layer_pair"))
    html = show_table(df).data
    assert "n pairs" in html and "n_pairs" not in html
    assert "1,943,720" in html and "1943720.0" not in html
    assert "—" in html and "nan" not in html.lower().replace("nanos", "")
    assert "<details>" not in html
    wide = pd.DataFrame(np.ones((3, 12)), columns=[f"c_{i}" for i in range(12)])
    assert "<details><summary>Table: 3 rows × 12 columns" in show_table(wide).data
    assert "<details>" in show_table(pd.Series(range(40), name="x")).data
    with pytest.raises(TypeError, match="DataFrame or Series"):
        show_table([1, 2])


def test_columns_keep_the_decimals_they_need_and_never_run_together():
    df = pd.DataFrame({"median_group_size": [56.5, 7.5], "count": [3.0, 4.0],
                       "median_r2": [0.55, 0.487]})
    html = show_table(df).data
    assert ">56.5<" in html.replace(" ", "") and "56.500" not in html   # medians of counts
    assert ">3<" in html.replace(" ", "") and ">0.550<" in html.replace(" ", "")
    assert "padding" in html and "median R²" in html


def _executed_notebook(path, values, record):
    outputs = [{"output_type": "display_data", "data": {"text/plain": [repr(v)]},
                "metadata": {"scrapbook": {"mime_prefix": "", "name": k}}}
               for k, v in dict(values, claims_record=record).items()]
    banner = {"output_type": "display_data", "metadata": {},
              "data": {"text/markdown": ["**This page was computed on:** profile `x`"],
                       "text/plain": ["<Markdown>"]}}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# The network\n"]},
        {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]},
         "source": ["# Parameters\nprofile = 'secret_injected'\n"], "outputs": [],
         "execution_count": 1},
        {"cell_type": "code", "metadata": {"tags": ["remove-input"]}, "source": ["banner(r)"],
         "outputs": [banner], "execution_count": 2},
        {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "source": ["glue()"],
         "outputs": outputs, "execution_count": 3}]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = {"cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


def test_results_extension_fills_the_landing_table_and_hides_injected_parameters(tmp_path):
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    v = {"accuracy": 97.8, "epochs": 20, "mean_rate": 0.3, "silent_min": 0.1,
         "silent_max": 31.0}
    t = claims.claims_table("01_network_activity", v)
    record = json.dumps({"chapter": "01_network_activity", "rows": t.to_dict("records")})
    _executed_notebook(src / "book/chapters/01_network_activity.ipynb", v, record)
    (src / "index.md").write_text(
        "# Home\n\n```{results-at-a-glance}\n```\n\n```{toctree}\n"
        "book/chapters/01_network_activity\n```\n")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'results']\nnb_execution_mode = 'off'\n"
        "exclude_patterns = ['_build']\n")
    out = tmp_path / "html"
    app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    index = (out / "index.html").read_text()
    assert "results-at-a-glance" in index
    assert "2 claims checked:" in index and "2 reproduced" in index
    assert "97.8 % after 20 epochs" in index
    assert "This build:" in index                       # the banner, from the chapter
    assert 'href="book/chapters/01_network_activity.html"' in index
    chapter = (out / "book/chapters/01_network_activity.html").read_text()
    assert "secret_injected" not in chapter
    sys.modules.pop("results", None)
