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
  on the presentations of the others, so no image is seen in both.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fclib.stats.response import cofiring

__all__ = ["cofiring_features", "rate_features", "image_split", "detect", "compare"]

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
    """
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
    """
    from fclib.stats.information import presentation_counts

    c = presentation_counts(spikes, T).astype(np.float32)
    out = {"rate": c.mean(0) / T}
    for m in range(1, min(T, 4) + 1):
        out[f"ge{m}"] = (c >= m).mean(0)
    return pd.DataFrame({prefix + k: v for k, v in out.items()})


def image_split(images, test_fraction: float = 0.5, rng=None) -> np.ndarray:
    """``True`` for presentations whose image falls in the held-out part (seeded, by image)."""
    from fclib.stats.nulls import _rng

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    images = np.asarray(images)
    uniq = np.unique(images)
    if uniq.size < 2:
        raise ValueError("need presentations of at least two images to hold some out")
    n_test = min(max(1, int(round(test_fraction * uniq.size))), uniq.size - 1)
    held = _rng(rng).choice(uniq, n_test, replace=False)
    return np.isin(images, held)


def detect(clean: pd.DataFrame, adversarial: pd.DataFrame, images, *, test_fraction: float = 0.5,
           n_boot: int = 200, rng=None, C: float = 1.0) -> dict:
    """Train a logistic-regression detector of adversarial presentations; score held-out images.

    Parameters
    ----------
    clean, adversarial : features of the same presentations (rows) under the clean and the
        adversarial condition, same columns.
    images : image index of each presentation (rows), for the split by image.

    Returns a dict: ``auc`` (held-out ROC AUC), ``auc_ci`` (2.5 and 97.5 % of a bootstrap over
    held-out images), ``fpr``, ``tpr`` (the ROC curve), ``coef`` (standardised coefficients as a
    Series), ``n_train``/``n_test`` (presentations per condition), and the held-out ``score``,
    ``y`` and ``image`` of every row (for :func:`compare`).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fclib.stats.nulls import _rng

    if list(clean.columns) != list(adversarial.columns) or len(clean) != len(adversarial):
        raise ValueError("clean and adversarial features must have the same rows and columns")
    images = np.asarray(images)
    if images.shape != (len(clean),):
        raise ValueError(f"images must give one image per presentation ({len(clean)}), "
                         f"got shape {images.shape}")
    gen = _rng(rng)
    test = image_split(images, test_fraction, gen)
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

    Returns ``diff`` and ``ci`` (2.5 and 97.5 %). Detectors from :func:`detect` with the same
    ``images``, ``test_fraction`` and ``rng`` share their held-out rows; others are refused.
    """
    from sklearn.metrics import roc_auc_score

    from fclib.stats.nulls import _rng

    if not (np.array_equal(a["image"], b["image"]) and np.array_equal(a["y"], b["y"])):
        raise ValueError("the detectors were scored on different held-out rows; run detect() "
                         "with the same images, test_fraction and rng")
    gen = _rng(rng)
    y = a["y"]
    ci = _image_bootstrap(lambda idx: roc_auc_score(y[idx], a["score"][idx])
                          - roc_auc_score(y[idx], b["score"][idx]), y, a["image"], n_boot, gen)
    return dict(diff=float(a["auc"] - b["auc"]), ci=ci)


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
