"""Each figure of chapters 1-6 returns a Figure with the expected axes on small input."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import fclib.figures as ff  # noqa: E402
from fclib.stats import response_tables as frt  # noqa: E402
from fclib.stats.response import example_neuron, property_table  # noqa: E402
from test_connectivity import _responses  # noqa: E402


@pytest.fixture(scope="module")
def res():
    return {"L1→L2": _responses(0), "L2→L3": _responses(1, name=("L2", "L3"))}


@pytest.fixture(scope="module")
def table(res):
    return property_table(res)


def _n_axes(fig, expected):
    assert isinstance(fig, plt.Figure)
    n = len(fig.axes)
    plt.close(fig)
    assert n == expected


def test_network_figures():
    history = [{"epoch": e, "loss": 1 / (e + 1), "test_loss": 1.1 / (e + 1),
                "train_accuracy": 0.5 + e / 10, "test_accuracy": 0.4 + e / 10} for e in range(3)]
    _n_axes(ff.fig_training_curve(history), 2)
    summary = pd.DataFrame({"mean_rate": [0.5, 0.2], "silent_fraction": [0.1, 0.3]},
                           index=pd.Index(["L1", "L2"], name="layer"))
    rng = np.random.default_rng(0)
    rates = {"L1": rng.exponential(0.5, 50), "L2": rng.exponential(0.2, 30)}
    fig = ff.fig_a1_firing_rates(summary, rates, silent_threshold=0.02)
    assert "silent below 0.02" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    _n_axes(fig, 2)
    sample = {n: xr.DataArray(rng.random((3, 8)) < 0.3, dims=("neuron", "frame")) for n in ("L1", "L2")}
    _n_axes(ff.fig_raster(sample, 4, labels=["a", "b"]), 1)
    _n_axes(ff.fig_presentations(rng.random((3, 1, 8, 8)), ncols=2), 4)


def test_connectivity_figures():
    rng = np.random.default_rng(0)
    obs = {k: rng.normal(size=200) for k in ("a", "b", "c")}
    _n_axes(ff.fig_1a_sttc_distributions(obs, obs), 3)
    summary = pd.DataFrame({"frac_pos": [0.1, 0.2], "frac_neg": [0.01, 0.0]}, index=["a", "b"])
    fig = ff.fig_1i_significant_pairs(summary, 5.0)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["z > 5", "z < -5"]
    _n_axes(fig, 1)
    fig = ff.fig_degree_distributions({"a": [0, 3, 5], "b": [1, 2]}, threshold=5.0)
    assert "z > 5" in fig.axes[0].get_xlabel()
    _n_axes(fig, 1)
    fig = ff.fig_null_agreement(rng.normal(size=100), rng.normal(size=100), 5.0, n_shifts=40)
    assert fig.axes[0].get_ylabel() == "z, 40 random shifts"
    _n_axes(fig, 1)
    _n_axes(ff.fig_false_positive_rates({"exact": rng.normal(size=100)}, alpha=0.01,
                                    thresholds={"exact": 2.3}), 1)
    edges = pd.DataFrame({"layer pair": ["a", "a", "b"], "kind": ["structural", "non-structural",
                                                                   "structural"],
                          "sttc": [0.1, 0.2, 0.3]})
    st = pd.DataFrame({"structural degree / receptive field": [0.5, 0.4],
                       "non-structural degree / rest": [0.1, 0.2]}, index=["a", "b"])
    _n_axes(ff.fig_a7_structural_edges(edges, st), 2)


def test_response_figures(res, table):
    examples = {k: (ds, example_neuron(ds)) for k, ds in res.items()}
    _n_axes(ff.fig_response_functions(examples), 2)
    _n_axes(ff.fig_2a_relu_examples(examples, min_frames=3), 2)
    _n_axes(ff.fig_2m_two_line_examples(examples, min_frames=3), 4)  # CDF on twin axes
    _n_axes(ff.fig_2d_relu_r2(table, 0.3), 1)
    _n_axes(ff.fig_2d_relu_nrmse(table), 1)
    sel = table[table["selected"]]
    _n_axes(ff.fig_2q_intersection_fraction(sel), 1)
    _n_axes(ff.fig_2q_rise_quantile(sel), 1)
    laws = frt.power_laws(sel, list(res))
    _n_axes(ff.fig_a3_slope_scaling(table, laws), 2)
    _n_axes(ff.fig_a3_collapse(res["L1→L2"], {"raw": 0.0, "fraction": 1.0}, min_frames=3, rng=0), 3)
    _n_axes(ff.fig_collapse_by_exponent(frt.collapse_scan(res, [0.0, 0.5, 1.0], 3)), 1)
    _n_axes(ff.fig_a4_batch_responses(examples, min_frames=3), 2)
    _, diffs = frt.batch_robustness(res, min_frames=3, rng=0)
    _n_axes(ff.fig_a5_slope_differences(diffs), 1)


def test_figures_leave_the_global_style_alone(res):
    before = dict(plt.rcParams)
    plt.close(ff.fig_1a_sttc_distributions({"a": [0.1, 0.2]}, {"a": [0.0, 0.1]}))
    assert dict(plt.rcParams) == before
