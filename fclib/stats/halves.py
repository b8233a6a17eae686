"""Disjoint sets of images: the batches of the robustness test and the two halves of the
cross-validation.

Every presentation of an image lands in the same set, so a set's frames show images no other
set shows. Kept in a module of its own because both the pairs of one half (their cache key)
and the response functions depend on exactly this split.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from fclib._util import as_generator

__all__ = ["image_batches", "image_halves", "half_frame_indices", "half_images"]


def image_batches(images, n_batches: int = 4, rng=None) -> np.ndarray:
    """Assign frames to ``n_batches`` disjoint sets of images (seeded, equal sizes ±1).

    Parameters
    ----------
    images : (frame,) image index of every frame.
    n_batches : number of sets, between 1 and the number of distinct images.
    rng : ``numpy.random.Generator``, integer seed or None.

    Returns
    -------
    (frame,) int array: the set of each frame. Every presentation of an image lands in the
    same set, so a set's frames show images no other set shows: held-out inputs, as in the
    paper's robustness test.

    Raises
    ------
    ValueError
        ``images`` not 1-D, or ``n_batches`` outside ``[1, distinct images]``.
    """
    images = np.asarray(images)
    if images.ndim != 1:
        raise ValueError(f"images must be 1-D (one image index per frame), got shape {images.shape}")
    uniq = np.unique(images)
    if isinstance(n_batches, (bool, np.bool_)) or not isinstance(n_batches, (int, np.integer)) \
            or not 1 <= n_batches <= uniq.size:
        raise ValueError(f"n_batches must be between 1 and the {uniq.size} distinct images, "
                         f"got {n_batches!r}")
    perm = as_generator(rng).permutation(uniq.size)
    which = np.empty(uniq.size, dtype=np.int64)
    which[perm] = np.arange(uniq.size) % n_batches
    return which[np.searchsorted(uniq, images)]


def image_halves(images, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Split frames into two halves of the images, every presentation of an image in one.

    The distinct image ids are shuffled (seeded) and dealt alternately to the halves, so the
    halves hold equally many images (±1) and share none: groups and tuning found on frames
    ``a`` can be tested on frames ``b`` (and the reverse), which removes the circularity of
    choosing and testing a group on the same frames.

    Parameters
    ----------
    images : per-frame image ids: a 1-D array, or anything with an ``image`` frame
        coordinate (a recorded layer, ``Recording.frames()``).
    rng : ``numpy.random.Generator``, integer seed or None; the same seed gives the same
        halves.

    Returns
    -------
    (frames_a, frames_b): boolean masks over ``frame``, disjoint and together covering every
    frame. Select with ``spikes.isel(frame=frames_a)``; as a presentation shows one image,
    the selection holds whole presentations.

    Raises
    ------
    ValueError
        no image ids, or fewer than 2 distinct images.
    """
    gen = as_generator(rng)
    if isinstance(images, xr.Dataset):
        if "image" not in images.variables:
            raise ValueError("images has no 'image' variable; pass the frame coordinates "
                             "of a recording or a 1-D array of image ids")
        images = images["image"]
    elif isinstance(images, xr.DataArray) and "image" in images.coords:
        images = images["image"]
    img = np.asarray(images.values if isinstance(images, xr.DataArray) else images)
    if img.ndim != 1:
        raise ValueError(f"images must be one image id per frame (1-D) or have an 'image' frame "
                         f"coordinate; got shape {img.shape}")
    n_img = np.unique(img).size
    if n_img < 2:
        raise ValueError(f"image_halves needs at least 2 distinct images, got {n_img}")
    half = image_batches(img, 2, gen)
    return half == 0, half == 1


def half_frame_indices(images, half: int, rng=None) -> np.ndarray:
    """Sorted frame indices of half ``half`` (0 or 1) of :func:`image_halves`.

    Parameters
    ----------
    images : array_like
        The image of every frame.
    half : int
        0 or 1.
    rng : numpy.random.Generator or int, optional
        The shuffle of the image ids (:func:`image_halves`).

    Returns
    -------
    ndarray
        int64 frame indices.

    Raises
    ------
    ValueError
        ``half`` not 0 or 1."""
    if isinstance(half, (bool, np.bool_)) or half not in (0, 1):
        raise ValueError(f"half must be 0 or 1, got {half!r}")
    return np.flatnonzero(image_halves(images, rng=rng)[half])


def half_images(images, half: int, rng=None) -> np.ndarray:
    """The distinct image ids of half ``half`` (0 or 1) of :func:`image_halves`.

    Parameters
    ----------
    images : array_like or xarray.DataArray
        The image of every frame, or a layer with an ``image`` frame coordinate.
    half : int
        0 or 1.
    rng : numpy.random.Generator or int, optional
        The shuffle of the image ids.

    Returns
    -------
    ndarray
        The image ids of that half, sorted."""
    img = np.asarray(images["image"].values if hasattr(images, "coords") and "image" in
                     getattr(images, "coords", {}) else images)
    return np.unique(img[half_frame_indices(img, half, rng=rng)])
