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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["VERDICTS", "RULE_TEXT", "INTERNAL_WORDS", "Claim", "CLAIMS", "glue", "recorded", "clear",
           "claims_table", "verdict_sentence", "claims_section", "read_record", "notebook_values",
           "results_markdown"]

VERDICTS = ("reproduced", "partly", "not reproduced", "not measured")

RULE_TEXT = ("A claim is *reproduced* when this build's number lies in the range the paper "
             "states or the paper's direction holds in at least 80 % of the layer pairs; "
             "*partly* when the direction holds in some but fewer, or the number lies between "
             "the paper's range and its opposite; *not reproduced* otherwise; *not measured* "
             "when this build did not compute it. Each row gives its own rule.")

#: Words no page of the book may say: the project's working vocabulary and the source papers'
#: file names ("000_…", "003"); the tests check every page's source and rendered text.
INTERNAL_WORDS = re.compile(r"\bsessions?\b|\bissues?\b|the text we have|papers/|\blent\b|"
                            r"\b\d{3}_…|(?<![\d.,_])00[0-9](?![\d.,_])|analysis note", re.I)

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


def _arrow(a: float, b: float, decimals: int = 2) -> str:
    """``"a → b"`` at ``decimals`` places, or more (up to 4) until the two differ: a change is
    never shown as ``0.06 → 0.06``."""
    d = decimals
    while d < 4 and f"{a:.{d}f}" == f"{b:.{d}f}" and a != b:
        d += 1
    return f"{a:.{d}f} → {b:.{d}f}"


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


def _falls(v, new, ref, factor):
    """Reproduced when ``new`` is at most ``factor`` times ``ref``, partly when below it."""
    return _three(_f(v, new) <= factor * _f(v, ref), _f(v, new) < _f(v, ref))


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


_BADGE = {"reproduced": "✓ reproduced", "partly": "◐ partly", "not reproduced": "✗ not reproduced",
          "not measured": "– not measured"}


def _styled(table):
    shown = table.drop(columns=["section"]).copy()
    shown["verdict"] = shown["verdict"].map(_BADGE)
    return (shown.style.hide(axis="index")
            .set_properties(**{"text-align": "left", "vertical-align": "top"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left"),
                                                            ("padding", "0.35em 0.7em")]},
                               {"selector": "td", "props": [("padding", "0.35em 0.7em")]}]))


def claims_section(chapter: str, values: dict | None = None):
    """The chapter's last cell: display its claims table and the sentence that says what
    holds (also glued as ``claims_text``), and glue the rows as JSON (``claims_record``) for
    the landing page."""
    from IPython.display import HTML, Markdown, display

    table = claims_table(chapter, values)
    sentence = verdict_sentence(table)
    glue("claims_text", sentence, display=False)
    record = {"chapter": chapter, "rows": table.to_dict(orient="records")}
    glue("claims_record", json.dumps(record), display=False)
    display(HTML(_styled(table).to_html()))   # (a Styler's plain text holds an address)
    display(Markdown(sentence))


def read_record(notebook: str | Path) -> dict | None:
    """The ``claims_record`` glued in an executed notebook (``None`` if it has none)."""
    for name, text in _glued_texts(notebook):
        if name == "claims_record":
            return json.loads(ast.literal_eval(text))
    return None


def _glued_texts(notebook):
    """``(name, plain text)`` of every glued output of an executed notebook (a value glued
    without display carries its text under papermill's record prefix)."""
    nb = json.loads(Path(notebook).read_text())
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            data = out.get("data", {})
            text = next((t for k, t in data.items() if k.endswith("text/plain")), None)
            if name and text is not None:
                yield name, "".join(text) if isinstance(text, list) else text


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
            link = f"{{doc}}`{cell(title)} </{doc}>`" if i == 0 else ""
            lines.append(f"| {link} | {cell(row['claim'])} | {cell(row['paper'])} | "
                         f"{cell(row['this build'])} | {_BADGE[row['verdict']]} |")
    total = sum(counts.values())
    summary = (f"**{total} claims checked:** " + ", ".join(
        f"{counts[k]} {k}" for k in VERDICTS) + ".") if total else (
        "**No chapter of this build recorded its claims** (were the chapters executed?).")
    return summary + "\n\n" + "\n".join(lines) + "\n"


def _range(v, lo, hi, fmt="{:.1f}", unit=" %"):
    a, b = _f(v, lo), _f(v, hi)
    return f"{fmt.format(a)}{unit} – {fmt.format(b)}{unit} per layer pair"


def _in_band(v, lo, hi, band):
    """Reproduced when [lo, hi] lies inside ``band``, partly when they overlap."""
    a, b = _f(v, lo), _f(v, hi)
    return _three(band[0] <= a and b <= band[1], a <= band[1] and b >= band[0])


_C = Claim
CLAIMS.update({
    "01_network_activity": [
        _C("the trained network classifies well above chance",
           "72.18 % held-out accuracy on CIFAR-100 (chance 1 %)",
           "reproduced at 70 % or more, partly above twice chance",
           lambda v: f"{_f(v, 'accuracy'):.1f} % after {v['epochs']} epochs",
           lambda v: _three(_f(v, "accuracy") >= 70, _f(v, "accuracy") > 20),
           "Training"),
        _C("activity is sparse", "sparse spiking (Fig. A1)",
           "reproduced at a mean rate of at most 0.4 spikes per image (10 % of the T = 4 steps), "
           "partly at most 1",
           lambda v: f"{_f(v, 'mean_rate'):.3f} spikes per image; "
                     f"{_f(v, 'silent_min'):.1f} – {_f(v, 'silent_max'):.1f} % silent",
           lambda v: _three(_f(v, "mean_rate") <= 0.4, _f(v, "mean_rate") <= 1),
           "How fast do the neurons fire, and how many are silent?"),
    ],
    "02_pairwise_correlations": [
        _C("a small fraction of pairs is significantly positive at z > 4",
           "a small fraction (Fig. 1 I–L)",
           "reproduced when every layer pair is below 10 %, partly when some are",
           lambda v: _range(v, "frac_pos_min", "frac_pos_max"),
           lambda v: _three(_f(v, "frac_pos_max") < 10, _f(v, "frac_pos_min") < 10),
           "How many pairs are significant?"),
        _C("significant pairs in both directions, the positive tail stronger",
           "both tails, the positive stronger",
           "reproduced when a layer pair has negative pairs and more positive ones in ≥ 80 % "
           "of layer pairs; partly when the positive tail is the larger in some",
           lambda v: f"negative pairs in {v['n_neg_present']} of {v['n_layer_pairs']} layer "
                     f"pairs; positive larger in {v['n_pos_dominant']}",
           lambda v: ("reproduced" if _f(v, "n_both_dominant") >= 0.8 * _f(v, "n_layer_pairs")
                      else "partly" if _f(v, "n_pos_dominant") > 0 else "not reproduced"),
           "How many pairs are significant?"),
        _C("first layer: structural edges are stronger and denser",
           "structural edges have higher STTC and a larger normalised degree (Figs. A7–A8)",
           "reproduced when the degree ratio exceeds 1 and structural STTC is higher in ≥ 80 % "
           "of layer pairs, partly when one holds",
           lambda v: f"degree ratio {_f(v, 'st_ratio_first'):.1f}; structural STTC higher in "
                     f"{v['st_sttc_higher']} of {v['n_layer_pairs']} layer pairs",
           lambda v: _three(_f(v, "st_ratio_first") > 1 and
                            _f(v, "st_sttc_higher") >= 0.8 * _f(v, "n_layer_pairs"),
                            _f(v, "st_ratio_first") > 1 or _f(v, "st_sttc_higher") > 0),
           "Are 1FC edges structural?"),
        _C("most functional connectivity is not structural",
           "most 1FC edges lie outside the kernel's reach",
           "reproduced when structural edges are at most half of the edges of every layer pair",
           lambda v: f"structural edges at most {_f(v, 'st_share_max'):.1f} % of edges",
           lambda v: _three(_f(v, "st_share_max") <= 50, False),
           "Are 1FC edges structural?"),
    ],
    "03_response_functions": [
        _C("firing probability is a ReLU-like function of 1FC co-firing",
           "ReLU-like in every layer pair (Fig. 2 D–L)",
           "reproduced when the median R² of every layer pair is at least 0.8, partly when "
           "that of some is",
           lambda v: _range(v, "r2_med_min", "r2_med_max", "{:.2f}", "") + " (median R²)",
           lambda v: _three(_f(v, "r2_med_min") >= 0.8, _f(v, "r2_med_max") >= 0.8),
           "How well does a ReLU fit across the population?"),
        _C("some neurons fire with probability near one at full co-firing",
           "some neurons reach probabilities near one (Fig. 2 A–C)",
           "reproduced when at least one neuron's curve exceeds 0.9",
           lambda v: f"{v['n_above_09']} neurons above 0.9",
           lambda v: _three(_f(v, "n_above_09") > 0, False),
           "How well does a ReLU fit across the population?"),
    ],
    "04_two_regimes": [
        _C("the strong regime starts when 5–16 % of the 1FC group co-fire",
           "5–16 % of the group (Fig. 2 Q–S)",
           "reproduced when every layer pair's median lies in 5–16 %, partly when the range "
           "overlaps it",
           lambda v: _range(v, "if_min", "if_max"),
           lambda v: _in_band(v, "if_min", "if_max", (5, 16)),
           "Where does the strong regime start?"),
        _C("the response rises within the largest ~8 % of co-firing events",
           "rise quantile ≈ 0.92 (Fig. 2 Q–T)",
           "reproduced when every layer pair's median rise quantile lies in 0.87–0.97, partly "
           "when the range overlaps it",
           lambda v: _range(v, "rq_min", "rq_max", "{:.2f}", ""),
           lambda v: _in_band(v, "rq_min", "rq_max", (0.87, 0.97)),
           "Where does the strong regime start?"),
        _C("strong events are rare", "rare (Fig. 2 Q–T)",
           "reproduced when at most 10 % of frames are strong in every layer pair, partly at "
           "most 20 %",
           lambda v: _range(v, "sf_min", "sf_max"),
           lambda v: _three(_f(v, "sf_max") <= 10, _f(v, "sf_max") <= 20),
           "Where does the strong regime start?"),
    ],
    "05_scaling": [
        _C("the ReLU slope falls with 1FC group size",
           "falls with N (Fig. A3)",
           "reproduced when it falls in ≥ 80 % of layer pairs, partly in some",
           lambda v: f"falls in {v['n_fall']} of {v['n_laws']} layer pairs "
                     f"(β {_f(v, 'beta_min'):.2f} – {_f(v, 'beta_max'):.2f})",
           lambda v: _share(_f(v, "n_fall"), _f(v, "n_laws")),
           "Does the slope fall with group size?"),
        _C("response curves collapse when co-firing is rescaled by a power of N",
           "collapse with a depth-dependent exponent (Fig. A3)",
           "reproduced when rescaling improves the collapse in every layer pair, partly in some",
           lambda v: f"collapse R² changes by {_f(v, 'gain_min'):+.3f} to "
                     f"{_f(v, 'gain_max'):+.3f}",
           lambda v: _three(_f(v, "gain_min") > 0, _f(v, "gain_max") > 0),
           "Do the response functions collapse?"),
    ],
    "06_robustness": [
        _C("slopes agree between batches of images",
           "differences tightly concentrated around zero (Fig. A5)",
           "reproduced when the median difference is within 5 % of the slope in every layer "
           "pair, partly within 10 %",
           lambda v: f"median within {_f(v, 'bias_max'):.1f} % of the slope; median absolute "
                     f"{_f(v, 'med_abs_min'):.1f} – {_f(v, 'med_abs_max'):.1f} %",
           lambda v: _three(_f(v, "bias_max") <= 5, _f(v, "bias_max") <= 10),
           "How much do slopes differ between batches?"),
        _C("outlying slope differences are negligible",
           "a negligible proportion (Fig. A5)",
           "reproduced when at most 5 % of differences exceed half the slope, partly at most "
           "10 %",
           lambda v: f"at most {_f(v, 'out_max'):.2f} %",
           lambda v: _three(_f(v, "out_max") <= 5, _f(v, "out_max") <= 10),
           "How much do slopes differ between batches?"),
    ],
    "07_information": [
        _C("information about the class rises with depth",
           "MI rises along the layers (Fig. A6)",
           "reproduced when the last layer's median MI exceeds the first's and ρ with depth is "
           "positive, partly when one holds",
           lambda v: f"{_arrow(_f(v, 'mi_first'), _f(v, 'mi_last'), 3)} bits; "
                     f"ρ with depth {_f(v, 'rho_depth'):.2f}",
           lambda v: _three(_f(v, "mi_last") > _f(v, "mi_first") and _f(v, "rho_depth") > 0,
                            _f(v, "mi_last") > _f(v, "mi_first") or _f(v, "rho_depth") > 0),
           "Does information rise with depth?"),
        _C("in the last layer, MI grows with the 1FC group size",
           "the higher the degree, the larger the MI (Fig. A6)",
           "reproduced at Spearman ρ ≥ 0.3, partly at ρ > 0",
           lambda v: f"ρ = {_f(v, 'rho_last'):.2f}",
           lambda v: _three(_f(v, "rho_last") >= 0.3, _f(v, "rho_last") > 0),
           "Does MI grow with the size of the 1FC group?"),
        _C("a cluster of hubs: high degree and high MI",
           "a prominent cluster (Fig. A6)",
           "reproduced when hubs number at least twice what independence predicts, partly "
           "when more",
           lambda v: f"{v['n_hubs']} hubs (independence: about {_f(v, 'expected_hubs'):.0f})",
           lambda v: _three(_f(v, "n_hubs") >= 2 * _f(v, "expected_hubs"),
                            _f(v, "n_hubs") > _f(v, "expected_hubs")),
           "Does MI grow with the size of the 1FC group?"),
    ],
    "08_semantics": [
        _C("the larger the co-firing, the more often the preferred class",
           "similarity rises with co-firing (Fig. A10 C–D)",
           "reproduced when the top co-firing bin beats the bottom one in ≥ 80 % of layer "
           "pairs, partly in some",
           lambda v: f"in {v['n_rising']} of {v['n_pairs']} layer pairs",
           lambda v: _share(_f(v, "n_rising"), _f(v, "n_pairs")),
           "Does similarity rise with co-firing? (Fig. A10 C-D)"),
        _C("strong events carry the class, most in deep layers",
           "the strong regime encodes the class reliably, most in deep layers",
           "reproduced when the last layer pair's strong-regime match exceeds the first's and "
           "chance, partly when it exceeds chance",
           lambda v: f"{_arrow(_f(v, 'match_strong_first'), _f(v, 'match_strong_last'), 2)} "
                     f"(chance {_f(v, 'chance'):.2f})",
           lambda v: _three(_f(v, "match_strong_last") > _f(v, "match_strong_first") and
                            _f(v, "match_strong_last") > _f(v, "chance"),
                            _f(v, "match_strong_last") > _f(v, "chance")),
           "Is the strong regime more class-specific than the weak one?"),
    ],
    "09_identity": [
        _C("which group members co-fire adds nothing to how many do",
           "identities add no significant predictive value (Fig. A9)",
           "reproduced when identities gain significantly in at most a fifth of the tests, "
           "partly in at most half",
           lambda v: f"significant gain in {v['n_sig_id']} of {v['n_tests']} tests "
                     f"(difference {_f(v, 'diff_min'):+.3f} … {_f(v, 'diff_max'):+.3f})",
           lambda v: _three(_f(v, "n_sig_id") <= 0.2 * _f(v, "n_tests"),
                            _f(v, "n_sig_id") <= 0.5 * _f(v, "n_tests")),
           "Do identities predict better than the count?"),
    ],
    "10_perturbations": [
        _C("noise and FGSM lower the accuracy", "both lower it (Fig. A11)",
           "reproduced when both lower it by 5 points or more, partly when both lower it",
           lambda v: f"{_arrow(_f(v, 'acc_original'), _f(v, 'acc_noise'), 1)} % (noise), "
                     f"{_f(v, 'acc_fgsm'):.1f} % (FGSM)",
           lambda v: _three(min(_f(v, "acc_original") - _f(v, "acc_noise"),
                                _f(v, "acc_original") - _f(v, "acc_fgsm")) >= 5,
                            min(_f(v, "acc_original") - _f(v, "acc_noise"),
                                _f(v, "acc_original") - _f(v, "acc_fgsm")) > 0),
           "Do the distortions lower the accuracy? (Fig. A11)"),
        _C("noise lowers the firing rate of every layer", "every layer (Fig. A12)",
           "reproduced in every layer, partly in more than half",
           lambda v: f"lower in {v['n_lower_noise']} of {v['n_layers']} layers",
           lambda v: _three(_f(v, "n_lower_noise") == _f(v, "n_layers"),
                            _f(v, "n_lower_noise") > 0.5 * _f(v, "n_layers")),
           "Does noise lower the firing rates? (Fig. A12)"),
        _C("the response functions are disrupted", "disrupted by noise and FGSM (Figs. 4, 5)",
           "reproduced when both keep R² > 0.8 for at most 80 % of the selected neurons, "
           "partly when one does",
           lambda v: f"R² > 0.8 kept by {_f(v, 'keep_noise'):.0f} % (noise), "
                     f"{_f(v, 'keep_fgsm'):.0f} % (FGSM)",
           lambda v: _three(max(_f(v, "keep_noise"), _f(v, "keep_fgsm")) <= 80,
                            min(_f(v, "keep_noise"), _f(v, "keep_fgsm")) <= 80),
           "Are the response functions disrupted? (Figs. 4 and 5)"),
        _C("strong events become rarer under noise", "rarer (Figs. A14–A16)",
           "reproduced when the share of strong frames falls by a tenth or more, partly when "
           "it falls",
           lambda v: f"{_arrow(_f(v, 'strong_original'), _f(v, 'strong_noise'), 1)} % of frames",
           lambda v: _falls(v, "strong_noise", "strong_original", 0.9),
           "Are the response functions disrupted? (Figs. 4 and 5)"),
    ],
    "11_permuted": [
        _C("after permutation, early STTC distributions are largely unchanged",
           "largely unchanged in early and intermediate layers (Fig. A17)",
           "reproduced at a Kolmogorov–Smirnov distance ≤ 0.1, partly ≤ 0.2",
           lambda v: f"KS distance {_f(v, 'ks_early'):.2f} (first half of the layer pairs)",
           lambda v: _three(_f(v, "ks_early") <= 0.1, _f(v, "ks_early") <= 0.2),
           "Do STTC and significance survive the permutation?"),
        _C("after permutation, early significant pairs are largely unchanged",
           "largely unchanged (Fig. A17)",
           "reproduced when the ratio permuted/trained lies in 0.67–1.5, partly in 0.5–2",
           lambda v: f"ratio {_f(v, 'sig_ratio_early'):.2f}",
           lambda v: _three(0.67 <= _f(v, "sig_ratio_early") <= 1.5,
                            0.5 <= _f(v, "sig_ratio_early") <= 2),
           "Do STTC and significance survive the permutation?"),
        _C("after permutation, deeper 1FC groups fail to form",
           "deeper layers fail to form coherent groups (Fig. A17)",
           "reproduced when the deeper half's median group size falls by half or more, partly "
           "when it falls",
           lambda v: f"group size ratio {_f(v, 'grp_ratio_late'):.2f} (deeper half)",
           lambda v: _three(_f(v, "grp_ratio_late") <= 0.5, _f(v, "grp_ratio_late") < 1),
           "Do STTC and significance survive the permutation?"),
        _C("after permutation, response properties are lost",
           "characteristic response properties are lost",
           "reproduced when the share of ReLU fits with R² > 0.8 falls by half or more, partly "
           "when it falls",
           lambda v: f"{_f(v, 'sel_permuted'):.0f} % (trained {_f(v, 'sel_trained'):.0f} %)",
           lambda v: _falls(v, "sel_permuted", "sel_trained", 0.5),
           "Do STTC and significance survive the permutation?"),
    ],
    "12_detection": [
        _C("co-firing statistics detect adversarial inputs",
           "a detector is developed on them (§4)",
           "reproduced when the held-out AUC's lower bound is at least 0.8, partly when it "
           "exceeds 0.5",
           lambda v: f"AUC {_f(v, 'auc_cof'):.3f} ({_f(v, 'auc_cof_lo'):.3f}–"
                     f"{_f(v, 'auc_cof_hi'):.3f})",
           lambda v: _three(_f(v, "auc_cof_lo") >= 0.8, _f(v, "auc_cof_lo") > 0.5),
           "Does the detector beat firing rates?"),
    ],
    "13_functional_or_stimulus": [
        _C("ReLU-like responses hold when groups and responses come from different images",
           "ReLU-like responses (not tested against stimulus-driven correlation)",
           "reproduced when the cross-validated share with R² > 0.8 under the stimulus null is "
           "at least half the in-sample share, partly when above zero",
           lambda v: f"{_f(v, 'stimulus_cv_selected'):.2f} (in-sample, circular: "
                     f"{_f(v, 'circular_selected'):.2f})",
           lambda v: _three(_f(v, "stimulus_cv_selected") >= 0.5 * _f(v, "circular_selected"),
                            _f(v, "stimulus_cv_selected") > 0),
           "The central results, five ways"),
        _C("strong events carry the preferred class under the stimulus null",
           "class information lives in the strong events",
           "reproduced when the share exceeds the tuning-matched groups' and chance, partly "
           "when it exceeds chance",
           # chapter 13 glues chance in per cent, the shares as fractions
           lambda v: f"{_f(v, 'stimulus_cv_preferred_when_strong'):.2f} (tuning-matched "
                     f"{_f(v, 'tuning_preferred_when_strong'):.2f}, chance "
                     f"{_f(v, 'chance') / 100:.2f})",
           lambda v: _three(_f(v, "stimulus_cv_preferred_when_strong") >
                            max(_f(v, "tuning_preferred_when_strong"), _f(v, "chance") / 100),
                            _f(v, "stimulus_cv_preferred_when_strong") > _f(v, "chance") / 100),
           "The central results, five ways"),
    ],
    "18_synchrony_semantization": [
        _C("the input volley spreads in early layers and re-converges in deep ones",
           "spreads, then tightens (the synchrony paper's abstract)",
           "reproduced when the widest hidden layer is wider than the input and the last "
           "narrower than the widest, partly when one holds",
           lambda v: f"IQR input {_f(v, 'spread_input'):.2f}, widest {_f(v, 'spread_peak'):.2f}, "
                     f"last {_f(v, 'spread_last'):.2f} τ",
           lambda v: _three(_f(v, "spread_peak") > _f(v, "spread_input") and
                            _f(v, "spread_last") < _f(v, "spread_peak"),
                            _f(v, "spread_peak") > _f(v, "spread_input") or
                            _f(v, "spread_last") < _f(v, "spread_peak")),
           "Does the volley spread and then tighten?"),
        _C("excitatory neurons become class-specific with depth",
           "E neurons' IG shifts towards 1 with depth",
           "reproduced when the last layer's median IG exceeds the first's and the shuffle "
           "null, partly when one holds",
           lambda v: f"median IG {_arrow(_f(v, 'ig_e_first'), _f(v, 'ig_e_last'), 2)} "
                     f"(null ≤ {_f(v, 'ig_null_max'):.2f})",
           lambda v: _three(_f(v, "ig_e_last") > _f(v, "ig_e_first") and
                            _f(v, "ig_e_last") > _f(v, "ig_null_max"),
                            _f(v, "ig_e_last") > _f(v, "ig_e_first") or
                            _f(v, "ig_e_last") > _f(v, "ig_null_max")),
           "Do excitatory neurons become class-specific, and inhibitory ones not?"),
        _C("inhibitory neurons stay class-unspecific", "I neurons stay unspecific",
           "reproduced when their median IG stays within the shuffle null, partly when below "
           "the excitatory neurons'",
           lambda v: f"median IG {_arrow(_f(v, 'ig_i_first'), _f(v, 'ig_i_last'), 2)}",
           lambda v: _three(_f(v, "ig_i_last") <= _f(v, "ig_null_max"),
                            _f(v, "ig_i_last") < _f(v, "ig_e_last")),
           "Do excitatory neurons become class-specific, and inhibitory ones not?"),
        _C("class-specific excitatory pathways form, more with depth",
           "pathways more pronounced with depth",
           "reproduced when pathway neurons prefer their class more in the last layer than in "
           "the first and above chance (0.10), partly when above chance",
           lambda v: f"{_arrow(_f(v, 'pref_first'), _f(v, 'pref_last'), 2)} (chance 0.10)",
           lambda v: _three(_f(v, "pref_last") > _f(v, "pref_first") and
                            _f(v, "pref_last") > 0.1, _f(v, "pref_last") > 0.1),
           "Do class-specific excitatory pathways form, more with depth?"),
    ],
})


def notebook_values(notebook: str | Path) -> dict:
    """Every value an executed notebook glued, read back from its outputs (numbers and
    strings; other objects such as figures are skipped)."""
    values = {}
    for name, text in _glued_texts(notebook):
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            try:
                values[name] = float(text.replace("np.float64(", "").rstrip(")"))
            except ValueError:
                values[name] = text
    return values


CLAIMS["10_perturbations"] += [
    Claim("under noise, the last layer's strong events mostly show other classes",
          "strong events mostly of other classes (Fig. A16)",
          "reproduced when the share of strong frames of the preferred class falls by a fifth "
          "or more, partly when it falls",
          lambda v: f"{_arrow(_f(v, 'ls_match_original'), _f(v, 'ls_match_noise'), 1)} %",
          lambda v: _falls(v, "ls_match_noise", "ls_match_original", 0.8),
          "What does the last layer lose under distortion? (Figs. A14–A16)"),
    Claim("under noise, the last layer's count entropy and MI fall",
          "lower entropy, lower MI (Fig. A16)",
          "reproduced when both fall, partly when one does",
          lambda v: f"entropy {_arrow(_f(v, 'ls_entropy_original'), _f(v, 'ls_entropy_noise'))} "
                    f"bits, MI {_arrow(_f(v, 'ls_mi_original'), _f(v, 'ls_mi_noise'))} bits",
          lambda v: _three(_f(v, "ls_entropy_noise") < _f(v, "ls_entropy_original") and
                           _f(v, "ls_mi_noise") < _f(v, "ls_mi_original"),
                           _f(v, "ls_entropy_noise") < _f(v, "ls_entropy_original") or
                           _f(v, "ls_mi_noise") < _f(v, "ls_mi_original")),
          "What does the last layer lose under distortion? (Figs. A14–A16)"),
    Claim("under FGSM, the last layer carries less class information",
          "lower class-specific information (Figs. A14, A15)",
          "reproduced when the MI falls by a fifth or more, partly when it falls",
          lambda v: f"MI {_arrow(_f(v, 'ls_mi_original'), _f(v, 'ls_mi_fgsm'), 2)} bits",
          lambda v: _falls(v, "ls_mi_fgsm", "ls_mi_original", 0.8),
          "What does the last layer lose under distortion? (Figs. A14–A16)"),
]


CLAIMS["14_when_ensembles_form"] = [
    Claim("a rate-matched random network keeps the significant pairs",
          "\"largely unchanged\" after permutation in early and intermediate layers (§5)",
          "reproduced when its share of significant pairs is 0.67–1.5 times the trained "
          "network's, partly 0.5–2 times",
          lambda v: f"{_f(v, 'sig_matched'):.2f} % (trained {_f(v, 'sig_last'):.2f} %)",
          lambda v: _three(0.67 <= _f(v, "sig_matched") / _f(v, "sig_last") <= 1.5,
                           0.5 <= _f(v, "sig_matched") / _f(v, "sig_last") <= 2),
          "Untrained, trained and rate-matched networks side by side"),
    Claim("a rate-matched random network forms no coherent 1FC groups",
          "deeper layers \"fail to form coherent 1FC groups\" (§5)",
          "reproduced when its median group size is at most half the trained network's, "
          "partly when smaller",
          lambda v: f"{_f(v, 'size_matched'):.0f} (trained {_f(v, 'size_last'):.0f})",
          lambda v: _falls(v, "size_matched", "size_last", 0.5),
          "Untrained, trained and rate-matched networks side by side"),
    Claim("a rate-matched random network loses the response properties",
          "\"characteristic response properties are lost\" (§5)",
          "reproduced when its share of ReLU fits with R² > 0.8 is at most half the trained "
          "network's, partly when lower",
          lambda v: f"{_f(v, 'sel_matched'):.1f} % (trained {_f(v, 'sel_last'):.1f} %)",
          lambda v: _falls(v, "sel_matched", "sel_last", 0.5),
          "Untrained, trained and rate-matched networks side by side"),
]

CLAIMS["17_mango"] = [
    Claim("at 10² evaluations PROTES (TT) beats Nevergrad, and both beat random search",
          "TT > NG at 10²–10³ evaluations, all beat RS (the MANGO paper's Table 1)",
          "reproduced when TT > NG > RS in mean best activation, partly when TT or NG beats RS",
          lambda v: f"TT {_f(v, 'act100_tt'):.3f}, NG {_f(v, 'act100_ng'):.3f}, "
                    f"RS {_f(v, 'act100_rs'):.3f}",
          lambda v: _three(_f(v, "act100_tt") > _f(v, "act100_ng") > _f(v, "act100_rs"),
                           max(_f(v, "act100_tt"), _f(v, "act100_ng")) > _f(v, "act100_rs")),
          "Which optimiser reaches the highest activation for a given budget? "
          "(the MANGO paper's Table 1)"),
    Claim("labile units are nearly absent early and common in the last layer",
          "virtually none in the first layers, about 40 % in the last (Fig. 10)",
          "reproduced when the first layer has at most 10 % and the last 20–60 %, partly when "
          "the last has more than the first",
          lambda v: f"{_arrow(_f(v, 'labile_first'), _f(v, 'labile_last'), 0)} %",
          lambda v: _three(_f(v, "labile_first") <= 10 and 20 <= _f(v, "labile_last") <= 60,
                           _f(v, "labile_last") > _f(v, "labile_first")),
          "Are deep units labile?"),
]
