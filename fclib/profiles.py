"""Every profile's parameters, in one place: data only.

A *profile* is a named, complete set of parameters; ``smoke`` (the tests), ``workshop`` (a
room of laptops), ``default`` (the book), ``fashion`` (real images, the paper's protocol)
and ``paper`` (CIFAR-100, SEW-ResNet18). Three tables hold them, one per kind of network a
chapter runs:

- :data:`PROFILES`: the SEW-ResNet pipeline (train, record, analyse), its parameters named
  and explained in :data:`PARAMS`; :func:`fclib.pipeline.profiles.resolve` checks a run's
  overrides against them;
- :data:`TTFS_PROFILES`: the latency-coded Dale's-law networks (:mod:`fclib.ttfs.network`,
  chapter 18);
- :data:`MANGO_SETTINGS`: the sizes of the MANGO chapter (chapter 17).

This module imports nothing of fclib, so every layer may read it (``fclib.ttfs`` sits below
the pipeline and must not import it); :mod:`fclib.pipeline.profiles` re-exports the tables
beside the code that resolves and checks a run's parameters.
"""
from __future__ import annotations

from typing import Any

__all__ = ["PROFILES", "PARAMS", "DATASETS", "TRAIN_PARAMS", "RECORD_PARAMS", "RUNTIME_PARAMS",
           "TTFS_PROFILES", "MANGO_SETTINGS"]


# --------------------------------------------------------------------------- SEW-ResNet pipeline
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
    # A workshop room: every participant trains, records and runs a chapter on a laptop or a
    # free notebook service (1-2 cores) in about 3 minutes, with statistics that mean
    # something (benchmarks/bench_workshop.py measures the held-out accuracy, the
    # false-positive rate at z > 4 and the times; book/intro.md states them).
    # Two stages of one SEW block (4 recorded layers), 2,048 neurons per layer (the paper's
    # patch rule), as many frames per neuron as default: 40,000.
    "workshop": {**_DEFAULT, "widths": [16, 32], "blocks": [1, 1], "epochs": 20,
                 "n_presentations": 10_000, "neuron_budget": 2048,
                 "detector_presentations": 1000, "snapshot_epochs": [0, 5, 10, 20],
                 "snapshot_presentations": 500},
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


# --------------------------------------------------------------------------- latency-coded networks
#: Training parameters of the latency-coded networks (:func:`fclib.ttfs.network.ttfs_config`).
TTFS_PROFILES = {
    "smoke": dict(hidden=[20, 20, 20, 20], epochs=6, batch_size=32, lr=0.01, lr_step=10,
                  lr_gamma=0.7, max_train=300, max_test=150, test_fraction=1 / 3, seed=0,
                  dataset="digits", image_size=8),
    # the workshop profile's: a quarter of default's training, as fast as a room needs
    "workshop": dict(hidden=[40, 40, 40, 40], epochs=20, batch_size=32, lr=0.01, lr_step=10,
                     lr_gamma=0.7, max_train=0, max_test=0, test_fraction=1 / 3, seed=0,
                     dataset="digits", image_size=8),
    "default": dict(hidden=[80, 80, 80, 80], epochs=40, batch_size=32, lr=0.01, lr_step=10,
                    lr_gamma=0.7, max_train=0, max_test=0, test_fraction=1 / 3, seed=0,
                    dataset="digits", image_size=8),
    # real images: the 5,000 MNIST digits at 16 x 16, as 002's authors downsample them
    "fashion": dict(hidden=[80, 80, 80, 80], epochs=25, batch_size=32, lr=0.01, lr_step=10,
                    lr_gamma=0.7, max_train=0, max_test=1500, test_fraction=0.3, seed=0,
                    dataset="mnist", image_size=16),
    # 002's layer width (300 E + 100 I) on MNIST at 16 x 16: for a GPU or a patient CPU
    "paper": dict(hidden=[400, 400, 400, 400], epochs=100, batch_size=32, lr=0.005, lr_step=15,
                  lr_gamma=0.9, max_train=0, max_test=0, test_fraction=0.3, seed=0,
                  dataset="mnist", image_size=16),
}


# --------------------------------------------------------------------------- MANGO chapter
#: Sizes of the MANGO chapter per profile: generator training steps, units per layer,
#: layers (evenly spaced; ``None``: all) and evaluation budget of the snapshot search, units,
#: layers and budget of the Table 1 comparison, and neurons per label of the hub and
#: membership comparison (``labelled_units``, searched with ``budget``). ``None`` units:
#: every channel. The default keeps the chapter near 3 minutes on two cores (Nevergrad's
#: ask/tell costs tens of ms per evaluation); the full Table 1 is
#: ``table_budget=10_000, table_units=None, table_layers=None``.
MANGO_SETTINGS = {
    "smoke": dict(gan_steps=40, vqvae_steps=40, units=1, budget=30, table_units=1,
                  table_layers=1, table_budget=100, table_methods=["NG", "TT", "TT-b", "TT-s"],
                  coverage_samples=100,
                  layers=None, labelled_units=2),
    "workshop": dict(gan_steps=1000, vqvae_steps=300, units=1, budget=60, table_units=1,
                     table_layers=1, table_budget=100,
                     table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                     coverage_samples=300, layers=2, labelled_units=3),
    "default": dict(gan_steps=3000, vqvae_steps=800, units=1, budget=100, table_units=1,
                    table_layers=2, table_budget=200,
                    table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                    coverage_samples=1000, layers=4, labelled_units=5),
    "fashion": dict(gan_steps=3000, vqvae_steps=800, units=1, budget=100, table_units=1,
                    table_layers=2, table_budget=200,
                    table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                    coverage_samples=1000, layers=4, labelled_units=5),
    "paper": dict(gan_steps=20000, vqvae_steps=10000, units=8, budget=1000, table_units=None,
                  table_layers=None, table_budget=10_000,
                  table_methods=["RS", "NG", "NG-K", "TT", "TT-b", "TT-s"],
                  coverage_samples=1000, layers=None, labelled_units=20),
}
