"""Latency-coded feed-forward E/I networks obeying Dale's law: encoding, training, spike times.

Reconstructed from paper 002's abstract and the authors' public training code
(``JulianGoeltz/fastAndDeep``, branch ``WeHaveToGoDeeper``, ``daleslaw.patch``; facts only):

- **Encoding**: one spike per pixel at t = t_early + (1 − x/x_max)(t_late − t_early), with
  t_early = 0.15, t_late = 2.0 (units of τ): ink fires early, background late. Training adds
  N(0, 0.3) jitter to the input times (clipped at 0).
- **Layers**: input → hidden layers whose first ``n_exc`` neurons are excitatory and the rest
  inhibitory (3:1 by default; 002: 300 E + 100 I) → one output per class; the class is the
  earliest output spike (:func:`fclib.ttfs.first_spike_times` in every layer).
- **Dale's law** (:func:`dale_project`): after initialisation and after every optimiser step,
  the outgoing weights of E neurons are clamped to ≥ 0 and those of I neurons to ≤ 0, in
  every projection except input → first hidden layer (the pixels are neither E nor I).
- **Loss** (:func:`ttfs_loss`): per sample log Σ_k e^{−t_k/ξ} + t_y/ξ + α e^{t_y/β},
  ξ = 0.2, α = 0.005, β = 1; a sample whose label neuron is silent contributes the constant
  100 (the authors' ``total[t_y == inf] = 100``; the issue's "β = 100" reads this line).
- **Training** (:func:`train_network`): Adam (lr 0.005, ×0.9 every 15 epochs), exact
  spike-time gradients, gradient norm clipped per weight matrix (the authors' ``max_dw_norm``
  0.2). When more than 15 % of a hidden layer's (neuron, sample) pairs are silent (5 % for the
  output), the step is skipped and the incoming weights of that layer's neurons silent on any
  sample are raised by a bump (0.0005, doubled while the same layer keeps needing it); only
  the foremost such layer is bumped — the authors' targeted, exponential weight bumping.

Initial weights are normal with per-layer mean and standard deviation (the authors': 0.01/0.1
in hidden, 0.15/0.8 in the output layer, for 784 inputs and 400-wide layers; here scaled to
the layer widths, see :func:`init_weights`), then Dale-projected.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fclib._util import as_generator, progress_bar
from fclib.profiles import TTFS_PROFILES
from fclib.store import artefact_key, cached, default_data_dir
from fclib.ttfs.neuron import first_spike_times

__all__ = ["T_EARLY", "T_LATE", "encode", "jitter_times", "ei_split", "Network", "init_weights",
           "dale_project", "forward", "predict", "accuracy", "ttfs_loss", "train_network",
           "load_digits_times", "load_mnist_times", "load_times", "TTFS_PROFILES", "ttfs_config", "trained_network",
           "layer_names"]

T_EARLY, T_LATE = 0.15, 2.0


def encode(images, x_max: float = 16.0, t_early: float = T_EARLY, t_late: float = T_LATE):
    """Spike times of pixels: t = t_early + (1 − x/x_max)(t_late − t_early).

    ``images`` (n, ...) with values in [0, x_max]; returns (n, n_pixels) float64."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if np.isnan(x).any() or x.min(initial=0) < 0 or x.max(initial=0) > x_max:
        raise ValueError(f"pixel values must lie in [0, x_max={x_max:g}]; got "
                         f"[{np.nanmin(x):g}, {np.nanmax(x):g}] (pass the right x_max)")
    return t_early + (1.0 - x / x_max) * (t_late - t_early)


def jitter_times(times, std: float, rng=None):
    """Input times plus N(0, std) noise, clipped at 0 (input times must stay ≥ 0)."""
    gen = as_generator(rng)
    t = np.asarray(times, dtype=np.float64)
    return np.maximum(t + gen.normal(0.0, std, size=t.shape), 0.0)


def ei_split(size: int, ratio=(3, 1), layer: str = "hidden layer") -> int:
    """Number of excitatory neurons of a layer of ``size`` split ``ratio`` = (E, I).

    Raises ``ValueError`` when ``size`` is not a multiple of E + I."""
    e, i = (int(v) for v in ratio)
    if e < 0 or i < 0 or e + i == 0:
        raise ValueError(f"ratio must be two non-negative ints (E, I), got {ratio!r}")
    if not isinstance(size, (int, np.integer)) or size <= 0 or size % (e + i):
        raise ValueError(f"{layer} has {size!r} neurons; an E:I split of {e}:{i} needs a "
                         f"positive multiple of {e + i} (e.g. {max(e + i, (int(size) // (e + i)) * (e + i))})")
    return int(size) // (e + i) * e


def layer_names(n_hidden: int) -> list[str]:
    """``["input", "H1", ..., "Hn", "output"]``."""
    return ["input"] + [f"H{i + 1}" for i in range(n_hidden)] + ["output"]


@dataclass
class Network:
    """Weights of a feed-forward TTFS network.

    ``weights[l]`` is ``(n_l, n_{l+1})`` float64 (``l = 0`` the input layer); ``n_exc[l]`` the
    number of excitatory neurons of hidden layer ``l + 1`` (its first neurons)."""

    weights: list
    n_exc: list
    history: dict = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def layers(self) -> list[str]:
        return layer_names(len(self.weights) - 1)

    def is_excitatory(self, layer: int) -> np.ndarray:
        """Bool per neuron of hidden layer ``layer`` (1-based index into :attr:`layers`)."""
        n = self.sizes[layer]
        return np.arange(n) < self.n_exc[layer - 1]


def dale_project(weights, n_exc):
    """Clamp outgoing weights: rows of E neurons ≥ 0, of I neurons ≤ 0, in every matrix but
    the first (``weights[l]`` for l ≥ 1 has the neurons of hidden layer l as rows, the first
    ``n_exc[l-1]`` excitatory). Works on numpy arrays and torch tensors (in place) and returns
    ``weights``. Idempotent."""
    if len(n_exc) != len(weights) - 1:
        raise ValueError(f"n_exc must give one count per hidden layer ({len(weights) - 1}), "
                         f"got {len(n_exc)}")
    for l in range(1, len(weights)):
        w, ne = weights[l], int(n_exc[l - 1])
        if hasattr(w, "clamp_"):
            w[:ne].clamp_(min=0.0)
            w[ne:].clamp_(max=0.0)
        else:
            np.maximum(w[:ne], 0.0, out=w[:ne])
            np.minimum(w[ne:], 0.0, out=w[ne:])
    return weights


def init_weights(n_in: int, hidden, n_out: int, *, ratio=(3, 1), hidden_mean: float = 0.15,
                 hidden_std: float = 0.3, output_mean: float = 0.3, output_std: float = 0.8,
                 input_mean: float | None = None, input_std: float | None = None,
                 rng=None) -> Network:
    """Normal initial weights, Dale-projected.

    Means and standard deviations are given for a 100-wide source layer and scaled by
    100 / n_source (mean) and √(100 / n_source) (std), so the summed drive does not depend
    on the width; ``input_mean``/``input_std`` default to the hidden values."""
    gen = as_generator(rng)
    hidden = [int(h) for h in hidden]
    if not hidden:
        raise ValueError("hidden must name at least one hidden layer size")
    n_exc = [ei_split(h, ratio, f"hidden layer {i + 1}") for i, h in enumerate(hidden)]
    sizes = [int(n_in)] + hidden + [int(n_out)]
    weights = []
    for l in range(len(sizes) - 1):
        src = sizes[l]
        if l == 0:
            mu, sd = (hidden_mean if input_mean is None else input_mean,
                      hidden_std if input_std is None else input_std)
        elif l == len(sizes) - 2:
            mu, sd = output_mean, output_std
        else:
            mu, sd = hidden_mean, hidden_std
        mu, sd = mu * 100.0 / src, sd * math.sqrt(100.0 / src)
        w = gen.normal(mu, sd, size=(src, sizes[l + 1]))
        if l > 0:  # E rows drawn positive and I rows negative before the clamp
            w[n_exc[l - 1]:] *= -1.0
        weights.append(w)
    dale_project(weights, n_exc)
    return Network(weights, n_exc)


def forward(net: Network, input_times) -> dict:
    """Spike times of every layer (numpy, float64): ``{"input": (n, n_in), "H1": ..., "output":
    (n, n_out)}``, ``inf`` where silent."""
    t = np.asarray(input_times, dtype=np.float64)
    out = {"input": t}
    for name, w in zip(net.layers[1:], net.weights):
        t = first_spike_times(t, w)
        out[name] = t
    return out


def predict(output_times) -> np.ndarray:
    """The class of each sample: the earliest output spike (−1 when no output spikes)."""
    t = np.asarray(output_times)
    cls = np.argmin(t, axis=1)
    cls[~np.isfinite(t.min(axis=1))] = -1
    return cls


def accuracy(net: Network, input_times, labels) -> float:
    """Share of samples whose earliest output spike is the label's."""
    return float(np.mean(predict(forward(net, input_times)["output"]) == np.asarray(labels)))


def ttfs_loss(output_times, labels, xi: float = 0.2, alpha: float = 0.005, beta: float = 1.0,
              silent_loss: float = 100.0):
    """Mean over samples of log Σ_k e^{−t_k/ξ} + t_y/ξ + α e^{t_y/β} (torch tensors), with
    ``silent_loss`` (no gradient) for a sample whose label neuron is silent."""
    import torch

    lab = torch.as_tensor(labels, dtype=torch.long, device=output_times.device)
    ty = output_times.gather(1, lab[:, None])[:, 0]
    ok = torch.isfinite(ty)
    ty_safe = torch.where(ok, ty, torch.zeros_like(ty))
    t_safe = torch.where(ok[:, None], output_times, torch.zeros_like(output_times))
    lse = torch.logsumexp(-t_safe / xi, dim=1)
    per = lse + ty_safe / xi + alpha * torch.exp(ty_safe / beta)
    per = torch.where(ok, per, torch.full_like(per, silent_loss))
    return per.mean()


def load_digits_times(test_fraction: float = 1 / 3, rng=0, max_train: int | None = None,
                      max_test: int | None = None):
    """scikit-learn's 8×8 digits (values 0–16), split stratified and seeded with ``rng`` (an
    int seed or a Generator: :func:`fclib.io.datasets.split_dataset`), encoded with
    x_max = 16. Returns ``(train_times, train_labels, test_times, test_labels)``."""
    from sklearn.datasets import load_digits

    from fclib.io.datasets import split_dataset

    d = load_digits()
    sp = split_dataset(d.images.astype(np.float64), d.target.astype(np.int64),
                       [str(c) for c in range(10)], test_fraction, rng,
                       max_train=max_train or None, max_test=max_test or None)
    return (encode(sp.train_images), sp.train_labels, encode(sp.test_images), sp.test_labels)


def load_mnist_times(test_fraction: float = 1 / 3, rng=0, max_train: int | None = None,
                     max_test: int | None = None, size: int = 16):
    """The 5,000 MNIST digits of :func:`fclib.io.datasets.load_mnist` at ``size`` x ``size``
    (16: the resolution 002's authors train on), split stratified and seeded with ``rng``
    (as in :func:`load_digits_times`), encoded with x_max = 1. Returns ``(train_times, train_labels, test_times, test_labels)``."""
    from fclib.io.datasets import load_mnist, split_dataset

    imgs, labels, names = load_mnist(size)
    sp = split_dataset(imgs.astype(np.float64), labels, names, test_fraction, rng,
                       max_train=max_train or None, max_test=max_test or None)
    return (encode(sp.train_images, x_max=1.0), sp.train_labels,
            encode(sp.test_images, x_max=1.0), sp.test_labels)


def load_times(cfg: dict):
    """The encoded data of a :func:`ttfs_config`: ``cfg["dataset"]`` ``"digits"``
    (:func:`load_digits_times`) or ``"mnist"`` (:func:`load_mnist_times`, at
    ``cfg["image_size"]``)."""
    args = (cfg["test_fraction"], cfg["seed"], cfg["max_train"], cfg["max_test"])
    if cfg["dataset"] == "digits":
        return load_digits_times(*args)
    if cfg["dataset"] == "mnist":
        return load_mnist_times(*args, size=cfg["image_size"])
    raise ValueError(f"dataset must be 'digits' or 'mnist', got {cfg['dataset']!r}")


def train_network(net: Network, train_times, train_labels, *, epochs: int, batch_size: int = 32,
                  lr: float = 0.005, lr_gamma: float = 0.9, lr_step: int = 15,
                  noise_std: float = 0.3, max_grad_norm: float = 0.2,
                  max_silent=(0.15, 0.05), bump: float = 0.005, xi: float = 0.2,
                  alpha: float = 0.005, beta: float = 1.0, test_times=None, test_labels=None,
                  rng=None, progress: bool = True) -> Network:
    """Train ``net`` in place (module docstring) and return it.

    ``max_silent`` = (hidden, output) silent shares above which a step becomes a weight bump.
    ``net.history`` gets per-epoch ``loss``, ``train_acc`` (on the jittered batches),
    ``test_acc`` (when test data are given), ``bumps`` and ``seconds``."""
    import torch

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only contend (restored below)
    try:
        return _train(net, train_times, train_labels, epochs, batch_size, lr, lr_gamma, lr_step,
                      noise_std, max_grad_norm, max_silent, bump, xi, alpha, beta, test_times,
                      test_labels, as_generator(rng), progress)
    finally:
        torch.set_num_threads(n_threads)


def _train(net, train_times, train_labels, epochs, batch_size, lr, lr_gamma, lr_step, noise_std,
           max_grad_norm, max_silent, bump, xi, alpha, beta, test_times, test_labels, gen,
           progress):
    import torch

    torch.manual_seed(int(gen.integers(2 ** 31)))
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.weights]
    opt = torch.optim.Adam(ws, lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=lr_step, gamma=lr_gamma)
    x = np.asarray(train_times, dtype=np.float64)
    y = np.asarray(train_labels, dtype=np.int64)
    hist = {k: [] for k in ("loss", "train_acc", "test_acc", "bumps", "seconds")}
    bump_val, last_bumped = bump, None
    t0 = time.perf_counter()
    for _ in progress_bar(range(epochs), progress=progress, desc="ttfs training"):
        perm = gen.permutation(len(x))
        losses, correct, bumps = [], 0, 0
        for i0 in range(0, len(x), batch_size):
            idx = perm[i0:i0 + batch_size]
            t = torch.as_tensor(jitter_times(x[idx], noise_std, gen) if noise_std else x[idx])
            times = []
            for w in ws:
                t = first_spike_times(t, w)
                times.append(t)
            correct += int((predict(times[-1].detach().cpu().numpy()) == y[idx]).sum())
            bumped = None
            for l, tl in enumerate(times):
                silent = ~torch.isfinite(tl.detach())
                limit = max_silent[1] if l == len(times) - 1 else max_silent[0]
                if silent.double().mean() > limit:
                    bumped = l
                    bump_val = bump_val * 2 if last_bumped == l else bump
                    with torch.no_grad():
                        ws[l][:, silent.any(0)] += bump_val
                        dale_project(ws, net.n_exc)
                    break
            last_bumped = bumped
            if bumped is not None:
                bumps += 1
                continue
            opt.zero_grad()
            loss = ttfs_loss(times[-1], y[idx], xi, alpha, beta)
            loss.backward()
            for w in ws:
                torch.nn.utils.clip_grad_norm_([w], max_grad_norm)
            opt.step()
            with torch.no_grad():
                dale_project(ws, net.n_exc)
            losses.append(float(loss.detach()))
        sched.step()
        net.weights = [w.detach().cpu().numpy().copy() for w in ws]
        hist["loss"].append(float(np.mean(losses)) if losses else float("nan"))
        hist["train_acc"].append(correct / len(x))
        hist["bumps"].append(bumps)
        hist["seconds"].append(time.perf_counter() - t0)
        if test_times is not None:
            hist["test_acc"].append(accuracy(net, test_times, test_labels))
    net.history = hist
    return net


# --------------------------------------------------------------------------- profiles and cache
def ttfs_config(profile: str = "default", **overrides) -> dict:
    """Training parameters of ``profile`` (:data:`fclib.profiles.TTFS_PROFILES`) with
    ``overrides`` (``None`` keeps the profile's)."""
    from fclib._util import profile_settings

    cfg = profile_settings(TTFS_PROFILES, profile, overrides)
    cfg["hidden"] = list(cfg["hidden"])
    for i, h in enumerate(cfg["hidden"]):
        ei_split(h, (3, 1), f"hidden layer {i + 1}")
    return cfg


def trained_network(cfg: dict, data_dir=None, *, progress: bool = True):
    """The untrained and the trained network of ``cfg`` (:func:`ttfs_config`) and the data.

    The trained weights are cached in ``<data_dir>/ttfs/<key>.npz``, the key hashing ``cfg``
    and this module's code (:func:`fclib.store.artefact_key`), trained once under the file's
    lock and written atomically (:func:`fclib.store.cached`). ``data_dir=None`` is
    :func:`fclib.store.default_data_dir`. Returns ``(untrained, trained, data)`` with
    ``data = (train_times, train_labels, test_times, test_labels)``."""
    data = load_times(cfg)
    untrained = init_weights(data[0].shape[1], cfg["hidden"], 10, rng=cfg["seed"])
    key = artefact_key("fclib.ttfs.network", cfg)
    path = Path(default_data_dir() if data_dir is None else data_dir) / "ttfs" / f"{key[0]}.npz"

    def compute() -> dict:
        trained = Network([w.copy() for w in untrained.weights], list(untrained.n_exc))
        train_network(trained, data[0], data[1], epochs=cfg["epochs"],
                      batch_size=cfg["batch_size"], lr=cfg["lr"], lr_step=cfg["lr_step"],
                      lr_gamma=cfg["lr_gamma"], test_times=data[2], test_labels=data[3],
                      rng=cfg["seed"], progress=progress)
        arrays = {f"w{l}": w for l, w in enumerate(trained.weights)}
        arrays.update({f"h_{k}": np.asarray(v, dtype=np.float64)
                       for k, v in trained.history.items()})
        return dict(n_layers=len(trained.weights), **arrays)

    def load(path) -> Network:
        with np.load(path) as z:
            n = int(z["n_layers"])
            weights = [z[f"w{l}"] for l in range(n)]
            hist = {k[2:]: z[k].tolist() for k in z.files if k.startswith("h_")}
        return Network(weights, list(untrained.n_exc), hist)

    return untrained, cached(path, compute, _save_npz, load, key=key), data


def _save_npz(arrays: dict, path) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
