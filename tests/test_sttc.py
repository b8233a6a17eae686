import numpy as np
import pytest
import xarray as xr

import naive
import fclib
from fclib.stats.sttc import cofiring_counts, pack_trains, sttc


def _random(rng, n, L, p):
    return (rng.random((n, L)) < p).astype(np.uint8)


@pytest.mark.parametrize("L", [1, 63, 64, 65, 200, 1000])
@pytest.mark.parametrize("dt", [0, 1, 4])
def test_kernel_equals_naive_twin(L, dt):
    rng = np.random.default_rng(L * 10 + dt)
    s, t = _random(rng, 9, L, 0.1), _random(rng, 7, L, 0.3)
    if dt >= L:  # a window as long as the recording tiles every frame: refused
        with pytest.raises(ValueError, match="smaller than n_frames"):
            sttc(s, t, dt)
        return
    np.testing.assert_allclose(sttc(s, t, dt).values, naive.sttc_all(s, t, dt), equal_nan=True)


def test_packing_and_counts():
    rng = np.random.default_rng(0)
    a, b = _random(rng, 40, 130, 0.4), _random(rng, 35, 130, 0.4)
    bits = pack_trains(a)
    assert bits.dtype == np.uint64 and bits.shape == (40, 3)
    np.testing.assert_array_equal(np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, :130], a)
    np.testing.assert_array_equal(cofiring_counts(a, b), a.astype(int) @ b.T.astype(int))


@pytest.mark.parametrize("n_target", [0, 1, 7, 8, 9, 17])
@pytest.mark.parametrize("n_source", [0, 1, 63, 64, 65, 129])
@pytest.mark.parametrize("L", [1, 64, 200])
def test_counts_kernel_on_every_remainder(n_target, n_source, L):
    # register blocks of 8 targets and runs of 64 sources: every partial block and run
    rng = np.random.default_rng(n_target * 1000 + n_source * 10 + L)
    a, b = _random(rng, n_target, L, 0.5), _random(rng, n_source, L, 0.5)
    c = cofiring_counts(a, b)
    assert c.shape == (n_target, n_source) and c.dtype == np.int64
    np.testing.assert_array_equal(c, a.astype(np.int64) @ b.T.astype(np.int64))


def test_degenerate_trains():
    L = 50
    silent, full = np.zeros(L, np.uint8), np.ones(L, np.uint8)
    some = np.zeros(L, np.uint8)
    some[[3, 10, 20]] = 1
    v = sttc(np.stack([silent, full, some]), np.stack([silent, full, some])).values
    assert np.isnan(v[0]).all() and np.isnan(v[:, 0]).all()  # silent: undefined
    assert v[1, 1] == 1.0  # both fire in every frame
    assert v[2, 2] == 1.0  # identical trains
    # a train that fires always tiles the whole recording: its half is 1, the other 0
    assert v[2, 1] == pytest.approx(0.5 * 1 + 0.5 * (1 - 1) / (1 - 1 * 3 / L) - 0.5 * 0)
    np.testing.assert_allclose(v[2, 1], naive.sttc_pair(some, full))


def test_properties():
    rng = np.random.default_rng(3)
    a, b = _random(rng, 20, 500, 0.05), _random(rng, 15, 500, 0.2)
    v = sttc(a, b).values
    assert np.nanmin(v) >= -1 and np.nanmax(v) <= 1
    np.testing.assert_allclose(sttc(b, a).values, v.T)  # symmetric coefficient
    perm = rng.permutation(500)  # same permutation of frames in both layers (dt = 0)
    np.testing.assert_allclose(sttc(a[:, perm], b[:, perm]).values, v)
    np.testing.assert_allclose(np.diag(sttc(a, a).values)[a.sum(1) > 0], 1.0)


def test_labelled_input_and_output():
    rng = np.random.default_rng(0)
    src = xr.DataArray(_random(rng, 5, 80, 0.2), dims=("neuron", "frame"),
                       coords={"channel": ("neuron", np.arange(5))})
    tgt = xr.DataArray(_random(rng, 3, 80, 0.2).T, dims=("frame", "neuron"))  # any dim order
    out = fclib.sttc(src, tgt)
    assert out.dims == ("target", "source") and out.shape == (3, 5)
    assert (out["source_channel"].values == np.arange(5)).all()
    np.testing.assert_allclose(out.values, sttc(src.values, tgt.values.T).values)
    # blocks of targets give the same answer
    np.testing.assert_allclose(sttc(src, tgt, block=2).values, out.values)
    # dask-backed input, block by block
    np.testing.assert_allclose(sttc(src.chunk({"neuron": 2}), tgt.chunk({"neuron": 1})).values, out.values)


@pytest.mark.parametrize("bad, msg", [
    (np.full((2, 5), 2), "0/1 spike trains"),
    (np.zeros(5), "2-D"),
    (xr.DataArray(np.zeros((2, 5)), dims=("cell", "time")), "dims"),
])
def test_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        sttc(bad, np.zeros((2, 5)))


def test_frame_mismatch_and_bad_dt():
    with pytest.raises(ValueError, match="same frames"):
        sttc(np.zeros((2, 5)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="dt must be"):
        sttc(np.zeros((2, 5)), np.zeros((2, 5)), dt=-1)


def _elephant_sttc(a, b, dt_frames):
    import neo
    import quantities as pq
    from elephant.spike_train_correlation import spike_time_tiling_coefficient

    L = len(a)

    def st(x):
        return neo.SpikeTrain((np.flatnonzero(x) + 0.5) * pq.s, t_start=0 * pq.s, t_stop=L * pq.s)

    return spike_time_tiling_coefficient(st(a), st(b), dt=(dt_frames + 0.5) * pq.s)


@pytest.mark.parametrize("dt", [0, 2])
def test_agrees_with_elephant(dt):
    pytest.importorskip("elephant")
    rng = np.random.default_rng(7 + dt)
    L = 300
    trains = _random(rng, 6, L, 0.08)
    trains[0, :] = 0
    trains[0, [0, L - 1]] = 1  # spikes at both ends of the recording
    trains[1] = 1  # fires in every frame
    trains[2] = trains[3]  # identical pair
    trains[4, 150:] = 0
    ours = sttc(trains, trains, dt).values
    for i in range(6):
        for j in range(6):
            assert ours[i, j] == pytest.approx(_elephant_sttc(trains[i], trains[j], dt), abs=1e-12), (i, j)
    silent = np.zeros(L, np.uint8)
    assert np.isnan(sttc(silent[None], trains[:1]).values[0, 0])


@pytest.mark.parametrize("L", [5, 64, 100, 128, 1000])
def test_rotated_bits_equal_packing_the_rolled_trains(L):
    import sys
    m = sys.modules["fclib.stats.sttc"]
    rng = np.random.default_rng(L)
    x = _random(rng, 6, L, 0.3)
    doubled = m.doubled_bits(x)
    out = np.empty_like(pack_trains(x).T)  # written in the transposed source layout
    for s in sorted({0, 1, L // 2, L - 1, 64 % L, (128 % L) or 1}):
        m.rotated_bits(doubled, s, L, out)
        np.testing.assert_array_equal(out.T, pack_trains(np.roll(x, s, axis=1)), err_msg=f"shift {s}")
