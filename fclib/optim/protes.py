"""PROTES: probabilistic optimisation with a tensor-train distribution over an index grid.

Batsheva, Chertkov, Ryzhakov, Oseledets (2023), "PROTES: probabilistic optimization with
tensor sampling", NeurIPS; used by Pospelov et al. (MANGO, ``papers/003_…``) for most exciting
inputs. Re-implemented here in torch because the ``protes`` package pins numpy < 2.0.2.

The distribution over multi-indices ``i = (i_1, …, i_d)``, ``i_k ∈ {0, …, n-1}``, is a tensor
train with cores ``G_1`` (1×n×r), ``G_k`` (r×n×r), ``G_d`` (r×n×1), initialised uniformly
in [0, 1):

    P(i) = G_1[:, i_1, :] G_2[:, i_2, :] … G_d[:, i_d, :],     p(i) = |P(i)| / Σ_j |P(j)|

(the last equality holds exactly while the cores are non-negative; after updates the sampler
below defines p). Sampling is sequential in ``k``: with right interface vectors
``z_{d+1} = 1``, ``z_k = normalise(Σ_j G_k[:, j, :] z_{k+1})`` and the left vector
``q_0 = 1``, draw ``i_k`` with probability ∝ ``|q_{k-1}ᵀ G_k[:, j, :] z_{k+1}|`` and set
``q_k = normalise(q_{k-1}ᵀ G_k[:, i_k, :])``. ``log p(i)`` is the sum of the per-step log
probabilities, computed the same way, and is differentiable in the cores (the normalisations
are scalars and cancel in each ratio, so for non-negative cores the product of the
conditionals telescopes to ``P(i) / Σ P``).

One iteration: draw ``k`` samples, evaluate them as one batch (one call of ``f``), keep the
best so far, take the ``k_top`` best of the batch as the elite (as the reference code does)
and take ``k_gd`` Adam steps (learning rate ``lr``) on ``-mean log p(elite)``. The last batch
is cut so that exactly ``budget`` points are evaluated.

Quantisation (QTT): for ``n = 2^q`` each coordinate becomes ``q`` binary modes,
little-endian (``i = Σ_b bit_b 2^b``), so the train has ``d·q`` modes of size 2.

Torch is imported inside the functions: importing :mod:`fclib.optim` stays light.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

__all__ = ["protes", "PRESETS", "init_cores", "sample", "log_prob", "dense_probability",
           "qtt_encode", "qtt_decode", "run_preset", "one_thread"]

#: The TT variants of 003 (§3.4), all rank 5; lr = 0.05 and one Adam step (the authors' code).
PRESETS: dict[str, dict] = {
    "TT": dict(k=10, k_top=1, qtt=False, rank=5, lr=0.05, k_gd=1),
    "TT-s": dict(k=5, k_top=1, qtt=True, rank=5, lr=0.05, k_gd=1),
    "TT-b": dict(k=25, k_top=5, qtt=True, rank=5, lr=0.05, k_gd=1),
}


# --------------------------------------------------------------------------- QTT indices
def _bits(n: int) -> int:
    q = int(round(np.log2(n))) if n > 1 else 0
    if n < 2 or 2 ** q != n:
        raise ValueError(f"quantisation (qtt=True) needs n = 2^q >= 2 grid points, got n={n}")
    return q


def qtt_encode(index: np.ndarray, n: int) -> np.ndarray:
    """Indices ``(K, d)`` on a grid of ``n = 2^q`` points → bits ``(K, d·q)``, little-endian
    within each coordinate (coordinate ``c``'s bit ``b`` is column ``c·q + b``)."""
    q = _bits(n)
    index = np.asarray(index, dtype=np.int64)
    bits = (index[..., None] >> np.arange(q)) & 1
    return bits.reshape(*index.shape[:-1], index.shape[-1] * q)


def qtt_decode(bits: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`qtt_encode`: bits ``(K, d·q)`` → indices ``(K, d)``."""
    q = _bits(n)
    bits = np.asarray(bits, dtype=np.int64)
    b = bits.reshape(*bits.shape[:-1], bits.shape[-1] // q, q)
    return (b << np.arange(q)).sum(-1)


# --------------------------------------------------------------------------- the TT distribution
def init_cores(d: int, n: int, rank: int, seed: int = 0):
    """Cores ``[G_1 (1×n×r), G_k (r×n×r), …, G_d (r×n×1)]`` uniform in [0, 1) (float64 torch
    leaves that require grad), drawn from a seeded torch generator."""
    import torch

    if d < 1 or n < 1 or rank < 1:
        raise ValueError(f"d, n and rank must be >= 1, got d={d}, n={n}, rank={rank}")
    g = torch.Generator().manual_seed(int(seed))
    shapes = [(1 if k == 0 else rank, n, 1 if k == d - 1 else rank) for k in range(d)]
    return [torch.rand(s, generator=g, dtype=torch.float64).requires_grad_(True) for s in shapes]


def _interfaces(cores):
    """Right interface vectors ``z_{k+1}`` for each k (list of length d; the last is 1)."""
    import torch

    z = torch.ones(1, dtype=cores[0].dtype)
    out = [z]
    for G in reversed(cores[1:]):
        z = G.sum(1) @ z
        z = z / torch.linalg.norm(z)
        out.append(z)
    return out[::-1]


def sample(cores, k: int, generator) -> np.ndarray:
    """``k`` independent draws ``(k, d)`` of the TT distribution (sequential sampling with
    uniforms from the torch ``generator``)."""
    import torch

    with torch.no_grad():
        zs = _interfaces(cores)
        q = torch.ones(k, 1, dtype=cores[0].dtype)
        out = torch.empty(k, len(cores), dtype=torch.int64)
        for j, (G, z) in enumerate(zip(cores, zs)):
            w = torch.einsum("kr,rns,s->kn", q, G, z).abs()          # (k, n)
            cdf = torch.cumsum(w, 1)
            u = torch.rand(k, 1, generator=generator, dtype=w.dtype) * cdf[:, -1:]
            i = torch.searchsorted(cdf, u).clamp_max(w.shape[1] - 1).squeeze(1)
            out[:, j] = i
            q = torch.einsum("kr,krs->ks", q, G[:, i, :].permute(1, 0, 2))
            q = q / torch.linalg.norm(q, dim=1, keepdim=True).clamp_min(1e-300)
    return out.numpy()


def log_prob(cores, index):
    """``log p(i)`` of each row of ``index`` ``(K, d)`` (torch tensor ``(K,)``,
    differentiable in the cores)."""
    import torch

    idx = torch.as_tensor(np.asarray(index), dtype=torch.int64)
    zs = _interfaces(cores)
    q = torch.ones(idx.shape[0], 1, dtype=cores[0].dtype)
    lp = torch.zeros(idx.shape[0], dtype=cores[0].dtype)
    for j, (G, z) in enumerate(zip(cores, zs)):
        w = torch.einsum("kr,rns,s->kn", q, G, z).abs()
        i = idx[:, j]
        lp = lp + torch.log(w.gather(1, i[:, None]).squeeze(1)) - torch.log(w.sum(1))
        q = torch.einsum("kr,krs->ks", q, G[:, i, :].permute(1, 0, 2))
        q = q / torch.linalg.norm(q, dim=1, keepdim=True)
    return lp


def dense_probability(cores) -> np.ndarray:
    """The full tensor ``|P| / Σ|P|`` of shape ``(n,)*d`` (the naive twin of :func:`log_prob`
    for tiny cases; memory ``n^d``)."""
    import torch

    with torch.no_grad():
        t = cores[0][0]                                   # (n, r)
        for G in cores[1:]:
            t = torch.tensordot(t, G, dims=([t.dim() - 1], [0]))
        t = t[..., 0].abs()
    return (t / t.sum()).numpy()


# --------------------------------------------------------------------------- the optimiser
@contextlib.contextmanager
def one_thread():
    """Run torch on one intra-op thread inside the block, restoring the setting after.

    PROTES works on tensors of a few hundred numbers: thread start-up costs more than the
    arithmetic, and on a loaded two-core machine many threads made it ten times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def protes(f, d: int, n: int, budget: int, k: int = 10, k_top: int = 1, rank: int = 5,
           lr: float = 0.05, k_gd: int = 1, qtt: bool = False, seed: int = 0,
           info: dict | None = None):
    """Maximise ``f`` over the grid ``{0, …, n-1}^d`` with PROTES.

    Parameters
    ----------
    f : maps an int64 array ``(K, d)`` of indices to ``K`` values to *maximise* (one call
        per batch: the "network calls").
    d, n : number of coordinates and grid points per coordinate.
    budget : number of evaluations; exactly this many points are evaluated.
    k, k_top : samples per iteration and size of the elite (``k_top <= k``).
    rank, lr, k_gd : TT rank, Adam learning rate, Adam steps per iteration.
    qtt : quantise each coordinate into ``log2 n`` binary modes (``n`` must be a power of 2).
    seed : seeds the initial cores and the sampler; the same seed gives the same run.
    info : optional dict, filled with ``n_calls`` (calls of ``f``) and ``seconds`` (wall
        time of each evaluation since the start, array of length ``budget``).

    Returns
    -------
    best_index : int64 ``(d,)``; best_value : float;
    trace : float ``(budget,)``, the best value so far after each evaluation (monotone).
    """
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if not 1 <= k_top <= k:
        raise ValueError(f"need 1 <= k_top <= k, got k_top={k_top}, k={k}")
    with one_thread():
        return _protes(f, d, n, budget, k, k_top, rank, lr, k_gd, qtt, seed, info)


def _protes(f, d, n, budget, k, k_top, rank, lr, k_gd, qtt, seed, info):
    import torch

    n_modes, size = (d * _bits(n), 2) if qtt else (d, n)
    cores = init_cores(n_modes, size, rank, seed)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    opt = torch.optim.Adam(cores, lr=lr)
    trace = np.empty(budget)
    seconds = np.empty(budget)
    best_i, best_y, done, calls = None, -np.inf, 0, 0
    t0 = time.perf_counter()
    while done < budget:
        m = min(k, budget - done)
        raw = sample(cores, m, gen)
        idx = qtt_decode(raw, n) if qtt else raw
        y = np.asarray(f(idx), dtype=float).reshape(-1)
        calls += 1
        if y.shape[0] != m:
            raise ValueError(f"f returned {y.shape[0]} values for {m} points; it must return "
                             "one value per row")
        if not np.all(np.isfinite(y)):
            raise ValueError("f returned a non-finite value; return finite numbers to maximise")
        seconds[done:done + m] = time.perf_counter() - t0
        for j in range(m):
            if y[j] > best_y:
                best_y, best_i = float(y[j]), idx[j].copy()
            trace[done + j] = best_y
        done += m
        if done >= budget:
            break
        elite = raw[np.argsort(-y, kind="stable")[:k_top]]
        for _ in range(k_gd):
            opt.zero_grad()
            loss = -log_prob(cores, elite).mean()
            loss.backward()
            opt.step()
    if info is not None:
        info.update(n_calls=calls, seconds=seconds)
    return best_i.astype(np.int64), best_y, trace


def run_preset(name: str, f, d: int, n: int, budget: int, seed: int = 0,
               info: dict | None = None):
    """:func:`protes` with one of the :data:`PRESETS` (``"TT"``, ``"TT-s"``, ``"TT-b"``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown TT variant {name!r}; choose one of {sorted(PRESETS)}")
    return protes(f, d, n, budget, seed=seed, info=info, **PRESETS[name])
