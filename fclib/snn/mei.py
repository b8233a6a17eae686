"""Most exciting inputs (MEIs) of spiking units without gradients (the MANGO
paper: Pospelov et al., "Fast gradient-free activation maximization for neurons in spiking
neural networks").

A unit is one channel ``c`` of a spiking layer. Its activation

    A_c(x) = (1 / (T·H·W)) Σ_t Σ_{y,x} s_{t,c,y,x}(x)  ∈ [0, 1]

is its spikes averaged over the ``T`` steps and all positions, the network in eval mode,
its state reset and the image repeated ``T`` times (what :class:`fclib.snn.models.SEWResNet`
does), so ``A`` is deterministic. The forward pass stops right after the unit's layer (a
hook raises), which changes nothing upstream. The MEI is ``argmax_{index} A(g(index))``
over a generator's latent grid (:mod:`fclib.snn.generators`), found by one of the methods of
:data:`fclib.optim.METHODS`. The table logic (entropy, selectivity, lability, distances,
complexity, Table 1) is torch-free in :mod:`fclib.stats.mei`.

A unit may also be one *neuron* ``(channel, y, x)`` of a layer, as the recordings, the 1FC
groups and the hubs of :mod:`fclib.stats.information` count them: its activation is its own
spikes averaged over the ``T`` steps only, so ``A ∈ {0, 1/T, ..., 1}`` (units
``(layer, channel, y, x)`` in :func:`search_meis`).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fclib._util import as_generator, progress_bar, seed_of
from fclib.optim import maximise
from fclib.snn.device import fp32_inference, model_device
from fclib.stats.mei import class_entropy
from fclib.store import artefact_key, atomic_write, cached

__all__ = ["layer_activation", "unit_objective", "class_probabilities", "pick_units",
           "search_meis", "mei_formation", "save_search", "load_search", "cached_search",
           "labelled_meis"]


class _Stop(Exception):
    pass


@contextmanager
def one_thread():
    """Torch on one thread for the duration (small batches: threads cost more than they
    gain, and the book runs beside other work)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _layer_module(model, layer: str):
    layers = model.spiking_layers(include_stem=True)
    if layer not in layers:
        raise ValueError(f"no spiking layer {layer!r}; the model has {list(layers)}")
    return layers[layer]


@torch.no_grad()
def layer_activation(model, layer: str, images, batch_size: int = 256,
                     neurons=None) -> np.ndarray:
    """``A`` of every channel of ``layer`` for each image: float ``(n_images, C)``.

    ``images`` ``(N, C_in, H, W)`` (array or tensor). The model runs in eval mode and its
    forward stops after ``layer``. ``neurons``: three index arrays ``(channel, y, x)`` of
    ``k`` neurons; then the result is ``(n_images, k)``, each neuron's spikes averaged
    over the ``T`` steps only."""
    mod = _layer_module(model, layer)
    out = []
    store = {}
    if neurons is not None:
        idx = [torch.as_tensor(np.asarray(v, dtype=np.int64).reshape(-1)) for v in neurons]

    def hook(m, inp, o):
        if neurons is None:
            store["a"] = o.float().mean(dim=(0, 3, 4))  # (T, N, C, H, W) -> (N, C)
        else:
            ch, yy, xx = (i.to(o.device) for i in idx)
            store["a"] = o[:, :, ch, yy, xx].float().mean(dim=0)  # (T, N, k) -> (N, k)
        raise _Stop

    model.eval()
    dev = model_device(model)
    x = torch.as_tensor(np.asarray(images) if not torch.is_tensor(images) else images,
                        dtype=torch.float32)
    h = mod.register_forward_hook(hook)
    try:
        for i in range(0, len(x), batch_size):
            try:
                with fp32_inference():
                    model(x[i:i + batch_size].to(dev))
            except _Stop:
                pass
            out.append(store.pop("a").cpu())
    finally:
        h.remove()
    return torch.cat(out).numpy().astype(np.float64)


def unit_objective(model, layer: str, channel: int, generator, position=None):
    """``f(index (K, d)) -> A`` of one unit on the generated images (one network call);
    ``position=(y, x)``: of the neuron ``(channel, y, x)`` instead of the whole channel."""
    if position is not None:
        nrn = ([channel], [position[0]], [position[1]])

        def f(index):
            return layer_activation(model, layer, generator(index), neurons=nrn)[:, 0]
        return f

    def f(index):
        return layer_activation(model, layer, generator(index))[:, channel]
    return f


@torch.no_grad()
def class_probabilities(model, images) -> np.ndarray:
    """Softmax of the network's T-averaged logits, ``(n_images, n_classes)``."""
    model.eval()
    x = images if torch.is_tensor(images) else torch.as_tensor(np.asarray(images))
    x = x.to(model_device(model), torch.float32)
    with fp32_inference():
        p = torch.softmax(model(x), dim=1)
    return p.cpu().numpy().astype(np.float64)


def pick_units(channels: dict[str, int], n_units: int | None, rng=None) -> list:
    """``n_units`` channels per layer drawn without replacement (``None``: all) with ``rng``
    (a ``numpy.random.Generator`` or an int seed), as ``[(layer, channel), ...]`` in layer
    order."""
    rng = as_generator(rng)
    out = []
    for layer, c in channels.items():
        ch = np.arange(c) if n_units is None or n_units >= c else np.sort(
            rng.choice(c, n_units, replace=False))
        out += [(layer, int(k)) for k in ch]
    return out


def search_meis(models, generator, units, methods, budget: int, *, rng=0,
                workers: int = 10, progress: bool = True) -> dict:
    """MEIs of ``units`` under each of ``models`` with each of ``methods``.

    Parameters
    ----------
    models : ``[(epoch, model), ...]`` (e.g. the training snapshots; epoch 0: initialisation).
    generator : :class:`fclib.snn.generators.LatentGenerator`.
    units : ``[(layer, channel), ...]`` (see :func:`pick_units`) or neurons
        ``[(layer, channel, y, x), ...]`` (see :func:`fclib.stats.mei.pick_labelled`).
    methods : names of :data:`fclib.optim.METHODS`.
    budget : evaluations per search.
    rng : an int seed or a ``numpy.random.Generator`` (which draws one seed,
        :func:`fclib._util.seed_of`); every search starts from that same seed, so a search
        is reproducible on its own.

    Returns a dict: ``table`` (one row per epoch, unit and method: ``layer``, ``channel``,
    ``y`` and ``x`` (-1 for a whole channel), ``activation``, the MEI's
    ``class``, ``probability`` and normalised class ``entropy``, ``n_calls``, ``seconds``),
    and arrays aligned with its rows: ``index`` (latent grid index ``(rows, d)``), ``image``
    (``(rows, H, W)``), ``trace`` and ``elapsed`` (``(rows, budget)``: best activation so far
    and wall seconds after each evaluation).
    """
    rows, index, image, trace, elapsed = [], [], [], [], []
    seed = seed_of(rng)
    jobs = [(e, m, u, meth) for e, m in models for u in units for meth in methods]
    with one_thread():
        for epoch, model, unit, meth in progress_bar(jobs, desc="MEIs", progress=progress):
            layer, ch = unit[0], int(unit[1])
            pos = (int(unit[2]), int(unit[3])) if len(unit) == 4 else None
            model.eval()
            f = unit_objective(model, layer, ch, generator, pos)
            t0 = time.perf_counter()
            res = maximise(meth, f, generator.d, generator.n, budget, rng=seed,
                           workers=workers)
            secs = time.perf_counter() - t0
            x = generator(res["index"][None])
            p = class_probabilities(model, x)[0]
            rows.append(dict(epoch=int(epoch), layer=layer, channel=ch,
                             y=-1 if pos is None else pos[0], x=-1 if pos is None else pos[1],
                             method=meth,
                             activation=res["value"], **{"class": int(p.argmax())},
                             probability=float(p.max()), entropy=float(class_entropy(p)),
                             n_calls=res["n_calls"], seconds=secs))
            index.append(res["index"])
            image.append(x[0, 0].cpu().numpy())
            trace.append(res["trace"])
            elapsed.append(res["seconds"])
    table = pd.DataFrame(rows)
    return dict(table=table, index=np.array(index).reshape(len(rows), generator.d),
                image=np.array(image), trace=np.array(trace), elapsed=np.array(elapsed))


def mei_formation(model, generator, layer: str, channel: int, method: str, budget: int,
                  checkpoints, rng=0, position=None) -> dict:
    """One MEI forming: the best image so far and its activation after each number of
    evaluations in ``checkpoints`` (the MANGO paper's Fig. 4, right). Returns ``evaluations``,
    ``activation`` and ``image`` ``(len(checkpoints), H, W)``. ``rng``: the search's int
    seed or a Generator (:func:`fclib.optim.maximise`)."""
    f0 = unit_objective(model, layer, channel, generator, position)
    seen = []

    def f(index):
        y = f0(index)
        seen.extend(zip(y, map(tuple, index)))
        return y

    with one_thread():
        maximise(method, f, generator.d, generator.n, budget, rng=rng)
    vals = np.array([v for v, _ in seen])
    best = np.maximum.accumulate(vals)
    arg = np.array([int(np.flatnonzero(vals[:i + 1] == best[i])[0]) for i in range(len(vals))])
    ev = [int(min(c, len(vals))) for c in checkpoints]
    idx = np.array([seen[arg[c - 1]][1] for c in ev])
    return dict(evaluations=np.array(ev), activation=best[np.array(ev) - 1],
                image=generator(idx)[:, 0].cpu().numpy())


def save_search(result: dict, path) -> Path:
    """Write a :func:`search_meis` result to ``path`` (.npz, atomically:
    :func:`fclib.store.atomic_write`)."""
    with atomic_write(path) as tmp:
        _write_search(result, tmp)
    return Path(path)


def _write_search(result: dict, path: Path) -> None:
    t = result["table"]
    cols = {f"col_{c}": (t[c].to_numpy() if pd.api.types.is_numeric_dtype(t[c])
                         else t[c].astype(str).to_numpy(dtype=str)) for c in t.columns}
    with open(path, "wb") as f:
        np.savez(f, **cols, **{k: v for k, v in result.items() if k != "table"})


def load_search(path) -> dict:
    """Read what :func:`save_search` wrote."""
    with np.load(path) as z:
        table = pd.DataFrame({k[4:]: z[k] for k in z.files if k.startswith("col_")})
        out = {k: z[k] for k in z.files if not k.startswith("col_")}
    return dict(table=table, **out)


def cached_search(directory, parent_key: str, models, generator, units, methods,
                  budget: int, *, rng=0, workers: int = 10, progress: bool = True,
                  name: str = "meis") -> dict:
    """:func:`search_meis`, cached as ``<directory>/<name>-<key>.npz``; the key hashes the
    epochs, units, methods, budget, seed (``rng``: an int seed, or a Generator that draws one,
    :func:`fclib._util.seed_of`), the generator's key, ``parent_key`` (the trained
    model's) and this code; computed once under the file's lock (:func:`fclib.store.cached`),
    the key's inputs stored in the file. ``result["path"]`` names the file."""
    seed = seed_of(rng)
    params = dict(epochs=[int(e) for e, _ in models],
                  units=[[u[0], *map(int, u[1:])] for u in units],
                  methods=list(methods), budget=int(budget), seed=int(seed),
                  workers=int(workers), generator=getattr(generator, "key", generator.config))
    key = artefact_key("fclib.snn.mei", params, parent=parent_key)
    path = Path(directory) / f"{name}-{key[0]}.npz"
    out = cached(path, lambda: search_meis(models, generator, units, methods, budget,
                                           rng=seed, workers=workers, progress=progress),
                 _write_search, load_search, key=key)
    out["path"] = path
    return out


def labelled_meis(directory, parent_key: str, model, generator, picked: dict, budget: int, *,
                  epoch: int = 0, preferred: dict | None = None, method: str = "TT",
                  rng=0, progress: bool = True) -> dict:
    """Neuron-level MEIs of labelled neurons, compared per label (hubs against other
    targets, 1FC-group members against non-members; beyond the MANGO paper).

    ``picked``: comparison name → :func:`fclib.stats.mei.pick_labelled` rows (``layer``,
    ``channel``, ``y``, ``x``, ``label``, ``rate``, ``pair``, ``neuron``); ``preferred``:
    comparison name → preferred class per neuron id. One :func:`cached_search` over all
    neurons (``method``, ``budget``, ``rng``: an int seed or a Generator). Returns name →
    ``(per_neuron, summary)`` of :func:`fclib.stats.mei.compare_labelled`, and ``"search"`` → the search result
    (``None`` when no neuron was picked)."""
    from fclib.stats.mei import compare_labelled

    units = [(str(l), int(c), int(y), int(x)) for p in picked.values()
             for l, c, y, x in p[["layer", "channel", "y", "x"]].itertuples(False, None)]
    res = None
    if units:
        res = cached_search(directory, parent_key, [(epoch, model)], generator, units, [method],
                            budget, rng=rng, progress=progress, name="labelled")
    table = res["table"] if res else pd.DataFrame()
    trace = res["trace"] if res else np.zeros((0, budget))
    out = {k: compare_labelled(p, table, trace, (preferred or {}).get(k))
           for k, p in picked.items()}
    out["search"] = res
    return out
