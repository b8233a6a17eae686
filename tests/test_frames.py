"""take_frames and take_neurons equal isel, only faster (fclib.stats._frames), and Run.loaded
keeps layers."""
import numpy as np
import pytest
import xarray as xr

from conftest import on_disk
from fclib.stats._frames import take_frames, take_neurons


def _layer(n=7, L=40, seed=0):
    rng = np.random.default_rng(seed)
    return xr.DataArray(rng.integers(0, 2, (n, L), dtype=np.uint8), dims=("neuron", "frame"),
                        coords={"neuron": np.arange(n) * 3, "label": ("frame", rng.integers(0, 10, L)),
                                "rate": ("neuron", rng.random(n))},
                        attrs={"layer": "L2"}, name="L2")


@pytest.mark.parametrize("frames", [np.arange(0, 40, 3), np.array([5, 5, 0, 39]),
                                    np.array([-1, -40, 2]), np.array([], dtype=int),
                                    np.arange(40, dtype=np.uint32)])
def test_take_frames_equals_isel(frames):
    da = _layer()
    xr.testing.assert_identical(take_frames(da, frames), da.isel(frame=frames))


def test_take_frames_falls_back_to_isel_and_its_errors():
    da = _layer()
    with pytest.raises(IndexError):
        take_frames(da, np.array([40]))
    t = da.transpose("frame", "neuron")
    xr.testing.assert_identical(take_frames(t, [1, 2]), t.isel(frame=[1, 2]))
    lazy = da.chunk({"frame": 10}) if _has_dask() else da
    xr.testing.assert_identical(take_frames(lazy, [3, 4]).load(), da.isel(frame=[3, 4]))


@pytest.mark.parametrize("rows", [np.array([1, 4, 5]), np.array([6, 0, 3, 3]), np.array([-1, 2]),
                                  np.arange(7, dtype=np.uint16), np.array([2])])
def test_take_neurons_of_a_layer_on_disk_equals_isel_and_is_in_memory(rows, tmp_path):
    da = _layer()
    lazy = on_disk(da, tmp_path / "layer.nc")
    got = take_neurons(lazy, rows)
    assert isinstance(got.variable._data, np.ndarray)
    xr.testing.assert_identical(got, lazy.isel(neuron=rows).load())
    xr.testing.assert_identical(got, da.isel(neuron=rows))
    # in memory (and empty or boolean rows): isel itself
    xr.testing.assert_identical(take_neurons(da, rows), da.isel(neuron=rows))
    empty = np.array([], dtype=int)
    xr.testing.assert_identical(take_neurons(lazy, empty).load(), da.isel(neuron=empty))
    mask = np.zeros(7, bool)
    mask[[0, 5]] = True
    xr.testing.assert_identical(take_neurons(lazy, mask).load(), da.isel(neuron=mask))
    with pytest.raises(IndexError):
        take_neurons(lazy, np.array([7]))


def test_active_loaded_equals_active_then_load(tmp_path):
    from fclib.stats.connectivity import active

    da = _layer().assign_coords(silent=("neuron", np.array([1, 0, 0, 1, 0, 1, 0], bool)))
    lazy = on_disk(da, tmp_path / "layer.nc")
    want = active(lazy).load()
    assert want.sizes["neuron"] == 4
    got = active(lazy, load=True)
    assert isinstance(got.variable._data, np.ndarray)
    xr.testing.assert_identical(got, want)
    xr.testing.assert_identical(active(da, load=True), active(da))
    plain = _layer()   # no silent coordinate: every neuron, loaded
    xr.testing.assert_identical(active(on_disk(plain, tmp_path / "plain.nc"), load=True), plain)


def _has_dask():
    try:
        import dask  # noqa: F401
        return True
    except ImportError:
        return False


def test_run_keeps_loaded_layers_and_rereads_a_rewritten_file(tmp_path):
    from fclib.pipeline.stages import Run

    class Rec:
        loads = 0

        def __init__(self, path):
            self.path = path

        def __getitem__(self, layer):
            Rec.loads += 1
            return _layer(seed=int(self.path.read_text()))

    path = tmp_path / "original.nc"
    path.write_text("1")
    r = Run({"seed": 0}, tmp_path, "t", "r")
    r.recording_path = lambda condition="original": path
    r.recording = lambda condition="original", chunks=None: Rec(path)
    a = r.loaded("L2")
    assert r.loaded("L2") is a and Rec.loads == 1
    for i in range(Run.LOADED_LAYERS):
        r.loaded(f"X{i}")
    assert len(r._layers) == Run.LOADED_LAYERS and r.loaded("L2") is not a   # evicted
    path.write_text("22")   # rewritten: another size
    b = r.loaded("L2")
    assert not b.identical(a)
