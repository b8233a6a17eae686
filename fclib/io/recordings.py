"""Spike recordings on disk: compressed, chunked netCDF4, streamed, read back lazily.

One file holds one *condition* (original, noise, ...) of one run. Each recorded layer is
a netCDF group (``L1``, ``L2``, ...) holding

* ``spikes(neuron, frame)`` -- uint8 0/1, zlib-compressed, chunked along both dims;
* coordinates on ``neuron``: ``channel``, ``y``, ``x``, ``rate`` (mean spikes per image)
  and ``silent`` (``rate`` below the threshold, 0.01 spikes per image in the paper);
* coordinates on ``frame``: ``image`` (held-out image index), ``presentation``,
  ``step`` (0..T-1) and ``label``. A frame is one timestep of one presentation, in
  presentation order: ``frame = presentation * T + step``.

The root group's attributes describe the recording (profile, condition, checkpoint
hash, T, sampling rule, class names as JSON). Layers are groups because an
``xr.Dataset`` cannot hold layers of different neuron counts on one ``neuron`` dim;
:func:`open_recording` gives each layer back as the data model's
``DataArray(("neuron", "frame"))``.

Files are written under a temporary name and renamed into place only when complete,
so a recording that exists is whole; an interrupted one resumes from its ``.part`` file.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from fclib.store import atomic_write, publish

__all__ = ["RecordingWriter", "Recording", "open_recording", "sample_neurons", "save_dataset",
           "write_netcdf", "load_dataset", "SILENT_THRESHOLD", "CONDITIONS", "presentation_stimuli"]

SILENT_THRESHOLD = 0.01  # spikes per image (paper §3 "Exclusion Criteria")

# Recorded conditions of one run (fclib.snn.perturb makes them). "train" is the trained
# network on *training* images (the adversarial detector's groups come from it).
CONDITIONS = ("original", "noise", "fgsm", "permuted", "train")


def sample_neurons(shape: tuple[int, int, int], budget: int = 8192) -> dict[str, np.ndarray]:
    """The paper's neuron sampling rule for a layer of shape ``(C, H, W)``.

    All neurons when ``C*H*W <= budget``; otherwise a central ``s x s`` spatial patch of
    every channel with ``s = round(sqrt(budget / C))`` clipped to ``[1, min(H, W)]``
    (§A.1 "Neuron Sampling"; the extracted text lost the formula, this is the rule that
    gives its 7,500-9,000 neurons for SEW-ResNet18: 7,744 / 8,192 / 9,216 / 8,192).

    Parameters
    ----------
    shape : (int, int, int)
        The layer's ``(C, H, W)``.
    budget : int
        Neurons per layer above which a patch is sampled.

    Returns
    -------
    dict of ndarray
        ``channel``, ``y``, ``x`` int32 index arrays in channel-major order.

    Raises
    ------
    ValueError
        A shape with a dimension below 1."""
    c, h, w = (int(v) for v in shape)
    if min(c, h, w) < 1:
        raise ValueError(f"layer shape must be positive (C, H, W), got {shape}")
    if c * h * w <= budget:
        ys, xs = np.arange(h), np.arange(w)
    else:
        s = int(np.clip(round(np.sqrt(budget / c)), 1, min(h, w)))
        ys = np.arange((h - s) // 2, (h - s) // 2 + s)
        xs = np.arange((w - s) // 2, (w - s) // 2 + s)
    ch, yy, xx = np.meshgrid(np.arange(c), ys, xs, indexing="ij")
    return {"channel": ch.ravel().astype(np.int32), "y": yy.ravel().astype(np.int32),
            "x": xx.ravel().astype(np.int32)}


class RecordingWriter:
    """Stream spikes of several layers into one netCDF4 file, batch by batch.

    Use as a context manager; :meth:`write` takes a dict ``{layer: uint8 (neuron, frames)}``
    for the next block of frames. The file is written as ``<path>.part`` and renamed to
    ``path`` only on a clean, complete exit (rates and the silent flag written), so a file
    at ``path`` is always whole. If the writer stops early (an exception, a killed
    process), the ``.part`` file keeps the frames written so far, and a new writer of the
    *same* recording (same attributes, neurons and frames; ``resume=True``) continues from
    :attr:`position`; a ``.part`` of any other recording is replaced.
    """

    def __init__(self, path, layers: dict[str, dict], frames: dict[str, np.ndarray],
                 attrs: dict, T: int, frame_chunk: int = 4096, neuron_chunk: int = 1024,
                 complevel: int = 1, silent_threshold: float = SILENT_THRESHOLD,
                 resume: bool = True):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.layers = list(layers)
        self.n_frames = len(next(iter(frames.values())))
        self.T = int(T)
        if self.n_frames % self.T:
            raise ValueError(f"frame count {self.n_frames} is not a multiple of T={T}")
        self.silent_threshold = silent_threshold
        self._pos = 0
        self._vars = {}
        self._counts = {}
        self.resumed_from = 0
        self.signature = _signature(layers, frames, {**attrs, "T": self.T}, silent_threshold)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.nc = self._reopen() if resume and self.tmp.exists() else None
        if self.nc is None:
            self._create(layers, frames, attrs, frame_chunk, neuron_chunk, complevel)

    @property
    def position(self) -> int:
        """Frames written so far (where the next :meth:`write` starts)."""
        return self._pos

    def _create(self, layers, frames, attrs, frame_chunk, neuron_chunk, complevel) -> None:
        import netCDF4

        self.tmp.unlink(missing_ok=True)
        self.nc = netCDF4.Dataset(self.tmp, "w", format="NETCDF4")
        for k, v in {**attrs, "T": self.T}.items():
            self.nc.setncattr(k, v if isinstance(v, (str, int, float)) else json.dumps(v))
        self.nc.setncattr("_resume_signature", self.signature)
        self.nc.setncattr("_frames_written", 0)
        for name, info in layers.items():
            g = self.nc.createGroup(name)
            n = len(info["channel"])
            g.createDimension("neuron", n)
            g.createDimension("frame", self.n_frames)
            g.setncattr("layer", name)
            g.setncattr("layer_shape", json.dumps([int(s) for s in info["shape"]]))
            for c in ("channel", "y", "x"):
                g.createVariable(c, "i4", ("neuron",))[:] = info[c]
            for c, arr in frames.items():
                g.createVariable(c, "i4", ("frame",))[:] = arr
            v = g.createVariable("spikes", "u1", ("neuron", "frame"), zlib=True,
                                 complevel=complevel, shuffle=False,
                                 chunksizes=(min(n, neuron_chunk), min(self.n_frames, frame_chunk)))
            v.setncattr("coordinates", "channel y x rate silent image presentation step label")
            g.createVariable("rate", "f4", ("neuron",))
            g.createVariable("silent", "u1", ("neuron",))
            self._vars[name] = v
            self._counts[name] = np.zeros(n, dtype=np.int64)
        self.nc.sync()

    def _reopen(self):
        """Reopen an interrupted ``.part`` file of the same recording; ``None`` if it is not
        one (other parameters, another model) or unreadable, in which case it is replaced."""
        import netCDF4

        try:
            nc = netCDF4.Dataset(self.tmp, "a")
        except OSError as e:
            warnings.warn(f"{self.tmp} is unreadable ({e}); recording from the start")
            return None
        try:
            same = nc.getncattr("_resume_signature") == self.signature
        except AttributeError:
            same = False
        if not same:
            nc.close()
            warnings.warn(f"{self.tmp} belongs to another recording (parameters, model or "
                          "neurons differ); recording from the start")
            return None
        pos = int(nc.getncattr("_frames_written"))
        pos -= pos % self.T  # whole presentations only
        for name in self.layers:
            v = nc.groups[name].variables["spikes"]
            self._vars[name] = v
            counts = np.zeros(v.shape[0], dtype=np.int64)
            for f0 in range(0, pos, 16384):
                counts += np.asarray(v[:, f0:min(pos, f0 + 16384)]).sum(axis=1, dtype=np.int64)
            self._counts[name] = counts
        self._pos = self.resumed_from = pos
        return nc

    def write(self, batch: dict[str, np.ndarray]) -> None:
        """Append the next block of frames; every layer must be given the same count.

        After each block the file records how far it got, so an interrupted recording
        resumes from there (see :func:`fclib.snn.record.record`).
        """
        sizes = {k: v.shape[1] for k, v in batch.items()}
        if set(sizes) != set(self.layers) or len(set(sizes.values())) != 1:
            raise ValueError(f"a batch must give every layer the same frames, got {sizes}")
        m = next(iter(sizes.values()))
        if self._pos + m > self.n_frames:
            raise ValueError(f"too many frames: {self._pos + m} > {self.n_frames}")
        for name, arr in batch.items():
            self._vars[name][:, self._pos:self._pos + m] = arr
            self._counts[name] += arr.sum(axis=1, dtype=np.int64)
        self._pos += m
        self.nc.setncattr("_frames_written", self._pos)
        self.nc.sync()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._abort()
            return False
        if self._pos != self.n_frames:
            self._abort()
            raise ValueError(f"recording incomplete: {self._pos} of {self.n_frames} frames "
                             f"written; nothing was saved at {self.path}")
        n_images = self.n_frames // self.T
        for name in self.layers:
            rate = self._counts[name] / n_images
            g = self.nc.groups[name]
            g.variables["rate"][:] = rate.astype(np.float32)
            g.variables["silent"][:] = (rate < self.silent_threshold).astype(np.uint8)
        self.nc.delncattr("_resume_signature")
        self.nc.delncattr("_frames_written")
        self.nc.close()
        publish(self.tmp, self.path)
        return False

    def _abort(self) -> None:
        """Close; keep the ``.part`` file only if it holds frames to resume from."""
        self.nc.close()
        if self._pos == 0:
            self.tmp.unlink(missing_ok=True)


def _signature(layers: dict, frames: dict, attrs: dict, silent_threshold: float) -> str:
    """Hash of everything that makes a recording: attributes, neurons and frames."""
    h = hashlib.sha256(json.dumps({k: attrs[k] for k in sorted(attrs)}, default=str).encode())
    h.update(repr(float(silent_threshold)).encode())
    for name in layers:
        h.update(name.encode())
        for c in ("channel", "y", "x"):
            h.update(np.ascontiguousarray(layers[name][c], dtype=np.int64).tobytes())
    for c in sorted(frames):
        h.update(c.encode() + np.ascontiguousarray(frames[c], dtype=np.int64).tobytes())
    return h.hexdigest()


class Recording:
    """A recorded condition, read lazily; ``rec["L3"]`` is a ``DataArray(neuron, frame)``.

    Attributes ``layers`` (names in forward order), ``attrs`` (root attributes, JSON
    decoded), ``n_frames`` and ``T``.
    """

    def __init__(self, path, chunks=None):
        import netCDF4

        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no recording at {self.path}")
        try:
            with netCDF4.Dataset(self.path) as nc:
                self.layers = sorted(nc.groups, key=_layer_order)
                self.attrs = {k: _decode(nc.getncattr(k)) for k in nc.ncattrs()}
                frames = {name: nc.groups[name].dimensions["frame"].size for name in self.layers}
        except OSError as e:
            raise ValueError(f"{self.path} is not a readable netCDF4 recording ({e}); "
                             f"delete it and record again") from e
        if not self.layers:
            raise ValueError(f"{self.path} holds no layers")
        if len(set(frames.values())) != 1:
            raise ValueError(f"{self.path}: layers disagree in frame count {frames}; the file "
                             f"is not one recording: delete it and record again")
        self.n_frames = next(iter(frames.values()))
        self.T = int(self.attrs.get("T", 1))
        self._chunks = chunks
        self._cache: dict[str, xr.DataArray] = {}

    def __repr__(self) -> str:
        return (f"<Recording {self.attrs.get('condition', '?')}: {len(self.layers)} layers "
                f"{self.layers[0]}..{self.layers[-1]}, {self.n_frames} frames, {self.path}>")

    def __contains__(self, name) -> bool:
        return name in self.layers

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, name: str) -> xr.DataArray:
        if name not in self.layers:
            raise KeyError(f"layer {name!r} not in recording; it has {self.layers}")
        if name not in self._cache:
            ds = xr.open_dataset(self.path, group=name, engine="netcdf4", chunks=self._chunks,
                                 decode_cf=False, cache=False)
            ds = ds.set_coords([v for v in ds.data_vars if v != "spikes"])
            da = ds["spikes"]
            da = da.assign_coords(silent=da["silent"].astype(bool),
                                  layer=("neuron", np.full(da.sizes["neuron"], name)))
            da.attrs = {"layer": name, "layer_shape": json.loads(ds.attrs["layer_shape"])}
            da.name = name
            self._cache[name] = da
        return self._cache[name]

    def frames(self) -> xr.Dataset:
        """The frame coordinates (image, presentation, step, label) as a Dataset."""
        return self[self.layers[0]].coords.to_dataset()[["image", "presentation", "step", "label"]].reset_coords()

    def rates(self) -> dict[str, np.ndarray]:
        """Mean spikes per image of every neuron, per layer (reads only the coordinate)."""
        return {n: self[n]["rate"].values for n in self.layers}


def save_dataset(ds: xr.Dataset, path) -> Path:
    """Write a Dataset to netCDF4 (as :func:`write_netcdf`) atomically
    (:func:`fclib.store.atomic_write`).

    If writing fails (an attribute netCDF cannot store, a full disk, an interrupt), the
    temporary file is removed and the error raised: nothing half-written is left behind, and
    an existing file at ``path`` is kept unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        What to write.
    path : str or PathLike
        The file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TypeError
        ``ds`` is not a Dataset."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray Dataset, got {type(ds).__name__} (a DataArray: "
                        "write da.to_dataset(name=...))")
    with atomic_write(path) as tmp:
        write_netcdf(ds, tmp)
    return Path(path)


def write_netcdf(ds: xr.Dataset, path) -> None:
    """Write a Dataset to netCDF4 (integer and boolean variables zlib level 1, floating-point
    ones uncompressed: :func:`_encoding`) at ``path`` as it goes (no temporary name:
    for a caller that writes inside :func:`fclib.store.atomic_write` or
    :func:`fclib.store.cached`).

    Parameters
    ----------
    ds : xarray.Dataset
        What to write.
    path : str or PathLike
        The file.

    Raises
    ------
    TypeError
        ``ds`` is not a Dataset."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray Dataset, got {type(ds).__name__} (a DataArray: "
                        "write da.to_dataset(name=...))")
    ds.to_netcdf(path, engine="netcdf4", encoding={v: _encoding(ds[v]) for v in ds.data_vars})


def _encoding(da: xr.DataArray) -> dict:
    """zlib level 1 for integer and boolean variables (spikes, counts, ids, masks: they shrink
    several fold); none for floating-point ones, whose mantissas hardly compress. A default
    pairs file (STTC and z, 3,337 x 3,334 float32): 2.40 s to write compressed, 76 MB, against
    0.52 s and 90 MB; read in 0.54 s against 0.49 s."""
    return {} if np.issubdtype(da.dtype, np.floating) else {"zlib": True, "complevel": 1}


def load_dataset(path) -> xr.Dataset:
    """A netCDF4 file read whole into memory (the file closed).

    Parameters
    ----------
    path : str or PathLike
        The file.

    Returns
    -------
    xarray.Dataset
        Its contents, loaded."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()


def presentation_stimuli(spikes: xr.DataArray, T: int, by: str = "image") -> np.ndarray:
    """The stimulus of every presentation, from the frame coordinates of a recorded layer:
    what the stimulus-preserving null permutes presentations within.

    Parameters
    ----------
    spikes : xarray.DataArray
        A recorded layer ``(neuron, frame)`` with an ``image`` (``by="image"``) or ``label``
        (``by="class"``) coordinate on ``frame``, frames in presentation order.
    T : int
        Frames per presentation.
    by : str
        ``"image"``: the image index (the default profile shows each held-out image many
        times); ``"class"``: the class label (where each image is shown once, as in the paper
        profile, presentations of one class are the repeats).

    Returns
    -------
    ndarray
        int64, one stimulus per presentation (length ``n_frames // T``).

    Raises
    ------
    ValueError
        An unknown ``by``, a missing coordinate, a frame count that is not a multiple of
        ``T``, or a stimulus that changes inside a presentation."""
    coord = {"image": "image", "class": "label"}.get(by)
    if coord is None:
        raise ValueError(f"by must be 'image' or 'class', got {by!r}")
    if coord not in spikes.coords:
        raise ValueError(f"spikes need an {coord!r} coordinate on 'frame' (as recordings have)")
    v = np.asarray(spikes[coord].values)
    if T < 1 or v.size % T:
        raise ValueError(f"{v.size} frames is not a whole number of presentations of T={T} steps")
    v = v.reshape(-1, T)
    if np.any(v != v[:, :1]):
        raise ValueError(f"the {coord} changes inside a presentation: frames are not in "
                         "presentation order")
    return v[:, 0].astype(np.int64)


def open_recording(path, chunks=None) -> Recording:
    """Open a recording written by :class:`RecordingWriter`; nothing is loaded yet.

    Parameters
    ----------
    path : str or PathLike
        The recording's netCDF4 file.
    chunks : dict, optional
        ``{}`` gives dask-backed arrays (block-wise work on big recordings); ``None`` reads
        each layer lazily as a whole.

    Returns
    -------
    Recording
        ``rec["L3"]`` is a ``DataArray(neuron, frame)``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        A file that is not a whole recording (unreadable, no layers, layers of different
        frame counts)."""
    return Recording(path, chunks=chunks)


def _layer_order(name: str):
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else -1, name)


def _decode(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v
