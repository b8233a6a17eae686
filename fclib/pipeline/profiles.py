"""Profiles (``smoke``, ``default``, ``fashion``, ``paper``), parameter validation and cache keys.

A profile is a complete set of parameters; a run is a profile plus individual
overrides (``resolve("default", epochs=5)``). Every stage's artefact lives under
``<data_dir>/runs/<key>/``, where ``key`` is a hash of exactly the parameters that make
that artefact, so changing one makes a new key and nothing stale is reused.
"""
from __future__ import annotations

from typing import Any

from fclib.io.recordings import CONDITIONS

__all__ = ["PROFILES", "PARAMS", "resolve", "TRAIN_PARAMS", "RECORD_PARAMS",
           "CONDITIONS", "condition_file"]


DATASETS = ("digits", "fashion_mnist", "cifar10", "cifar100")

# name -> (type, doc). Types are checked strictly (an int is accepted where a float is).
PARAMS: dict[str, tuple[type, str]] = {
    "dataset": (str, "'digits' (bundled with scikit-learn), 'fashion_mnist' (Debian's dataset-fashion-mnist) or 'cifar10'/'cifar100'"),
    "image_size": (int, "digits are upsampled to this size (pixels); Fashion-MNIST is 28, CIFAR 32"),
    "test_fraction": (float, "held-out fraction of the digits (stratified, seeded)"),
    "max_train": (int, "cap on training images (0: all)"),
    "max_test": (int, "cap on held-out images (0: all)"),
    "stem_channels": (int, "stem convolution width"),
    "widths": (list, "channel width of each stage"),
    "blocks": (list, "SEW blocks per stage"),
    "T": (int, "timesteps per image"),
    "epochs": (int, "training epochs"),
    "batch_size": (int, "training batch size"),
    "lr": (float, "SGD learning rate (cosine schedule)"),
    "momentum": (float, "SGD momentum"),
    "weight_decay": (float, "SGD weight decay"),
    "augment": (str, "'jitter' (digits), 'cifar' (crop/flip/blur) or 'none'"),
    "seed": (int, "seed of every random draw"),
    "n_presentations": (int, "presentations of held-out images (frames = T x this)"),
    "jitter": (bool, "random translation/rotation/scale of each presentation"),
    "neuron_budget": (int, "neurons per layer of the sampling rule"),
    "record_batch": (int, "presentations per recording batch"),
    "noise_amplitude": (float, "uniform noise U(-a, a) added to each pixel (0-1 scale), condition 'noise'"),
    "fgsm_eps": (float, "FGSM step on the 0-1 pixel scale, condition 'fgsm' (paper: 4/255)"),
    "fgsm_classes": (int, "classes attacked by FGSM, drawn with the seed (0: all; paper: 30)"),
    "detector_presentations": (int, "presentations of training images recorded as condition 'train' (the detector's 1FC groups)"),
    "null": (str, "the test that defines significant pairs and 1FC groups everywhere: 'exact' (all circular shifts, the paper's test without sampling), 'shifts' (the paper's random circular shifts, n_shifts of them) or 'stimulus' (whole presentations permuted among presentations of the same stimulus)"),
    "n_shifts": (int, "random circular shifts of null='shifts' (paper: 150)"),
    "stimulus": (str, "what counts as the same stimulus for null='stimulus': 'image' (repeated presentations of one image) or 'class'"),
    "device": (str, "where torch runs: 'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'; not part of any cache key"),
    "amp": (bool, "bf16 autocast in training on CUDA (PLIF membranes stay fp32; recording and evaluation always run in IEEE fp32); off: fp32"),
    "deterministic": (bool, "deterministic algorithms in training and recording (cuDNN, cuBLAS workspace): on CUDA a resumed run equals an uninterrupted one; not part of any cache key"),
    "channels_last": (bool, "channels-last memory format for the convolutions"),
    "backend": (str, "statistics kernels: 'auto' (torch on a CUDA device, else numba), 'numba' or 'torch'"),
    "snapshot_epochs": (list, "epochs after which the model is kept as a snapshot (0: at initialisation)"),
    "snapshot_presentations": (int, "presentations recorded for each training snapshot"),
    "sample": (str, "which neurons are recorded: 'patch' (the paper's sampling rule, neuron_budget per layer) or 'all'"),
    "scheduler": (str, "address of a dask scheduler that runs the edge-list tiles of sample='all' ('': this process; `fclib run --workers N` starts a local one); not part of any key"),
    "cifar_root": (str, "folder holding the official CIFAR python archive"),
    "fashion_root": (str, "folder holding the four Fashion-MNIST IDX files ('': $FCLIB_FASHION_MNIST, else Debian's /usr/share/datasets/fashion-mnist)"),
    "verify_md5": (bool, "check the CIFAR archive against the official MD5 sum"),
}

TRAIN_PARAMS = ("dataset", "image_size", "test_fraction", "max_train", "max_test",
                "stem_channels", "widths", "blocks", "T", "epochs", "batch_size", "lr",
                "momentum", "weight_decay", "augment", "seed", "snapshot_epochs")
RECORD_PARAMS = ("n_presentations", "jitter", "neuron_budget", "sample")
# Parameters that say where or how fast something runs, never what it computes: no cache key
# holds them (a model trained on a GPU is the same artefact for a CPU reader).
RUNTIME_PARAMS = ("device", "amp", "channels_last", "backend", "record_batch", "scheduler",
                  "deterministic")

_DEFAULT = dict(
    dataset="digits", image_size=16, test_fraction=1 / 3, max_train=0, max_test=0,
    stem_channels=16, widths=[16, 32, 64], blocks=[2, 2, 2], T=4,
    epochs=20, batch_size=64, lr=0.1, momentum=0.9, weight_decay=5e-4, augment="jitter",
    seed=0, n_presentations=10_000, jitter=True, neuron_budget=8192, record_batch=250,
    cifar_root="data/cifar", fashion_root="", verify_md5=True, noise_amplitude=0.5, fgsm_eps=4 / 255,
    fgsm_classes=0, detector_presentations=5000, null="exact", n_shifts=150, stimulus="image",
    device="auto", amp=False, channels_last=False, backend="auto", deterministic=False,
    snapshot_epochs=[0, 1, 2, 3, 5, 10, 20], snapshot_presentations=1000, sample="patch",
    scheduler="",
)

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {**_DEFAULT, "max_train": 500, "max_test": 50, "stem_channels": 8,
              "widths": [8, 16], "blocks": [1, 1], "epochs": 6, "batch_size": 32,
              "n_presentations": 100,
              "record_batch": 50, "detector_presentations": 100,
              "snapshot_epochs": [0, 3, 6], "snapshot_presentations": 50},
    "default": dict(_DEFAULT),
    # The paper's protocol on real images: Fashion-MNIST, the SEW-ResNet18 topology (stem, 4
    # stages x 2 SEW blocks: 16 recorded layers) at reduced width, the 10,000 test images
    # each presented once without jitter (40,000 frames), the stimulus null at class level.
    "fashion": {**_DEFAULT, "dataset": "fashion_mnist", "image_size": 28, "stem_channels": 8,
                "widths": [8, 16, 32, 64], "blocks": [2, 2, 2, 2], "epochs": 2,
                "batch_size": 64, "lr": 0.1, "augment": "none", "n_presentations": 10_000,
                "jitter": False, "stimulus": "class", "detector_presentations": 5000,
                "snapshot_epochs": [0, 1, 2], "snapshot_presentations": 2000},
    "paper": {**_DEFAULT, "dataset": "cifar100", "image_size": 32, "stem_channels": 64,
              "widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2], "epochs": 320,
              "batch_size": 256, "lr": 0.1, "weight_decay": 5e-4, "augment": "cifar",
              "n_presentations": 10_000, "jitter": False, "record_batch": 100,
              "fgsm_classes": 30, "detector_presentations": 10_000, "stimulus": "class",
              "snapshot_epochs": [0, 1, 5, 20, 80, 160, 320], "snapshot_presentations": 2000},
}


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
