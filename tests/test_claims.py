"""The paper's claims beside the build: verdict rules, the chapters' claims sections, the
landing page's table, and the words a reader sees (no internal project words in any page's
source)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fclib.pipeline import claims
from fclib.pipeline.book import CHAPTER_DIR, CHAPTERS

ROOT = Path(__file__).resolve().parent.parent


def _headings(name):
    src = (ROOT / CHAPTER_DIR / f"{name}.md").read_text()
    return {line[3:].strip() for line in src.splitlines() if line.startswith("## ")}


@pytest.mark.parametrize("name", sorted(claims.CLAIMS))
def test_chapter_with_claims_ends_with_its_claims_section(name):
    assert name in CHAPTERS
    src = (ROOT / CHAPTER_DIR / f"{name}.md").read_text()
    assert "## The paper's claims beside this run" in src
    assert f'claims_section("{name}")' in src
    # the last section of the chapter is the claims section
    last = [line for line in src.splitlines() if line.startswith("## ")][-1]
    assert last == "## The paper's claims beside this run"
    # every claim names a section of its chapter that measures it
    heads = _headings(name)
    for c in claims.CLAIMS[name]:
        assert c.section in heads, f"{name}: {c.claim!r} names section {c.section!r}"


def test_every_chapter_records_its_glued_values():
    for name in CHAPTERS:
        src = (ROOT / CHAPTER_DIR / f"{name}.md").read_text()
        assert "from myst_nb import glue" not in src, name
        if "glue(" in src:
            assert "from fclib.pipeline.claims import glue" in src, name


def test_missing_values_are_not_measured_and_nothing_else_is_raised():
    for name in claims.CLAIMS:
        table = claims.claims_table(name, {})
        assert (table["verdict"] == "not measured").all()
        assert (table["this build"] == "—").all()


def test_verdicts_follow_their_rules():
    v = {"frac_pos_min": 1.0, "frac_pos_max": 5.0, "n_pos_dominant": 9, "n_both_dominant": 9,
         "n_neg_present": 11, "n_layer_pairs": 11,
         "st_ratio_first": 2.0, "st_sttc_higher": 3, "st_share_max": 12.0}
    t = claims.claims_table("02_pairwise_correlations", v).set_index("claim")["verdict"]
    assert t.iloc[0] == "reproduced"           # every layer pair below 10 %
    assert t.iloc[1] == "reproduced"           # 9 of 11 >= 80 %
    assert t.iloc[2] == "partly"               # ratio > 1 but STTC higher in 3 of 11 only
    assert t.iloc[3] == "reproduced"           # structural at most 12 %
    v.update(frac_pos_min=12.0, frac_pos_max=40.0, n_pos_dominant=2, n_both_dominant=2)
    t = claims.claims_table("02_pairwise_correlations", v)["verdict"]
    assert t.iloc[0] == "not reproduced" and t.iloc[1] == "partly"
    # no negative pair anywhere: "both directions" does not hold, however large the positive
    t = claims.claims_table("02_pairwise_correlations", dict(
        v, n_pos_dominant=11, n_both_dominant=0, n_neg_present=0))["verdict"]
    assert t.iloc[1] == "partly"
    v.update(frac_pos_min=3.0)
    assert claims.claims_table("02_pairwise_correlations", v)["verdict"].iloc[0] == "partly"
    # a band: 5-16 % inside -> reproduced; overlapping -> partly; outside -> not
    base = {"rq_min": 0.9, "rq_max": 0.95, "sf_min": 3, "sf_max": 8}
    for lo, hi, want in [(6, 12, "reproduced"), (2, 9, "partly"), (20, 30, "not reproduced")]:
        t = claims.claims_table("04_two_regimes", dict(base, if_min=lo, if_max=hi))
        assert t["verdict"].iloc[0] == want
    # a NaN is not measured, not a verdict
    t = claims.claims_table("04_two_regimes", dict(base, if_min=float("nan"), if_max=9))
    assert t["verdict"].iloc[0] == "not measured"


def test_verdict_sentence_names_what_holds_and_what_does_not():
    v = {"accuracy": 97.8, "epochs": 20, "mean_rate": 2.0, "silent_min": 0, "silent_max": 1}
    t = claims.claims_table("01_network_activity", v)
    s = claims.verdict_sentence(t)
    assert "Of the 2 claims" in s and "1 is reproduced" in s and "1 is not reproduced" in s
    assert "*activity is sparse*" in s.split("Not holding:")[1]
    assert claims.verdict_sentence(claims.claims_table("19_own_recording", {})) == \
        "This chapter checks no claim of the paper."


def _notebook(tmp_path, name, values, title="A chapter"):
    """An executed notebook as papermill leaves it: glue outputs carry scrapbook metadata."""
    outputs = [{"output_type": "display_data", "data": {"text/plain": [repr(val)]},
                "metadata": {"scrapbook": {"mime_prefix": "", "name": key}}}
               for key, val in values.items()]
    nb = {"cells": [{"cell_type": "markdown", "source": [f"# {title}\n"], "metadata": {}},
                    {"cell_type": "code", "source": "", "outputs": outputs, "metadata": {},
                     "execution_count": 1}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_glued_values_and_record_round_trip_to_the_landing_table(tmp_path):
    v = {"accuracy": 97.8, "epochs": 20, "mean_rate": 0.3, "silent_min": 0.1,
         "silent_max": 31.0}
    table = claims.claims_table("01_network_activity", v)
    record = json.dumps({"chapter": "01_network_activity",
                         "rows": table.to_dict(orient="records")})
    path = _notebook(tmp_path, "01_network_activity", dict(v, claims_record=record))
    assert claims.notebook_values(path)["accuracy"] == 97.8
    rec = claims.read_record(path)
    assert [r["verdict"] for r in rec["rows"]] == ["reproduced", "reproduced"]
    md = claims.results_markdown([("book/chapters/01_network_activity", "The network", rec),
                                  ("book/chapters/02_x", "Not executed", None)])
    assert md.startswith("**2 claims checked:** 2 reproduced, 0 partly, 0 not reproduced, "
                         "0 not measured.")
    rows = [line for line in md.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 2
    assert "{doc}`The network </book/chapters/01_network_activity>`" in rows[0]
    assert "97.8 % after 20 epochs" in rows[0]
    assert claims.read_record(_notebook(tmp_path, "x", {"a": 1})) is None


def test_claims_section_displays_table_and_sentence_and_glues_the_record(monkeypatch):
    shown, glued = [], {}
    import IPython.display
    import myst_nb

    monkeypatch.setattr(IPython.display, "display", lambda x: shown.append(x))
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True:
                        glued.__setitem__(name, value))
    claims.clear()
    claims.glue("accuracy", 50.0)
    claims.glue("epochs", 3)
    claims.claims_section("01_network_activity")
    rows = json.loads(glued["claims_record"])["rows"]
    assert rows[0]["verdict"] == "partly" and rows[1]["verdict"] == "not measured"
    assert len(shown) == 2 and "Holding in part" in shown[1].data
    claims.clear()






@pytest.mark.parametrize("page", ["book/intro.md", "book/gpu.md"] +
                         [f"{CHAPTER_DIR}/{n}.md" for n in CHAPTERS])
def test_pages_speak_to_readers(page):
    src = (ROOT / page).read_text()
    found = [m.group(0) for m in claims.INTERNAL_WORDS.finditer(src)]
    assert not found, f"{page}: internal words {found}"


_FIGURE = re.compile(r"```\{glue:figure\}[^\n]*\n(?::[^\n]*\n)*(.*?)\n```", re.S)
#: a number with a percent sign ("12 %", "5–16 %", "8%")
_PERCENT = re.compile(r"\d\s*%")
#: percentages that are a convention of the drawing, not a result
_CONVENTIONS = ("% confidence interval",)


def _sentences(text):
    """``text`` cut into sentences; "Fig. 2", "Figs. A7" and "s.e." do not end one."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z*{$(])", " ".join(text.split()))
    out = []
    for p in parts:
        if out and re.search(r"(\bFigs?\.|\bs\.e\.|\be\.g\.|\bi\.e\.)$", out[-1]):
            out[-1] += " " + p
        else:
            out.append(p)
    return out


def _captions():
    for md in sorted((ROOT / CHAPTER_DIR).glob("*.md")):
        for m in _FIGURE.finditer(md.read_text()):
            yield md.name, m.group(1).strip()


def test_sentences_keep_figure_labels_whole():
    assert _sentences("**Paper Fig. 2 A–C.** Curves. **What to see:** x, the paper's 5 %.") == [
        "**Paper Fig. 2 A–C.** Curves.", "**What to see:** x, the paper's 5 %."]


def test_every_figure_caption_says_what_to_see_and_types_no_result():
    """Each caption, after saying what is drawn, says what to look at and what the paper found
    there ("**What to see:**"). The figure's data change with every build, so a caption states
    no measured number: a percentage is allowed only in a sentence about the paper (its range,
    its value) or as a drawing convention (a 95 % confidence interval)."""
    caps = list(_captions())
    assert len(caps) >= 50, "the chapters' glue:figure captions were not found"
    for name, cap in caps:
        cap = " ".join(cap.split())
        assert "**What to see:**" in cap, f"{name}: caption without a 'What to see' sentence: {cap[:80]!r}"
        for s in _sentences(cap):
            if _PERCENT.search(s) and "paper" not in s.lower():
                assert any(c in s for c in _CONVENTIONS), (
                    f"{name}: a caption states a percentage outside a sentence about the paper: "
                    f"{s!r}; say what to look for and what the paper reports, not this build's number")
