"""Each figure of chapters 7-12 returns a Figure with the expected axes, on small synthetic
input, and leaves the global matplotlib state alone."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import fclib.figures as ff  # noqa: E402

rng = np.random.default_rng(0)
PAIRS = ["L1→L2", "L2→L3", "L3→L4"]
CONDS = ["original", "noise", "fgsm"]


def _n_axes(fig, visible=True):
    return len([a for a in fig.axes if a.get_visible() and a.axison]) if visible else len(fig.axes)


def _pairs_table(n=30):
    t = pd.DataFrame({"layer pair": np.repeat(PAIRS, n), "degree": rng.integers(1, 50, 3 * n),
                      "mi": rng.random(3 * n), "hub": rng.random(3 * n) > 0.9})
    t["layer pair"] = pd.Categorical(t["layer pair"], categories=PAIRS, ordered=True)
    return t


def _conditions_table(n=20):
    t = pd.DataFrame({"layer pair": np.tile(np.repeat(PAIRS, n), 3), "condition": np.repeat(CONDS, 3 * n),
                      "relu_r2": rng.random(9 * n), "slope change": rng.normal(0, 0.5, 9 * n),
                      "strong regime reached": rng.random(9 * n), "MI": rng.random(9 * n)})
    return t


def _detector(auc):
    return {"fpr": np.linspace(0, 1, 5), "tpr": np.linspace(0, 1, 5) ** 0.5, "auc": auc}


CASES = {
    "fig_a6_mi_by_layer": (lambda: ff.fig_a6_mi_by_layer(pd.DataFrame({
        "layer": pd.Categorical(np.repeat(["L1", "L2", "L3"], 10), categories=["L1", "L2", "L3"]),
        "mi": rng.random(30)})), 1),
    "fig_a6_mi_vs_degree": (lambda: ff.fig_a6_mi_vs_degree(_pairs_table()), 3),
    "fig_a10ab_class_similarity": (lambda: ff.fig_a10ab_class_similarity(
        np.corrcoef(rng.random((4, 6))), rng.random((4, 4)), list("abcd")), 4),  # 3 panels + colorbar
    "fig_a10cd_similarity_vs_cofiring": (lambda: ff.fig_a10cd_similarity_vs_cofiring(pd.DataFrame({
        "layer pair": np.repeat(PAIRS, 5), "bin": np.tile(np.linspace(0.1, 0.9, 5), 3),
        "P(presented = preferred)": rng.random(15), "semantic rank similarity": rng.random(15)}),
        chance={"P(presented = preferred)": 0.1}), 2),
    "fig_a9_identity_vs_aggregate": (lambda: ff.fig_a9_identity_vs_aggregate(pd.DataFrame({
        "layer pair": np.repeat(PAIRS, 2), "classifier": ["svm", "nb"] * 3,
        "aggregate": rng.random(6), "identity": rng.random(6), "difference": np.zeros(6),
        "ci_low": -0.1 * np.ones(6), "ci_high": 0.1 * np.ones(6)})), 3),
    "fig_a11_perturbed_images": (lambda: ff.fig_a11_perturbed_images(
        {c: rng.random((4, 1, 8, 8)) for c in CONDS}, {"original": "original\n90 %"}), 12),
    "fig_a12_firing_rates": (lambda: ff.fig_a12_firing_rates(pd.DataFrame(
        rng.random((4, 3)), index=["L1", "L2", "L3", "L4"], columns=CONDS)), 1),
    "fig_4_5_responses_under_distortion": (lambda: ff.fig_4_5_responses_under_distortion(
        _conditions_table(), r2_min=0.8), 3),
    "fig_a13_slope_change_vs_mi": (lambda: ff.fig_a13_slope_change_vs_mi(_conditions_table()), 3),
    "fig_a14_a16_last_layer": (lambda: ff.fig_a14_a16_last_layer(pd.DataFrame({
        "condition": np.repeat(CONDS, 10), "strong share": rng.random(30),
        "preferred class when strong": rng.random(30), "entropy": rng.random(30), "MI": rng.random(30)}),
        chance=0.1, title="L3→L4"), 4),
    "fig_network_activity": (lambda: ff.fig_network_activity(
        pd.DataFrame(rng.random((3, 2)), index=["L1", "L2", "L3"], columns=["trained", "permuted"]),
        pd.DataFrame(rng.random((3, 2)), index=["L1", "L2", "L3"], columns=["trained", "permuted"])), 2),
    "fig_a17_sttc_distributions": (lambda: ff.fig_a17_sttc_distributions(
        {k: {"trained": rng.normal(0, 0.1, 200), "permuted": np.r_[rng.normal(0, 0.1, 200), np.nan]}
         for k in PAIRS[:2]}), 2),
    "fig_a17_properties": (lambda: ff.fig_a17_properties(pd.DataFrame({
        "network": ["trained", "permuted"] * 3,
        "layer pair": pd.Categorical(np.repeat(PAIRS, 2), categories=PAIRS, ordered=True),
        "significant": rng.random(6), "median group size": rng.integers(1, 9, 6),
        "median MI (bits)": rng.random(6), "with a group": rng.random(6)}),
        ["significant", "median group size", "median MI (bits)", "with a group"],
        {"significant": "z > 4"}), 4),
    "fig_detector_roc": (lambda: ff.fig_detector_roc({"co-firing": _detector(0.6), "rates": _detector(0.7)},
                                             rng.random(50), rng.random(50) + 0.2, "mean k/N"), 2),
    "fig_detector_roc (ROC only)": (lambda: ff.fig_detector_roc({"co-firing": _detector(0.6)}), 1),
    "fig_accuracy_sweeps": (lambda: ff.fig_accuracy_sweeps(
        {"FGSM": pd.Series([0.9, 0.5, 0.1], index=[1, 4, 16]),
         "noise": pd.Series([0.8, 0.3], index=[0.1, 0.5])}, 0.95, {"FGSM": [4]}), 2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_figure_returns_a_figure_with_its_axes(name):
    before = dict(plt.rcParams)
    make, n_axes = CASES[name]
    fig = make()
    try:
        assert isinstance(fig, plt.Figure)
        assert _n_axes(fig) == n_axes, [a.get_title() for a in fig.axes]
    finally:
        plt.close(fig)
    after = dict(plt.rcParams)
    assert {k for k in before if before[k] != after.get(k)} == set()  # no global style change


def test_every_late_figure_is_exported_and_tested():
    import fclib.figures.information as fi
    import fclib.figures.perturbations as fp

    names = set(fi.__all__) | set(fp.__all__)
    assert names <= set(dir(ff))
    assert names == {n.split(" ")[0] for n in CASES}


def test_perturbed_images_need_the_same_images_per_condition():
    with pytest.raises(ValueError, match="same number of images"):
        ff.fig_a11_perturbed_images({"original": np.zeros((3, 1, 4, 4)), "noise": np.zeros((2, 1, 4, 4))})


def test_fig_a17_properties_titles_come_from_the_labels():
    fig = ff.fig_a17_properties(pd.DataFrame({
        "network": ["trained", "permuted"], "layer pair": pd.Categorical(["a", "a"]),
        "significant": [0.1, 0.2]}), ["significant"], {"significant": "significant (z > 3)"})
    try:
        assert fig.axes[0].get_title() == "significant (z > 3)"
    finally:
        plt.close(fig)


def test_accuracy_sweeps_draw_the_accuracies_in_percent():
    ser = pd.Series([0.9, 0.5, 0.1], index=[1, 4, 16])
    fig = ff.fig_accuracy_sweeps({"FGSM": ser}, 0.95, {"FGSM": [4]})
    try:
        line = fig.axes[0].lines[0]
        np.testing.assert_allclose(line.get_xdata(), [1, 4, 16])
        np.testing.assert_allclose(line.get_ydata(), [90, 50, 10])
        levels = sorted(l.get_ydata()[0] for l in fig.axes[0].lines[1:3])
        np.testing.assert_allclose(levels, [47.5, 95])  # half of clean, clean
    finally:
        plt.close(fig)


def test_verdict_grid_colours_each_run_by_its_verdicts():
    from fclib.pipeline.scale import comparison_table

    q = {"frac_pos_min": 2.0, "frac_pos_max": 5.0}
    table = comparison_table({"a": q, "b": None}).iloc[:1]
    fig = ff.fig_verdicts(table, ["a", "b"])
    try:
        cells = [matplotlib.colors.to_hex(p.get_facecolor()).upper() for p in fig.axes[0].patches]
        assert cells == ["#0072B2", "#FFFFFF"]  # reproduced (blue), not built (white)
        values = [" ".join(t.get_text().replace("\u00a0", " ").split()) for t in fig.axes[0].texts]
        assert values[:2] == ["2.0 % – 5.0 % per layer pair", "not built"]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="no verdict column"):
        ff.fig_verdicts(table, ["c"])
