"""Detecting adversarial inputs from co-firing statistics (paper §4 "Diagnostics").

The paper identifies 1FC groups on *training* images, records clean and FGSM-perturbed test
images, and trains a logistic regression on the groups' co-firing statistics to tell the
two apart. This module gives per-presentation features and the detector:

- :func:`cofiring_features`: for each layer pair, statistics over target neurons of the
  normalised co-firing ``k / N`` of their groups in one presentation (``T`` frames);
- :func:`rate_features`: the same number of statistics of plain spike counts per layer — the
  baseline the ensembles must beat to add anything;
- :func:`detect`: a standardised logistic regression trained on the presentations of one
  part of the held-out images and scored (ROC, AUC with a bootstrap interval over images)
  on the presentations of the others, so no image is seen in both. ``holdout`` is the
  detector's share of images kept for scoring (not the training split's ``test_fraction``);
- :func:`feature_sets` builds the co-firing, firing-rate and combined features of a
  recording, :func:`group_overlap` compares two sets of 1FC groups, and :func:`auc_table`
  tabulates detectors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib.io.populations import LayerPair
from fclib.stats._frames import take_frames
from fclib.stats.response import as_layer, check_presentations, cofiring
from fclib.stats._checks import check_groups, check_mapping

__all__ = ["cofiring_features", "rate_features", "feature_sets", "group_overlap", "image_split",
           "detect", "compare", "auc_table"]

_LEVELS = (0.25, 0.5)  # k / N levels whose exceedance is counted (strong co-firing)


def _per_presentation(x: np.ndarray, T: int) -> np.ndarray:
    n, L = x.shape
    if L % T:
        raise ValueError(f"{L} frames is not a whole number of presentations of T={T} steps")
    return x.reshape(n, L // T, T)


def cofiring_features(source: xr.DataArray, groups: xr.Dataset, T: int,
                      prefix: str = "") -> pd.DataFrame:
    """Co-firing statistics of one layer pair in every presentation.

    With ``f = k / N`` the fraction of a target's group firing in a frame (targets with an
    empty group are left out), the columns are, per presentation: the mean of ``f`` over
    targets and steps (``mean``), the median and 90th percentile over targets of their
    step-averaged ``f`` (``q50``, ``q90``), and the share of (target, step) with
    ``f >= 0.25`` and ``f >= 0.5`` (``ge0.25``, ``ge0.5``). Column names get ``prefix``.

    Parameters
    ----------
    source : xarray.DataArray
        The source layer ``(neuron, frame)`` the groups were computed on.
    groups : xarray.Dataset
        The layer pair's 1FC groups (:func:`fclib.stats.groups.one_fc_groups`).
    T : int
        Frames per presentation.
    prefix : str
        Prepended to every column name.

    Returns
    -------
    pandas.DataFrame
        One row per presentation, five columns.

    Raises
    ------
    ValueError
        No target has a non-empty group."""
    source = as_layer(source, "source")
    T = check_presentations(source, T, "source")
    cof = cofiring(source, groups)
    deg = cof["degree"].values
    keep = deg > 0
    if not keep.any():
        raise ValueError(f"no target of {prefix or 'this layer pair'} has a 1FC group; "
                         "there is nothing to build co-firing features from")
    f = cof.values[keep].astype(np.float32) / deg[keep, None].astype(np.float32)
    f = _per_presentation(f, T)                     # (target, presentation, step)
    per_target = f.mean(2)                          # (target, presentation)
    out = {"mean": per_target.mean(0),
           "q50": np.quantile(per_target, 0.5, axis=0),
           "q90": np.quantile(per_target, 0.9, axis=0)}
    for lv in _LEVELS:
        out[f"ge{lv:g}"] = (f >= lv).mean((0, 2))
    return pd.DataFrame({prefix + k: v for k, v in out.items()})


def rate_features(spikes: xr.DataArray, T: int, prefix: str = "") -> pd.DataFrame:
    """Spike-count statistics of one layer in every presentation (the baseline).

    With ``c`` a neuron's spike count in the presentation (0..T): the mean of ``c / T`` over
    neurons (``rate``) and the share of neurons with ``c >= 1``, ``>= 2``, ``>= 3``, ``>= 4``
    (fewer for smaller ``T``): five statistics, as many as :func:`cofiring_features` gives.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)``.
    T : int
        Frames per presentation.
    prefix : str
        Prepended to every column name.

    Returns
    -------
    pandas.DataFrame
        One row per presentation, five columns."""
    from fclib.stats.information import presentation_counts

    spikes = as_layer(spikes)
    T = check_presentations(spikes, T)
    c = presentation_counts(spikes, T).astype(np.float32)
    out = {"rate": c.mean(0) / T}
    for m in range(1, min(T, 4) + 1):
        out[f"ge{m}"] = (c >= m).mean(0)
    return pd.DataFrame({prefix + k: v for k, v in out.items()})


def image_split(images, holdout: float = 0.5, rng=None) -> np.ndarray:
    """``True`` for presentations whose image falls in the held-out part (seeded, by image).

    Parameters
    ----------
    images : array_like
        The image index of every presentation.
    holdout : float
        Share of distinct images held out, in (0, 1) (rounded, at least one image on each
        side).
    rng : numpy.random.Generator or int, optional
        Which images are held out (:func:`fclib._util.as_generator`).

    Returns
    -------
    ndarray
        bool, one per presentation.

    Raises
    ------
    ValueError
        ``holdout`` outside (0, 1), or fewer than two distinct images."""
    from fclib._util import as_generator as _rng

    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be between 0 and 1 (a share of the images), got {holdout}")
    images = np.asarray(images)
    uniq = np.unique(images)
    if uniq.size < 2:
        raise ValueError("need presentations of at least two images to hold some out")
    n_test = min(max(1, int(round(holdout * uniq.size))), uniq.size - 1)
    held = _rng(rng).choice(uniq, n_test, replace=False)
    return np.isin(images, held)


def detect(clean: pd.DataFrame, adversarial: pd.DataFrame, images, *, holdout: float = 0.5,
           n_boot: int = 200, rng=None, C: float = 1.0) -> dict:
    """Train a logistic-regression detector of adversarial presentations; score held-out images.

    Parameters
    ----------
    clean, adversarial : pandas.DataFrame
        Features of the same presentations (rows) under the clean and the adversarial
        condition, same columns.
    images : array_like
        Image index of each presentation (rows), for the split by image.
    holdout : float
        Share of the images whose presentations are held out to score the detector
        (:func:`image_split`); the others train it.
    n_boot : int
        Bootstrap resamples of held-out images for the AUC interval.
    rng : numpy.random.Generator or int, optional
        Seed or Generator for the split and the bootstrap.
    C : float
        Inverse regularisation strength of the logistic regression.

    Returns
    -------
    dict
        ``auc`` (held-out ROC AUC), ``auc_ci`` (2.5 and 97.5 % of a bootstrap over held-out
        images), ``fpr``, ``tpr`` (the ROC curve), ``coef`` (standardised coefficients as a
        Series), ``n_train``/``n_test`` (presentations per condition), and the held-out
        ``score``, ``y`` and ``image`` of every row (for :func:`compare`).

    Raises
    ------
    ValueError
        Feature tables of different rows or columns, non-finite features, or ``images`` not
        one per presentation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fclib._util import as_generator as _rng

    if list(clean.columns) != list(adversarial.columns) or len(clean) != len(adversarial):
        raise ValueError("clean and adversarial features must have the same rows and columns")
    images = np.asarray(images)
    if images.shape != (len(clean),):
        raise ValueError(f"images must give one image per presentation ({len(clean)}), "
                         f"got shape {images.shape}")
    gen = _rng(rng)
    test = image_split(images, holdout, gen)
    X = np.concatenate([clean.to_numpy(np.float64), adversarial.to_numpy(np.float64)])
    y = np.r_[np.zeros(len(clean)), np.ones(len(adversarial))]
    img = np.r_[images, images]
    t = np.r_[test, test]
    if not np.isfinite(X).all():
        raise ValueError("features hold NaN or infinite values")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    model.fit(X[~t], y[~t])
    score = model.decision_function(X[t])
    yt, it = y[t], img[t]
    fpr, tpr, _ = roc_curve(yt, score)
    auc = float(roc_auc_score(yt, score))
    ci = _image_bootstrap(lambda idx: roc_auc_score(yt[idx], score[idx]), yt, it, n_boot, gen)
    coef = pd.Series(model[-1].coef_[0], index=clean.columns)
    return dict(auc=auc, auc_ci=ci, fpr=fpr, tpr=tpr, coef=coef,
                n_train=int((~test).sum()), n_test=int(test.sum()), score=score, y=yt, image=it)


def compare(a: dict, b: dict, n_boot: int = 1000, rng=None) -> dict:
    """AUC of detector ``a`` minus that of ``b`` on the same held-out rows, with a paired
    bootstrap over held-out images (both detectors resampled together).

    Parameters
    ----------
    a, b : dict
        :func:`detect` results with the same ``images``, ``holdout`` and ``rng`` (so they
        share their held-out rows).
    n_boot : int
        Bootstrap resamples.
    rng : numpy.random.Generator or int, optional
        The bootstrap's draws.

    Returns
    -------
    dict
        ``diff`` and ``ci`` (2.5 and 97.5 %).

    Raises
    ------
    ValueError
        The detectors were scored on different held-out rows."""
    from sklearn.metrics import roc_auc_score

    from fclib._util import as_generator as _rng

    if not (np.array_equal(a["image"], b["image"]) and np.array_equal(a["y"], b["y"])):
        raise ValueError("the detectors were scored on different held-out rows; run detect() "
                         "with the same images, holdout and rng")
    gen = _rng(rng)
    y = a["y"]
    ci = _image_bootstrap(lambda idx: roc_auc_score(y[idx], a["score"][idx])
                          - roc_auc_score(y[idx], b["score"][idx]), y, a["image"], n_boot, gen)
    return dict(diff=float(a["auc"] - b["auc"]), ci=ci)


def auc_table(results: dict) -> pd.DataFrame:
    """One row per detector.

    Parameters
    ----------
    results : dict
        ``{name: detect(...) result}``.

    Returns
    -------
    pandas.DataFrame
        ``AUC``, ``CI low``, ``CI high``, ``features``, ``train presentations``, ``test
        presentations``, indexed by name."""
    check_mapping(results, "results", "{name: detect() result}")
    return pd.DataFrame({name: {"AUC": d["auc"], "CI low": d["auc_ci"][0], "CI high": d["auc_ci"][1],
                                "features": d["coef"].size, "train presentations": d["n_train"],
                                "test presentations": d["n_test"]}
                         for name, d in results.items()}).T


def feature_sets(recording, groups: dict, T: int, frames=None) -> dict:
    """The detector's three feature sets of one recording, one row per presentation.

    Parameters
    ----------
    recording : Mapping
        Layer name to spikes ``(neuron, frame)`` (a :class:`fclib.io.recordings.Recording`).
    groups : dict
        ``{"L14→L15": 1FC groups}``; every pair needs at least one non-empty group.
    T : int
        Frames per presentation.
    frames : array_like, optional
        Frame indices to keep (whole presentations); ``None``: all.

    Returns
    -------
    dict
        ``co-firing`` (:func:`cofiring_features` of every pair, columns prefixed with the
        pair), ``firing rates`` (:func:`rate_features` of every layer of those pairs,
        prefixed with the layer), ``both`` (the two side by side) and ``images`` (the image
        of every presentation).

    Raises
    ------
    ValueError
        No layer pairs given."""
    if not groups:
        raise ValueError("no layer pairs given to build features from")
    sub = (lambda da: da) if frames is None else (lambda da: take_frames(da, np.asarray(frames)))
    layers = sorted({l for k in groups for l in LayerPair.parse(k)}, key=lambda l: int(l[1:]))
    cof = pd.concat([cofiring_features(sub(recording[LayerPair.parse(k).source]), g, T,
                                       prefix=f"{k} ")
                     for k, g in groups.items()], axis=1)
    rate = pd.concat([rate_features(sub(recording[l]), T, prefix=f"{l} ") for l in layers], axis=1)
    images = np.asarray(sub(recording[layers[0]])["image"].values)[::T]
    return {"co-firing": cof, "firing rates": rate, "both": pd.concat([cof, rate], axis=1),
            "images": images}


def group_overlap(a: xr.Dataset, b: xr.Dataset) -> dict:
    """How far two sets of 1FC groups of one layer pair agree (e.g. from training and from
    test images), as edge sets of (target, source) neuron ids.

    Parameters
    ----------
    a, b : xarray.Dataset
        Two group tables of the same layer pair.

    Returns
    -------
    dict
        ``edges (a)``, ``edges (b)``, ``shared``, ``Jaccard`` (``|a & b| / |a | b|``, 0 when
        both are empty) and ``median group size (a)`` (over all of ``a``'s targets, empty
        groups included)."""
    check_groups(a, "a")
    check_groups(b, "b")
    ea = set(zip(a["target"].values.tolist(), a["source"].values.tolist()))
    eb = set(zip(b["target"].values.tolist(), b["source"].values.tolist()))
    deg = np.asarray(a["degree"].values)
    return {"edges (a)": len(ea), "edges (b)": len(eb), "shared": len(ea & eb),
            "Jaccard": len(ea & eb) / max(len(ea | eb), 1),
            "median group size (a)": float(np.median(deg)) if deg.size else 0.0}


def _image_bootstrap(stat, y, images, n_boot, gen) -> tuple[float, float]:
    """2.5 and 97.5 % of ``stat(rows)`` over resamples of whole images with replacement
    (resamples holding a single class are skipped)."""
    held = np.unique(images)
    rows = {i: np.flatnonzero(images == i) for i in held}
    vals = []
    for _ in range(n_boot):
        idx = np.concatenate([rows[i] for i in gen.choice(held, held.size, replace=True)])
        if np.unique(y[idx]).size == 2:
            vals.append(stat(idx))
    if not vals:
        return (np.nan, np.nan)
    lo, hi = np.quantile(vals, [0.025, 0.975])
    return (float(lo), float(hi))
