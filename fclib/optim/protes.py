"""PROTES: probabilistic optimisation with a tensor-train distribution over an index grid.

Batsheva, Chertkov, Ryzhakov, Oseledets (2023), "PROTES: probabilistic optimization with
tensor sampling", NeurIPS; used by Pospelov et al. (the MANGO paper, "Fast gradient-free activation maximization for
neurons in spiking neural networks") for most exciting
inputs. Re-implemented here in numpy (the reverse-mode gradient of ``log p`` written out)
because the ``protes`` package pins numpy < 2.0.2.

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
little-endian (``i = Σ_b bit_b 2^b``, as ``teneva.ind_qtt_to_tt``), so the train has ``d·q``
modes of size 2. Neighbouring grid points can then differ in many bits (7 = 0111, 8 = 1000):
on a smooth objective the greedy small-batch update (K = 5, k_top = 1) settles one step from
the optimum and does not cross such a "Hamming cliff". ``qtt="gray"`` (our addition, not in
the MANGO paper) quantises the reflected Gray code of the index instead, in which neighbours differ in
exactly one bit; on the separable known optimum of ``tests/test_protes.py`` it takes TT-s
from 2 to 15 of 15 seeds (``benchmarks/protes_reference.py``, which also shows that the
``protes`` package itself, run on the MANGO paper's binary coding, misses the optimum as often as ours).

Everything is numpy: the distribution has a few hundred parameters and is walked mode by mode,
where torch's per-operation overhead made a run of 10⁴ evaluations ten to thirty times slower.
"""
from __future__ import annotations

import time

import numpy as np

from fclib._util import as_generator, seed_of

__all__ = ["protes", "PRESETS", "GRAY_PRESETS", "init_cores", "sample", "log_prob",
           "dense_probability", "qtt_encode", "qtt_decode", "run_preset", "Adam"]

#: The TT variants of the MANGO paper (§3.4), all rank 5; lr = 0.05 and one Adam step (the authors' code).
#: The paper's text quantises TT-s and TT-b only; the authors' ``manager.py`` passes ``with_qtt=True``
#: to all three. We follow the text.
PRESETS: dict[str, dict] = {
    "TT": dict(k=10, k_top=1, qtt=False, rank=5, lr=0.05, k_gd=1),
    "TT-s": dict(k=5, k_top=1, qtt=True, rank=5, lr=0.05, k_gd=1),
    "TT-b": dict(k=25, k_top=5, qtt=True, rank=5, lr=0.05, k_gd=1),
}

#: The same variants quantised in Gray code (``qtt="gray"``, our addition; TT quantised as in
#: the authors' code): no Hamming cliffs between neighbouring grid points.
GRAY_PRESETS: dict[str, dict] = {
    f"{name}-gray": dict(opts, qtt="gray") for name, opts in PRESETS.items()
}


# --------------------------------------------------------------------------- QTT indices
def _bits(n: int) -> int:
    q = int(round(np.log2(n))) if n > 1 else 0
    if n < 2 or 2 ** q != n:
        raise ValueError(f"quantisation (qtt=True) needs n = 2^q >= 2 grid points, got n={n}")
    return q


_CODES = ("binary", "gray")


def _code(qtt) -> str | None:
    """``qtt`` option → ``None`` (no quantisation), ``"binary"`` or ``"gray"``."""
    if qtt is False or qtt is None:
        return None
    if qtt is True:
        return "binary"
    if qtt in _CODES:
        return qtt
    raise ValueError(f"qtt must be False, True, 'binary' or 'gray', got {qtt!r}")


def _gray_to_int(g: np.ndarray) -> np.ndarray:
    """Inverse of ``i ^ (i >> 1)`` (the reflected Gray code), elementwise."""
    b = g.copy()
    shift = g >> 1
    while np.any(shift):
        b ^= shift
        shift >>= 1
    return b


def qtt_encode(index: np.ndarray, n: int, code: str = "binary") -> np.ndarray:
    """Indices ``(K, d)`` on a grid of ``n = 2^q`` points → bits ``(K, d·q)``, little-endian
    within each coordinate (coordinate ``c``'s bit ``b`` is column ``c·q + b``). ``code="gray"``
    encodes ``i ^ (i >> 1)`` instead of ``i``, so neighbouring indices differ in one bit."""
    q = _bits(n)
    index = np.asarray(index, dtype=np.int64)
    if _code(code) == "gray":
        index = index ^ (index >> 1)
    bits = (index[..., None] >> np.arange(q)) & 1
    return bits.reshape(*index.shape[:-1], index.shape[-1] * q)


def qtt_decode(bits: np.ndarray, n: int, code: str = "binary") -> np.ndarray:
    """Inverse of :func:`qtt_encode`: bits ``(K, d·q)`` → indices ``(K, d)``."""
    q = _bits(n)
    bits = np.asarray(bits, dtype=np.int64)
    b = bits.reshape(*bits.shape[:-1], bits.shape[-1] // q, q)
    index = (b << np.arange(q)).sum(-1)
    return _gray_to_int(index) if _code(code) == "gray" else index


# --------------------------------------------------------------------------- the TT distribution
def init_cores(d: int, n: int, rank: int, rng=0) -> list[np.ndarray]:
    """Cores ``[G_1 (1×n×r), G_k (r×n×r), …, G_d (r×n×1)]`` (float64) uniform in [0, 1),
    drawn from ``rng`` (a ``numpy.random.Generator`` or an int seed,
    :func:`fclib._util.as_generator`)."""
    if d < 1 or n < 1 or rank < 1:
        raise ValueError(f"d, n and rank must be >= 1, got d={d}, n={n}, rank={rank}")
    rng = as_generator(rng)
    shapes = [(1 if k == 0 else rank, n, 1 if k == d - 1 else rank) for k in range(d)]
    return [rng.random(s) for s in shapes]


def _interfaces(cores):
    """Right interface vectors ``z_{k+1}`` for each core k (list of length d; the last is
    ``[1]``) and the norms ``|Σ_j G_k[:, j, :] z_{k+1}|`` they were divided by (index k−1)."""
    z = np.ones(1)
    zs, norms = [z], [None] * len(cores)
    for k in range(len(cores) - 1, 0, -1):
        u = cores[k].sum(1) @ z
        norms[k - 1] = np.linalg.norm(u)
        z = u / norms[k - 1]
        zs.append(z)
    return zs[::-1], norms


def sample(cores, k: int, rng) -> np.ndarray:
    """``k`` independent draws ``(k, d)`` of the TT distribution (sequential sampling with
    uniforms from the numpy Generator ``rng``)."""
    zs, _ = _interfaces(cores)
    q = np.ones((k, 1))
    out = np.empty((k, len(cores)), dtype=np.int64)
    rows = np.arange(k)
    for j, (G, z) in enumerate(zip(cores, zs)):
        r, n, s = G.shape
        A = (q @ G.reshape(r, n * s)).reshape(k, n, s)          # q_{j-1}ᵀ G_j[:, i, :]
        cdf = np.cumsum(np.abs(A @ z), 1)                         # (k, n)
        u = rng.random(k) * cdf[:, -1]
        i = np.minimum((cdf < u[:, None]).sum(1), n - 1)
        out[:, j] = i
        q = A[rows, i]
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-300)
    return out


def log_prob(cores, index, grad: bool = False):
    """``log p(i)`` of each row of ``index`` ``(K, d)`` (array ``(K,)``).

    With ``grad=True`` also returns the gradient of ``mean log p`` with respect to each core
    (list of arrays shaped like the cores), by reverse-mode differentiation written out for
    the sequential sampler (the normalisations included)."""
    idx = np.asarray(index, dtype=np.int64)
    K, d = idx.shape
    zs, znorms = _interfaces(cores)
    rows = np.arange(K)
    q = np.ones((K, 1))
    lp = np.zeros(K)
    tape = []
    for j, (G, z) in enumerate(zip(cores, zs)):
        r, n, s = G.shape
        A = (q @ G.reshape(r, n * s)).reshape(K, n, s)          # q_{j-1}ᵀ G_j[:, i, :]
        b = A @ z                                                 # (K, n), signed
        w = np.abs(b)
        i = idx[:, j]
        wi, W = w[rows, i], w.sum(1)
        lp += np.log(wi) - np.log(W)
        h = A[rows, i]
        hn = np.linalg.norm(h, axis=1, keepdims=True)
        tape.append((q, A, b, wi, W, i, h / hn, hn))
        q = h / hn
    if not grad:
        return lp
    grads = [None] * d
    gzs = [np.zeros_like(z) for z in zs]
    gq_next = np.zeros_like(q)
    for j in range(d - 1, -1, -1):
        G, z = cores[j], zs[j]
        r, n, s = G.shape
        q, A, b, wi, W, i, qn, hn = tape[j]
        # q_{j+1} = h / |h|,  h = A[k, i_k, :]
        gh = (gq_next - qn * (qn * gq_next).sum(1, keepdims=True)) / hn
        # lp_k += log|b[k, i_k]| - log Σ_n |b[k, n]|,  b = A z   (mean over the K rows)
        gb = -np.sign(b) / W[:, None]
        gb[rows, i] += np.sign(b[rows, i]) / wi
        gb /= K
        gA = gb[:, :, None] * z                                   # (K, n, s)
        gA[rows, i] += gh
        gzs[j] += np.einsum("kns,kn->s", A, gb)
        gA = gA.reshape(K, n * s)
        grads[j] = (q.T @ gA).reshape(r, n, s)                    # A = q G
        gq_next = gA @ G.reshape(r, n * s).T
    # z_{j-1} = u / |u|,  u = (Σ_n G_j[:, n, :]) z_j,  for j = 1 … d-1 (left to right)
    for j in range(1, d):
        zp, g = zs[j - 1], gzs[j - 1]
        gu = (g - zp * (zp @ g)) / znorms[j - 1]
        grads[j] += np.outer(gu, zs[j])[:, None, :]
        gzs[j] += cores[j].sum(1).T @ gu
    return lp, grads


def dense_probability(cores) -> np.ndarray:
    """The full tensor ``|P| / Σ|P|`` of shape ``(n,)*d`` (the naive twin of :func:`log_prob`
    for tiny cases; memory ``n^d``)."""
    t = cores[0][0]                                               # (n, r)
    for G in cores[1:]:
        t = np.tensordot(t, G, axes=([t.ndim - 1], [0]))
    t = np.abs(t[..., 0])
    return t / t.sum()


class Adam:
    """Adam (Kingma & Ba; the defaults of ``torch.optim.Adam`` and ``optax.adam``:
    β = (0.9, 0.999), ε = 1e-8) on a list of numpy arrays, updated in place."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        """One descent step along the gradients ``grads`` (of the loss to minimise)."""
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


# --------------------------------------------------------------------------- the optimiser
def protes(f, d: int, n: int, budget: int, k: int = 10, k_top: int = 1, rank: int = 5,
           lr: float = 0.05, k_gd: int = 1, qtt: bool = False, rng=0,
           info: dict | None = None, target: float | None = None):
    """Maximise ``f`` over the grid ``{0, …, n-1}^d`` with PROTES.

    Parameters
    ----------
    f : maps an int64 array ``(K, d)`` of indices to ``K`` values to *maximise* (one call
        per batch: the "network calls").
    d, n : number of coordinates and grid points per coordinate.
    budget : number of evaluations; exactly this many points are evaluated unless
        ``target`` stops the search earlier.
    k, k_top : samples per iteration and size of the elite (``k_top <= k``).
    rank, lr, k_gd : TT rank, Adam learning rate, Adam steps per iteration.
    qtt : ``False``; ``True`` or ``"binary"``: quantise each coordinate into ``log2 n`` binary
        modes (``n`` must be a power of 2; the MANGO paper's TT-s and TT-b); ``"gray"``: the same on the
        Gray code of the index (neighbouring grid points one bit apart).
    rng : an int seed or a ``numpy.random.Generator`` (which draws one seed,
        :func:`fclib._util.seed_of`); the seed ``s`` draws the initial cores from
        ``default_rng(s)`` and the samples from ``default_rng([s, 1])``: the same seed gives
        the same run.
    info : optional dict, filled with ``n_calls`` (calls of ``f``) and ``seconds`` (wall
        time of each evaluation since the start, one per evaluation made).
    target : optional; stop after the first batch in which a value ``>= target`` is met
        (a known optimum), the trace then being shorter than ``budget``.

    Returns
    -------
    best_index : int64 ``(d,)``; best_value : float;
    trace : float, the best value so far after each evaluation made (monotone; length
    ``budget`` unless ``target`` stopped the search).
    """
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if not 1 <= k_top <= k:
        raise ValueError(f"need 1 <= k_top <= k, got k_top={k_top}, k={k}")
    code = _code(qtt)
    n_modes, size = (d * _bits(n), 2) if code else (d, n)
    seed = seed_of(rng)
    cores = init_cores(n_modes, size, rank, seed)
    rng = np.random.default_rng([seed, 1])
    opt = Adam(cores, lr=lr)
    trace = np.empty(budget)
    seconds = np.empty(budget)
    best_i, best_y, done, calls = None, -np.inf, 0, 0
    t0 = time.perf_counter()
    while done < budget:
        m = min(k, budget - done)
        raw = sample(cores, m, rng)
        idx = qtt_decode(raw, n, code) if code else raw
        y = np.asarray(f(idx), dtype=float).reshape(-1)
        calls += 1
        if y.shape[0] != m:
            raise ValueError(f"f returned {y.shape[0]} values for {m} points; it must return "
                             "one value per row")
        if not np.all(np.isfinite(y)):
            raise ValueError("f returned a non-finite value; return finite numbers to maximise")
        seconds[done:done + m] = time.perf_counter() - t0
        trace[done:done + m] = np.maximum.accumulate(np.concatenate([[best_y], y]))[1:]
        j = int(np.argmax(y))
        if y[j] > best_y:
            best_y, best_i = float(y[j]), idx[j].copy()
        done += m
        if done >= budget or (target is not None and best_y >= target):
            break
        elite = raw[np.argsort(-y, kind="stable")[:k_top]]
        for _ in range(k_gd):
            _, grads = log_prob(cores, elite, grad=True)
            opt.step([-g for g in grads])
    if info is not None:
        info.update(n_calls=calls, seconds=seconds[:done])
    return best_i.astype(np.int64), best_y, trace[:done]


def run_preset(name: str, f, d: int, n: int, budget: int, rng=0,
               info: dict | None = None, target: float | None = None):
    """:func:`protes` with one of the :data:`PRESETS` (``"TT"``, ``"TT-s"``, ``"TT-b"``) or
    :data:`GRAY_PRESETS` (the same with ``-gray``)."""
    presets = {**PRESETS, **GRAY_PRESETS}
    if name not in presets:
        raise ValueError(f"unknown TT variant {name!r}; choose one of {sorted(presets)}")
    return protes(f, d, n, budget, rng=rng, info=info, target=target, **presets[name])
