"""Streamed edge lists (fclib.stats.edges) against the dense path."""
import errno
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from fclib.stats import edges as fe
from fclib.stats.connectivity import active, pair_significance, pair_summary
from fclib.stats.groups import one_fc_groups
from fclib.stats.sttc import sttc



# tiny tiles on a shared machine: numba's parallel launches cost more than the work
pytestmark = pytest.mark.usefixtures("one_numba_thread")
def _layers(seed=0, n_s=60, n_t=45, L=2400):
    """Two layers with positive and negative coupling and silent neurons, as recordings
    name them (``neuron`` ids that are not positions, a ``silent`` coordinate)."""
    rng = np.random.default_rng(seed)
    src = (rng.random((n_s, L)) < 0.05).astype(np.uint8)
    tgt = (rng.random((n_t, L)) < 0.06).astype(np.uint8)
    tgt[:15] |= src[:15] & (rng.random((15, L)) < 0.5)          # positive edges
    tgt[15:30] = (rng.random((15, L)) < 0.3) & ~src[15:30].astype(bool)  # negative edges
    src[[3, 40]] = 0
    tgt[[7, 44]] = 0

    def da(x, name, first):
        return xr.DataArray(x, dims=("neuron", "frame"), name=name,
                            coords={"neuron": first + 2 * np.arange(x.shape[0]),
                                    "silent": ("neuron", x.sum(1) == 0)})
    return da(src, "L1", 100), da(tgt, "L2", 7)


def _dense_edges(ds, threshold):
    z = ds["z"].values
    ti, si = np.nonzero(np.isfinite(z) & ((z > threshold) | (z < -threshold)))
    return ti, si, ds["sttc"].values[ti, si], z[ti, si]


@pytest.mark.parametrize("method, block", [("exact", (5, 29)), ("exact", (8, 23)), ("exact", 64),
                                           ("shifts", (23, 29)), ("shifts", 64)])
def test_edges_equal_dense_path(method, block):
    src, tgt = _layers()
    kw = {"n_shifts": 20, "rng": 5} if method == "shifts" else {}
    dense = pair_significance(src, tgt, method=method, **(kw if kw else {"moments": True}))
    e = fe.significant_edges(active(src), active(tgt), 3.0, method, block=block, **kw)
    ti, si, s, z = _dense_edges(dense, 3.0)
    assert (z > 0).any() and (z < 0).any()  # both signs are present and kept
    np.testing.assert_array_equal(e["target"].values, dense["target_neuron"].values[ti])
    np.testing.assert_array_equal(e["source"].values, dense["source_neuron"].values[si])
    np.testing.assert_allclose(e["z"].values, z, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(e["sttc"].values, s, rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(e["neuron"].values, dense["target_neuron"].values)
    zd = dense["z"].values
    np.testing.assert_array_equal(e["n_pos"].values, (zd > 3).sum(1))
    np.testing.assert_array_equal(e["n_neg"].values, (zd < -3).sum(1))
    np.testing.assert_array_equal(e["n_defined"].values, np.isfinite(zd).sum(1))
    np.testing.assert_array_equal(e["z_hist"].values,
                                  np.histogram(zd[np.isfinite(zd)], fe.Z_BINS)[0])
    assert e["sttc_hist"].sum() == np.isfinite(dense["sttc"].values).sum()
    np.testing.assert_allclose(e["null_sd_sum"].values,
                               np.nansum(np.where(np.isfinite(zd), dense["null_sd"].values, 0), 1),
                               rtol=1e-5)
    assert e.attrs["source_layer"] == "L1" and e.attrs["target_layer"] == "L2"


def test_silent_neurons_kept_without_edges():
    src, tgt = _layers()
    e = fe.significant_edges(src, tgt, 3.0, block=16)
    silent_t = tgt["neuron"].values[tgt["silent"].values]
    silent_s = src["neuron"].values[src["silent"].values]
    assert set(silent_t) <= set(e["neuron"].values)
    assert not np.isin(e["target"].values, silent_t).any()
    assert not np.isin(e["source"].values, silent_s).any()
    assert (e["n_defined"].sel(neuron=silent_t) == 0).all()


@pytest.mark.parametrize("threshold", [3.0, 4.5])
def test_groups_from_edges_equal_one_fc_groups(threshold):
    src, tgt = _layers(1)
    dense = pair_significance(src, tgt)
    e = fe.significant_edges(active(src), active(tgt), 3.0, block=(9, 17))
    want, got = one_fc_groups(dense, threshold), fe.groups_from_edges(e, threshold)
    for v in ("target", "source", "degree", "neuron"):
        np.testing.assert_array_equal(got[v].values, want[v].values)
        assert got[v].dtype == want[v].dtype
    xr.testing.assert_allclose(got, want, rtol=2e-6)
    assert got.attrs == want.attrs
    summ, dsumm = fe.edge_summary(e, threshold), pair_summary(dense, threshold)
    for k, v in dsumm.items():
        assert summ[k] == (v if isinstance(v, str) else pytest.approx(v, rel=1e-5)), k
    with pytest.raises(ValueError, match="keeps .z. > 3"):
        fe.groups_from_edges(e, 2.0)


def test_mismatched_frames_same_error_as_dense():
    src, tgt = _layers()
    bad = tgt.isel(frame=slice(0, 2000))
    with pytest.raises(ValueError) as dense:
        sttc(src, bad)
    with pytest.raises(ValueError) as ours:
        fe.significant_edges(src, bad)
    assert str(ours.value) == str(dense.value)


@pytest.mark.parametrize("kw, match", [
    ({"method": "stimulus"}, "method must be"),
    ({"dt": 1}, "dt = 0"),
    ({"rng": 1}, "draws no random"),
    ({"method": "shifts", "n_shifts": 1}, "n_shifts"),
    ({"method": "shifts", "path": "x.nc"}, "needs rng"),
    ({"block": 0}, "block must be"),
    ({"threshold": float("nan")}, "threshold must be"),
    ({"backend": "cuda"}, "backend must be"),
])
def test_bad_arguments(kw, match, tmp_path):
    src, tgt = _layers()
    if "path" in kw:
        kw["path"] = tmp_path / kw["path"]
    with pytest.raises(ValueError, match=match):
        fe.significant_edges(src, tgt, **kw)


_REAL_TILE = fe._compute_tile


class Killed(Exception):
    """Stands for the run being killed between two tiles."""


def _counting(monkeypatch, fail_after=None):
    calls = []
    real = _REAL_TILE

    def tile(*a):
        if fail_after is not None and len(calls) == fail_after:
            raise Killed(f"killed after {fail_after} tiles")
        calls.append(a[3:5])
        return real(*a)
    monkeypatch.setattr(fe, "_compute_tile", tile)
    return calls


def test_resume_after_interrupt(tmp_path, monkeypatch):
    src, tgt = _layers(2)
    want = fe.significant_edges(src, tgt, 3.0, block=(10, 25))  # 5 x 3 = 15 tiles
    path = tmp_path / "e.nc"
    _counting(monkeypatch, fail_after=4)
    with pytest.raises(Killed):
        fe.significant_edges(src, tgt, 3.0, block=(10, 25), path=path)
    blocks = path.with_name("e.nc.blocks")
    assert not path.exists() and len(list(blocks.glob("*.nc"))) == 4
    calls = _counting(monkeypatch)
    got = fe.significant_edges(src, tgt, 3.0, block=(10, 25), path=path)
    assert len(calls) == 15 - 4  # the finished tiles were read back, not recomputed
    xr.testing.assert_identical(got, want)
    assert path.exists() and not blocks.exists()
    calls = _counting(monkeypatch)
    xr.testing.assert_identical(fe.significant_edges(src, tgt, 3.0, block=(10, 25), path=path), want)
    assert calls == []
    with pytest.raises(ValueError, match="other trains or parameters"):  # a finished file too
        fe.significant_edges(src, tgt, 3.5, block=(10, 25), path=path)
    # tiles of other inputs are refused, not mixed in
    path2 = tmp_path / "f.nc"
    _counting(monkeypatch, fail_after=2)
    with pytest.raises(Killed):
        fe.significant_edges(src, tgt, 3.0, block=(10, 25), path=path2)
    with pytest.raises(ValueError, match="other trains or parameters"):
        fe.significant_edges(src, tgt, 3.5, block=(10, 25), path=path2)


def test_disk_full_leaves_nothing_at_final_names(tmp_path, monkeypatch):
    src, tgt = _layers(3)
    want = fe.significant_edges(src, tgt, 3.0, block=20)
    path = tmp_path / "e.nc"
    real = xr.Dataset.to_netcdf
    state = {"writes": 0, "fail": lambda p: False}

    def writer(self, p, *a, **k):
        state["writes"] += 1
        if state["fail"](str(p)):
            real(self.isel({d: slice(0, 1) for d in self.dims}), p, *a, **k)  # half a file
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        return real(self, p, *a, **k)
    monkeypatch.setattr(xr.Dataset, "to_netcdf", writer)
    state["fail"] = lambda p: state["writes"] == 3  # the third tile
    with pytest.raises(OSError, match="No space"):
        fe.significant_edges(src, tgt, 3.0, block=20, path=path)
    blocks = path.with_name("e.nc.blocks")
    assert sorted(f.name for f in blocks.iterdir()) == ["tile-000000-000000.nc",
                                                        "tile-000020-000000.nc"]
    # the merged table's temporary file (fclib.store.atomic_write: e.nc.<pid>-<hex>.part)
    state["fail"] = lambda p: Path(p).name.startswith("e.nc.") and p.endswith(".part")
    with pytest.raises(OSError, match="No space"):
        fe.significant_edges(src, tgt, 3.0, block=20, path=path)
    assert not path.exists() and not list(tmp_path.glob("e.nc*.part"))
    assert len(list(blocks.glob("*.nc"))) == 9 and not list(blocks.glob("*.part"))
    state["fail"] = lambda p: False
    calls = _counting(monkeypatch)
    xr.testing.assert_identical(fe.significant_edges(src, tgt, 3.0, block=20, path=path), want)
    assert calls == []


def test_recorded_layer_pair_gives_the_runs_groups(smoke_run):
    """On a real (smoke) recording, read lazily by stored chunks: the groups from the edge
    list are the Run's groups from the dense pairs."""
    rec = smoke_run.recording(chunks={})
    s, t = rec.layers[0], rec.layers[1]
    e = fe.significant_edges(active(rec[s]), active(rec[t]), 4.0, block=(1024, 2048))
    want, got = smoke_run.groups(s, t, 4.0), fe.groups_from_edges(e, 4.0)
    for v in ("target", "source", "degree", "neuron"):
        np.testing.assert_array_equal(got[v].values, want[v].values)
    np.testing.assert_allclose(got["z"].values, want["z"].values, rtol=2e-6, atol=2e-5)
    np.testing.assert_allclose(got["sttc"].values, want["sttc"].values, rtol=2e-6, atol=1e-7)
