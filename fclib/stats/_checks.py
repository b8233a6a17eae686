"""Input checks shared by the statistics: spikes as labelled layers, their values, frames,
presentations and 1FC groups, with fclib's own messages (re-exported by
:mod:`fclib.stats.response`)."""
from __future__ import annotations

import numpy as np
import xarray as xr


__all__ = ["as_layer", "check_spike_values", "check_presentations", "check_groups", "layer_name",
           "check_layer", "neuron_rows", "check_same_frames", "attached_T", "resolve_T",
           "attached_stimulus"]

#: The frame coordinates every recorded layer carries.
FRAME_COORDS = ("image", "presentation", "step", "label")


def _in_memory(da: xr.DataArray) -> bool:
    """Whether ``da``'s values are already loaded (checking a lazy, file- or dask-backed
    layer's values would read it all; those are checked block by block where they are read,
    by :func:`fclib.stats.sttc.as_trains`)."""
    return isinstance(da.variable._data, np.ndarray)  # xarray keeps loaded data as ndarray


def _noun(what: str) -> str:
    """``"source"`` -> ``"source spikes"``; ``"spikes"``/``"members"`` stay as they are."""
    return what if what.endswith(("spikes", "members", "trains")) else f"{what} spikes"


def check_spike_values(x: np.ndarray, what: str = "spikes") -> None:
    """Raise ``ValueError`` unless ``x`` holds only 0/1 (or bools): NaN and other values are
    named.

    Parameters
    ----------
    x : ndarray
        The values to check.
    what : str
        The argument's name, used in the error messages.

    Raises
    ------
    ValueError
        A dtype that is neither bool nor numeric, NaN, or a value other than 0 and 1."""
    if x.dtype == bool or x.size == 0:
        return
    if np.issubdtype(x.dtype, np.integer):
        if x.min() >= 0 and x.max() <= 1:
            return
    elif np.issubdtype(x.dtype, np.floating):
        nan = np.isnan(x)
        if nan.any():
            raise ValueError(f"{_noun(what)} hold NaN ({int(nan.sum())} values); spike trains must be "
                             "0/1: fill or drop the missing frames first")
        if np.all((x == 0) | (x == 1)):
            return
    else:
        raise ValueError(f"{what} must be 0/1 spike trains (bool or numbers), got dtype {x.dtype}")
    bad = np.setdiff1d(np.unique(x), [0, 1])
    raise ValueError(f"{what} must be 0/1 spike trains; found values {bad[:5].tolist()} "
                     "(spike counts? binarise with counts > 0, or bin spike times with "
                     "fclib.io.bin_spikes)")


def as_layer(spikes, what: str = "spikes", *, allow_empty: bool = False) -> xr.DataArray:
    """``spikes`` as a ``DataArray(("neuron", "frame"))``, checked: the one coercion every
    public function of :mod:`fclib.stats` that takes spikes goes through.

    A plain 2-D array is taken as (neuron, frame) with neuron ids its row positions; one with
    more rows than columns gets a ``UserWarning`` naming its shape (frames x neurons given
    by mistake?). A DataArray must have exactly the dims ``neuron`` and ``frame`` (in any
    order; it is returned as (neuron, frame)). Loaded values must be 0/1 (no NaN); a
    file- or dask-backed layer is checked where its blocks are read. Raises ``ValueError``
    naming what is wrong (``what`` names the argument), also for a layer without neurons or
    frames unless ``allow_empty``; ``TypeError`` for ragged input (spike times: bin them with
    :func:`fclib.io.bin_spikes`).

    Parameters
    ----------
    spikes : xarray.DataArray or array_like
        0/1 trains ``(neuron, frame)``, or a 2-D array (neurons x frames).
    what : str
        The argument's name, used in the error messages.
    allow_empty : bool
        Accept a layer without neurons or frames.

    Returns
    -------
    xarray.DataArray
        ``spikes`` with dims ``(neuron, frame)``.

    Raises
    ------
    TypeError
        A Dataset, or ragged / object input (spike times).
    ValueError
        Other dims or shape, values other than 0/1 or NaN, or an empty layer."""
    if isinstance(spikes, xr.Dataset):
        raise TypeError(f"{what} must be a DataArray ('neuron', 'frame') or a 2-D array, got a "
                        "Dataset; pick one layer (e.g. recording['L1'])")
    if isinstance(spikes, xr.DataArray):
        if spikes.ndim != 2 or set(spikes.dims) != {"neuron", "frame"}:
            raise ValueError(f"{what} must have dims ('neuron', 'frame'), got {spikes.dims}; "
                             "rename them (e.g. .rename(unit='neuron', time='frame'))")
        da = spikes.transpose("neuron", "frame")
    else:
        try:
            x = np.asarray(spikes)
        except ValueError:
            x = np.asarray(spikes, dtype=object)
        if x.dtype == object:
            raise TypeError(f"{what} must be binned 0/1 trains (neurons x frames); got a ragged "
                            "or object array, like spike times: bin them first with "
                            "fclib.io.bin_spikes(spike_times, bin_size)")
        if x.ndim != 2:
            raise ValueError(f"{what} must be a DataArray ('neuron', 'frame') or a 2-D array "
                             f"(neurons x frames), got shape {x.shape}")
        if x.shape[0] > x.shape[1]:
            import warnings

            warnings.warn(f"{what} is a plain array of shape {x.shape} with more rows than "
                          "columns; fclib reads rows as neurons and columns as frames: pass "
                          "the transpose if rows are frames, or a DataArray with named dims",
                          UserWarning, stacklevel=3)
        da = xr.DataArray(x, dims=("neuron", "frame"))
    if not allow_empty and (da.sizes["neuron"] == 0 or da.sizes["frame"] == 0):
        raise ValueError(f"{_noun(what)} are empty ({da.sizes['neuron']} neurons x "
                         f"{da.sizes['frame']} frames); pass a layer with neurons and frames")
    if _in_memory(da):
        check_spike_values(da.values, what)
    return da


def _check_T_value(T) -> None:
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer (time steps per presentation), got {T!r}")


def attached_T(spikes) -> int | None:
    """The frames per presentation that ``spikes`` carry, or ``None``: the ``T`` attribute
    (:func:`fclib.io.bin_spikes` with trials, :func:`fclib.io.save_recording`), else the
    period of a ``step`` coordinate that runs ``0..T-1`` presentation after presentation
    (fclib's recordings)."""
    if not isinstance(spikes, xr.DataArray):
        return None
    if spikes.attrs.get("T") is not None:
        return int(spikes.attrs["T"])
    if "step" in spikes.coords and spikes["step"].dims == ("frame",) and spikes["step"].size:
        step = np.asarray(spikes["step"].values)
        T = int(step.max()) + 1
        if T >= 1 and step.size % T == 0 and np.array_equal(step, np.tile(np.arange(T),
                                                                          step.size // T)):
            return T
    return None


def resolve_T(spikes, T=None, what: str = "the") -> int:
    """``T`` (frames per presentation) given or, where it is ``None``, the one ``spikes``
    carry (:func:`attached_T`). A ``T`` that contradicts the ``T`` attribute is refused:
    ``T=4`` on trials binned with ``T = 10`` would make every rate 2.5x too small."""
    have = attached_T(spikes)
    if T is None:
        if have is None:
            raise ValueError(f"T (frames per presentation) was not given and {what} spikes carry "
                             "none (no 'T' attribute or 'step' coordinate; fclib.io.bin_spikes "
                             "attaches both when given trial_onsets): pass T=")
        return have
    _check_T_value(T)
    attr = spikes.attrs.get("T") if isinstance(spikes, xr.DataArray) else None
    if attr is not None and int(attr) != int(T):
        raise ValueError(f"T={T} contradicts {what} spikes, which have T={int(attr)} frames per "
                         "presentation (their 'T' attribute, set when they were binned or "
                         f"recorded); pass T={int(attr)} or leave T out")
    return int(T)


def attached_stimulus(spikes, T: int) -> np.ndarray | None:
    """The stimulus of every presentation (length ``n_frames // T``) that ``spikes`` carry:
    the ``stimulus`` frame coordinate (:func:`fclib.io.bin_spikes` with ``trial_stimulus``),
    else ``image`` (fclib's recordings); ``None`` where neither is there. A label that
    changes inside a presentation is an error."""
    if not isinstance(spikes, xr.DataArray):
        return None
    for name in ("stimulus", "image"):
        if name in spikes.coords and spikes[name].dims == ("frame",):
            v = np.asarray(spikes[name].values)
            if v.size % T:
                raise ValueError(f"{v.size} frames is not a whole number of presentations of "
                                 f"T={T} steps; pass whole presentations")
            v = v.reshape(-1, T)
            if np.any(v != v[:, :1]):
                raise ValueError(f"the {name!r} coordinate changes inside a presentation of "
                                 f"T={T} frames: frames are not whole presentations in order "
                                 "(or T is not the recording's)")
            return v[:, 0]
    return None


def check_presentations(spikes: xr.DataArray, T=None, what: str = "the") -> int:
    """``T`` as an int after checking it: a positive integer (time steps per presentation)
    that divides the frames of ``spikes``, and matches its ``step`` coordinate and ``T``
    attribute if it has them; ``None`` takes the ``T`` the spikes carry
    (:func:`resolve_T`). Raises ``ValueError`` saying which.

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)``.
    T : int, optional
        Time steps per presentation; ``None``: the ``T`` the spikes carry.
    what : str
        Names the spikes in the error messages.

    Returns
    -------
    int
        ``T``.

    Raises
    ------
    ValueError
        ``T`` not a positive integer, not dividing the frames, or disagreeing with the
        ``step`` coordinate or ``T`` attribute."""
    T = resolve_T(spikes, T, what)
    L = spikes.sizes["frame"]
    if L % T:
        raise ValueError(f"{what} spikes have {L} frames, not a whole number of presentations "
                         f"of T={T} steps; pass whole presentations (and the recording's T)")
    if "step" in spikes.coords and L:
        step = np.asarray(spikes["step"].values)
        if not np.array_equal(step, np.tile(np.arange(T), L // T)):
            raise ValueError(f"{what} spikes' step coordinate runs 0..{int(step.max())} but T={T}, "
                             f"or frames are not whole presentations in order; pass the "
                             f"recording's T and select whole presentations")
    return int(T)


def check_groups(groups, what: str = "groups") -> xr.Dataset:
    """``groups`` after checking it is an edge table of :func:`fclib.stats.groups.one_fc_groups`
    (or a control group table): ``TypeError`` for anything but a Dataset, ``ValueError`` for a
    Dataset without its variables.

    Parameters
    ----------
    groups : xarray.Dataset
        An edge table with ``target``, ``source`` and ``degree``.
    what : str
        The argument's name, used in the error messages.

    Returns
    -------
    xarray.Dataset
        ``groups``, unchanged.

    Raises
    ------
    TypeError
        Anything but a Dataset.
    ValueError
        A Dataset without those variables."""
    if not isinstance(groups, xr.Dataset):
        raise TypeError(f"{what} must be the edge table of fclib.stats.groups.one_fc_groups "
                        f"(a Dataset with target, source, degree); got {type(groups).__name__}")
    missing = [v for v in ("target", "source", "degree") if v not in groups]
    if missing:
        raise ValueError(f"{what} must be the edge table of fclib.stats.groups.one_fc_groups "
                         f"(with 'target', 'source', 'degree'); it lacks {missing} (pairwise "
                         "results? make groups with one_fc_groups(pairs))")
    return groups


def layer_name(spikes, *, what: str = "spikes", use_name: bool = True) -> str | None:
    """The recorded layer ``spikes`` come from, or ``None`` where nothing says.

    A layer read with :func:`fclib.io.recordings.open_recording` says it three ways, read in
    this order: the ``layer`` attribute, the ``layer`` coordinate on ``neuron`` (kept through
    selections and arithmetic that drop attributes), and the DataArray's name (what
    :func:`fclib.stats.connectivity.pair_significance` records as ``source_layer`` and
    ``target_layer``). Plain arrays and unnamed, unlabelled DataArrays give ``None``.
    ``use_name=False``: the name is not read (a per-neuron quantity such as a rate is named
    after itself, not its layer). ``what`` names the argument in the error raised when the
    neurons come from several layers.

    Parameters
    ----------
    spikes : xarray.DataArray or array_like
        A layer.
    what : str
        The argument's name, used in the error message.
    use_name : bool
        Read the DataArray's name as the layer's.

    Returns
    -------
    str or None
        The layer's name, or ``None``.

    Raises
    ------
    ValueError
        The ``layer`` coordinate names several layers."""
    if not isinstance(spikes, xr.DataArray):
        return None
    if spikes.attrs.get("layer"):
        return str(spikes.attrs["layer"])
    if "layer" in spikes.coords:
        names = np.unique(np.asarray(spikes["layer"].values).astype(str))
        if names.size > 1:
            raise ValueError(f"{what} mix neurons of layers {names.tolist()}; pass one layer")
        if names.size == 1:
            return str(names[0])
    return None if spikes.name is None or not use_name else str(spikes.name)


def check_layer(spikes, attrs: dict, role: str) -> None:
    """Raise ``ValueError`` unless ``spikes`` are the ``role`` (``"source"``/``"target"``)
    layer named in ``attrs`` (the attrs of a groups Dataset or of a co-firing array).

    Layers of one network often have the same size (L1-L4 of the default profile all have
    4,096 neurons), so a wrong layer would otherwise run silently. Where either side names no
    layer (plain arrays, unnamed DataArrays; groups built from unlabelled pairs) nothing can
    be compared; then a source given by position (no ``neuron`` coordinate) must at least
    hold as many neurons as the groups' pairs had sources (``n_source``).

    Parameters
    ----------
    spikes : xarray.DataArray or array_like
        The layer passed as ``role``.
    attrs : dict
        Attributes naming ``source_layer``/``target_layer`` (and ``n_source``).
    role : str
        ``"source"`` or ``"target"``.

    Raises
    ------
    ValueError
        ``spikes`` name another layer than ``attrs``, or a source given by position holds
        fewer neurons than the groups' sources."""
    want = str(attrs.get(f"{role}_layer", "") or "")
    want = None if want in ("", "None") else want
    have = layer_name(spikes)
    if want is not None and have is not None and have != want:
        pair = f"{attrs.get('source_layer', '?')}→{attrs.get('target_layer', '?')}"
        raise ValueError(f"{role} spikes are layer {have} but the groups ({pair}) were computed "
                         f"with {role} layer {want}; pass the {want} spikes")
    if (role == "source" and "n_source" in attrs and isinstance(spikes, xr.DataArray)
            and "neuron" not in spikes.coords and spikes.sizes["neuron"] < int(attrs["n_source"])):
        layer = f"layer {want}" if want else "layer"
        raise ValueError(f"source spikes have {spikes.sizes['neuron']} neurons but the groups "
                         f"were computed on a source layer with {int(attrs['n_source'])} active "
                         f"neurons; pass the whole {layer} the groups come from")


def neuron_rows(spikes: xr.DataArray, ids: np.ndarray, what: str) -> np.ndarray:
    """Row positions in ``spikes`` of neuron ids (its ``neuron`` coordinate, else positions).

    Parameters
    ----------
    spikes : xarray.DataArray
        A layer ``(neuron, frame)``.
    ids : ndarray
        Neuron ids (values of the ``neuron`` coordinate, or positions without one).
    what : str
        Names the layer in the error messages (``"source"``, ``"target"``).

    Returns
    -------
    ndarray
        int64 row positions, one per id.

    Raises
    ------
    ValueError
        ``spikes`` hold no neurons, or lack some of ``ids``."""
    have = (spikes["neuron"].values if "neuron" in spikes.coords
            else np.arange(spikes.sizes["neuron"]))
    ids = np.asarray(ids)
    if have.size == 0:
        if ids.size:
            raise ValueError(f"{what} spikes hold no neurons; the groups refer to "
                             f"{ids[:5].tolist()}")
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(have, kind="stable")
    pos = np.searchsorted(have, ids, sorter=order)
    pos = np.minimum(pos, have.size - 1)
    rows = order[pos]
    bad = have[rows] != ids
    if bad.any():
        raise ValueError(f"{what} spikes lack neurons {ids[bad][:5].tolist()} that the groups "
                         "refer to; pass the layer the groups were computed on")
    return rows


def check_same_frames(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` hold the same frames: equal ``frame``
    sizes and equal frame coordinates (image, presentation, step, label) where both have them.

    Parameters
    ----------
    a, b : xarray.DataArray
        Two layers ``(neuron, frame)``.
    what : str
        The caller's name, used in the error messages.

    Raises
    ------
    ValueError
        Different frame counts or frame coordinates."""
    if a.sizes["frame"] != b.sizes["frame"]:
        raise ValueError(f"{what}: {a.sizes['frame']} frames against {b.sizes['frame']}; both "
                         "layers must come from the same recording")
    for c in FRAME_COORDS:
        if c in a.coords and c in b.coords and not np.array_equal(a[c].values, b[c].values):
            raise ValueError(f"{what}: frame coordinate {c!r} differs between the layers; both "
                             "must come from the same recording, frames in the same order")


def check_table(table, columns, what: str, made_by: str = ""):
    """``table`` after checking it is a DataFrame holding ``columns``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to check.
    columns : sequence of str
        The columns it must hold.
    what : str
        The argument's name, used in the messages.
    made_by : str
        What makes such a table (``"selectivity()"``), named in the messages.

    Returns
    -------
    pandas.DataFrame
        ``table``.

    Raises
    ------
    TypeError
        ``table`` is not a DataFrame.
    ValueError
        ``table`` lacks some of ``columns``.
    """
    import pandas as pd

    hint = f"; pass the table of {made_by}" if made_by else ""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame with columns {list(columns)}, got "
                        f"{type(table).__name__}{hint}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks the columns {missing}{hint}")
    return table


def check_dataset(ds, variables, what: str, made_by: str = ""):
    """``ds`` after checking it is an ``xr.Dataset`` holding ``variables``.

    Parameters
    ----------
    ds : xarray.Dataset
        The Dataset to check.
    variables : sequence of str
        The variables (or coordinates) it must hold.
    what : str
        The argument's name, used in the messages.
    made_by : str
        What makes such a Dataset, named in the messages.

    Returns
    -------
    xarray.Dataset
        ``ds``.

    Raises
    ------
    TypeError
        ``ds`` is not a Dataset.
    ValueError
        ``ds`` lacks some of ``variables``.
    """
    hint = f"; pass the result of {made_by}" if made_by else ""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"{what} must be an xarray Dataset with {list(variables)}, got "
                        f"{type(ds).__name__}{hint}")
    missing = [v for v in variables if v not in ds.variables]
    if missing:
        raise ValueError(f"{what} lacks {missing}{hint}")
    return ds


def check_mapping(obj, what: str, of: str):
    """``obj`` after checking it is a mapping (``of``: what it maps to what).

    Parameters
    ----------
    obj : Mapping
        The mapping to check.
    what : str
        The argument's name, used in the messages.
    of : str
        What it maps to what, for the message (``"{layer pair: Dataset}"``).

    Returns
    -------
    Mapping
        ``obj``.

    Raises
    ------
    TypeError
        ``obj`` is not a mapping.
    """
    from collections.abc import Mapping

    if not isinstance(obj, Mapping):
        raise TypeError(f"{what} must be a dict {of}, got {type(obj).__name__}")
    return obj


def check_numbers(x, what: str, *, finite: bool = False, minimum=None, maximum=None) -> np.ndarray:
    """``x`` as a float64 array, checked.

    Parameters
    ----------
    x : array_like
        Numbers.
    what : str
        The argument's name, used in the messages.
    finite : bool
        Refuse NaN and infinities.
    minimum, maximum : float, optional
        Bounds every value must respect.

    Returns
    -------
    ndarray
        ``x`` as float64.

    Raises
    ------
    TypeError
        ``x`` does not convert to numbers.
    ValueError
        A value that is not finite (``finite=True``) or outside the bounds.
    """
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be numbers, got {type(x).__name__} ({e})") from None
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be finite; found {a[~np.isfinite(a)][:3].tolist()}")
    if minimum is not None and np.any(a < minimum):
        raise ValueError(f"{what} must be >= {minimum}; found {a[a < minimum][:3].tolist()}")
    if maximum is not None and np.any(a > maximum):
        raise ValueError(f"{what} must be <= {maximum}; found {a[a > maximum][:3].tolist()}")
    return a
