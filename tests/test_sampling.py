"""What sampling misses (fclib.stats.sampling) and its figure."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.figures.sampling import fig_sampling_ratios
from fclib.stats.connectivity import pair_significance, pair_summary
from fclib.stats.groups import one_fc_groups
from fclib.stats.sampling import recorded_share, sampling_effects, sampling_ratios, subsample


def _layer(name, c=4, h=6, w=6, L=800, p=0.08, seed=0, drive=None):
    """A recorded layer (C x H x W neurons, all recorded) with the coordinates recordings
    give it; ``drive`` (a layer's 0/1 values) makes each neuron copy half the spikes of the
    source neuron at the same position."""
    rng = np.random.default_rng(seed)
    x = (rng.random((c * h * w, L)) < p).astype(np.uint8)
    if drive is not None:
        x |= drive & (rng.random(x.shape) < 0.5)
    ch, yy, xx = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    da = xr.DataArray(x, dims=("neuron", "frame"), name=name,
                      coords={"neuron": np.arange(x.shape[0]), "channel": ("neuron", ch.ravel()),
                              "y": ("neuron", yy.ravel()), "x": ("neuron", xx.ravel()),
                              "silent": ("neuron", x.sum(1) == 0),
                              "image": ("frame", np.arange(L) // 4)})
    da.attrs = {"layer": name, "layer_shape": [c, h, w]}
    return da


def test_subsample_random_is_seeded_and_sized():
    da = _layer("L1")
    a, b = subsample(da, 0.25, rng=1), subsample(da, 0.25, rng=1)
    assert a.sizes["neuron"] == round(0.25 * da.sizes["neuron"])
    np.testing.assert_array_equal(a["neuron"].values, b["neuron"].values)
    assert np.all(np.diff(a["neuron"].values) > 0)
    assert subsample(da, 1.0) is da
    assert recorded_share(da) == 1.0 and recorded_share(a) == 0.25


def test_subsample_patch_is_central_square_of_every_channel():
    da = _layer("L1", c=3, h=8, w=8)
    p = subsample(da, 0.25, how="patch")  # s = round(0.5 * 8) = 4: rows/cols 2..5
    assert set(p["y"].values) == {2, 3, 4, 5} and set(p["x"].values) == {2, 3, 4, 5}
    assert set(p["channel"].values) == {0, 1, 2} and p.sizes["neuron"] == 3 * 16


@pytest.mark.parametrize("kw, match", [({"fraction": 0}, "fraction"), ({"fraction": 1.5}, "fraction"),
                                       ({"fraction": 0.5, "how": "corner"}, "how must be")])
def test_subsample_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        subsample(_layer("L1"), **kw)


def test_whole_layer_row_equals_dense_analysis():
    src = _layer("L1", seed=1)
    tgt = _layer("L2", seed=2, drive=src.values)
    t = sampling_effects(src, tgt, 4, fractions=(0.5, 1.0), n_draws=2, threshold=4.0, rng=0)
    assert list(t["fraction"]) == [0.5, 0.5, 1.0] and list(t["draw"]) == [0, 1, 0]
    whole = t[t["fraction"] == 1].iloc[0]
    dense = pair_significance(src, tgt)
    s = pair_summary(dense, 4.0)
    assert whole["significant"] == pytest.approx(s["frac_pos"])
    assert whole["mean_degree"] == pytest.approx(s["mean_degree"])
    deg = one_fc_groups(dense, 4.0)["degree"].values
    assert whole["with_group"] == pytest.approx((deg > 0).mean())
    half = t[t["fraction"] == 0.5]
    assert (half["n_source"] <= 72).all() and (half["recorded"] == 0.5).all()
    # the copied sources are found wherever both ends are kept: degree shrinks with the sample
    assert (half["mean_degree"] < whole["mean_degree"]).all()


def test_several_hows_in_one_call_equal_separate_calls():
    """how=["random", "patch"] analyses the whole layer once and gives, row for row, what
    one call per how gives (the book's chapter makes the one call)."""
    src = _layer("L1", seed=1)
    tgt = _layer("L2", seed=2, drive=src.values)
    kw = dict(fractions=(0.25, 1.0), n_draws=2, threshold=4.0)
    both = sampling_effects(src, tgt, 4, how=["random", "patch"], rng=3, **kw)
    apart = pd.concat([sampling_effects(src, tgt, 4, how="random", rng=3, **kw),
                       sampling_effects(src, tgt, 4, how="patch", **kw)], ignore_index=True)
    pd.testing.assert_frame_equal(both, apart)
    assert list(both["how"]) == ["random"] * 3 + ["patch"] * 2
    with pytest.raises(ValueError, match="how must be"):
        sampling_effects(src, tgt, 4, how=["random", "corner"], **kw)


def test_sampling_ratios_known_answer_and_figure():
    t = pd.DataFrame({"layer pair": "L1→L2", "how": "random",
                      "fraction": [0.5, 0.5, 1.0], "recorded": [0.5, 0.5, 1.0],
                      "significant": [0.1, 0.3, 0.2], "mean_degree": [4.0, 6.0, 10.0],
                      "relu_slope": [0.2, 0.2, 0.1], "onset_fraction": [0.3, 0.3, 0.0]})
    r = sampling_ratios(t)
    row = r.loc[("L1→L2", "random", 0.5)]
    assert row["significant"] == pytest.approx(1.0) and row["mean_degree"] == pytest.approx(0.5)
    assert row["relu_slope"] == pytest.approx(2.0) and np.isnan(row["onset_fraction"])
    assert r.loc[("L1→L2", "random", 1.0), "mean_degree"] == 1.0
    fig = fig_sampling_ratios(r)
    assert len(fig.axes) == 4
    plt.close(fig)
