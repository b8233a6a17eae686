"""Training with per-epoch checkpoints, resumable, with a progress bar.

The paper's recipe (§A.1) as parameters: SGD with momentum, the sigmoid surrogate
(set in the model), T=4, cosine learning-rate schedule; augmentation ``"cifar"`` is
random crop with 4-pixel padding, horizontal flip and Gaussian blur (kernel 3,
sigma in [0.1, 2], probability 0.5); ``"jitter"`` (the digits) draws the same affine
family as the test presentations (translation, small rotation, scale).

Checkpoints ``<run_dir>/checkpoints/epoch_NNNN.pt`` hold the model, optimiser,
scheduler, RNG states and the history; an interrupted run resumes from the newest.
The finished model is ``<run_dir>/model.pt``; with ``snapshot_epochs``, the model after
each of those epochs is kept as ``<run_dir>/snapshots/epoch_NNNN.pt`` (``0``: at
initialisation). Every file is written to a temporary name and renamed into place.

Training runs on ``device`` (:mod:`fclib.snn.device`): the training images move to the
device once, batches are gathered there, and augmentation draws its random numbers on the
CPU generator (so a run is the same draw on any device). Checkpoints hold CPU tensors: a
model trained on a GPU loads on a CPU and the other way round.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from fclib._util import progress_bar

from fclib.snn.device import (autocast, cross_entropy, deterministic as deterministic_mode,
                              fp32_inference, model_device, prepare_model, resolve_device,
                              to_input)
from fclib.snn.models import SEWResNet, arch_summary, build_model
from fclib.store import atomic_write

__all__ = ["train", "load_model", "load_snapshot", "snapshot_path", "evaluate", "TRAIN_KEYS"]

TRAIN_KEYS = {"epochs": int, "batch_size": int, "lr": float, "momentum": float,
              "weight_decay": float, "augment": str, "seed": int}


def _training_config(**kw) -> dict:
    """The training settings as stored in checkpoints, checked (types of :data:`TRAIN_KEYS`)."""
    for k, typ in TRAIN_KEYS.items():
        v = kw[k]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            kw[k] = v = float(v)
        if not isinstance(v, typ) or isinstance(v, bool):
            raise TypeError(f"{k} must be {typ.__name__}, got {type(v).__name__} {v!r}")
    if kw["augment"] not in ("none", "jitter", "cifar"):
        raise ValueError(f"augment must be 'none', 'jitter' or 'cifar', got {kw['augment']!r}")
    for k in ("epochs", "batch_size"):
        if kw[k] < 1:
            raise ValueError(f"{k} must be >= 1, got {kw[k]}")
    if not kw["lr"] > 0:
        raise ValueError(f"lr must be > 0, got {kw['lr']}")
    return kw


def _atomic_save(obj, path: Path) -> None:
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def _check_arch(found: dict, wanted: dict, path: Path) -> None:
    if found != wanted:
        raise ValueError(
            f"checkpoint {path} was written for another architecture ({arch_summary(found)}) "
            f"than this run builds ({arch_summary(wanted)}); delete {path.parent} or rerun with "
            f"the parameters that made it")


def _cpu_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _optimizer_state_cpu(opt: torch.optim.Optimizer) -> dict:
    state = opt.state_dict()
    state["state"] = {k: {n: (v.cpu() if torch.is_tensor(v) else v) for n, v in st.items()}
                      for k, st in state["state"].items()}
    return state


def snapshot_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    """Where the model after ``epoch`` training epochs is kept (``0``: at initialisation)."""
    return Path(run_dir) / "snapshots" / f"epoch_{int(epoch):04d}.pt"


def load_snapshot(run_dir: str | os.PathLike, epoch: int,
                  arch: dict | None = None) -> tuple[SEWResNet, dict]:
    """The model kept after ``epoch`` epochs (see ``snapshot_epochs`` of :func:`train`)."""
    path = snapshot_path(run_dir, epoch)
    if not path.exists():
        kept = sorted(int(p.stem[6:]) for p in path.parent.glob("epoch_*.pt"))
        raise FileNotFoundError(f"no snapshot after epoch {epoch} in {path.parent}; "
                                f"the run kept {kept or 'none'} (profile parameter snapshot_epochs)")
    return load_model(path, arch)


def load_model(path: str | os.PathLike, arch: dict | None = None) -> tuple[SEWResNet, dict]:
    """Load a finished model file (on the CPU, wherever it was trained); returns
    ``(model in eval mode, checkpoint dict)``.

    With ``arch`` given, a checkpoint of another architecture is refused.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}; train it first (fclib.pipeline)")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or "arch" not in ckpt or "model" not in ckpt:
        raise ValueError(f"{path} is not an fclib checkpoint (no 'arch'/'model' entries)")
    if arch is not None:
        _check_arch(ckpt["arch"], arch, path)
    model = build_model(ckpt["arch"])
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not fit {arch_summary(ckpt['arch'])}: {e}") from e
    model.eval()
    return model, ckpt


# --------------------------------------------------------------------------- augmentation
_N_DRAWS = {"none": 0, "jitter": 4, "cifar": 5}


def _draw_augment(n: int, kind: str, gen: torch.Generator) -> torch.Tensor:
    """The random numbers of one batch's augmentation, ``(k, n)`` float32 on the CPU,
    drawn from ``gen`` in a fixed order (so a run is the same draw on any device).

    ``jitter``: rotation, scale, y and x shift (uniform in [0, 1) each); ``cifar``: crop
    offsets y and x (integers 0..8), flip and blur (uniform), blur sigma (uniform)."""
    if kind == "cifar":
        oy = torch.randint(0, 9, (n,), generator=gen)
        ox = torch.randint(0, 9, (n,), generator=gen)
        return torch.stack([oy.float(), ox.float(), torch.rand(n, generator=gen),
                            torch.rand(n, generator=gen), torch.rand(n, generator=gen)])
    return torch.rand(_N_DRAWS[kind], n, generator=gen)


def _apply_augment(x: torch.Tensor, kind: str, r: torch.Tensor) -> torch.Tensor:
    """Augment the batch ``x`` with the draws ``r`` of :func:`_draw_augment` (on ``x``'s
    device). No step reads a value back to the host: masks select by ``torch.where``."""
    if kind == "none":
        return x
    n, dev = x.shape[0], x.device
    h, w = x.shape[-2:]
    if kind == "jitter":
        u = lambda row, lo, hi: lo + (hi - lo) * r[row]  # noqa: E731
        th = torch.deg2rad(u(0, -10.0, 10.0))
        s = u(1, 0.9, 1.1)
        ty, tx = u(2, -1.5, 1.5) * 2 / h, u(3, -1.5, 1.5) * 2 / w
        theta = torch.zeros(n, 2, 3, device=dev)
        theta[:, 0, 0] = torch.cos(th) / s
        theta[:, 0, 1] = -torch.sin(th) / s
        theta[:, 1, 0] = torch.sin(th) / s
        theta[:, 1, 1] = torch.cos(th) / s
        theta[:, 0, 2] = -tx
        theta[:, 1, 2] = -ty
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    # cifar: crop with padding 4, horizontal flip, Gaussian blur (k=3) with p=0.5
    oy, ox = r[0].long(), r[1].long()
    flip, blur = r[2] < 0.5, r[3] < 0.5
    sig = 0.1 + 1.9 * r[4]
    xp = F.pad(x, (4, 4, 4, 4))
    # one gather for the whole batch (no Python loop per image)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, None, :]
    out = xp[torch.arange(n, device=dev)[:, None, None, None],
             torch.arange(x.shape[1], device=dev)[None, :, None, None], rows, cols]
    out = torch.where(flip[:, None, None, None], out.flip(-1), out)
    # every image is blurred with its own sigma and the blurred ones are kept (a boolean
    # index would read the mask back to the host at every step)
    k1 = torch.exp(-(torch.arange(3.0, device=dev) - 1)[None] ** 2 / (2 * sig[:, None] ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)
    k2 = k1[:, :, None] * k1[:, None, :]
    c = out.shape[1]
    xb = F.pad(out, (1, 1, 1, 1), mode="reflect")
    xb = F.conv2d(xb.reshape(1, -1, h + 2, w + 2), k2.repeat_interleave(c, 0)[:, None],
                  groups=n * c).reshape(n, c, h, w)
    return torch.where(blur[:, None, None, None], xb, out)


def _augment(x: torch.Tensor, kind: str, gen: torch.Generator) -> torch.Tensor:
    """One batch augmented with fresh draws from ``gen`` (:func:`_draw_augment`)."""
    return _apply_augment(x, kind, _draw_augment(len(x), kind, gen).to(x.device))


# --------------------------------------------------------------------------- loops
@torch.no_grad()
def evaluate(model: SEWResNet, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 256, *, channels_last: bool = False) -> tuple[float, float]:
    """Held-out ``(accuracy, mean cross-entropy)`` of ``model`` on the given images, on the
    device the model is on, in IEEE float32 (:func:`fclib.snn.device.fp32_inference`: the
    same decisions on every device up to float32 rounding). The images go to the device
    once; the totals are read back once, at the end."""
    model.eval()
    dev = model_device(model)
    xs = to_input(torch.from_numpy(np.ascontiguousarray(images)), dev)
    ys = torch.from_numpy(np.asarray(labels)).to(dev)
    correct = torch.zeros((), dtype=torch.long, device=dev)
    loss = torch.zeros((), dtype=torch.float64, device=dev)
    with fp32_inference():
        for i in range(0, len(images), batch_size):
            x = xs[i:i + batch_size]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = ys[i:i + batch_size]
            out = model(x)
            loss += cross_entropy(out, y, reduction="sum").double()
            correct += (out.argmax(1) == y).sum()
    n = max(len(images), 1)
    return int(correct) / n, float(loss) / n


def _latest_checkpoint(ckdir: Path) -> Path | None:
    found = sorted(ckdir.glob("epoch_*.pt"))
    return found[-1] if found else None


def train(arch: dict, split, run_dir: str | os.PathLike, *, epochs: int, batch_size: int,
          lr: float, momentum: float = 0.9, weight_decay: float = 5e-4, augment: str = "none",
          seed: int = 0, snapshot_epochs=(), device: str = "auto", amp: bool = False,
          channels_last: bool = False, deterministic: bool = False,
          progress: bool = True) -> dict:
    """Train (or resume training) a SEW-ResNet; returns the final checkpoint dict.

    Parameters
    ----------
    arch : architecture dict (:func:`fclib.snn.models.small_sew_resnet_arch`, ...).
    split : :class:`fclib.io.datasets.Split` with training and held-out images.
    run_dir : folder of this training run; ``model.pt`` is written there at the end.
    epochs, batch_size, lr, momentum, weight_decay : SGD with a cosine learning-rate schedule.
    augment : ``"none"``, ``"jitter"`` (digits) or ``"cifar"`` (crop, flip, blur).
    seed : seeds every random draw of training.
    snapshot_epochs : keep the model after each of these epochs (``0``: at initialisation)
        as ``snapshots/epoch_NNNN.pt`` (:func:`load_snapshot`), with its held-out accuracy.
    device, amp, channels_last : where and how training runs (:mod:`fclib.snn.device`);
        not part of the result's identity. Held-out evaluation runs in IEEE float32.
    deterministic : deterministic algorithms (:func:`fclib.snn.device.deterministic`), so
        that on CUDA a resumed run equals an uninterrupted one bit for bit (on the CPU it
        does anyway).

    The returned dict has ``history`` (per epoch: loss, train accuracy, held-out
    accuracy and loss, seconds), ``test_accuracy`` and ``arch``.

    No step reads a value back to the host: the augmentation's random numbers of a whole
    epoch go to the device in one copy, and the epoch's loss and accuracy are summed there.
    """
    with deterministic_mode(deterministic):
        return _train(arch, split, run_dir, epochs=epochs, batch_size=batch_size, lr=lr,
                      momentum=momentum, weight_decay=weight_decay, augment=augment, seed=seed,
                      snapshot_epochs=snapshot_epochs, device=device, amp=amp,
                      channels_last=channels_last, progress=progress)


def _train(arch, split, run_dir, *, epochs, batch_size, lr, momentum, weight_decay, augment,
           seed, snapshot_epochs, device, amp, channels_last, progress) -> dict:
    config = _training_config(epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                              weight_decay=weight_decay, augment=augment, seed=seed)
    snaps = sorted({int(e) for e in snapshot_epochs})
    if any(e < 0 or e > config["epochs"] for e in snaps):
        raise ValueError(f"snapshot_epochs must lie in [0, epochs={config['epochs']}], got {snaps}")
    dev = resolve_device(device)
    run_dir = Path(run_dir)
    ckdir = run_dir / "checkpoints"
    ckdir.mkdir(parents=True, exist_ok=True)
    final = run_dir / "model.pt"
    if final.exists():
        _, ckpt = load_model(final, arch)
        return ckpt

    torch.manual_seed(config["seed"])
    gen = torch.Generator().manual_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    model = prepare_model(build_model(arch), dev, channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"],
                          weight_decay=config["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config["epochs"])
    history: list[dict] = []
    start = 0
    last = _latest_checkpoint(ckdir)
    if last is not None:
        ck = torch.load(last, map_location="cpu", weights_only=False)
        _check_arch(ck["arch"], arch, last)
        if ck["config"] != config:
            raise ValueError(f"checkpoint {last} was made with training config {ck['config']}, "
                             f"not {config}; delete {ckdir} to start afresh")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])  # moves the optimiser state to the model's device
        sched.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["torch_rng"])
        gen.set_state(ck["gen_rng"])
        rng.bit_generator.state = ck["numpy_rng"]
        history = ck["history"]
        start = ck["epoch"] + 1

    xtr = torch.from_numpy(split.train_images).to(dev)
    ytr = torch.from_numpy(split.train_labels).to(dev)
    n = len(xtr)

    def keep_snapshot(trained: int, acc=None, test_loss=None) -> None:
        path = snapshot_path(run_dir, trained)
        if trained not in snaps or path.exists():
            return
        if acc is None:
            acc, test_loss = evaluate(model, split.test_images, split.test_labels,
                                      channels_last=channels_last)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_save(dict(arch=arch, config=config, epoch=trained, model=_cpu_state(model),
                          test_accuracy=acc, test_loss=test_loss,
                          history=[dict(h) for h in history]), path)

    if start == 0:
        keep_snapshot(0)
    steps = math.ceil(n / config["batch_size"])
    bar = progress_bar(range(start, config["epochs"]), desc="training", progress=progress,
               initial=start, total=config["epochs"], unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(n)).to(dev)
        bs = config["batch_size"]
        # the epoch's augmentation draws, batch by batch in the order of the steps: one copy
        draws = torch.cat([_draw_augment(min(bs, n - b * bs), config["augment"], gen)
                           for b in range(steps)], dim=1).to(dev)
        tot_loss = torch.zeros((), device=dev)
        tot_correct = torch.zeros((), dtype=torch.long, device=dev)
        for b in range(steps):
            idx = order[b * bs:(b + 1) * bs]
            x = _apply_augment(xtr[idx], config["augment"], draws[:, b * bs:(b + 1) * bs])
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = ytr[idx]
            with autocast(dev, amp):
                out = model(x)
                loss = cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            # accumulated on the device: no host synchronisation per step
            tot_loss += loss.detach() * len(idx)
            tot_correct += (out.argmax(1) == y).sum()
        sched.step()
        tot_loss, tot_correct = float(tot_loss), int(tot_correct)
        acc, test_loss = evaluate(model, split.test_images, split.test_labels,
                                  channels_last=channels_last)
        history.append(dict(epoch=epoch, loss=tot_loss / n, train_accuracy=tot_correct / n,
                            test_accuracy=acc, test_loss=test_loss,
                            seconds=time.perf_counter() - t0))
        bar.set_postfix(loss=f"{tot_loss / n:.3f}", acc=f"{acc:.3f}")
        keep_snapshot(epoch + 1, acc, test_loss)
        _atomic_save(dict(arch=arch, config=config, epoch=epoch, model=_cpu_state(model),
                          optimizer=_optimizer_state_cpu(opt), scheduler=sched.state_dict(),
                          torch_rng=torch.get_rng_state(), gen_rng=gen.get_state(),
                          numpy_rng=rng.bit_generator.state, history=history),
                     ckdir / f"epoch_{epoch:04d}.pt")
        for old in sorted(ckdir.glob("epoch_*.pt"))[:-1]:
            old.unlink()
    bar.close()
    model.eval()
    ckpt = dict(arch=arch, config=config, model=_cpu_state(model), history=history,
                test_accuracy=history[-1]["test_accuracy"] if history else float("nan"))
    _atomic_save(ckpt, final)
    return ckpt
