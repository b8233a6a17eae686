"""Which verdicts depend on the scale: the central quantities of several runs side by side,
with the paper's claim and a verdict per run computed by a stated rule.

Every number is read from a run's cached artefacts through the same :class:`Run` calls (and
parameters) the chapters use, so a run whose chapters were executed costs nothing here; a
run that does not exist in the data folder is a column of "not built", never typed numbers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["run_exists", "central_quantities", "CLAIMS", "comparison_table"]


def run_exists(profile: str, data_dir=None, **overrides) -> bool:
    """Whether the model and the original recording of ``profile`` (with ``overrides``)
    exist in ``data_dir`` (nothing is trained or recorded to find out)."""
    from fclib.pipeline.profiles import condition_file, resolve
    from fclib.pipeline.stages import default_data_dir, stage_keys

    cfg = resolve(profile, **overrides)
    (train, _), (record, _) = stage_keys(cfg)
    root = Path(default_data_dir() if data_dir is None else data_dir) / "runs"
    return ((root / train / "summary.json").exists()
            and (root / record / condition_file("original", cfg)).exists())


def _shown(layer_pairs):
    return [layer_pairs[0], layer_pairs[len(layer_pairs) // 2], layer_pairs[-1]]


def central_quantities(r, threshold: float = 4.0, r2_min: float = 0.8) -> dict:
    """The quantities of the comparison table for one run (a dict of floats).

    Uses the chapters' own calls: every layer pair's pairs under the exact circular and the
    stimulus-preserving null (chapters 2, 13), responses (chapter 3), the five ensemble
    variants of the first, middle and last layer pairs (chapter 13), information of their
    target layers (chapter 7), accuracies and responses under noise and FGSM (chapter 10)
    and the permuted network's pairs (chapter 11).
    """
    from fclib.stats import compare as fc
    from fclib.stats import ensembles as fe
    from fclib.stats.activity import layer_summary
    from fclib.stats.connectivity import consecutive_pairs

    rec = r.recording()
    lp = consecutive_pairs(rec.layers)
    shown = _shown(lp)
    q: dict[str, float] = {}
    surv = [fe.edge_survival(r.pairs(s, t, null="exact"), r.pairs(s, t, null="stimulus"),
                             threshold) for s, t in lp]
    q["sig_circular"] = float(np.median([v["circular_fraction"] for v in surv]))
    q["sig_stimulus"] = float(np.median([v["stimulus_fraction"] for v in surv]))
    q["survival"] = float(np.nanmedian([v["survival"] for v in surv]))
    q["group_size"] = float(np.median([v["circular_group_size"] for v in surv]))
    res = r.responses(threshold=threshold, r2_min=r2_min, progress=False)
    r2 = np.concatenate([ds["relu_r2"].values for ds in res.values()])
    r2 = r2[np.isfinite(r2)]
    q["relu_r2_median"] = float(np.median(r2)) if r2.size else float("nan")
    q["relu_selected"] = float((r2 > r2_min).mean()) if r2.size else float("nan")
    strong = np.concatenate([ds["strong_fraction"].values[ds["selected"].values]
                             for ds in res.values()])
    strong = strong[np.isfinite(strong)]
    q["strong_share"] = float(np.median(strong)) if strong.size else float("nan")
    per_pair = {v: [r.ensembles(s, t, v, threshold=threshold, r2_min=r2_min) for s, t in shown]
                for v in ("circular", "circular_cv", "stimulus_cv", "tuning", "random")}
    variants = {v: fe.summarise_groups([p for folds in parts for p in folds])
                for v, parts in per_pair.items()}
    q["selected_cv"] = variants["circular_cv"]["selected"]
    q["selected_stimulus_cv"] = variants["stimulus_cv"]["selected"]
    q["selected_tuning"] = variants["tuning"]["selected"]
    q["selected_random"] = variants["random"]["selected"]
    match = [fe.summarise_groups(folds)["preferred_when_strong"]
             for folds in per_pair["circular"]]
    q["match_first"], q["match_last"] = float(match[0]), float(match[-1])
    q["chance"] = variants["circular"]["chance"]
    mi = [float(np.nanmedian(r.information(t)["mi_corrected"].values)) for _, t in shown]
    q["mi_first"], q["mi_last"] = mi[0], mi[-1]
    q["acc_original"] = r.accuracy("original")
    for c in ("noise", "fgsm"):
        q[f"acc_{c}"] = r.accuracy(c)
    rates = {c: layer_summary(r.recording(c))["mean_rate"] for c in ("original", "noise")}
    q["noise_rate_lower"] = float((rates["noise"] < rates["original"]).mean())
    kw = dict(threshold=threshold, r2_min=r2_min)
    keep = {}
    for c in ("noise", "fgsm"):
        cmp = pd.concat([fc.condition_responses(res[f"{s}→{t}"], {
            c: r.response(s, t, c, **kw)}, f"{s}→{t}") for s, t in shown], ignore_index=True)
        summ = fc.condition_summary(cmp, r2_min)
        keep[c] = float(summ["kept_r2"].median())
    q["keep_noise"], q["keep_fgsm"] = keep["noise"], keep["fgsm"]
    perm = [fe.significant_fraction(r.pairs(s, t, "permuted"), threshold) for s, t in lp]
    q["sig_permuted"] = float(np.median(perm))
    return q


# (row label, paper's claim, how this run's value is written, verdict rule: value -> verdict)
def _pct(x):
    return f"{100 * x:.1f} %"


CLAIMS = [
    ("significant pairs, circular null (median over layer pairs)",
     "a small fraction of pairs",
     lambda q: _pct(q["sig_circular"]),
     "reproduced below 10 %, partly below 20 %",
     lambda q: "reproduced" if q["sig_circular"] < 0.10 else
     "partly" if q["sig_circular"] < 0.20 else "not reproduced"),
    ("significant pairs, stimulus-preserving null", "not measured by the paper",
     lambda q: _pct(q["sig_stimulus"]), "no verdict", None),
    ("circular-null edges that survive the stimulus null", "not measured by the paper",
     lambda q: _pct(q["survival"]), "no verdict", None),
    ("median 1FC group size (circular null)", "groups of varying size, hubs in L16",
     lambda q: f"{q['group_size']:.0f}", "no verdict", None),
    ("ReLU fits with R² > 0.8 (in-sample)", "most responses are ReLU-like",
     lambda q: f"{_pct(q['relu_selected'])} (median R² {q['relu_r2_median']:.2f})",
     "reproduced at 50 % or more, partly at 25 %",
     lambda q: "reproduced" if q["relu_selected"] >= 0.5 else
     "partly" if q["relu_selected"] >= 0.25 else "not reproduced"),
    ("R² > 0.8, groups and responses on different images", "not measured by the paper",
     lambda q: f"{_pct(q['selected_cv'])} (stimulus null: {_pct(q['selected_stimulus_cv'])})",
     "no verdict", None),
    ("R² > 0.8, tuning-matched groups without co-firing", "not measured by the paper",
     lambda q: f"{_pct(q['selected_tuning'])} (rate-matched random: "
               f"{_pct(q['selected_random'])})", "no verdict", None),
    ("frames in the strong regime (median, selected neurons)",
     "rare: the response rises in the top ~8 % of co-firing events",
     lambda q: _pct(q["strong_share"]),
     "reproduced at 10 % or less, partly at 20 %",
     lambda q: "reproduced" if q["strong_share"] <= 0.10 else
     "partly" if q["strong_share"] <= 0.20 else "not reproduced"),
    ("strong frames of the preferred class, first → last shown layer pair",
     "class information lives in the strong events, more in deeper layers",
     lambda q: f"{q['match_first']:.2f} → {q['match_last']:.2f} (chance {q['chance']:.2f})",
     "reproduced when the last exceeds the first and chance; partly when only chance",
     lambda q: "reproduced" if q["match_last"] > q["match_first"] and q["match_last"] > q["chance"]
     else "partly" if q["match_last"] > q["chance"] else "not reproduced"),
    ("median MI (bits, corrected), first → last shown target layer",
     "deeper layers are more informative",
     lambda q: f"{q['mi_first']:.3f} → {q['mi_last']:.3f}",
     "reproduced when the last exceeds the first",
     lambda q: "reproduced" if q["mi_last"] > q["mi_first"] else "not reproduced"),
    ("held-out accuracy: clean → noise → FGSM (run's step)",
     "both lower the accuracy",
     lambda q: f"{_pct(q['acc_original'])} → {_pct(q['acc_noise'])} → {_pct(q['acc_fgsm'])}",
     "reproduced when both lower it by 5 points or more, partly when both lower it",
     lambda q: "reproduced" if min(q["acc_original"] - q["acc_noise"],
                                   q["acc_original"] - q["acc_fgsm"]) >= 0.05 else
     "partly" if min(q["acc_original"] - q["acc_noise"], q["acc_original"] - q["acc_fgsm"]) > 0
     else "not reproduced"),
    ("layers whose rate falls under noise", "every layer",
     lambda q: _pct(q["noise_rate_lower"]), "reproduced at 100 %, partly above 50 %",
     lambda q: "reproduced" if q["noise_rate_lower"] == 1 else
     "partly" if q["noise_rate_lower"] > 0.5 else "not reproduced"),
    ("selected neurons keeping R² > 0.8: noise / FGSM", "response functions disrupted",
     lambda q: f"{_pct(q['keep_noise'])} / {_pct(q['keep_fgsm'])}",
     "reproduced when both keep 80 % or less, partly when one does",
     lambda q: "reproduced" if max(q["keep_noise"], q["keep_fgsm"]) <= 0.8 else
     "partly" if min(q["keep_noise"], q["keep_fgsm"]) <= 0.8 else "not reproduced"),
    ("significant pairs after weight permutation", "connectivity degrades markedly",
     lambda q: f"{_pct(q['sig_circular'])} → {_pct(q['sig_permuted'])}",
     "reproduced when it falls by half or more, partly when it falls",
     lambda q: "reproduced" if q["sig_permuted"] <= 0.5 * q["sig_circular"] else
     "partly" if q["sig_permuted"] < q["sig_circular"] else "not reproduced"),
]


def comparison_table(quantities: dict) -> pd.DataFrame:
    """One row per claim of :data:`CLAIMS`: the paper's claim, the rule, and for every run
    of ``quantities`` (``{column name: central_quantities(...) or None}``) its value and
    verdict ("not built" where the run does not exist)."""
    rows = []
    for label, paper, show, rule, verdict in CLAIMS:
        row = {"quantity": label, "paper": paper, "rule": rule}
        for name, q in quantities.items():
            if q is None:
                row[name], row[f"{name}: verdict"] = "not built", "not built"
                continue
            try:
                row[name] = show(q)
                row[f"{name}: verdict"] = verdict(q) if verdict else "—"
            except (KeyError, TypeError, ValueError):
                row[name], row[f"{name}: verdict"] = "—", "not measured"
        rows.append(row)
    return pd.DataFrame(rows)
