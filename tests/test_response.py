import numpy as np
import pytest
import xarray as xr

from fclib.stats import connectivity as fc
from fclib.stats import fits
from fclib.stats import groups as fg
from fclib.stats import response as fr
from conftest import on_disk
from naive import cofiring_dense, response_loops


def _pairs(z, s, tid=None, sid=None):
    ds = xr.Dataset({"z": (("target", "source"), z), "sttc": (("target", "source"), s)},
                    attrs=dict(source_layer="L1", target_layer="L2", method="exact"))
    if tid is not None:
        ds = ds.assign_coords(target_neuron=("target", tid), source_neuron=("source", sid))
    return ds


def test_groups_from_pairs_keep_ids_and_empty_groups(tmp_path):
    z = np.array([[5.0, 1.0, 6.0], [0.0, 0.0, 0.0], [4.5, -9.0, 3.9]])
    s = np.array([[0.1, 0.0, 0.2], [0.0, 0.0, 0.0], [-0.1, -0.3, 0.1]])  # z>4 but sttc<0: no edge
    g = fg.one_fc_groups(_pairs(z, s, tid=np.array([3, 7, 9]), sid=np.array([0, 4, 5])))
    assert g["neuron"].values.tolist() == [3, 7, 9]
    assert g["degree"].values.tolist() == [2, 0, 0]
    assert g["target"].values.tolist() == [3, 3] and g["source"].values.tolist() == [0, 5]
    assert fg.members(g, 3).tolist() == [0, 5] and fg.members(g, 7).size == 0
    with pytest.raises(KeyError, match="not analysed"):
        fg.members(g, 4)
    path = fg.save_groups(g, tmp_path / "g.nc")
    assert not list(tmp_path.glob("*.part"))
    xr.testing.assert_identical(fg.load_groups(path), g)
    with pytest.raises(ValueError, match="must hold 'z'"):
        fg.one_fc_groups(_pairs(z, s).drop_vars("z"))


def _random_groups(rng, n_src, n_tgt, L, p=0.08):
    src = (rng.random((n_src, L)) < p).astype(np.uint8)
    z = rng.normal(0, 3, (n_tgt, n_src))
    s = rng.normal(0, 0.1, (n_tgt, n_src))
    ids = np.sort(rng.choice(3 * n_src, n_src, replace=False))  # sparse neuron ids
    g = fg.one_fc_groups(_pairs(z, s, tid=np.arange(n_tgt) * 2, sid=ids))
    da = xr.DataArray(src, dims=("neuron", "frame"), coords={"neuron": ids,
                      "image": ("frame", np.arange(L) // 4)})
    return src, ids, g, da


@pytest.mark.parametrize("method", ["events", "rows", "dense"])
def test_cofiring_without_any_group_member_is_zero_in_memory_and_on_disk(method, tmp_path):
    """Groups that are all empty (no source neuron is read): zero co-firing on every frame,
    from a layer in memory and from one still on disk."""
    rng = np.random.default_rng(5)
    src, ids, _, da = _random_groups(rng, 30, 6, 80)
    g = fg.one_fc_groups(_pairs(np.zeros((6, 30)), np.zeros((6, 30)), tid=np.arange(6) * 2,
                                sid=ids))
    assert (g["degree"].values == 0).all()
    for layer in (da, on_disk(da, tmp_path / "layer.nc")):
        cof = fr.cofiring(layer, g, method=method)
        assert cof.shape == (6, 80) and not cof.values.any()


@pytest.mark.parametrize("method", ["events", "rows", "dense", "auto"])
@pytest.mark.parametrize("L", [1, 77, 1000])
def test_cofiring_matches_dense_product(L, method):
    rng = np.random.default_rng(L)
    src, ids, g, da = _random_groups(rng, 60, 25, L)
    cof = fr.cofiring(da, g, method=method, block=64)
    members = [np.searchsorted(ids, fg.members(g, t)) for t in g["neuron"].values]
    np.testing.assert_array_equal(cof.values, cofiring_dense(src, members, src.shape[0]))
    assert cof.dims == ("neuron", "frame") and cof.dtype == np.int16
    np.testing.assert_array_equal(cof["degree"].values, g["degree"].values)
    np.testing.assert_array_equal(cof["image"].values, da["image"].values)


def test_cofiring_refuses_wrong_layer():
    rng = np.random.default_rng(0)
    _, _, g, da = _random_groups(rng, 30, 5, 100)
    with pytest.raises(ValueError, match="lack neurons"):
        fr.cofiring(da.isel(neuron=slice(0, 10)), g)
    with pytest.raises(ValueError, match="method must be"):
        fr.cofiring(da, g, method="sparse")


def test_response_counts_match_loops_and_batches_partition():
    rng = np.random.default_rng(1)
    src, ids, g, da = _random_groups(rng, 50, 12, 800)
    cof = fr.cofiring(da, g)
    tgt = xr.DataArray((rng.random((30, 800)) < 0.2).astype(np.uint8), dims=("neuron", "frame"),
                       coords={"image": ("frame", np.arange(800) // 4)})
    spk = tgt.values[g["neuron"].values]
    c = fr.response_counts(cof, tgt)
    nf, fire = response_loops(cof.values, spk, c.sizes["cofiring"])
    np.testing.assert_array_equal(c["n_frames"].values, nf)
    np.testing.assert_array_equal(c["n_fire"].values, fire)
    b = fr.image_batches(cof["image"].values, 4, rng=np.random.default_rng(2))
    per_image = {i: set(b[cof["image"].values == i]) for i in range(200)}
    assert all(len(v) == 1 for v in per_image.values())  # an image lives in one batch
    assert np.bincount(b).tolist() == [200] * 4
    cb = fr.response_counts(cof, tgt, batch=b)
    np.testing.assert_array_equal(cb["n_frames"].sum("batch").values, nf)
    with pytest.raises(ValueError, match="frames against"):
        fr.response_counts(cof, tgt.isel(frame=slice(0, 799)))
    with pytest.raises(ValueError, match="'image' differs"):
        fr.response_counts(cof, tgt.assign_coords(image=("frame", np.arange(800))))
    with pytest.raises(ValueError, match="between 1 and"):
        fr.image_batches(np.arange(3), 4)


def test_properties_rise_quantile_and_collapse():
    # two neurons, groups of 10 and 40, responses p = relu(k / N - 0.2): a perfect collapse
    K = 41
    k = np.arange(K)
    deg = np.array([10, 40])
    nf = np.zeros((2, K), np.int32)
    nf[0, :11] = 1000
    nf[1, :] = 1000
    p = np.clip(fits.relu(k[None, :] / deg[:, None], 1.0, 0.2), 0, 1) * (nf > 0)
    c = xr.Dataset({"n_frames": (("neuron", "cofiring"), nf),
                    "n_fire": (("neuron", "cofiring"), np.round(p * nf).astype(np.int32))},
                   coords={"neuron": [0, 1], "cofiring": k, "degree": ("neuron", deg)})
    f = fr.fit_response(c)
    assert f["relu_slope"].values == pytest.approx([0.1, 0.025])
    assert f["relu_threshold"].values == pytest.approx([2, 8])
    tgt = xr.DataArray(np.zeros((2, 4)), dims=("neuron", "frame"))
    props = fr.neuron_properties(c, f, tgt, T=4)
    # the two lines meet where the rise starts; the CDF there is the share of frames at or below
    assert props["intersection"].values == pytest.approx([2, 8])
    assert props["rise_quantile"].values == pytest.approx([3 / 11, 9 / 41])
    assert props["intersection_fraction"].values == pytest.approx([0.2, 0.2])
    assert props["max_cofiring"].values.tolist() == [10, 40]
    assert props["selected"].values.all()
    assert fr.collapse_r2(c, 1.0, n_bins=10) == pytest.approx(1.0, abs=0.02)
    assert fr.collapse_r2(c, 0.0, n_bins=10) < 0.8
    d = fr.batch_slopes(f.expand_dims(batch=[0, 1, 2]))
    assert d["pair"].values.tolist() == ["0-1", "0-2", "1-2"] and np.all(d.values == 0)


def _planted(rng, L=24000, sizes=(8, 8, 16, 16, 32, 32), n_free=150, frac=0.15):
    """Sources: disjoint planted groups driven by rare shared events, plus uncoupled neurons.
    Target i fires with probability relu((k - frac N) / N), k = co-firing of its group."""
    n_src = sum(sizes) + n_free
    src = (rng.random((n_src, L)) < 0.04).astype(np.uint8)
    perm = rng.permutation(n_src)
    tgt = np.zeros((len(sizes), L), np.uint8)
    planted, start = [], 0
    for i, N in enumerate(sizes):
        m = np.sort(perm[start:start + N])
        start += N
        event = rng.random(L) < 0.08
        src[m] |= (event[None, :] & (rng.random((N, L)) < rng.uniform(0.2, 0.8, L))).astype(np.uint8)
        k = src[m].sum(0)
        tgt[i] = rng.random(L) < np.clip((k - frac * N) / N, 0, 1)
        planted.append(m)
    coords = {"image": ("frame", np.arange(L) // 4)}
    s = xr.DataArray(src, dims=("neuron", "frame"), coords=coords, name="L1")
    t = xr.DataArray(tgt, dims=("neuron", "frame"), coords=coords, name="L2")
    return s, t, planted, np.array(sizes)


def test_pipeline_recovers_planted_groups_slopes_and_scaling():
    rng = np.random.default_rng(7)
    s, t, planted, sizes = _planted(rng)
    g = fg.one_fc_groups(fc.pair_significance(s, t, method="exact"))
    found = [set(fg.members(g, i).tolist()) for i in range(len(sizes))]
    true = [set(m.tolist()) for m in planted]
    tp = sum(len(f & m) for f, m in zip(found, true))
    precision = tp / sum(len(f) for f in found)
    recall = tp / sum(len(m) for m in true)
    assert precision >= 0.99 and recall >= 0.99, (precision, recall)
    counts = fr.response_counts(fr.cofiring(s, g), t)
    f = fr.fit_response(counts, min_frames=20)
    np.testing.assert_allclose(f["relu_slope"].values, 1 / sizes, rtol=0.15)
    th = f["relu_threshold"].values
    assert np.all(np.abs(th - 0.15 * sizes) <= 0.1 * sizes + 0.5), th
    assert np.all(f["relu_r2"].values > 0.9)
    law = fits.fit_power_law(g["degree"].values, f["relu_slope"].values)
    assert law["beta"] == pytest.approx(1.0, abs=0.15)
    assert fr.collapse_r2(counts, 1.0) > fr.collapse_r2(counts, 0.0)
    b = fr.image_batches(s["image"].values, 4, rng=rng)
    fb = fr.fit_response(fr.response_counts(fr.cofiring(s, g), t, batch=b), min_frames=20)
    rel = np.abs(fr.batch_slopes(fb).values) / f["relu_slope"].values
    assert np.median(rel) < 0.15


def test_fit_response_leaves_out_the_ceiling():
    k = np.arange(60)
    p = np.clip((k - 10) / 20, 0, 1)
    nf = np.full((1, 60), 1000, np.int32)
    c = xr.Dataset({"n_frames": (("neuron", "cofiring"), nf),
                    "n_fire": (("neuron", "cofiring"), np.round(p * 1000).astype(np.int32)[None])},
                   coords={"neuron": [0], "cofiring": k, "degree": ("neuron", [60])})
    f = fr.fit_response(c)
    assert float(f["saturation_cofiring"][0]) == 29  # first value with p >= 0.95
    assert float(f["relu_slope"][0]) == pytest.approx(0.05)
    assert float(f["intersection"][0]) == pytest.approx(10)
    whole = fr.fit_response(c, saturation=None)
    assert float(whole["relu_slope"][0]) < 0.05 and np.isnan(float(whole["saturation_cofiring"][0]))


def test_fraction_above():
    c = xr.Dataset({"n_frames": (("neuron", "cofiring"), np.array([[5, 3, 2], [0, 0, 10]])),
                    "n_fire": (("neuron", "cofiring"), np.zeros((2, 3), int))},
                   coords={"neuron": [4, 9], "cofiring": [0, 1, 2]})
    f = fr.fraction_above(c, [0.5, np.nan])
    assert f.values[0] == pytest.approx(0.5) and np.isnan(f.values[1])
    assert fr.fraction_above(c, [1, 1.5]).values.tolist() == [0.2, 1.0]


def _three_layer_recording(tmp_path, rng, n_pres=150, T=4):
    """A recording of three layers of equal size (18 neurons each), L2 driven by L1."""
    from fclib.io.recordings import RecordingWriter, sample_neurons

    layers = {name: dict(sample_neurons((2, 3, 3)), shape=(2, 3, 3)) for name in ("L1", "L2", "L3")}
    L = n_pres * T
    frames = {"image": np.repeat(np.arange(n_pres) % 7, T),
              "presentation": np.repeat(np.arange(n_pres), T),
              "step": np.tile(np.arange(T), n_pres), "label": np.repeat(np.arange(n_pres) % 2, T)}
    l1 = (rng.random((18, L)) < 0.2).astype(np.uint8)
    l2 = ((l1 | np.roll(l1, 1, axis=0)) & (rng.random((18, L)) < 0.8)).astype(np.uint8)
    l3 = (rng.random((18, L)) < 0.2).astype(np.uint8)
    path = tmp_path / "rec.nc"
    with RecordingWriter(path, layers, frames, {"condition": "original"}, T) as w:
        w.write({"L1": l1, "L2": l2, "L3": l3})
    from fclib.io.recordings import open_recording

    return open_recording(path)


def test_cofiring_refuses_groups_of_another_layer_of_the_same_size(tmp_path):
    rng = np.random.default_rng(11)
    rec = _three_layer_recording(tmp_path, rng)
    g = fg.load_groups(fg.save_groups(fg.one_fc_groups(fc.pair_significance(rec["L1"], rec["L2"])),
                                      tmp_path / "g.nc"))
    assert g.attrs["source_layer"] == "L1" and g.sizes["edge"] > 0
    cof = fr.cofiring(rec["L1"], g)  # the right layer runs
    assert cof.attrs["source_layer"] == "L1"
    fr.response_counts(cof, rec["L2"])
    # every layer has 18 neurons: without the check the wrong one runs silently
    no_attrs = rec["L2"].copy()
    no_attrs.attrs = {}  # the layer coordinate still says L2
    name_only = xr.DataArray(rec["L3"].values, dims=("neuron", "frame"), name="L3")
    for wrong in (rec["L2"], rec["L3"].isel(frame=slice(0, 400)), no_attrs, name_only):
        with pytest.raises(ValueError, match=r"source spikes are layer L[23] .*source layer L1"):
            fr.cofiring(wrong, g)
    with pytest.raises(ValueError, match=r"target spikes are layer L3 .*target layer L2"):
        fr.response_counts(cof, rec["L3"])
    assert [fr.layer_name(x) for x in (rec["L2"], no_attrs, name_only)] == ["L2", "L2", "L3"]
    # unlabelled spikes of the right size cannot be checked, and give the same result
    plain = rec["L1"].values
    np.testing.assert_array_equal(fr.cofiring(plain, g).values, cof.values)
    np.testing.assert_array_equal(
        fr.cofiring(xr.DataArray(plain, dims=("neuron", "frame")), g).values, cof.values)


def test_cofiring_checks_the_neuron_count_of_unlabelled_spikes():
    # pairs over 30 sources, edges only to sources 0..5: 10 unlabelled neurons hold every
    # member, but cannot be the layer the 30-source pairs came from
    z = np.zeros((4, 30))
    z[:, :6] = 9.0
    g = fg.one_fc_groups(_pairs(z, np.full((4, 30), 0.2)).assign_attrs(source_layer="",
                                                                        target_layer=""))
    assert g.attrs["n_source"] == 30
    src = (np.random.default_rng(3).random((10, 50)) < 0.3).astype(np.uint8)
    for spikes in (xr.DataArray(src, dims=("neuron", "frame")), src):
        with pytest.raises(ValueError, match="10 neurons .* 30 active neurons"):
            fr.cofiring(spikes, g)
    full = np.concatenate([src, np.zeros((20, 50), np.uint8)])
    np.testing.assert_array_equal(fr.cofiring(full, g).values, np.tile(src[:6].sum(0), (4, 1)))


@pytest.mark.parametrize("method", ["events", "rows", "dense", "auto"])
def test_cofiring_methods_agree_over_several_target_chunks(method):
    # more targets than one chunk of the rows method (256), busy sources, frame blocks
    # that do not divide the frames: every method gives the dense product exactly
    rng = np.random.default_rng(3)
    n_src, n_tgt, L = 90, 600, 203
    src, ids, g, da = _random_groups(rng, n_src, n_tgt, L, p=0.3)
    cof = fr.cofiring(da, g, method=method, block=50)
    members = [np.searchsorted(ids, fg.members(g, t)) for t in g["neuron"].values]
    np.testing.assert_array_equal(cof.values, cofiring_dense(src, members, n_src))
    assert g["degree"].values.max() > 5 and cof.sizes["neuron"] == n_tgt


def test_cofiring_rows_counts_past_int16():
    # a group of over 32,767 sources counts in int32, by every method
    L, n_src = 6, 33_000
    src = np.zeros((n_src, L), np.uint8)
    src[:, 1] = 1
    src[::2, 4] = 1
    z = np.full((2, n_src), 9.0)
    z[1, 1:] = 0.0
    g = fg.one_fc_groups(_pairs(z, np.full((2, n_src), 0.1)))
    da = xr.DataArray(src, dims=("neuron", "frame"))
    want = np.array([[0, n_src, 0, 0, n_src // 2 + n_src % 2, 0], [0, 1, 0, 0, 1, 0]])
    for method in ("events", "rows", "dense"):
        cof = fr.cofiring(da, g, method=method)
        assert cof.dtype == np.int32, method
        np.testing.assert_array_equal(cof.values, want, err_msg=method)
