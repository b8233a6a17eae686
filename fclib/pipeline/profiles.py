"""Profiles (``smoke``, ``workshop``, ``default``, ``fashion``, ``paper``), parameter validation
and cache keys.

A profile is a complete set of parameters; a run is a profile plus individual
overrides (``resolve("default", epochs=5)``). Every stage's artefact lives under
``<data_dir>/runs/<key>/``, where ``key`` is a hash of exactly the parameters that make
that artefact, so changing one makes a new key and nothing stale is reused.
"""
from __future__ import annotations

from typing import Any

from fclib.io.recordings import CONDITIONS
# The tables live below every layer (fclib.ttfs reads its own there); here they are resolved
# and checked. Every profile of every kind of network is reachable from this module.
from fclib.profiles import (DATASETS, MANGO_SETTINGS, PARAMS, PROFILES, RECORD_PARAMS,
                            RUNTIME_PARAMS, TRAIN_PARAMS, TTFS_PROFILES)

__all__ = ["PROFILES", "PARAMS", "resolve", "TRAIN_PARAMS", "RECORD_PARAMS", "RUNTIME_PARAMS",
           "CONDITIONS", "condition_file", "DATASETS", "TTFS_PROFILES", "MANGO_SETTINGS"]


def resolve(profile: str = "default", **overrides) -> dict[str, Any]:
    """The parameters of ``profile`` with ``overrides`` applied; ``None`` means "keep".

    Raises ``ValueError`` for an unknown profile or parameter and ``TypeError`` for a
    value of the wrong type, each naming what to do.
    """
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    cfg = dict(PROFILES[profile])
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in PARAMS:
            raise ValueError(f"unknown parameter {name!r}; known: {sorted(PARAMS)}")
        typ, doc = PARAMS[name]
        ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if typ is list and isinstance(value, tuple):
            value, ok = list(value), True
        if not ok:
            raise TypeError(f"parameter {name} must be {typ.__name__} ({doc}); got "
                            f"{type(value).__name__} {value!r}")
        cfg[name] = value
    _check_values(cfg)
    cfg["profile"] = profile
    return cfg


def _check_values(cfg: dict) -> None:
    if cfg["dataset"] not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {cfg['dataset']!r}")
    native = {"fashion_mnist": 28, "cifar10": 32, "cifar100": 32}.get(cfg["dataset"])
    if native is not None and cfg["image_size"] != native:
        raise ValueError(f"dataset {cfg['dataset']} has images of {native} x {native} pixels; "
                         f"image_size={cfg['image_size']} is not supported for it (set "
                         f"image_size={native}; only the digits are resampled)")
    for k in ("epochs", "batch_size", "T", "n_presentations", "neuron_budget", "record_batch",
              "stem_channels", "detector_presentations"):
        if cfg[k] < 1:
            raise ValueError(f"parameter {k} must be >= 1, got {cfg[k]}")
    if cfg["null"] not in ("exact", "shifts", "stimulus"):
        raise ValueError(f"null must be 'exact', 'shifts' or 'stimulus', got {cfg['null']!r}")
    if cfg["stimulus"] not in ("image", "class"):
        raise ValueError(f"stimulus must be 'image' or 'class', got {cfg['stimulus']!r}")
    if cfg["n_shifts"] < 1:
        raise ValueError(f"parameter n_shifts must be >= 1, got {cfg['n_shifts']}")
    if cfg["fgsm_classes"] < 0:
        raise ValueError(f"parameter fgsm_classes must be >= 0 (0: all), got {cfg['fgsm_classes']}")
    if cfg["device"] not in ("auto", "cpu", "cuda") and not (
            cfg["device"].startswith("cuda:") and cfg["device"][5:].isdigit()):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {cfg['device']!r}")
    if cfg["backend"] not in ("auto", "numba", "torch"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'torch', got {cfg['backend']!r}")
    if cfg["backend"] == "numba" and cfg["device"] not in ("auto", "cpu"):
        # caught here, not after training and recording, where the statistics would fail
        raise ValueError(f"backend='numba' computes the statistics on the CPU, but device="
                         f"{cfg['device']!r} asks for them on {cfg['device']}; pass "
                         "backend='torch' (or 'auto') to use that device, or device='cpu'")
    if cfg["sample"] not in ("patch", "all"):
        raise ValueError(f"sample must be 'patch' or 'all', got {cfg['sample']!r}")
    snaps = cfg["snapshot_epochs"]
    if not all(isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in snaps):
        raise ValueError(f"snapshot_epochs must be a list of epochs >= 0 (0: at initialisation), "
                         f"got {snaps!r}")
    # Snapshots after the last epoch cannot exist: a shorter run (--set epochs=5) keeps the
    # profile's snapshots up to its last epoch.
    cfg["snapshot_epochs"] = sorted({e for e in snaps if e <= cfg["epochs"]})
    if cfg["snapshot_presentations"] < 1:
        raise ValueError(f"parameter snapshot_presentations must be >= 1, "
                         f"got {cfg['snapshot_presentations']}")
    if len(cfg["widths"]) != len(cfg["blocks"]) or not cfg["widths"]:
        raise ValueError(f"widths {cfg['widths']} and blocks {cfg['blocks']} must be equally long")
    for k in ("widths", "blocks"):
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in cfg[k]):
            raise ValueError(f"parameter {k} must list whole numbers >= 1 (one per stage), "
                             f"got {cfg[k]!r}")
    if not cfg["lr"] > 0:
        raise ValueError(f"parameter lr must be > 0, got {cfg['lr']}")
    if not 0 <= cfg["momentum"] < 1:
        raise ValueError(f"parameter momentum must lie in [0, 1), got {cfg['momentum']}")
    if not cfg["weight_decay"] >= 0:
        raise ValueError(f"parameter weight_decay must be >= 0, got {cfg['weight_decay']}")
    if not 0 < cfg["test_fraction"] < 1:
        raise ValueError(f"parameter test_fraction must lie in (0, 1), got {cfg['test_fraction']}")
    for k in ("max_train", "max_test"):
        if cfg[k] < 0:
            raise ValueError(f"parameter {k} must be >= 0 (0: all), got {cfg[k]}")
    if cfg["image_size"] < 1:
        raise ValueError(f"parameter image_size must be >= 1, got {cfg['image_size']}")
    if cfg["augment"] not in ("none", "jitter", "cifar"):
        raise ValueError(f"parameter augment must be 'none', 'jitter' or 'cifar', "
                         f"got {cfg['augment']!r}")
    for k in ("noise_amplitude", "fgsm_eps"):
        if not cfg[k] >= 0:
            raise ValueError(f"parameter {k} must be >= 0, got {cfg[k]}")


def condition_file(condition: str, cfg: dict) -> str:
    """File name of a condition's recording; it names the parameters that made it."""
    if condition == "noise":
        return f"noise-a{cfg['noise_amplitude']:g}.nc"
    if condition == "fgsm":
        k = cfg.get("fgsm_classes", 0)
        return f"fgsm-e{cfg['fgsm_eps']:.6g}" + (f"-c{k}" if k else "") + ".nc"
    if condition == "train":
        return f"train-p{cfg['detector_presentations']}.nc"
    if condition in ("original", "permuted"):
        return f"{condition}.nc"
    raise ValueError(f"unknown condition {condition!r}; choose one of {CONDITIONS}")
