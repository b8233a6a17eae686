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

__all__ = ["run_exists", "central_quantities", "CHAPTER_PARAMS", "CHAPTERS", "CONTROLS",
           "comparison_table"]


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


#: The chapters' parameters (their papermill defaults) under which the quantities are read.
CHAPTER_PARAMS = dict(min_frames=10, saturation=0.95, n_batches=4, n_shuffles=20,
                      ks_samples=200_000)


def central_quantities(r, threshold: float = 4.0, r2_min: float = 0.8) -> dict:
    """The quantities of the comparison table for one run (a dict of numbers).

    Every key that a chapter glues has that chapter's name and definition: it is computed by
    the calls the chapter makes, with the chapter's default parameters
    (:data:`CHAPTER_PARAMS`), so a verdict here is the chapter's verdict on the same run
    (chapter 2: significant pairs; 3: ReLU fits; 4: the strong regime; 7: information with
    depth; 10: noise and FGSM; 11: the permuted network; 13: the five ways of choosing
    groups). The keys ``sig_circular``, ``sig_stimulus``, ``survival`` and ``group_size``
    (medians over layer pairs of the exact circular and the stimulus-preserving null) are
    this page's own.
    """
    from fclib.io.populations import LayerPair
    from fclib.stats import compare as fc
    from fclib.stats import ensembles as fe
    from fclib.stats import response as fr
    from fclib.stats import response_tables as frt
    from fclib.stats.activity import layer_summary
    from fclib.stats.connectivity import active, consecutive_pairs, summaries

    p = CHAPTER_PARAMS
    rec = r.recording()
    lp = consecutive_pairs(rec.layers)
    names = [str(LayerPair(s, t)) for s, t in lp]
    q: dict[str, float] = {}
    # every layer pair's pairs, read once: under the run's null (the chapters' r.pairs(s, t)),
    # the exact circular null and of the permuted network
    trained = {k: r.pairs(s, t) for k, (s, t) in zip(names, lp)}
    exact = trained if r.cfg["null"] == "exact" else {
        k: r.pairs(s, t, null="exact") for k, (s, t) in zip(names, lp)}
    permuted = {k: r.pairs(s, t, "permuted") for k, (s, t) in zip(names, lp)}
    # this page's own: the circular against the stimulus-preserving null
    surv = [fe.edge_survival(exact[k], r.pairs(s, t, null="stimulus"), threshold)
            for k, (s, t) in zip(names, lp)]
    q["sig_circular"] = float(np.median([v["circular_fraction"] for v in surv]))
    q["sig_stimulus"] = float(np.median([v["stimulus_fraction"] for v in surv]))
    q["survival"] = float(np.nanmedian([v["survival"] for v in surv]))
    q["group_size"] = float(np.median([v["circular_group_size"] for v in surv]))
    # chapter 2
    summary = summaries(trained, threshold)
    q["frac_pos_min"] = 100 * float(summary.frac_pos.min())
    q["frac_pos_max"] = 100 * float(summary.frac_pos.max())
    q["n_pos_dominant"] = int((summary.frac_pos > summary.frac_neg).sum())
    q["n_both_dominant"] = int(((summary.frac_pos > summary.frac_neg)
                                & (summary.frac_neg > 0)).sum())
    q["n_neg_present"] = int((summary.frac_neg > 0).sum())
    q["n_layer_pairs"] = len(summary)
    # chapters 3 and 4
    kw = dict(threshold=threshold, min_frames=p["min_frames"], saturation=p["saturation"],
              n_batches=p["n_batches"], r2_min=r2_min)
    res = r.responses(progress=False, **kw)
    table = fr.property_table(res)
    per_pair = frt.relu_fit_summary(table, res, p["min_frames"], high=0.9)
    q["r2_med_min"] = float(per_pair.median_r2.min())
    q["r2_med_max"] = float(per_pair.median_r2.max())
    q["n_above_09"] = int(per_pair["above 0.9"].sum())
    q["sel_all"] = 100 * float(table["selected"].mean())
    regimes = frt.regime_summary(table[table["selected"]], band=(0.05, 0.16))
    for key, col, scale in [("if", "intersection_fraction", 100), ("rq", "rise_quantile", 1),
                            ("sf", "strong_fraction", 100)]:
        q[f"{key}_min"] = scale * float(regimes[col].min())
        q[f"{key}_max"] = scale * float(regimes[col].max())
    # chapter 7
    info = {layer: r.information(layer, n_shuffles=p["n_shuffles"])
            .sel(neuron=active(rec[layer])["neuron"].values) for layer in rec.layers}
    per_layer = fc.information_by_layer(info)
    q["rho_depth"] = fc.trend(per_layer["median MI"])
    q["mi_first"] = float(per_layer["median MI"].iloc[0])
    q["mi_last"] = float(per_layer["median MI"].iloc[-1])
    # chapter 10
    conds = ["original", "noise", "fgsm"]
    for c in conds:
        q[f"acc_{c}"] = 100 * float(r.accuracy(c))
    rates = pd.DataFrame({c: layer_summary(r.recording(c))["mean_rate"] for c in conds})
    q["n_lower_noise"] = int((rates["noise"] < rates["original"]).sum())
    q["n_layers"] = len(rates)
    shown = _shown(names)
    cmp = pd.concat([fc.condition_responses(res[k], {
        c: res[k] if c == "original" else r.response(*LayerPair.parse(k), c, **kw)
        for c in conds}, k) for k in shown], ignore_index=True)
    summ = fc.condition_summary(cmp, r2_min)
    for c in conds:
        q[f"strong_{c}"] = 100 * float(summ.xs(c, level="condition")["strong"].median())
        q[f"keep_{c}"] = 100 * float(summ.xs(c, level="condition")["kept_r2"].median())
    # chapter 11
    nets = {"trained": "original", "permuted": "permuted"}
    pairs = {"trained": trained, "permuted": permuted}
    resp = {"trained": res, "permuted": r.responses("permuted", progress=False, **kw)}
    rows = []
    for n, c in nets.items():
        for k in names:
            s, t = LayerPair.parse(k)
            rows.append({"network": n, "layer pair": k, **fc.network_properties(
                pairs[n][k], resp[n][k], r.information(t, c), threshold, p["min_frames"])})
    comp = pd.DataFrame(rows)
    comp["layer pair"] = pd.Categorical(comp["layer pair"], categories=names, ordered=True)
    gen = np.random.default_rng(r.cfg["seed"])
    ks = pd.Series({k: fc.ks_distance(trained[k]["sttc"], permuted[k]["sttc"],
                                      max_samples=p["ks_samples"], rng=gen) for k in names})
    half, late = names[: len(names) // 2 + 1], names[len(names) // 2 + 1:]
    q["ks_early"] = float(ks[half].median())
    q["sig_ratio_early"] = fc.median_ratio(comp, "significant", "permuted", "trained", half)
    q["grp_ratio_late"] = fc.median_ratio(comp, "median group size", "permuted", "trained",
                                          late)
    by_net = comp.groupby("network")["selected (of grouped)"].median()
    q["sel_trained"] = 100 * float(by_net["trained"])
    q["sel_permuted"] = 100 * float(by_net["permuted"])
    # chapter 13
    shown_lp = _shown(lp)
    variants = {v: fe.summarise_groups([ds for s, t in shown_lp for ds in r.ensembles(
        s, t, v, threshold=threshold, min_frames=p["min_frames"], saturation=p["saturation"],
        r2_min=r2_min)]) for v in ("circular", "circular_cv", "stimulus_cv", "tuning", "random")}
    for v, summ_v in variants.items():
        q[f"{v}_selected"] = float(summ_v["selected"])
        q[f"{v}_preferred_when_strong"] = float(summ_v["preferred_when_strong"])
    q["chance"] = 100 * float(variants["circular"]["chance"])
    return q


# (row label, paper's claim, how this run's value is written, verdict rule: value -> verdict)
def _pct(x):
    return f"{x:.1f} %"


#: The chapters' claims this page sets side by side, by chapter (every claim of each, with
#: the chapter's own rule): their keys are those :func:`central_quantities` computes.
CHAPTERS = ["02_pairwise_correlations", "03_response_functions", "04_two_regimes",
            "07_information", "10_perturbations", "11_permuted", "13_functional_or_stimulus"]

#: Quantities the paper did not measure (the book's controls): shown without a verdict.
CONTROLS = [
    ("significant pairs, stimulus-preserving null (median over layer pairs)",
     lambda q: f"{_pct(100 * q['sig_stimulus'])} (circular null {_pct(100 * q['sig_circular'])})"),
    ("circular-null edges that survive the stimulus null",
     lambda q: _pct(100 * q["survival"])),
    ("median 1FC group size (circular null)", lambda q: f"{q['group_size']:.0f}"),
    ("share of targets with R² > 0.8, tuning-matched groups without co-firing "
     "(rate-matched random groups)",
     lambda q: f"{q['tuning_selected']:.2f} ({q['random_selected']:.2f})"),
]


def _rows():
    """``(chapter, claim)`` of every chapter claim on this page, in chapter order."""
    from fclib.pipeline.claims import CLAIMS as CHAPTER_CLAIMS

    out = []
    for ch in CHAPTERS:
        for c in CHAPTER_CLAIMS.get(ch, []):
            if ch == "02_pairwise_correlations" and "structural" in c.claim:
                continue   # the structural edges need chapter 2's kernel geometry
            if ch == "07_information" and "depth" not in c.claim:
                continue   # the degree and hub claims need chapter 7's own tables
            if ch == "10_perturbations" and "last layer" in c.claim:
                continue   # chapter 10's last-layer analysis (Figs. A14–A16) is its own
            out.append((ch, c))
    return out


def comparison_table(quantities: dict) -> pd.DataFrame:
    """One row per chapter claim (:data:`CHAPTERS`, each judged by its chapter's rule on the
    same quantity) and per control (:data:`CONTROLS`, no verdict): the chapter, the claim,
    the paper's side, the rule, and for every run of ``quantities`` (``{column name:
    central_quantities(...) or None}``) its value and verdict ("not built" where the run does
    not exist)."""
    rows = []
    entries = [(ch, c.claim, c.paper, c.rule, c.value, c.verdict) for ch, c in _rows()]
    entries += [("", label, "not measured by the paper", "no verdict", show, None)
                for label, show in CONTROLS]
    for chapter, claim, paper, rule, show, verdict in entries:
        row = {"chapter": chapter, "quantity": claim, "paper": paper, "rule": rule}
        for name, q in quantities.items():
            if q is None:
                row[name], row[f"{name}: verdict"] = "not built", "not built"
                continue
            try:
                row[name] = show(q)
                row[f"{name}: verdict"] = verdict(q) if verdict else "—"
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                row[name], row[f"{name}: verdict"] = "—", "not measured"
        rows.append(row)
    return pd.DataFrame(rows)
