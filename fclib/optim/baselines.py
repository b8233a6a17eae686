"""Nevergrad baselines of the MANGO paper (Pospelov et al., "Fast gradient-free activation
maximization for neurons in spiking neural networks": random search and ``Portfolio``) and
one entry point for every method, recording the network calls and the wall time.

The MANGO paper (§3.4 and the authors' code) optimises over ``TransitionChoice(range(n), repetitions=d)``
with one ``ask``/``tell`` per point, so each evaluation is one network call; PROTES sends
``K`` points per call. ``Portfolio`` with ``workers = K`` asks ``K`` candidates, evaluates them
as one batch and tells them back, the fair batched comparison. Nevergrad minimises: the
values are told negated. Nevergrad is imported inside the functions.
"""
from __future__ import annotations

import time

import numpy as np

from fclib._util import seed_of
from fclib.optim.protes import GRAY_PRESETS, PRESETS, run_preset

__all__ = ["nevergrad_search", "maximise", "METHODS"]

#: Methods of the MANGO paper's Table 1 and their options (``workers`` > 1: batched asks).
METHODS: dict[str, dict] = {
    "RS": dict(optimizer="RandomSearch", workers=1),
    "NG": dict(optimizer="Portfolio", workers=1),
    "NG-K": dict(optimizer="Portfolio", workers=10),
    **{name: {} for name in (*PRESETS, *GRAY_PRESETS)},
}


def nevergrad_search(f, d: int, n: int, budget: int, optimizer: str = "Portfolio",
                     workers: int = 1, rng=0, info: dict | None = None,
                     target: float | None = None):
    """Maximise ``f`` (int array ``(K, d)`` → ``K`` values) with a Nevergrad optimiser over
    ``TransitionChoice(range(n), repetitions=d)``.

    ``workers`` candidates are asked, evaluated in one call of ``f`` and told. Returns
    ``(best_index (d,), best_value, trace (budget,))`` like :func:`fclib.optim.protes`;
    ``info`` receives ``n_calls`` and ``seconds`` (wall time after each evaluation);
    ``target`` stops the search after the first batch that meets a value ``>= target``;
    ``rng`` (an int seed or a Generator, :func:`fclib._util.seed_of`) seeds the optimiser's
    ``numpy.random.RandomState``.
    """
    import nevergrad as ng

    if budget < 1 or workers < 1:
        raise ValueError(f"budget and workers must be >= 1, got {budget}, {workers}")
    param = ng.p.TransitionChoice(range(n), repetitions=d)
    param.random_state = np.random.RandomState(seed_of(rng))
    opt = ng.optimizers.registry[optimizer](parametrization=param, budget=budget,
                                            num_workers=workers)
    trace, seconds = np.empty(budget), np.empty(budget)
    best_i, best_y, done, calls = None, -np.inf, 0, 0
    t0 = time.perf_counter()
    while done < budget:
        m = min(workers, budget - done)
        cands = [opt.ask() for _ in range(m)]
        idx = np.array([np.asarray(c.value, dtype=np.int64) for c in cands]).reshape(m, d)
        y = np.asarray(f(idx), dtype=float).reshape(-1)
        calls += 1
        for c, v in zip(cands, y):
            opt.tell(c, -float(v))
        seconds[done:done + m] = time.perf_counter() - t0
        for j in range(m):
            if y[j] > best_y:
                best_y, best_i = float(y[j]), idx[j].copy()
            trace[done + j] = best_y
        done += m
        if target is not None and best_y >= target:
            break
    if info is not None:
        info.update(n_calls=calls, seconds=seconds[:done])
    return best_i, best_y, trace[:done]


def maximise(method: str, f, d: int, n: int, budget: int, rng=0, workers: int = 10,
             target: float | None = None):
    """Run one method of :data:`METHODS` (``"RS"``, ``"NG"``, ``"NG-K"`` with ``workers``
    per call, ``"TT"``, ``"TT-s"``, ``"TT-b"`` and their ``-gray`` twins) and return a dict: ``index``, ``value``,
    ``trace`` and ``seconds`` (arrays of length ``budget``, shorter when ``target``, a known
    optimum, stopped the search) and ``n_calls``. ``rng``: an int seed or a Generator (which
    draws one seed, :func:`fclib._util.seed_of`); the same seed gives the same search."""
    info: dict = {}
    if method in PRESETS or method in GRAY_PRESETS:
        i, y, tr = run_preset(method, f, d, n, budget, rng=rng, info=info, target=target)
    elif method in METHODS:
        opts = dict(METHODS[method])
        if method == "NG-K":
            opts["workers"] = workers
        i, y, tr = nevergrad_search(f, d, n, budget, rng=rng, info=info, target=target,
                                    **opts)
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    return dict(index=i, value=y, trace=tr, seconds=info["seconds"], n_calls=info["n_calls"])
