"""A user's own data through fclib: what bin_spikes attached (T, the stimulus) flows into the
statistics, and bad input from the user's side gets fclib's own message (issue 27)."""
import warnings

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

from fclib.io import SpikeBinningWarning, bin_spikes  # noqa: E402
from fclib.stats.simulate import simulate_recording  # noqa: E402


@pytest.fixture(scope="module")
def binned():
    sim = simulate_recording(n_units=30, n_stimuli=3, n_repeats=20, n_targets=3, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikeBinningWarning)
        x = bin_spikes(sim["spike_times"], 0.025, trial_onsets=sim["trial_onsets"],
                       trial_stimulus=sim["trial_stimulus"], trial_duration=0.25, name="own")
    assert x.attrs["T"] == 10
    return sim, x


def test_stimulus_null_reads_what_binning_attached(binned):
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.nulls import sttc_zscore
    from fclib.stats.stimulus import stimulus_null

    sim, x = binned
    stim = np.asarray(sim["trial_stimulus"])
    want = sttc_zscore(x, x, method="stimulus", stimulus=stim, T=10)
    got = sttc_zscore(x, x, method="stimulus")   # no stimulus=, no T=
    xr.testing.assert_allclose(got, want)
    xr.testing.assert_allclose(stimulus_null(x, x)["z"], want)
    ds = pair_significance(x, x, "stimulus")
    assert ds.attrs["T"] == 10 and ds.sizes["target"] > 0


def test_a_T_that_contradicts_the_binning_is_refused(binned):
    from fclib.stats.activity import firing_rates
    from fclib.stats.nulls import sttc_zscore

    _, x = binned
    with pytest.raises(ValueError, match=r"T=4 contradicts the spikes, which have T=10 frames "
                       r"per presentation .*pass T=10 or leave T out"):
        firing_rates(x, 4)   # the old README's T=4 on T = 10 trials
    with pytest.raises(ValueError, match="T=5 contradicts source spikes, which have T=10"):
        sttc_zscore(x, x, method="stimulus", T=5)
    np.testing.assert_allclose(firing_rates(x, 10).values, firing_rates(x, None).values)


def test_stimulus_null_without_metadata_says_what_to_pass():
    from fclib.stats.nulls import sttc_zscore

    rng = np.random.default_rng(0)
    a = (rng.random((4, 40)) < 0.3).astype(np.uint8)
    with pytest.raises(ValueError, match=r"needs stimulus= .* and T= .*carry no T attribute.*"
                       r"bin_spikes attaches both.*pass stimulus= and T="):
        sttc_zscore(a, a, method="stimulus")
    x = xr.DataArray(a.astype(bool), dims=("neuron", "frame"), attrs={"T": 4})
    with pytest.raises(ValueError, match=r"no 'stimulus' or 'image' coordinate.*pass stimulus="):
        sttc_zscore(x, x, method="stimulus")


def test_spike_times_into_sttc_say_bin_them_first():
    from fclib.stats.nulls import sttc_zscore
    from fclib.stats.sttc import sttc

    times = [np.array([0.01, 0.2, 0.33]), np.array([0.05]), np.array([0.1, 0.4])]
    for f in (sttc, sttc_zscore):
        with pytest.raises(TypeError, match=r"ragged sequence, like one array of spike times "
                           r"per unit: bin them first with fclib.io.bin_spikes"):
            f(times, times)
    square = [np.array([0.01, 0.2]), np.array([0.05, 0.3])]   # equal lengths: not ragged
    with pytest.raises(ValueError, match=r"spike times\? bin them first with fclib.io.bin_spikes"):
        sttc(square, square)


def test_threshold_as_a_string_is_named():
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    rng = np.random.default_rng(1)
    a = xr.DataArray(rng.random((5, 60)) < 0.3, dims=("neuron", "frame"))
    pairs = pair_significance(a, a)
    with pytest.raises(TypeError, match=r"threshold must be a number \(a z value, e.g. 4.0\), "
                       r"got '4' \(str\); convert it with float"):
        one_fc_groups(pairs, threshold="4")
    assert one_fc_groups(pairs, threshold=4).attrs["threshold"] == 4.0


def test_own_response_functions_take_one_neuron(binned):
    from fclib.figures.own_data import fig_own_response_functions
    from fclib.stats import response as fr
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    _, x = binned
    groups = one_fc_groups(pair_significance(x, x, "exact"), 3.0)
    counts = fr.response_counts(fr.cofiring(x, groups), x)
    n0 = int(counts["neuron"].values[0])
    fig = fig_own_response_functions(counts, n0)   # was: 'int' object is not iterable
    assert len(fig.axes[0].lines) == 1
    assert len(fig_own_response_functions(counts, counts["neuron"].values[:2]).axes[0].lines) == 2
    with pytest.raises(ValueError, match=r"neurons \[9999\] are not target neurons of counts"):
        fig_own_response_functions(counts, 9999)
    with pytest.raises(TypeError, match="counts must be the Dataset of .*response_counts"):
        fig_own_response_functions(x, n0)


def test_readme_own_data_path_runs(tmp_path, monkeypatch):
    """The README's whole path (spike times to groups, a figure and `fclib sttc`) runs as
    written on a simulated recording."""
    import re
    from pathlib import Path

    from fclib import pipeline

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("A whole path, from spike times"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = re.search(r"```bash\n(fclib sttc .*?)\n```", section, re.S).group(1)
    sim = simulate_recording(n_units=40, n_stimuli=3, n_repeats=40, trial_duration=0.05,
                             tuned_rate=80.0, rate=20.0, n_targets=4, coupling=0.6, rng=3)
    t = sim["spike_times"]
    monkeypatch.chdir(tmp_path)
    ns = {"onsets": sim["trial_onsets"], "stimulus": sim["trial_stimulus"],
          "source_times": t[:24], "target_times": t[24:]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikeBinningWarning)
        exec(code, ns)
    assert ns["source"].attrs["T"] == 10 and ns["z"].dims == ("target", "source")
    assert len(ns["table"]) == ns["groups"].sizes["neuron"]
    assert (tmp_path / "mine.nc").exists()
    assert pipeline.main(command.split()[1:]) == 0
    assert (tmp_path / "pairs.nc").exists()


def test_neuron_properties_is_a_dataset_with_a_table_and_its_T_is_checked(binned):
    from fclib.stats import response as fr
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    _, x = binned
    groups = one_fc_groups(pair_significance(x, x, "exact"), 3.0)
    counts = fr.response_counts(fr.cofiring(x, groups), x)
    fits = fr.fit_response(counts, min_frames=1)
    props = fr.neuron_properties(counts, fits, x, T=None)   # T = 10 from the binning
    table = props.to_dataframe()
    assert len(table) == props.sizes["neuron"] and "rate" in table.columns
    xr.testing.assert_identical(props, fr.neuron_properties(counts, fits, x, T=10))
    with pytest.raises(ValueError, match="T=4 contradicts target spikes, which have T=10"):
        fr.neuron_properties(counts, fits, x, T=4)   # rates would be 2.5x too small


def test_nan_fits_say_why(binned):
    from fclib.stats import response as fr
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    _, x = binned
    groups = one_fc_groups(pair_significance(x, x, "exact"), 3.0)
    counts = fr.response_counts(fr.cofiring(x, groups), x)
    n = counts.sizes["neuron"]
    few = fr.fit_response(counts, min_frames=10 ** 6)   # no co-firing value seen that often
    assert np.isnan(few["intersection"]).all()
    assert few.attrs["nan_reason"] == (
        f"ReLU fits are NaN for {n} of {n} and two-line fits (intercept, slope_weak, "
        f"slope_strong, intersection, lines_r2, lines_nrmse) for {n} of {n}: {n} have fewer "
        "than 4 co-firing values seen in at least 1000000 frames (n_points; lower min_frames "
        "or record more frames), 0 have enough but no steeper second line fits them")
