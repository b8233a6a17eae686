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
        for name, r in fp.identity_vs_aggregate(X, y, seed=i).items():
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
