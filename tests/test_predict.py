import numpy as np
import pandas as pd
import pytest
import xarray as xr

from fclib.stats import groups as fg
from fclib.stats import predict as fp


def _group(rng, L=3000, N=12, rule="count"):
    X = (rng.random((L, N)) < 0.3).astype(np.uint8)
    if rule == "count":  # fires with a probability set by how many members fire, never by which
        k = X.sum(1).astype(int)
        y = rng.random(L) < np.clip((k - 3) / 6, 0, 1)
    else:  # fires exactly when members 0 and 1 fire together, whatever the others do
        y = (X[:, 0] & X[:, 1]).astype(bool)
    return X, y.astype(np.uint8)


def test_identity_adds_nothing_when_only_the_count_matters():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        X, y = _group(rng)
        for name, r in fp.identity_vs_aggregate(X, y, rng=i).items():
            rows.append({"neuron": i, "classifier": name, **r})
    diff = fp.paired_difference(pd.DataFrame(rows))
    assert set(diff["classifier"]) == set(fp.CLASSIFIERS)
    assert np.all(diff["aggregate"] > 0.7)
    # no classifier gains more than 2 points of balanced accuracy from identities
    assert np.all(diff["difference"] < 0.02), diff


def test_identity_wins_when_identity_matters():
    rng = np.random.default_rng(1)
    X, y = _group(rng, rule="identity")
    res = fp.identity_vs_aggregate(X, y, classifiers=("LogisticRegression", "RandomForest"))
    for r in res.values():
        assert r["identity"] > r["aggregate"] + 0.1


def test_paired_difference_interval():
    t = pd.DataFrame({"neuron": range(4), "classifier": "A", "aggregate": [0.6, 0.7, 0.8, 0.9],
                      "identity": [0.61, 0.72, 0.79, 0.92]})
    d = fp.paired_difference(t).iloc[0]
    assert d["difference"] == pytest.approx(0.01) and d["neurons"] == 4
    assert d["ci_low"] < 0.01 < d["ci_high"]


def test_compare_neurons_on_a_layer_pair():
    rng = np.random.default_rng(2)
    L = 2000
    src = (rng.random((10, L)) < 0.3).astype(np.uint8)
    tgt = np.stack([(src[:4].sum(0) >= 2), (src[5:8].sum(0) >= 2)]).astype(np.uint8)
    g = fg.one_fc_groups(xr.Dataset({"z": (("target", "source"), np.where(np.arange(10) < 4, 9.0, 0)[None].repeat(2, 0)),
                                     "sttc": (("target", "source"), np.full((2, 10), 0.2))}))
    table = fp.compare_neurons(xr.DataArray(src, dims=("neuron", "frame")),
                               xr.DataArray(tgt, dims=("neuron", "frame")), g, [0, 1],
                               max_frames=1500, classifiers=("GaussianNB",), rng=0)
    assert table["neuron"].tolist() == [0, 1] and table["degree"].tolist() == [4, 4]
    assert table.loc[0, "aggregate"] > 0.95
    with pytest.raises(ValueError, match="unknown classifier"):
        fp.identity_vs_aggregate(src[:4].T, tgt[0], classifiers=("SVM",))


def _pair(rng, L=600):
    src = (rng.random((10, L)) < 0.3).astype(np.uint8)
    tgt = np.stack([(src[:4].sum(0) >= 2), (src[5:8].sum(0) >= 2)]).astype(np.uint8)
    z = np.where(np.arange(10) < 4, 9.0, 0)[None].repeat(2, 0)
    g = fg.one_fc_groups(xr.Dataset({"z": (("target", "source"), z),
                                     "sttc": (("target", "source"), np.full((2, 10), 0.2))},
                                    attrs=dict(source_layer="L1", target_layer="L2")))
    image = ("frame", np.arange(L) // 4)
    return (xr.DataArray(src, dims=("neuron", "frame"), coords={"image": image}, name="L1"),
            xr.DataArray(tgt, dims=("neuron", "frame"), coords={"image": image}, name="L2"), g)


def test_compare_neurons_refuses_frames_or_layers_that_do_not_match():
    rng = np.random.default_rng(4)
    src, tgt, g = _pair(rng)
    kw = dict(max_frames=300, classifiers=("GaussianNB",), rng=0)
    assert len(fp.compare_neurons(src, tgt, g, [0, 1], **kw)) == 2
    longer = xr.concat([tgt, tgt.isel(frame=slice(0, 100))], "frame")  # 700 frames of another run
    with pytest.raises(ValueError, match="600 frames against 700"):
        fp.compare_neurons(src, longer, g, [0, 1], **kw)
    with pytest.raises(ValueError, match="600 frames against 500"):
        fp.compare_neurons(src, tgt.isel(frame=slice(0, 500)), g, [0, 1], **kw)
    shuffled = tgt.assign_coords(image=("frame", rng.permutation(tgt["image"].values)))
    with pytest.raises(ValueError, match="'image' differs"):
        fp.compare_neurons(src, shuffled, g, [0, 1], **kw)
    with pytest.raises(ValueError, match="source spikes are layer L2"):
        fp.compare_neurons(tgt.rename("L2"), tgt, g, [0, 1], **kw)
    with pytest.raises(ValueError, match="target spikes are layer L3"):
        fp.compare_neurons(src, tgt.rename("L3"), g, [0, 1], **kw)


def test_non_binary_targets_are_refused():
    rng = np.random.default_rng(5)
    X, y = _group(rng, L=300)
    half = y.astype(float)
    half[:10] = 0.5  # a cast to int would silently make these 0
    with pytest.raises(ValueError, match=r"0/1 .*found values \[0\.5\]"):
        fp.identity_vs_aggregate(X, half, classifiers=("GaussianNB",))
    with pytest.raises(ValueError, match=r"0/1 .*found values \[2\]"):
        fp.identity_vs_aggregate(X, y * 2, classifiers=("GaussianNB",))
    a = fp.identity_vs_aggregate(X, y.astype(float), classifiers=("GaussianNB",))
    b = fp.identity_vs_aggregate(X, y.astype(bool), classifiers=("GaussianNB",))
    assert a == b == fp.identity_vs_aggregate(X, y, classifiers=("GaussianNB",))
