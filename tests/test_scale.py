"""The scale comparison judges each claim by the rule of the chapter that checks it."""
import pytest

from fclib.pipeline.claims import CLAIMS as CHAPTER_CLAIMS
from fclib.pipeline.claims import _arrow
from fclib.pipeline.scale import CHAPTERS, CONTROLS, comparison_table


def _q(**kw):
    """A run that reproduces every claim, in the chapters' keys and units."""
    base = dict(
        sig_circular=0.05, sig_stimulus=0.01, survival=0.3, group_size=40.0,
        frac_pos_min=2.0, frac_pos_max=6.0, n_pos_dominant=5, n_both_dominant=5,
        n_neg_present=5, n_layer_pairs=5,
        r2_med_min=0.85, r2_med_max=0.9, n_above_09=3, sel_all=60.0,
        if_min=6.0, if_max=12.0, rq_min=0.9, rq_max=0.95, sf_min=4.0, sf_max=8.0,
        rho_depth=0.9, mi_first=0.01, mi_last=0.2,
        acc_original=90.0, acc_noise=70.0, acc_fgsm=60.0, n_lower_noise=6, n_layers=6,
        strong_original=8.0, strong_noise=4.0, strong_fgsm=5.0,
        keep_original=100.0, keep_noise=50.0, keep_fgsm=60.0,
        ks_early=0.05, sig_ratio_early=1.0, grp_ratio_late=0.3, sel_trained=60.0,
        sel_permuted=10.0,
        circular_selected=0.6, circular_cv_selected=0.5, stimulus_cv_selected=0.5,
        tuning_selected=0.3, random_selected=0.1, circular_preferred_when_strong=0.5,
        stimulus_cv_preferred_when_strong=0.5, tuning_preferred_when_strong=0.2, chance=10.0)
    base.update(kw)
    return base


def _table(q):
    return comparison_table({"run": q}).set_index("quantity")


def test_every_claim_of_the_listed_chapters_is_a_row_with_its_chapters_rule():
    t = comparison_table({"run": _q()})
    ruled = t[t["chapter"] != ""]
    assert set(ruled["chapter"]) == set(CHAPTERS)
    for _, row in ruled.iterrows():
        claim = next(c for c in CHAPTER_CLAIMS[row["chapter"]] if c.claim == row["quantity"])
        assert row["rule"] == claim.rule and row["paper"] == claim.paper
    assert len(t) == len(ruled) + len(CONTROLS)


def test_a_run_that_matches_the_paper_reproduces_every_claim():
    t = _table(_q())
    ruled = t["chapter"] != ""
    assert (t.loc[ruled, "run: verdict"] == "reproduced").all(), t.loc[ruled, "run: verdict"]
    assert (t.loc[~ruled, "run: verdict"] == "—").all()


def test_each_verdict_is_the_chapters_verdict_on_the_same_numbers():
    """One run's numbers, changed one at a time: every row says what its chapter says."""
    for change in [dict(frac_pos_max=15.0), dict(n_both_dominant=0, n_neg_present=0),
                   dict(sf_max=30.0), dict(ks_early=0.3), dict(sig_ratio_early=0.2),
                   dict(keep_fgsm=97.0), dict(mi_last=0.005),
                   dict(stimulus_cv_selected=0.0)]:
        q = _q(**change)
        t = _table(q)
        for ch in CHAPTERS:
            for c in CHAPTER_CLAIMS[ch]:
                if c.claim in t.index:
                    assert t.loc[c.claim, "run: verdict"] == c.verdict(q), (change, c.claim)


@pytest.mark.parametrize("change, claim, verdict", [
    (dict(n_both_dominant=0, n_neg_present=0),
     "significant pairs in both directions, the positive tail stronger", "partly"),
    (dict(ks_early=0.3), "after permutation, early STTC distributions are largely unchanged",
     "not reproduced"),
    (dict(sig_ratio_early=0.2),
     "after permutation, early significant pairs are largely unchanged", "not reproduced"),
    (dict(sf_max=15.0), "strong events are rare", "partly"),
])
def test_rules_give_the_stated_verdicts(change, claim, verdict):
    assert _table(_q(**change)).loc[claim, "run: verdict"] == verdict


def test_a_missing_run_or_quantity_is_said_not_typed():
    t = comparison_table({"built": _q(), "absent": None})
    assert (t["absent"] == "not built").all() and (t["absent: verdict"] == "not built").all()
    q = _q()
    del q["mi_first"]
    v = _table(q)["run: verdict"]
    assert v["information about the class rises with depth"] == "not measured"


def test_a_change_is_never_shown_as_no_change():
    assert _arrow(0.058, 0.056) == "0.058 → 0.056"
    assert _arrow(0.2, 0.3) == "0.20 → 0.30"
    assert _arrow(0.1, 0.1) == "0.10 → 0.10"
