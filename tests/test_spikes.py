"""Binning spike times (fclib.io.spikes) and the Neo / pynapple / NWB adapters."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.io import SpikeBinningWarning, bin_spikes, from_neo, from_nwb, from_pynapple
from fclib.io.recordings import presentation_stimuli
from fclib.stats.sttc import sttc
from fclib.stats.simulate import group_recovery, pair_truth, planted_recovery, simulate_recording


def test_bins_by_hand():
    # unit 0: two spikes in bin 0 (one clipped), one exactly on the edge of bin 3 (0.3 s in
    # floating point is 2.9999999999999996 bins); unit 1 silent; unit 2 the last spike
    with pytest.warns(SpikeBinningWarning, match="1 of 4 spikes .* share a 0.1 s bin"):
        x = bin_spikes([[0.0, 0.05, 0.3], [], np.array([0.99])], 0.1, unit_ids=["a", "b", "c"])
    assert x.dims == ("neuron", "frame") and x.dtype == bool
    want = np.zeros((3, 10), dtype=bool)
    want[0, [0, 3]] = True
    want[2, 9] = True
    np.testing.assert_array_equal(x.values, want)
    np.testing.assert_allclose(x["time"].values, 0.1 * np.arange(10))
    assert list(x["unit_id"].values) == ["a", "b", "c"]
    assert list(x["neuron"].values) == [0, 1, 2]
    assert list(x["n_spikes"].values) == [3, 0, 1] and list(x["silent"].values) == [0, 1, 0]
    assert x.attrs["n_clipped"] == 1 and x.attrs["n_outside"] == 0
    assert x.attrs["t_start"] == 0.0 and x.attrs["t_stop"] == pytest.approx(1.0)


def test_window_drops_outside_spikes():
    # [t_start, t_stop) = [0.2, 0.6): 0.1 is before, 0.6 at t_stop is outside, 0.59 inside
    with pytest.warns(SpikeBinningWarning, match=r"2 of 5 spikes \(40.0 %\) fall outside .*"
                      "1 before t_start, 1 at or after t_stop"):
        x = bin_spikes([[0.1, 0.2, 0.35, 0.59, 0.6]], 0.1, t_start=0.2, t_stop=0.6)
    np.testing.assert_array_equal(x.values[0], [1, 1, 0, 1])
    np.testing.assert_allclose(x["time"].values, [0.2, 0.3, 0.4, 0.5])
    assert x.attrs["n_outside"] == 2
    # a t_stop that is not a whole number of bins is rounded up to one
    assert bin_spikes([[0.0]], 0.1, t_start=0.0, t_stop=0.25).sizes["frame"] == 3


@pytest.mark.filterwarnings("ignore::fclib.io.SpikeBinningWarning")
def test_unsorted_and_ragged_equal_sorted():
    rng = np.random.default_rng(1)
    times = [rng.random(n) * 5 for n in (0, 3, 40, 7)]
    a = bin_spikes(times, 0.05, t_start=0, t_stop=5)
    b = bin_spikes([np.sort(t) for t in times], 0.05, t_start=0, t_stop=5)
    xr.testing.assert_identical(a, b)
    # the naive twin: a histogram per unit
    edges = np.linspace(0, 5, 101)
    naive = np.stack([np.histogram(t, edges)[0] > 0 for t in times])
    np.testing.assert_array_equal(a.values, naive)


def test_trials_and_stimulus_coordinates():
    onsets = [0.0, 1.0, 2.0, 3.0]
    stim = ["B", "A", "B", "A"]
    times = [[0.05, 1.15, 1.9, 3.25], [2.0, 2.29, 0.5]]
    with pytest.warns(SpikeBinningWarning, match="2 between trials"):
        x = bin_spikes(times, 0.1, trial_onsets=onsets, trial_stimulus=stim, trial_duration=0.3)
    T = x.attrs["T"]
    assert T == 3 and x.sizes["frame"] == 12
    want = np.zeros((2, 12), dtype=bool)
    want[0, [0, 4, 11]] = True      # 0.05: trial 0 step 0; 1.15: trial 1 step 1; 3.25: 3, 2
    want[1, [6, 8]] = True          # 2.0: trial 2 step 0; 2.29: trial 2 step 2
    np.testing.assert_array_equal(x.values, want)  # 1.9 and 0.5 fall between trials
    assert x.attrs["n_outside"] == 2
    assert list(x["presentation"].values) == list(np.repeat(np.arange(4), 3))
    assert list(x["step"].values) == list(np.tile(np.arange(3), 4))
    assert json.loads(x.attrs["stimuli"]) == ["A", "B"]
    assert list(x["stimulus"].values[::3]) == stim
    np.testing.assert_array_equal(presentation_stimuli(x, T), [1, 0, 1, 0])
    np.testing.assert_array_equal(presentation_stimuli(x, T, "class"), [1, 0, 1, 0])
    np.testing.assert_allclose(x["time"].values[:4], [0.0, 0.1, 0.2, 1.0])


@pytest.mark.parametrize("kw, exc, match", [
    (dict(bin_size=-0.1), ValueError, "bin_size must be a positive"),
    (dict(bin_size=0), ValueError, "bin_size must be a positive"),
    (dict(bin_size=np.nan), ValueError, "bin_size must be a positive"),
    (dict(bin_size="1ms"), TypeError, "bin_size must be a number"),
    (dict(spike_times=[[0.1, np.nan]]), ValueError, "unit 0 hold NaN or inf"),
    (dict(spike_times=[[0.1], [[0.2]]]), ValueError, "unit 1 must be 1-D"),
    (dict(spike_times=np.array([0.1, 0.2])), ValueError, "wrap a single unit"),
    (dict(spike_times=5.0), TypeError, "sequence"),
    (dict(unit_ids=[1, 2, 3]), ValueError, "one id per unit"),
    (dict(t_start=1.0, t_stop=0.5), ValueError, "t_stop .* must be after t_start"),
    (dict(trial_stimulus=["a"]), ValueError, "need trial_onsets"),
    (dict(trial_onsets=[0.0, 0.5], trial_duration=0.25), ValueError, "whole number of bins"),
    (dict(trial_onsets=[0.0, 0.2], trial_duration=0.3), ValueError, "trials overlap"),
    (dict(trial_onsets=[0.5, 0.0]), ValueError, "increasing order"),
    (dict(trial_onsets=[0.0, 0.5], trial_stimulus=["a"]), ValueError, "one label per trial"),
])
def test_bad_input(kw, exc, match):
    args = dict(spike_times=[[0.1, 0.2], [0.3]], bin_size=0.1)
    args.update(kw)
    with pytest.raises(exc, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", SpikeBinningWarning)
        bin_spikes(**args)


# ---------------------------------------------------------------- data never lost silently
def _population(n_units=40, n_trials=60, dur=0.05, rate=20.0, seed=0):
    """Spike times (s) of a population over contiguous trials of ``dur`` s."""
    rng = np.random.default_rng(seed)
    end = n_trials * dur
    times = [np.sort(rng.random(rng.poisson(rate * end)) * end) for _ in range(n_units)]
    return times, np.arange(n_trials) * dur


def test_clean_input_gives_no_warning():
    times, onsets = _population(rate=5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpikeBinningWarning)
        x = bin_spikes(times, 0.001, trial_onsets=onsets, trial_duration=0.05)
        y = bin_spikes(times, 0.001)
    assert x.attrs["T"] == 50 and x.attrs["n_outside"] == 0
    assert y.attrs["n_outside"] == 0


def test_spike_times_in_ms_against_onsets_in_s_is_an_error():
    times, onsets = _population()
    with pytest.raises(ValueError, match=r"spike times look like milliseconds and the onsets "
                       r"like seconds.*\[t / 1000 for t in spike_times\]"):
        bin_spikes([t * 1000 for t in times], 0.005, trial_onsets=onsets)
    with pytest.raises(ValueError, match="onsets look like milliseconds"):
        bin_spikes(times, 0.005, trial_onsets=onsets * 1000, trial_duration=0.05)


def test_spike_times_in_ms_without_trials():
    # 240 units over 60,000 "s" in 5 ms bins: 12 M frames per unit, 2.9 GB; refused at once
    rng = np.random.default_rng(1)
    times = [np.sort(rng.random(50) * 60_000) for _ in range(240)]
    with pytest.raises(ValueError, match=r"240 units x 12,000,000 frames .*2.9 GB.*"
                       "milliseconds.*max_bytes=None"):
        bin_spikes(times, 0.005, t_start=0.0, t_stop=60_000)
    # fewer units fit in memory, but the rates give the milliseconds away
    with pytest.warns(SpikeBinningWarning, match=r"spikes span 60,000 s \(16.7 h\).*"
                      "in milliseconds"):
        bin_spikes(times[:10], 1.0, t_start=0.0, t_stop=60_000)


def test_trial_duration_from_an_early_onset_names_it():
    times, onsets = _population(dur=0.05)
    early = onsets.copy()
    early[7] -= 0.02   # one onset 20 ms early: the shortest gap is 30 ms, not 50
    with pytest.warns(SpikeBinningWarning) as rec:
        x = bin_spikes(times, 0.005, trial_onsets=early)
    msgs = [str(w.message) for w in rec]
    assert any("inferred as 0.03 s" in m and "onset 7 (0.33 s) looks early" in m
               and "median gap is 0.05 s" in m for m in msgs), msgs
    assert any("fall outside the binned window" in m and "between trials" in m for m in msgs)
    assert x.attrs["T"] == 6  # what was asked for; the warning says why it is wrong


def test_zero_padded_array_is_warned_about():
    times, _ = _population(n_units=6, rate=20.0)
    width = max(t.size for t in times) + 3
    padded = np.zeros((6, width))
    for u, t in enumerate(times):
        padded[u, :t.size] = t
    with pytest.warns(SpikeBinningWarning, match=r"6 of its 6 rows hold t = 0 .*zero padding.*"
                      r"\[row\[row > 0\] for row in spike_times\]"):
        x = bin_spikes(padded, 0.001)
    assert x.values[:, 0].all()  # what the warning is about: every pad is a spike at t = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpikeBinningWarning)
        bin_spikes([row[row > 0] for row in padded], 0.001)


def test_transposed_array_is_warned_about():
    rng = np.random.default_rng(2)
    units = np.sort(rng.random((5, 200)) * 3, axis=1)   # 5 units x 200 spikes, rows in time
    with pytest.warns(SpikeBinningWarning, match=r"shape \(200, 5\): read as 200 units .*"
                      r"columns run forward in time.*spike_times.T"):
        bin_spikes(units.T, 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpikeBinningWarning)
        assert bin_spikes(units, 0.001).sizes["neuron"] == 5


def test_spikes_sharing_bins_are_counted_and_a_bin_size_offered():
    times, onsets = _population(rate=60.0)   # 60 Hz in 20 ms bins: many share one
    with pytest.warns(SpikeBinningWarning, match=r"spikes \(\d+.\d %\) share a 0.02 s bin .*"
                      r"counted once.*bins of [\d.e-]+ s or less would count all but 1 %") as rec:
        x = bin_spikes(times, 0.02, trial_onsets=onsets[::2], trial_duration=0.1)
    # the bin it offers clips (almost) nothing
    b = float(str(rec[0].message).split("bins of ")[1].split(" s")[0])
    y = bin_spikes(times, b)
    assert y.attrs["n_clipped"] <= 0.02 * sum(t.size for t in times)
    assert x.attrs["n_clipped"] > 0.05 * x["n_spikes"].sum()


def test_pandas_series_and_long_table():
    times = [np.array([0.3, 0.1]), np.array([]), np.array([0.25])]
    want = bin_spikes(times, 0.1, t_start=0.0, t_stop=0.5, unit_ids=["a", "b", "c"])
    got = bin_spikes(pd.Series(times, index=["a", "b", "c"]), 0.1, t_start=0.0, t_stop=0.5)
    xr.testing.assert_identical(got, want)
    table = pd.DataFrame({"unit": ["c", "a", "a"], "time": [0.25, 0.3, 0.1]})
    got = bin_spikes(table, 0.1, t_start=0.0, t_stop=0.5, unit_ids=["a", "b", "c"])
    xr.testing.assert_identical(got, want)   # unit b has no row: a silent unit
    got = bin_spikes(table, 0.1, t_start=0.0, t_stop=0.5)
    assert list(got["unit_id"].values) == ["a", "c"]
    with pytest.raises(ValueError, match=r"columns 'unit' and 'time'.*lacks \['time'\].*rename"):
        bin_spikes(table.rename(columns={"time": "t"}), 0.1)
    with pytest.raises(ValueError, match=r"units \['c'\] are not in unit_ids"):
        bin_spikes(table, 0.1, unit_ids=["a", "b"])


def _elephant_sttc(x, i, j, bin_size):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    pytest.importorskip("elephant")
    from elephant.spike_train_correlation import spike_time_tiling_coefficient
    t0, t1 = x.attrs["t_start"], x.attrs["t_stop"]
    centres = x["time"].values + bin_size / 2
    trains = [neo.SpikeTrain(centres[x.values[k]] * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s)
              for k in (i, j)]
    return spike_time_tiling_coefficient(*trains, dt=bin_size / 2 * pq.s)


@pytest.mark.filterwarnings("ignore::fclib.io.SpikeBinningWarning")
def test_sttc_matches_elephant_on_bin_centres():
    rng = np.random.default_rng(3)
    bin_size = 0.004
    base = np.sort(rng.random(60) * 2)
    times = [base, np.sort(np.r_[base[::2] + 0.001, rng.random(30) * 2]), rng.random(50) * 2,
             np.sort(rng.random(8) * 2)]
    x = bin_spikes(times, bin_size, t_start=0.0, t_stop=2.0)
    s = sttc(x, x).values
    for i in range(4):
        for j in range(4):
            if i != j:
                assert s[i, j] == pytest.approx(_elephant_sttc(x, i, j, bin_size), abs=1e-12)


def test_from_neo():
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    trains = [neo.SpikeTrain([5, 12, 40] * pq.ms, t_start=0 * pq.ms, t_stop=50 * pq.ms,
                             name="u1"),
              neo.SpikeTrain([0.021] * pq.s, t_start=0 * pq.s, t_stop=0.05 * pq.s)]
    trains[1].annotate(unit_id=7)
    x = from_neo(trains, 10 * pq.ms)
    xr.testing.assert_identical(
        x, bin_spikes([[0.005, 0.012, 0.040], [0.021]], 0.01, t_start=0.0, t_stop=0.05,
                      unit_ids=["u1", "7"]))  # mixed ids come out as strings
    assert list(x["unit_id"].values) == ["u1", "7"]


@pytest.mark.filterwarnings("ignore:Some epochs have no duration", "ignore:divide by zero")
def test_from_pynapple():
    nap = pytest.importorskip("pynapple")
    group = nap.TsGroup({3: nap.Ts(t=np.array([0.5, 1.25, 2.0])), 8: nap.Ts(t=np.array([1.3]))},
                        time_support=nap.IntervalSet(0, 3))
    x = from_pynapple(group, 0.25)
    xr.testing.assert_identical(
        x, bin_spikes([[0.5, 1.25, 2.0], [1.3]], 0.25, t_start=0.0, t_stop=3.0, unit_ids=[3, 8]))


@pytest.mark.filterwarnings("ignore::fclib.io.SpikeBinningWarning")
def test_from_nwb(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    nwb = pynwb.NWBFile(session_description="test", identifier="fclib-test",
                        session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
    nwb.add_trial_column(name="stim", description="stimulus")
    for k, (start, stim) in enumerate([(0.0, "x"), (1.0, "y"), (2.0, "x")]):
        nwb.add_trial(start_time=start, stop_time=start + 0.5, stim=stim)
    spikes = [[0.05, 1.2, 2.45], [0.3, 0.31, 2.9]]
    for t in spikes:
        nwb.add_unit(spike_times=t)
    path = tmp_path / "units.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    x = from_nwb(path, 0.1)
    xr.testing.assert_identical(x, bin_spikes(spikes, 0.1, unit_ids=[0, 1]))
    y = from_nwb(path, 0.1, stimulus_column="stim")
    want = bin_spikes(spikes, 0.1, unit_ids=[0, 1], trial_onsets=[0.0, 1.0, 2.0],
                      trial_duration=0.5, trial_stimulus=np.array(["x", "y", "x"], dtype=object))
    xr.testing.assert_identical(y, want)
    assert y.attrs["T"] == 5
    with pytest.raises(ValueError, match="no trials column 'nope'"):
        from_nwb(path, 0.1, stimulus_column="nope")
    with pytest.raises(FileNotFoundError, match="no NWB file"):
        from_nwb(tmp_path / "missing.nwb", 0.1)


@pytest.mark.filterwarnings("ignore::fclib.io.SpikeBinningWarning")
def test_simulated_recording_known_answer():
    """Planted couplings are found by every null; pairs sharing only tuning are called by
    the circular nulls and removed by the stimulus-preserving one."""
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    sim = simulate_recording(n_units=60, n_stimuli=4, n_repeats=30, n_targets=4, rng=0)
    assert sim["planted"].shape == (20, 2)
    x = bin_spikes(sim["spike_times"], 0.01, trial_onsets=sim["trial_onsets"],
                   trial_stimulus=sim["trial_stimulus"], trial_duration=sim["trial_duration"])
    T = x.attrs["T"]
    stim = presentation_stimuli(x, T)
    np.testing.assert_array_equal(stim, sim["trial_stimulus"])
    pairs = {"exact": pair_significance(x, x, "exact"),
             "stimulus": pair_significance(x, x, "stimulus", stimulus=stim, T=T)}
    truth = pair_truth(sim["preferred"], sim["planted"])
    table = planted_recovery(pairs, truth)
    assert (table["planted"] == table["planted total"]).all()
    assert table.loc["exact", "shared tuning fraction"] > 0.5
    assert table.loc["stimulus", "shared tuning fraction"] < 0.02
    groups = one_fc_groups(pairs["stimulus"])
    assert not np.any(groups["target"].values == groups["source"].values)  # no unit in its own
    found = group_recovery(groups, sim["planted"])
    assert (found["found"] == found["drivers"]).all()
    # two layers whose ids coincide keep target == source edges
    kept = one_fc_groups(pairs["stimulus"].assign_attrs(same_population=0))
    assert np.any(kept["target"].values == kept["source"].values)
