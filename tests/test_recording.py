import netCDF4
import numpy as np
import pytest

from fclib.stats.activity import firing_rates, layer_summary
from fclib.io.recordings import RecordingWriter, open_recording, sample_neurons


@pytest.mark.parametrize("shape, n", [
    ((64, 32, 32), 64 * 11 * 11),   # 7,744
    ((128, 16, 16), 128 * 8 * 8),   # 8,192
    ((256, 8, 8), 256 * 6 * 6),     # 9,216
    ((512, 4, 4), 8192),            # all neurons
    ((16, 16, 16), 4096),           # small layer: all neurons
])
def test_sampling_rule_counts(shape, n):
    s = sample_neurons(shape)
    assert len(s["channel"]) == n
    assert set(np.unique(s["channel"])) == set(range(shape[0]))


def test_sampling_patch_is_central():
    s = sample_neurons((64, 32, 32))
    assert s["y"].min() == 10 and s["y"].max() == 20  # 11 rows centred in 32
    assert s["x"].min() == 10 and s["x"].max() == 20


def _layers():
    return {"L1": dict(sample_neurons((2, 3, 3)), shape=(2, 3, 3)),
            "L2": dict(sample_neurons((4, 2, 2)), shape=(4, 2, 2))}


def _frames(n_pres, T):
    return {"image": np.repeat(np.arange(n_pres) % 3, T), "presentation": np.repeat(np.arange(n_pres), T),
            "step": np.tile(np.arange(T), n_pres), "label": np.repeat(np.arange(n_pres) % 2, T)}


def test_writer_roundtrip_lazy(tmp_path):
    rng = np.random.default_rng(0)
    T, n_pres = 4, 10
    spikes = {k: (rng.random((len(v["channel"]), n_pres * T)) < 0.2).astype(np.uint8)
              for k, v in _layers().items()}
    spikes["L2"][0] = 0  # a silent neuron
    path = tmp_path / "rec.nc"
    with RecordingWriter(path, _layers(), _frames(n_pres, T), {"condition": "original",
                                                             "class_names": ["a", "b"]}, T,
                         frame_chunk=8) as w:
        for f0 in range(0, n_pres * T, 12):
            w.write({k: v[:, f0:f0 + 12] for k, v in spikes.items()})
        assert not path.exists()  # only renamed into place when complete
    rec = open_recording(path)
    assert rec.layers == ["L1", "L2"] and rec.n_frames == 40 and rec.T == 4
    assert rec.attrs["class_names"] == ["a", "b"]
    da = rec["L2"]
    assert da.dims == ("neuron", "frame")
    assert not isinstance(da.variable._data, np.ndarray)  # lazily indexed, not loaded
    np.testing.assert_array_equal(da.values, spikes["L2"])
    assert bool(da["silent"][0]) and not bool(da["silent"][1:].all())
    np.testing.assert_allclose(da["rate"].values, spikes["L2"].sum(1) / n_pres, rtol=1e-6)
    np.testing.assert_allclose(firing_rates(da, T).values, da["rate"].values, rtol=1e-6)
    assert list(da["step"].values[:5]) == [0, 1, 2, 3, 0]
    summary = layer_summary(rec)
    assert summary.loc["L2", "neurons"] == 16
    assert summary.loc["L2", "silent_fraction"] == pytest.approx((spikes["L2"].sum(1) / n_pres < 0.01).mean())
    lazy = open_recording(path, chunks={})["L1"]
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.values, spikes["L1"])


def test_incomplete_or_failed_recording_leaves_no_recording(tmp_path):
    path = tmp_path / "rec.nc"
    part = tmp_path / "rec.nc.part"
    with pytest.raises(ValueError, match="incomplete"):
        with RecordingWriter(path, _layers(), _frames(2, 4), {}, 4) as w:
            w.write({"L1": np.zeros((18, 4), np.uint8), "L2": np.zeros((16, 4), np.uint8)})
    assert not path.exists() and part.exists()  # the frames written so far wait for a resume
    part.unlink()
    with pytest.raises(RuntimeError):
        with RecordingWriter(path, _layers(), _frames(2, 4), {}, 4):
            raise RuntimeError("interrupted")
    assert not list(tmp_path.iterdir())  # nothing written, nothing kept
    with pytest.raises(ValueError, match="same frames"):
        with RecordingWriter(path, _layers(), _frames(2, 4), {}, 4) as w:
            w.write({"L1": np.zeros((18, 4), np.uint8), "L2": np.zeros((16, 3), np.uint8)})
    assert not list(tmp_path.iterdir())


def _spikes(n_pres, T, seed=0):
    rng = np.random.default_rng(seed)
    return {k: (rng.random((len(v["channel"]), n_pres * T)) < 0.3).astype(np.uint8)
            for k, v in _layers().items()}


def test_interrupted_writer_resumes_where_it_stopped(tmp_path):
    T, n_pres = 4, 6
    spikes = _spikes(n_pres, T)
    attrs = {"condition": "noise", "class_names": ["a", "b"]}
    path = tmp_path / "rec.nc"
    with pytest.raises(KeyboardInterrupt):
        with RecordingWriter(path, _layers(), _frames(n_pres, T), attrs, T) as w:
            for f0 in (0, 8):
                w.write({k: v[:, f0:f0 + 8] for k, v in spikes.items()})
            raise KeyboardInterrupt
    assert not path.exists()
    with RecordingWriter(path, _layers(), _frames(n_pres, T), attrs, T) as w:
        assert w.position == 16 and w.resumed_from == 16
        w.write({k: v[:, 16:] for k, v in spikes.items()})
    rec = open_recording(path)
    for k in spikes:
        np.testing.assert_array_equal(rec[k].values, spikes[k])
        np.testing.assert_allclose(rec[k]["rate"].values, spikes[k].sum(1) / n_pres, rtol=1e-6)
    assert "_frames_written" not in rec.attrs and "_resume_signature" not in rec.attrs
    assert not (tmp_path / "rec.nc.part").exists()


def test_a_part_file_of_another_recording_is_replaced(tmp_path):
    T, n_pres = 4, 4
    spikes = _spikes(n_pres, T)
    path = tmp_path / "rec.nc"
    with pytest.raises(KeyboardInterrupt):
        with RecordingWriter(path, _layers(), _frames(n_pres, T), {"noise_amplitude": 0.5}, T) as w:
            w.write({k: v[:, :8] for k, v in spikes.items()})
            raise KeyboardInterrupt
    with pytest.warns(UserWarning, match="another recording"):
        w = RecordingWriter(path, _layers(), _frames(n_pres, T), {"noise_amplitude": 0.25}, T)
    assert w.position == 0
    w._abort()
    (tmp_path / "rec.nc.part").write_bytes(b"not netCDF")
    with pytest.warns(UserWarning, match="unreadable"):
        with RecordingWriter(path, _layers(), _frames(n_pres, T), {}, T) as w:
            assert w.position == 0
            w.write(spikes)
    np.testing.assert_array_equal(open_recording(path)["L2"].values, spikes["L2"])


def test_layers_disagreeing_in_frame_count_are_refused(tmp_path):
    path = tmp_path / "bad.nc"
    with netCDF4.Dataset(path, "w") as nc:
        for name, n in (("L1", 8), ("L2", 12)):
            g = nc.createGroup(name)
            g.createDimension("neuron", 2)
            g.createDimension("frame", n)
            g.createVariable("spikes", "u1", ("neuron", "frame"))
    with pytest.raises(ValueError, match="disagree in frame count"):
        open_recording(path)


def test_missing_or_unreadable_recording(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_recording(tmp_path / "none.nc")
    bad = tmp_path / "junk.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(ValueError, match="not a readable"):
        open_recording(bad)


def test_save_dataset_leaves_no_part_file_when_writing_fails(tmp_path, monkeypatch):
    import xarray as xr

    from fclib.io.recordings import save_dataset

    path = tmp_path / "out.nc"
    good = xr.Dataset({"v": ("x", np.arange(3))}, attrs={"run": "first"})
    save_dataset(good, path)
    # an object variable netCDF cannot store: the error comes after the .part file is created
    bad = xr.Dataset({"v": ("x", np.array([object(), 1], dtype=object))})
    with pytest.raises(ValueError, match="unable to infer dtype"):
        save_dataset(bad, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]
    with xr.open_dataset(path) as ds:  # the file that was there is untouched
        xr.testing.assert_identical(ds.load(), good)

    def fail_after_creating(self, target, **kw):
        open(target, "wb").write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", fail_after_creating)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(good, tmp_path / "new.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


def test_save_dataset_compresses_integers_and_leaves_floats_plain(tmp_path):
    """Integer and boolean variables (spikes, counts, masks) go zlib level 1; floating-point
    ones (a pairs file's STTC and z) uncompressed, where zlib costs 4.6 times the writing time
    for 16 % of the size. Both read back identical."""
    import xarray as xr

    from fclib.io.recordings import load_dataset, save_dataset

    rng = np.random.default_rng(0)
    ds = xr.Dataset({"z": (("t", "s"), rng.normal(size=(40, 30)).astype(np.float32)),
                     "sttc": (("t", "s"), rng.random((40, 30))),
                     "degree": ("t", rng.integers(0, 9, 40)),
                     "spikes": (("t", "s"), (rng.random((40, 30)) < 0.1).astype(np.uint8)),
                     "selected": ("t", rng.random(40) < 0.5)},
                    coords={"t": np.arange(40)}, attrs={"source_layer": "L1"})
    path = save_dataset(ds, tmp_path / "pairs.nc")
    with netCDF4.Dataset(path) as nc:
        zlib = {name: nc.variables[name].filters()["zlib"] for name in ds.data_vars}
        level = {name: nc.variables[name].filters()["complevel"] for name in ds.data_vars}
    assert zlib == {"z": False, "sttc": False, "degree": True, "spikes": True, "selected": True}
    assert level["degree"] == level["spikes"] == 1
    xr.testing.assert_identical(load_dataset(path), ds)
