"""The paper's claims beside this build: one table per chapter, a verdict per claim computed
from the chapter's own numbers, and the landing page's "results at a glance" built from them.

A chapter imports :func:`glue` from here instead of ``myst_nb.glue``: it glues as before and
also records each value, so the chapter's last cell, :func:`claims_section`, can set every
claim of :data:`CLAIMS` beside the numbers the chapter computed. Each verdict follows the rule
written in its row (:data:`RULE_TEXT` says how the rules are built); nothing in a table is
typed except the paper's side. The section also glues its rows as JSON
(``claims_record``), which the book's ``results`` Sphinx extension reads from the executed
notebooks to fill the landing page's table at build time.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["VERDICTS", "RULE_TEXT", "Claim", "CLAIMS", "glue", "recorded", "clear",
           "claims_table", "verdict_sentence", "claims_section", "read_record",
           "results_markdown"]

VERDICTS = ("reproduced", "partly", "not reproduced", "not measured")

RULE_TEXT = ("A claim is *reproduced* when this build's number lies in the range the paper "
             "states or the paper's direction holds in at least 80 % of the layer pairs; "
             "*partly* when the direction holds in some but fewer, or the number lies between "
             "the paper's range and its opposite; *not reproduced* otherwise; *not measured* "
             "when this build did not compute it. Each row gives its own rule.")

_VALUES: dict[str, object] = {}


def glue(name: str, value, display: bool = True):
    """``myst_nb.glue(name, value, display)``, recording ``value`` for :func:`claims_section`."""
    from myst_nb import glue as _glue

    _VALUES[name] = value
    return _glue(name, value, display=display)


def recorded() -> dict:
    """The values glued so far in this kernel (a copy)."""
    return dict(_VALUES)


def clear() -> None:
    """Forget the recorded values (tests; a new chapter in the same kernel)."""
    _VALUES.clear()


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how this build is judged against it.

    ``value(v)`` writes this build's number(s) from the chapter's glued values ``v``;
    ``verdict(v)`` returns one of :data:`VERDICTS`. A missing value (``KeyError``) or a
    value that is not a number makes the claim "not measured".
    """
    claim: str
    paper: str
    rule: str
    value: Callable[[dict], str]
    verdict: Callable[[dict], str]
    section: str = ""      # the chapter's section that measures it (its heading text)


def _f(v, name):
    x = float(v[name])
    if math.isnan(x):
        raise ValueError(name)
    return x


def _pct(x):
    return f"{x:.1f} %"


def _share(n, total, *, full=1.0, part=0.0):
    """Verdict from the share n/total of layer pairs where the direction holds: reproduced at
    >= 80 % (or ``full``), partly above ``part``."""
    share = n / total if total else float("nan")
    if math.isnan(share):
        raise ValueError("no layer pairs")
    if share >= min(full, 0.8):
        return "reproduced"
    return "partly" if share > part else "not reproduced"


def _three(ok: bool, some: bool):
    return "reproduced" if ok else "partly" if some else "not reproduced"


CLAIMS: dict[str, list[Claim]] = {}


def claims_table(chapter: str, values: dict | None = None):
    """The chapter's claims as a table: claim, paper, this build, rule, verdict.

    ``values`` defaults to the values glued in this kernel (:func:`recorded`).
    """
    import pandas as pd

    v = recorded() if values is None else values
    rows = []
    for c in CLAIMS.get(chapter, []):
        try:
            shown, verdict = c.value(v), c.verdict(v)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            shown, verdict = "—", "not measured"
        if verdict not in VERDICTS:
            raise ValueError(f"{chapter}: verdict {verdict!r} of {c.claim!r} is not one of "
                             f"{VERDICTS}")
        rows.append({"claim": c.claim, "paper": c.paper, "this build": shown,
                     "rule": c.rule, "verdict": verdict, "section": c.section})
    return pd.DataFrame(rows, columns=["claim", "paper", "this build", "rule", "verdict",
                                       "section"])


def verdict_sentence(table) -> str:
    """One or two sentences saying what holds and what does not, from a claims table."""
    if len(table) == 0:
        return "This chapter checks no claim of the paper."
    counts = {k: int((table["verdict"] == k).sum()) for k in VERDICTS}
    n = len(table)

    def names(k):
        return "; ".join(f"*{c}*" for c in table.loc[table["verdict"] == k, "claim"])

    head = (f"Of the {n} claim{'s' if n != 1 else ''} of the paper checked here, "
            + ", ".join(f"{counts[k]} {'is' if counts[k] == 1 else 'are'} {k}"
                        for k in VERDICTS if counts[k]) + ".")
    parts = []
    if counts["reproduced"]:
        parts.append(f"Holding in this build: {names('reproduced')}.")
    if counts["partly"]:
        parts.append(f"Holding in part: {names('partly')}.")
    if counts["not reproduced"]:
        parts.append(f"Not holding: {names('not reproduced')}.")
    return " ".join([head] + parts)


_BADGE = {"reproduced": "✅ reproduced", "partly": "◐ partly", "not reproduced": "✗ not reproduced",
          "not measured": "– not measured"}


def _styled(table):
    shown = table.drop(columns=["section"]).copy()
    shown["verdict"] = shown["verdict"].map(_BADGE)
    return (shown.style.hide(axis="index")
            .set_properties(**{"text-align": "left", "vertical-align": "top"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))


def claims_section(chapter: str, values: dict | None = None):
    """The chapter's last cell: show its claims table, glue the verdict sentence
    (``claims_text``) and the rows as JSON (``claims_record``) for the landing page.

    Returns the styled table for display.
    """
    table = claims_table(chapter, values)
    glue("claims_text", verdict_sentence(table), display=False)
    record = {"chapter": chapter, "rows": table.to_dict(orient="records")}
    glue("claims_record", json.dumps(record), display=False)
    return _styled(table)


def read_record(notebook: str | Path) -> dict | None:
    """The ``claims_record`` glued in an executed notebook (``None`` if it has none)."""
    nb = json.loads(Path(notebook).read_text())
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook", {})
            if meta.get("name") != "claims_record":
                continue
            data = out.get("data", {})
            text = next((t for k, t in data.items() if k.endswith("text/plain")), None)
            if text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            return json.loads(ast.literal_eval(text))
    return None


def results_markdown(records: list[tuple[str, str, dict | None]]) -> str:
    """The landing page's table (MyST Markdown) from ``(docname, title, record)`` triples in
    book order: claim | paper | this build | verdict, each row linked to its chapter, and a
    count of the verdicts."""
    lines = ["| chapter | claim | paper | this build | verdict |", "|---|---|---|---|---|"]
    counts = dict.fromkeys(VERDICTS, 0)

    def cell(x):
        return str(x).replace("|", "\\|").replace("\n", " ")

    for doc, title, rec in records:
        if not rec or not rec.get("rows"):
            continue
        for i, row in enumerate(rec["rows"]):
            counts[row["verdict"]] += 1
            link = f"{{doc}}`{cell(title)} </{doc}>`" if i == 0 else "〃"
            lines.append(f"| {link} | {cell(row['claim'])} | {cell(row['paper'])} | "
                         f"{cell(row['this build'])} | {_BADGE[row['verdict']]} |")
    total = sum(counts.values())
    summary = (f"**{total} claims checked:** " + ", ".join(
        f"{counts[k]} {k}" for k in VERDICTS) + ".") if total else (
        "**No chapter of this build recorded its claims** (were the chapters executed?).")
    return summary + "\n\n" + "\n".join(lines) + "\n"
