"""Exact first-spike times of current-based LIF neurons with τ_m = τ_s (time-to-first-spike).

The neuron (Göltz et al. 2021, *Nat. Mach. Intell.* 3, 823, the "equal time constants" case;
the model of paper 002) has τ_m = τ_s = 1 (time in units of τ), threshold 1, leak to 0, and
spikes once (no reset is needed for the first spike). Input ``i`` spiking at ``t_i`` with
weight ``w_i`` adds an alpha-shaped PSP, so before the neuron's own spike

    V(t) = Σ_{t_i < t} w_i (t − t_i) e^{−(t − t_i)} = e^{−t} (A_k t − B_k)   on [t_k, t_{k+1}),

with the inputs sorted by time and, over the ``k`` earliest, A_k = Σ w_i e^{t_i},
B_k = Σ w_i t_i e^{t_i}. Setting V = 1 and u = t − B_k/A_k gives (−u) e^{−u} = −e^{B_k/A_k}/A_k,
so the first crossing (the rising flank, u ∈ (0, 1]) is

    t* = B_k/A_k − W₀(−e^{B_k/A_k}/A_k),   W₀ the principal branch of Lambert W,

valid when A_k > 0, the argument is ≥ −1/e and t_k ≤ t* < t_{k+1}. The neuron's spike time
is the smallest valid t* over k, else ∞ (silent).

Algorithm. A crossing in [t_k, t_{k+1}) exists iff A_k > 0 and V_k reaches 1 at
``clip(B_k/A_k + 1, t_k, t_{k+1})`` (V_k rises until its peak at B_k/A_k + 1, and V < 1 at t_k
because no earlier interval crossed). This test needs only exponentials; Lambert W is then
evaluated once per (sample, neuron), at the first such k. Times enter through e^{t_i − r}
with ``r`` the sample's earliest input, so nothing overflows (A, B and z are rescaled
consistently: z = −e^{B/A − r}/A with the rescaled A, B). A membrane that touches the
threshold exactly (z = −1/e up to rounding, ``_REL_TOL``) counts as a spike.

The torch path (:func:`first_spike_times` on tensors) picks k the same way without gradient,
then recomputes t* from the inputs that arrived before it (``t_i ≤ t*``: exactly the k
earliest) differentiably, through a custom Lambert W whose derivative is
dW/dz = W / (z (1 + W)). The tests compare the times with Euler integration of the ODE
(step 1e-4) and check gradients with ``torch.autograd.gradcheck``.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import lambertw as _scipy_lambertw

__all__ = ["first_spike_times", "membrane_potential", "check_layer_inputs", "lambertw0"]

_REL_TOL = 1e-12          # relative slack of the threshold test (rounding only)
_INV_E = float(np.exp(-1.0))


def _is_torch(x) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch")


def check_layer_inputs(input_times, weights) -> None:
    """Raise ``ValueError`` with what to fix when times/weights cannot form a layer:
    shapes ``(batch, n_in)`` and ``(n_in, n_out)``, no NaN, no negative input time."""
    t_shape, w_shape = tuple(input_times.shape), tuple(weights.shape)
    if len(t_shape) != 2:
        raise ValueError(f"input_times must be 2-D (batch, n_in), got shape {t_shape}")
    if len(w_shape) != 2:
        raise ValueError(f"weights must be 2-D (n_in, n_out), got shape {w_shape}")
    if t_shape[1] != w_shape[0]:
        raise ValueError(f"input_times has {t_shape[1]} inputs per sample but weights has "
                         f"{w_shape[0]} rows; weights must be (n_in, n_out) = "
                         f"({t_shape[1]}, n_out)")
    t = input_times.detach().cpu().numpy() if _is_torch(input_times) else np.asarray(input_times)
    w = weights.detach().cpu().numpy() if _is_torch(weights) else np.asarray(weights)
    if np.isnan(t).any():
        i, j = np.argwhere(np.isnan(t))[0]
        raise ValueError(f"input_times holds NaN (first at sample {i}, input {j}); use np.inf "
                         "for an input that does not spike")
    if not np.isfinite(w).all():
        raise ValueError("weights must be finite (no NaN or inf)")
    if (t < 0).any():
        i, j = np.argwhere(t < 0)[0]
        raise ValueError(f"input times must be >= 0; sample {i}, input {j} has {t[i, j]:g} "
                         "(clip jittered times at 0)")


def _select(t: np.ndarray, w: np.ndarray):
    """The spike interval of every (sample, neuron): ``found`` (batch, n_out) and the
    rescaled A, B of that interval and the reference time ``r`` (batch,).

    The inputs are sorted and rescaled here (numpy); :func:`_select_kernel` walks each
    (sample, neuron)'s sorted inputs and stops at the first interval that crosses, so the
    work is that of the intervals before the spike, not ``batch x n_in x n_out`` arrays."""
    order = np.argsort(t, axis=1, kind="stable")
    ts = np.take_along_axis(t, order, axis=1)                       # (b, n)
    fin = np.isfinite(ts)
    r = np.where(fin[:, 0], ts[:, 0], 0.0)                          # earliest input
    tf = np.where(fin, ts, r[:, None])
    et = np.where(fin, np.exp(tf - r[:, None]), 0.0)                # e^{t_i - r}
    found, Ak, Bk = _select_kernel(order, ts, et, tf * et, np.ascontiguousarray(w), r)
    return found, Ak, Bk, r


@njit(cache=True)
def _select_kernel(order, ts, et, tet, w, r):
    """For every (sample ``b``, neuron ``j``): the running sums ``A = sum w e^{t - r}`` and
    ``B = sum w t e^{t - r}`` over the inputs in time order, in the order and with the
    products of ``numpy.cumsum`` (the same float64 values), up to the first interval
    ``[t_k, t_{k+1})`` in which the membrane reaches the threshold (module docstring);
    ``found`` is False where none does (the neuron stays silent)."""
    nb, n = ts.shape
    m = w.shape[1]
    found = np.zeros((nb, m), dtype=np.bool_)
    Ak = np.zeros((nb, m))
    Bk = np.zeros((nb, m))
    for b in range(nb):
        rb = r[b]
        for j in range(m):
            A = 0.0
            B = 0.0
            for k in range(n):
                tk = ts[b, k]
                if not np.isfinite(tk):   # sorted: every later input is silent too
                    break
                wi = w[order[b, k], j]
                if k == 0:
                    A = wi * et[b, 0]
                    B = wi * tet[b, 0]
                else:
                    A = A + wi * et[b, k]
                    B = B + wi * tet[b, k]
                if A > 0.0:
                    t_next = ts[b, k + 1] if k + 1 < n else np.inf
                    te = min(max(B / A + 1.0, tk), t_next)   # numpy.clip(peak, t_k, t_next)
                    v = np.exp(-(te - rb)) * (A * te - B)
                    if v >= 1.0 - _REL_TOL:
                        found[b, j] = True
                        Ak[b, j] = A
                        Bk[b, j] = B
                        break
    return found, Ak, Bk


def _lambertw0_np(z: np.ndarray) -> np.ndarray:
    """Principal Lambert W on [−1/e, 0]: scipy's, and next to the branch point (where scipy
    returns NaN for −1/e rounded down) its series W = −1 + p − p²/3 + 11p³/72,
    p = √(2(1 + e z)) (Corless et al. 1996, eq. 4.22; error O(p⁴) < 1e-11 for 1 + e z < 1e-6)."""
    z = np.asarray(z, dtype=np.float64)
    q = np.maximum(np.e * z + 1.0, 0.0)
    near = q < 1e-6
    out = np.empty_like(z)
    if (~near).any():
        out[~near] = _scipy_lambertw(z[~near], 0).real
    p = np.sqrt(2.0 * q[near])
    out[near] = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p ** 3
    return out


def _spike_time(Ak, Bk, r, found):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        Aa = np.where(found, Ak, 1.0)
        ratio = np.where(found, Bk / Aa, 0.0)
        z = np.where(found, -np.exp(ratio - r[:, None]) / Aa, -0.1)
    z = np.clip(z, -_INV_E, 0.0)
    out = ratio - _lambertw0_np(z)
    return np.where(found, out, np.inf)


def _first_spike_times_np(t, w) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if t.shape[0] == 0 or w.shape[1] == 0:
        return np.full((t.shape[0], w.shape[1]), np.inf)
    if t.shape[1] == 0:
        return np.full((t.shape[0], w.shape[1]), np.inf)
    found, Ak, Bk, r = _select(t, w)
    return _spike_time(Ak, Bk, r, found)


def first_spike_times(input_times, weights):
    """First spike time of every output neuron of one layer, exactly (module docstring).

    Parameters
    ----------
    input_times : ``(batch, n_in)`` spike times of the inputs (≥ 0; ``inf`` = no spike),
        a numpy array or a torch tensor.
    weights : ``(n_in, n_out)`` synaptic weights (positive excitatory, negative inhibitory),
        of the same kind as ``input_times``.

    Returns
    -------
    ``(batch, n_out)`` float64 spike times, ``inf`` where the neuron stays silent: a numpy
    array for numpy input; for torch tensors a float64 tensor differentiable with respect to
    ``weights`` and ``input_times``.

    Raises
    ------
    ValueError for mismatched shapes, NaN times or weights, negative input times.
    """
    check_layer_inputs(input_times, weights)
    if _is_torch(input_times) or _is_torch(weights):
        return _first_spike_times_torch(input_times, weights)
    return _first_spike_times_np(input_times, weights)


# --------------------------------------------------------------------------- torch path
_LAMBERTW = None


def _lambertw_fn():
    """The autograd Function (made on first use, so importing this module needs no torch)."""
    global _LAMBERTW
    if _LAMBERTW is None:
        import torch

        class LambertW0(torch.autograd.Function):
            """Principal Lambert W on [−1/e, 0): forward :func:`_lambertw0_np`, dW/dz = W / (z (1 + W))."""

            @staticmethod
            def forward(ctx, z):
                wv = _lambertw0_np(z.detach().cpu().numpy())
                out = torch.as_tensor(wv, dtype=z.dtype, device=z.device)
                ctx.save_for_backward(z, out)
                return out

            @staticmethod
            def backward(ctx, grad):
                z, wv = ctx.saved_tensors
                # 1 + W -> 0 at the branch point (threshold just touched): keep it finite;
                # training clips the gradient norm anyway.
                return grad * wv / (z * torch.clamp(1.0 + wv, min=1e-12))

        _LAMBERTW = LambertW0
    return _LAMBERTW


def lambertw0(z):
    """Differentiable principal Lambert W of a float64 tensor with values in [−1/e, 0)."""
    return _lambertw_fn().apply(z)


def _first_spike_times_torch(input_times, weights):
    import torch

    t = torch.as_tensor(input_times, dtype=torch.float64)
    w = torch.as_tensor(weights, dtype=torch.float64, device=t.device)
    b, m = t.shape[0], w.shape[1]
    if b == 0 or m == 0 or t.shape[1] == 0:
        return torch.full((b, m), float("inf"), dtype=torch.float64, device=t.device)
    tn, wn = t.detach().cpu().numpy(), w.detach().cpu().numpy()
    found_np, Ak, Bk, r_np = _select(tn, wn)
    t_np = _spike_time(Ak, Bk, r_np, found_np)
    found = torch.as_tensor(found_np, device=t.device)
    r = torch.as_tensor(r_np, dtype=torch.float64, device=t.device)
    # the inputs that arrived before each spike (the k earliest), without gradient
    before = torch.as_tensor(tn[:, :, None] <= t_np[:, None, :], device=t.device)
    before = before & found[:, None, :]
    fin = torch.isfinite(t)
    tf = torch.where(fin, t, r[:, None])
    et = torch.where(fin, torch.exp(tf - r[:, None]), torch.zeros_like(tf))
    mask = before.to(torch.float64)
    A = torch.einsum("bi,bij,ij->bj", et, mask, w)
    B = torch.einsum("bi,bij,ij->bj", tf * et, mask, w)
    A = torch.where(found, A, torch.ones_like(A))
    B = torch.where(found, B, torch.zeros_like(B))
    ratio = B / A
    z = -torch.exp(ratio - r[:, None]) / A
    z = torch.where(found, z.clamp(-_INV_E, -1e-300), torch.full_like(z, -0.1))
    out = ratio - lambertw0(z)
    return torch.where(found, out, torch.full_like(out, float("inf")))


def membrane_potential(input_times, weights, t) -> np.ndarray:
    """V(t) of every output neuron without its own spike: Σ_{t_i < t} w_i (t − t_i) e^{−(t−t_i)}.

    ``input_times`` (batch, n_in), ``weights`` (n_in, n_out), ``t`` a 1-D array of times;
    returns (batch, n_out, len(t)). For tests and figures (memory ∝ batch·n_in·len(t))."""
    ti = np.asarray(input_times, dtype=np.float64)[:, :, None]
    s = np.asarray(t, dtype=np.float64)[None, None, :] - ti           # (b, n, T)
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.where(s > 0, s * np.exp(-np.where(s > 0, s, 0.0)), 0.0)
    return np.einsum("bnT,nm->bmT", k, np.asarray(weights, dtype=np.float64))
