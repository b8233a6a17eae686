"""The scale comparison's verdicts follow the rules its rows state."""
import pytest

from fclib.pipeline.scale import CLAIMS, comparison_table


def _q(**kw):
    base = dict(sig_circular=0.05, sig_stimulus=0.01, survival=0.3, group_size=40.0,
                relu_selected=0.6, relu_r2_median=0.85, selected_cv=0.5, selected_stimulus_cv=0.4,
                selected_tuning=0.3, selected_random=0.1, strong_share=0.08, match_first=0.3,
                match_last=0.5, chance=0.1, mi_first=0.01, mi_last=0.2, acc_original=0.9,
                acc_noise=0.7, acc_fgsm=0.6, noise_rate_lower=1.0, keep_noise=0.5,
                keep_fgsm=0.6, sig_permuted=0.01)
    base.update(kw)
    return base


def _verdicts(q):
    t = comparison_table({"run": q}).set_index("quantity")
    return t["run: verdict"]


def test_a_run_that_matches_the_paper_reproduces_every_claim_with_a_rule():
    v = _verdicts(_q())
    ruled = [label for label, _, _, _, rule in CLAIMS if rule is not None]
    assert (v[ruled] == "reproduced").all(), v[ruled]
    assert (v.drop(ruled) == "—").all()


@pytest.mark.parametrize("change, row, verdict", [
    (dict(sig_circular=0.15), "significant pairs, circular null (median over layer pairs)", "partly"),
    (dict(sig_circular=0.30, sig_permuted=0.2), "significant pairs, circular null (median over layer pairs)", "not reproduced"),
    (dict(strong_share=0.3), "frames in the strong regime (median, selected neurons)", "not reproduced"),
    (dict(match_last=0.2, match_first=0.3), "strong frames of the preferred class, first → last shown layer pair", "partly"),
    (dict(acc_fgsm=0.89), "held-out accuracy: clean → noise → FGSM (run's step)", "partly"),
    (dict(keep_fgsm=0.97), "selected neurons keeping R² > 0.8: noise / FGSM", "partly"),
    (dict(sig_permuted=0.04), "significant pairs after weight permutation", "partly"),
])
def test_each_rule_gives_the_stated_verdict(change, row, verdict):
    assert _verdicts(_q(**change))[row] == verdict


def test_a_missing_run_or_quantity_is_said_not_typed():
    t = comparison_table({"built": _q(), "absent": None})
    assert (t["absent"] == "not built").all() and (t["absent: verdict"] == "not built").all()
    q = _q()
    del q["mi_first"]
    v = _verdicts(q)
    assert v["median MI (bits, corrected), first → last shown target layer"] == "not measured"
