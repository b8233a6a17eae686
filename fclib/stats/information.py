"""How informative a neuron is about the presented class (paper §3, §A.4).

A neuron's response to one presentation is its spike count over the ``T`` frames of that
presentation (0..T). Mutual information between that count X and the class label Y,

    I(X; Y) = sum_{x, y} p(x, y) log2( p(x, y) / (p(x) p(y)) )   [bits],

is estimated by plug-in from the joint histogram over presentations. The plug-in estimate is
biased upward (by about ``(|X| - 1)(|Y| - 1) / (2 n ln 2)`` bits for n presentations), so
:func:`information` also reports the mean MI of label-shuffled data and the difference,
``mi_corrected``. The class-wise profile is the MI between X and each one-hot indicator
``[Y == c]``; the preferred class is the class with the highest mean count.

The joint histograms and MI have a torch twin (``backend="torch"``: one ``bincount`` per
block of neurons on a torch device, MI in float64 there); ``"auto"`` takes it where a CUDA
device exists. Both give the same histograms exactly and the same MI within rounding.
"""
from __future__ import annotations

import numba as nb
import numpy as np
import xarray as xr

from fclib.stats.sttc import as_trains, check_int, resolve_backend
from fclib.stats._checks import check_numbers

__all__ = ["presentation_counts", "presentation_labels", "joint_histogram", "mutual_information",
           "shuffled_mutual_information", "class_profile", "information", "preferred_class",
           "hubs", "frames_of_classes"]


def frames_of_classes(labels, classes) -> np.ndarray:
    """Indices of the frames whose label is one of ``classes`` (e.g. the classes an attack
    targeted), sorted.

    Parameters
    ----------
    labels : (frame,) class label of every frame.
    classes : the classes to keep.

    Returns
    -------
    (n,) int64 frame indices.

    Raises
    ------
    ValueError
        ``labels`` that are not integer class indices."""
    lab = check_numbers(labels, "labels")
    if np.any(lab != np.round(lab)):
        raise ValueError(f"labels must be integer class indices; found {lab[lab != np.round(lab)][:5].tolist()}")
    return np.flatnonzero(np.isin(np.asarray(labels), np.asarray(classes)))


def presentation_counts(spikes: xr.DataArray, T: int) -> np.ndarray:
    """Spike count of every neuron in every presentation, ``(neuron, presentation)``.

    Returned in the smallest unsigned type that holds ``T`` (uint8 up to T = 255), so no
    count wraps around however long a presentation is.

    Parameters
    ----------
    spikes : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)``, frames in presentation order.
    T : int
        Frames per presentation.

    Returns
    -------
    ndarray
        Unsigned ``(neuron, presentation)`` counts in ``0..T``.

    Raises
    ------
    ValueError
        A frame count that is not a multiple of ``T``."""
    x = as_trains(spikes.load() if isinstance(spikes, xr.DataArray) else spikes)
    n, L = x.shape
    T = check_int(T, "T", 1, " (frames per presentation)")
    if L % T:
        raise ValueError(f"{L} frames is not a whole number of presentations of T={T} steps")
    out = np.empty((n, L // T), dtype=np.min_scalar_type(int(T)))
    _presentation_counts(x, int(T), out)
    return out


@nb.njit(parallel=True, cache=True)
def _presentation_counts(x, T, out):
    """``out[i, p] = sum of x[i, p*T:(p+1)*T]`` (summed in int64; a sum fits ``out``'s type)."""
    n, P = out.shape
    for i in nb.prange(n):
        for p in range(P):
            s = 0
            for k in range(p * T, (p + 1) * T):
                s += x[i, k]
            out[i, p] = s


def presentation_labels(spikes: xr.DataArray, T: int) -> np.ndarray:
    """The class label of every presentation, from the ``label`` frame coordinate.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)`` with a ``label`` coordinate on ``frame``.
    T : int
        Frames per presentation.

    Returns
    -------
    ndarray
        int64, one label per presentation.

    Raises
    ------
    ValueError
        No ``label`` coordinate, a frame count that is not a multiple of ``T``, or a label
        that changes inside a presentation."""
    if "label" not in spikes.coords:
        raise ValueError("spikes need a 'label' coordinate on 'frame' (as recordings have)")
    T = check_int(T, "T", 1, " (frames per presentation)")
    lab = np.asarray(spikes["label"].values)
    if lab.size % T:
        raise ValueError(f"{lab.size} frames is not a whole number of presentations of T={T} steps")
    lab = lab.reshape(-1, T)
    if np.any(lab != lab[:, :1]):
        raise ValueError("the label changes inside a presentation: frames are not in "
                         "presentation order")
    return _class_indices(lab[:, 0], "label coordinate")


def _class_indices(labels, what: str = "labels") -> np.ndarray:
    """``labels`` as int64 class indices; refuses values that are not whole numbers."""
    lab = np.asarray(labels)
    if lab.dtype == bool or np.issubdtype(lab.dtype, np.integer):
        return lab.astype(np.int64)
    if not np.issubdtype(lab.dtype, np.floating):
        raise ValueError(f"{what} must be integer class indices, got dtype {lab.dtype}")
    bad = ~np.isfinite(lab) | (lab != np.round(lab))
    if bad.any():
        raise ValueError(f"{what} must be integer class indices; found "
                         f"{np.unique(lab[bad])[:5].tolist()}")
    return lab.astype(np.int64)


def joint_histogram(counts, labels, n_classes: int, *, backend: str = "auto",
                    device=None) -> np.ndarray:
    """Joint histogram of every neuron's count and the label, ``(neuron, count, class)`` int64
    with ``count = 0..max(counts)`` and ``class = 0..n_classes-1``.

    Checks what the kernel would index with: every label must lie in ``[0, n_classes)`` and
    every count be non-negative.

    Parameters
    ----------
    counts : array_like
        ``(neuron, presentation)`` non-negative whole counts.
    labels : array_like
        ``(presentation,)`` class indices.
    n_classes : int
        Number of classes.
    backend : str
        ``"numba"``, ``"torch"`` (on ``device``) or ``"auto"`` (torch where a CUDA device
        exists); the same histogram.
    device : str or torch.device, optional
        The torch backend's device.

    Returns
    -------
    ndarray
        int64 ``(neuron, count, class)``.

    Raises
    ------
    ValueError
        Shapes that do not match, negative or fractional counts, or a label outside
        ``[0, n_classes)``."""
    backend, dev = resolve_backend(backend, device)
    n_classes = check_int(n_classes, "n_classes", 1)
    counts = np.asarray(counts)
    labels = np.asarray(labels, dtype=np.int64)
    C = int(n_classes)
    if counts.ndim != 2 or labels.shape != (counts.shape[1],):
        raise ValueError(f"counts must be (neuron, presentation) with one label per presentation; "
                         f"got counts {counts.shape}, labels {labels.shape}")
    bad = (labels < 0) | (labels >= C)
    if bad.any():
        raise ValueError(f"labels must be class indices 0..{C - 1} (n_classes={C}); found "
                         f"{np.unique(labels[bad])[:5].tolist()}; pass n_classes covering "
                         "every label")
    if counts.size and counts.min() < 0:
        raise ValueError(f"counts must be non-negative; found {counts.min()}")
    if np.issubdtype(counts.dtype, np.floating) and (np.isnan(counts).any()
                                                    or (counts != np.round(counts)).any()):
        raise ValueError("counts must be whole spike counts; found NaN or fractions")
    K = int(counts.max(initial=0)) + 1
    if backend == "torch" or counts.dtype.kind not in "iu":
        # (no copy where information() already made them int64 for torch); the numba
        # kernel reads any integer type as it is
        counts = counts.astype(np.int64, copy=False)
    return _joint_on(counts, labels, K, C, backend, dev)


def _joint_on(counts, labels, K, C, backend, dev):
    """:func:`_joint` on the resolved backend."""
    if backend == "torch":
        from fclib.stats import _torch

        return _torch.joint_histogram(counts, labels, K, C, dev)
    return _joint(counts, labels, K, C)


def _mi_on(joint, backend, dev):
    if backend == "torch":
        from fclib.stats import _torch

        return _torch.mi_from_joint(joint, dev)
    return _mi_from_joint(joint)


@nb.njit(parallel=True, cache=True)
def _joint(counts, labels, K, C):
    """Unchecked kernel of :func:`joint_histogram`: counts in [0, K), labels in [0, C)."""
    n, P = counts.shape
    out = np.zeros((n, K, C), dtype=np.int64)
    for i in nb.prange(n):
        for p in range(P):
            out[i, counts[i, p], labels[p]] += 1
    return out


def _mi_from_joint(joint: np.ndarray) -> np.ndarray:
    """Plug-in MI in bits of every (..., K, C) joint histogram."""
    tot = joint.sum((-2, -1), keepdims=True).astype(float)
    pxy = joint / np.maximum(tot, 1)
    px = pxy.sum(-1, keepdims=True)
    py = pxy.sum(-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(pxy > 0, pxy * np.log2(pxy / (px * py)), 0.0)
    return term.sum((-2, -1))


def _n_classes(labels: np.ndarray, n_classes: int | None) -> int:
    return int(n_classes if n_classes is not None else labels.max(initial=-1) + 1)


def mutual_information(counts, labels, n_classes: int | None = None, *, backend: str = "auto",
                       device=None) -> np.ndarray:
    """Plug-in MI (bits) between each neuron's count and the label.

    Parameters
    ----------
    counts : array_like
        ``(neuron, presentation)`` non-negative whole counts.
    labels : array_like
        One class index per presentation, each ``< n_classes``.
    n_classes : int, optional
        Number of classes (default ``max(labels) + 1``).
    backend, device : as :func:`joint_histogram`.

    Returns
    -------
    ndarray
        float64 ``(neuron,)``, bits."""
    backend, dev = resolve_backend(backend, device)
    labels = _class_indices(labels)
    joint = joint_histogram(counts, labels, _n_classes(labels, n_classes), backend=backend,
                            device=dev)
    return _mi_on(joint, backend, dev)


def shuffled_mutual_information(counts, labels, n_classes: int | None = None,
                                n_shuffles: int = 10, rng=None, *, backend: str = "auto",
                                device=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mutual_information` of ``counts`` and ``labels`` and its mean over ``n_shuffles``
    label permutations.

    The permutations are ``rng.permutation(labels)``, drawn one after another; each
    shuffle's MI is computed as :func:`mutual_information` computes it and the MIs are
    summed in draw order, so the result equals calling :func:`mutual_information` once per
    shuffle, with the counts and labels checked once instead of once per shuffle.

    Parameters
    ----------
    counts, labels, n_classes : as :func:`mutual_information`.
    n_shuffles : int
        Label permutations (0: ``mi_shuffled`` is 0).
    rng : numpy.random.Generator or int, optional
        The permutations' draws (:func:`fclib._util.as_generator`).
    backend, device : as :func:`joint_histogram`.

    Returns
    -------
    mi, mi_shuffled : ndarray
        Both ``(neuron,)``, bits."""
    from fclib._util import as_generator

    backend, dev = resolve_backend(backend, device)
    n_shuffles = check_int(n_shuffles, "n_shuffles", 0)
    labels = _class_indices(labels)
    C = _n_classes(labels, n_classes)
    joint = joint_histogram(counts, labels, C, backend=backend, device=dev)  # checks once
    mi = _mi_on(joint, backend, dev)
    K = joint.shape[1]
    # the shuffles' histograms read the counts in their smallest type (uint8 for counts up
    # to 255): the same histograms, an eighth of the memory traffic of int64
    counts = np.asarray(counts).astype(np.int64 if backend == "torch"
                                       else np.min_scalar_type(K - 1), copy=False)
    gen = as_generator(rng)
    sh = np.zeros_like(mi)
    for _ in range(n_shuffles):
        sh += _mi_on(_joint_on(counts, gen.permutation(labels), K, C, backend, dev), backend, dev)
    sh /= max(n_shuffles, 1)
    return mi, sh


def preferred_class(spikes: xr.DataArray, T: int, n_classes: int | None = None) -> xr.DataArray:
    """Each neuron's preferred class: the class with the highest mean spike count per
    presentation (ties: the lowest class), as :func:`information`'s ``preferred`` without
    its histograms and information measures.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)`` with a ``label`` frame coordinate.
    T : int
        Frames per presentation.
    n_classes : int, optional
        Number of classes (default from the labels).

    Returns
    -------
    xarray.DataArray
        int, dim ``neuron`` (the ``neuron`` coordinate of ``spikes`` or positions).

    Raises
    ------
    ValueError
        A layer without neurons, or a label outside ``[0, n_classes)``."""
    if isinstance(spikes, xr.DataArray) and spikes.sizes.get("neuron", 1) == 0:
        raise ValueError(f"spikes has no neurons (shape {tuple(spikes.shape)}): an empty layer "
                         "has no preferred class; leave it out")
    counts = presentation_counts(spikes, T)
    labels = presentation_labels(spikes, T)
    C = _n_classes(labels, n_classes)
    bad = (labels < 0) | (labels >= C)
    if bad.any():
        raise ValueError(f"labels must be class indices 0..{C - 1} (n_classes={C}); found "
                         f"{np.unique(labels[bad])[:5].tolist()}; pass n_classes covering "
                         "every label")
    sums = np.zeros((counts.shape[0], C), dtype=np.int64)
    _class_sums(counts, labels, sums)
    per_class = np.bincount(labels, minlength=C).astype(float)
    mean_count = sums / np.maximum(per_class, 1)
    ids = spikes["neuron"].values if "neuron" in spikes.coords else np.arange(counts.shape[0])
    return xr.DataArray(mean_count.argmax(1), dims="neuron", coords={"neuron": ids},
                        name="preferred")


@nb.njit(parallel=True, cache=True)
def _class_sums(counts, labels, out):
    """``out[i, c] = sum of counts[i, p]`` over the presentations ``p`` of class ``c``."""
    for i in nb.prange(counts.shape[0]):
        for p in range(counts.shape[1]):
            out[i, labels[p]] += counts[i, p]


def class_profile(counts, labels, n_classes: int | None = None) -> np.ndarray:
    """MI (bits) between each neuron's count and each one-hot class indicator.

    Parameters
    ----------
    counts : array_like
        ``(neuron, presentation)`` non-negative whole counts.
    labels : array_like
        One class index per presentation.
    n_classes : int, optional
        Number of classes (default ``max(labels) + 1``).

    Returns
    -------
    ndarray
        float64 ``(neuron, class)``, bits."""
    labels = _class_indices(labels)
    joint = joint_histogram(counts, labels, _n_classes(labels, n_classes))  # (n, K, C)
    tot = joint.sum(2, keepdims=True)
    onehot = np.stack([joint, tot - joint], -1)  # (n, K, C, 2): in class c / not
    return _mi_from_joint(np.moveaxis(onehot, 2, 1))  # (n, C)


def information(spikes: xr.DataArray, T: int, n_shuffles: int = 20, rng=None,
                n_classes: int | None = None, *, backend: str = "auto",
                device=None) -> xr.Dataset:
    """Informativeness of every neuron of a layer about the presented class.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)`` with a ``label`` frame coordinate.
    T : int
        Frames per presentation.
    n_shuffles : int
        Label permutations of the bias correction.
    rng : numpy.random.Generator or int, optional
        The permutations' draws.
    n_classes : int, optional
        Number of classes (default from the labels).
    backend, device : where the histograms and MI are computed (:func:`joint_histogram`).

    Returns
    -------
    xarray.Dataset
        Over ``neuron`` (the ``neuron`` coordinate of ``spikes`` or positions): ``mi``
        (plug-in, bits), ``mi_shuffled`` (mean over ``n_shuffles`` label permutations),
        ``mi_corrected`` (the difference), ``preferred`` (class with the highest mean
        count), ``rate`` (spikes per presentation); and over ``(neuron, class)``:
        ``class_mi`` (the one-hot profile) and ``mean_count``.

    Raises
    ------
    ValueError
        A layer without neurons (and the errors of :func:`presentation_labels`)."""
    from fclib._util import as_generator as _rng

    backend, dev = resolve_backend(backend, device)
    gen = _rng(rng)
    n_shuffles = check_int(n_shuffles, "n_shuffles", 0)
    if isinstance(spikes, xr.DataArray) and spikes.sizes.get("neuron", 1) == 0:
        raise ValueError(f"spikes has no neurons (shape {tuple(spikes.shape)}): an empty layer "
                         "has no information to measure; leave it out")
    counts = presentation_counts(spikes, T)  # the smallest unsigned type (no int64 copy)
    if backend == "torch":
        counts = counts.astype(np.int64)
    labels = presentation_labels(spikes, T)
    C = _n_classes(labels, n_classes)
    joint = joint_histogram(counts, labels, C, backend=backend, device=dev)  # checks the labels once
    K = joint.shape[1]
    mi = _mi_on(joint, backend, dev)
    shuffles = [gen.permutation(labels) for _ in range(n_shuffles)]  # checked labels, permuted
    if backend == "torch":  # the counts go to the device once for every shuffle
        from fclib.stats import _torch

        sh = _torch.mean_shuffled_mi(counts, shuffles, K, C, dev)
    else:
        sh = np.zeros_like(mi)
        for lab in shuffles:
            sh += _mi_on(_joint_on(counts, lab, K, C, backend, dev), backend, dev)
        sh /= max(n_shuffles, 1)
    per_class = np.bincount(labels, minlength=C).astype(float)
    mean_count = (joint * np.arange(K)[None, :, None]).sum(1) / np.maximum(per_class, 1)
    p_count = joint.sum(2) / max(counts.shape[1], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p_count > 0, p_count * np.log2(p_count), 0.0).sum(1)
    ids = spikes["neuron"].values if "neuron" in spikes.coords else np.arange(counts.shape[0])
    return xr.Dataset(
        {"mi": ("neuron", mi), "mi_shuffled": ("neuron", sh),
         "mi_corrected": ("neuron", mi - sh if n_shuffles else np.full_like(mi, np.nan)),
         "preferred": ("neuron", mean_count.argmax(1)),
         "entropy": ("neuron", entropy),
         "rate": ("neuron", counts.mean(1)),
         "class_mi": (("neuron", "class"), class_profile(counts, labels, C)),
         "mean_count": (("neuron", "class"), mean_count)},
        coords={"neuron": ids, "class": np.arange(C)},
        attrs=dict(T=int(T), n_shuffles=int(n_shuffles), units="bits"))


def hubs(mi, degree, quantile: float = 0.9) -> np.ndarray:
    """Hub neurons: in the top ``1 - quantile`` of both degree of connectivity and MI.

    Parameters
    ----------
    mi, degree : array_like
        Per neuron, aligned.
    quantile : float
        The quantile both must reach.

    Returns
    -------
    ndarray
        bool, one per neuron.

    Raises
    ------
    ValueError
        ``mi`` and ``degree`` of different sizes."""
    if np.size(mi) != np.size(degree):
        raise ValueError(f"mi and degree must have one value per neuron; got {np.size(mi)} and "
                         f"{np.size(degree)}")
    mi = np.asarray(mi, dtype=float)
    degree = np.asarray(degree, dtype=float)
    ok = np.isfinite(mi) & np.isfinite(degree)
    if not ok.any():
        return np.zeros(mi.shape, bool)
    return ok & (mi >= np.quantile(mi[ok], quantile)) & (degree >= np.quantile(degree[ok], quantile))
