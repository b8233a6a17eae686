"""Does the identity of co-firing members matter, or only their number? (paper §4, §A.6, Fig. A9)

For a target neuron and its 1FC group, predict frame by frame whether the target fires from

- (a) the *aggregate*: how many members fire (one feature), or
- (b) the *identities*: which members fire (one 0/1 feature per member),

with several classifiers, cross-validated, scored by balanced accuracy (the mean of the
hit rates on firing and silent frames, so the rarity of firing does not inflate it; chance is
0.5). If identities carried information beyond the count, (b) would beat (a).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from fclib._util import seed_of
from fclib.stats._checks import check_table
from fclib.stats._frames import take_frames

__all__ = ["CLASSIFIERS", "identity_vs_aggregate", "compare_neurons", "paired_difference"]

CLASSIFIERS = ("LinearSVC", "LogisticRegression", "RandomForest", "GaussianNB")


def _make(name: str, rng):
    """A fresh classifier ``name``; ``rng`` (an int seed, or a Generator that draws one:
    :func:`fclib._util.seed_of`) is the random forest's ``random_state``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    if name == "LinearSVC":  # features standardised: the penalty then treats them alike
        return make_pipeline(StandardScaler(), LinearSVC(class_weight="balanced", C=0.01,
                                                         dual=False, max_iter=5000))
    if name == "LogisticRegression":
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", C=0.1,
                                                                  max_iter=1000))
    if name == "RandomForest":
        return RandomForestClassifier(n_estimators=40, max_depth=8, class_weight="balanced",
                                      random_state=seed_of(rng), n_jobs=1)
    if name == "GaussianNB":
        return GaussianNB(priors=[0.5, 0.5])
    raise ValueError(f"unknown classifier {name!r}; choose from {CLASSIFIERS}")


def _binary(target) -> np.ndarray:
    """``target`` as int64 0/1 labels; refuses anything else (a cast would turn 0.5 into 0)."""
    y = np.asarray(target)
    if y.dtype == bool:
        return y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"target must be 0/1 (fires or not), got dtype {y.dtype}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(f"target must be 0/1 (fires or not); found values "
                         f"{np.unique(y[bad])[:5].tolist()}")
    return y.astype(np.int64)


def identity_vs_aggregate(members, target, classifiers=CLASSIFIERS, n_splits: int = 3,
                          rng=0) -> dict[str, dict[str, float]]:
    """Cross-validated balanced accuracy of predicting ``target`` from the aggregate and
    from the identities of ``members``.

    Parameters
    ----------
    members : array_like
        ``(frames, members)`` 0/1: which group members fire in each frame.
    target : array_like
        ``(frames,)`` 0/1: whether the target fires (integer, boolean, or floats that are
        exactly 0 or 1).
    classifiers : sequence of str
        Names of :data:`CLASSIFIERS`.
    n_splits : int
        Stratified folds; both feature sets use the same folds.
    rng : numpy.random.Generator or int
        The folds' shuffle and the random forest's seed (:func:`fclib._util.seed_of`).

    Returns
    -------
    dict
        ``{classifier: {"aggregate": score, "identity": score}}``.

    Raises
    ------
    TypeError
        A ragged or object ``members`` array.
    ValueError
        Values other than 0/1, shapes that do not match, a target that fires or stays
        silent in fewer than ``n_splits`` frames, or an unknown classifier."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold

    from fclib.stats.response import check_spike_values

    X = np.asarray(members)
    if X.dtype == object:
        raise TypeError("members must be a (frames, members) 0/1 array, got a ragged/object array")
    check_spike_values(X, "members")
    X = X.astype(np.float32)
    y = _binary(target)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"members must be (frames, members) and target (frames,); got "
                         f"{X.shape} and {y.shape}")
    if np.bincount(y, minlength=2).min() < n_splits:
        raise ValueError(f"the target must fire and stay silent in at least {n_splits} frames each")
    seed = seed_of(rng)
    feats = {"aggregate": X.sum(1, keepdims=True), "identity": X}
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y))
    out = {}
    for name in classifiers:
        out[name] = {}
        for kind, F in feats.items():
            scores = []
            for tr, te in folds:
                clf = _make(name, seed).fit(F[tr], y[tr])
                scores.append(balanced_accuracy_score(y[te], clf.predict(F[te])))
            out[name][kind] = float(np.mean(scores))
    return out


def compare_neurons(source: xr.DataArray, target: xr.DataArray, groups: xr.Dataset, neurons,
                    max_frames: int = 4000, classifiers=CLASSIFIERS, n_splits: int = 3,
                    rng=None, n_jobs: int = 1, progress: bool = False) -> pd.DataFrame:
    """:func:`identity_vs_aggregate` for several target neurons of one layer pair.

    ``max_frames`` frames are drawn at random and shared by all neurons. Neurons with an
    empty group, or that fire or stay silent in fewer than ``n_splits`` of the frames, are
    skipped.

    Parameters
    ----------
    source, target : xarray.DataArray
        The layers the groups were computed on (see
        :func:`fclib.stats.response.check_layer`), holding the same frames.
    groups : xarray.Dataset
        The layer pair's 1FC groups.
    neurons : iterable of int
        Target neuron ids.
    max_frames : int
        Frames drawn.
    classifiers, n_splits : as :func:`identity_vs_aggregate`.
    rng : numpy.random.Generator or int, optional
        The frames' draw and each neuron's folds.
    n_jobs : int
        Processes the neurons are spread over.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Long: ``neuron``, ``degree``, ``classifier``, ``aggregate``, ``identity``."""
    from joblib import Parallel, delayed
    from fclib._util import progress_bar

    from fclib.stats.groups import members
    from fclib._util import as_generator as _rng
    from fclib.stats.response import (as_layer, check_groups, check_layer, check_same_frames,
                                      neuron_rows)

    source, target = as_layer(source, "source"), as_layer(target, "target")
    check_same_frames(source, target, "compare_neurons")
    check_layer(source, check_groups(groups).attrs, "source")
    check_layer(target, groups.attrs, "target")
    gen = _rng(rng)
    L = source.sizes["frame"]
    frames = np.sort(gen.choice(L, min(max_frames, L), replace=False))
    src = np.asarray(take_frames(source, frames).values)
    tgt = take_frames(target, frames)
    jobs = []
    for nid in progress_bar(list(neurons), desc="identity vs aggregate", progress=progress):
        m = members(groups, int(nid))
        y = _binary(tgt.isel(neuron=neuron_rows(target, np.array([nid]), "target")).values[0])
        if m.size == 0 or np.bincount(y, minlength=2).min() < n_splits:
            continue
        X = src[neuron_rows(source, m, "source")].T
        jobs.append((int(nid), int(m.size), X, y, int(gen.integers(2**31))))
    results = Parallel(n_jobs=n_jobs)(
        delayed(identity_vs_aggregate)(X, y, classifiers, n_splits, seed) for _, _, X, y, seed in jobs)
    rows = [{"neuron": nid, "degree": deg, "classifier": name, **r}
            for (nid, deg, *_), res in zip(jobs, results) for name, r in res.items()]
    return pd.DataFrame(rows, columns=["neuron", "degree", "classifier", "aggregate", "identity"])


def paired_difference(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``identity - aggregate`` across neurons with a t confidence interval, per
    classifier (and per any other grouping columns besides the scores).

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`compare_neurons` table.
    confidence : float
        Level of the interval.

    Returns
    -------
    pandas.DataFrame
        Per group: ``neurons``, mean ``aggregate`` and ``identity``, ``difference``,
        ``ci_low``, ``ci_high``."""
    check_table(table, ["identity", "aggregate"], "table", "compare_neurons()")
    keys = [c for c in table.columns if c not in ("neuron", "degree", "aggregate", "identity")]
    rows = []
    for key, d in table.groupby(keys, observed=True):
        diff = (d["identity"] - d["aggregate"]).to_numpy()
        n = diff.size
        m = diff.mean() if n else np.nan
        half = (stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
                if n > 1 else np.nan)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "neurons": n,
                     "aggregate": d["aggregate"].mean(), "identity": d["identity"].mean(),
                     "difference": m, "ci_low": m - half, "ci_high": m + half})
    return pd.DataFrame(rows)
