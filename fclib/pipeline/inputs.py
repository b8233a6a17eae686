"""What training and recording start from: a configuration's images and architecture."""
from __future__ import annotations

from fclib.io import datasets as fdata

__all__ = ["load_split", "arch"]


def load_split(cfg: dict) -> fdata.Split:
    """Training and held-out images of a configuration."""
    if cfg["dataset"] == "digits":
        imgs, labels, names = fdata.load_digits(cfg["image_size"])
        return fdata.split_dataset(imgs, labels, names, cfg["test_fraction"], cfg["seed"],
                                   cfg["max_train"] or None, cfg["max_test"] or None)
    if cfg["dataset"] == "fashion_mnist":
        split = fdata.load_fashion_mnist(cfg["fashion_root"] or None)
    else:
        split = fdata.load_cifar(cfg["cifar_root"], cfg["dataset"], check_md5=cfg["verify_md5"])
    if cfg["max_train"] or cfg["max_test"]:
        split = fdata.Split(split.train_images[:cfg["max_train"] or None],
                            split.train_labels[:cfg["max_train"] or None],
                            split.test_images[:cfg["max_test"] or None],
                            split.test_labels[:cfg["max_test"] or None], split.class_names)
    return split


def arch(cfg: dict, split: fdata.Split) -> dict:
    """The model architecture of a configuration for a dataset split."""
    from fclib.snn.models import small_sew_resnet_arch

    arch = small_sew_resnet_arch(split.n_classes, split.image_shape[0], cfg["widths"],
                                 cfg["blocks"], cfg["stem_channels"])
    arch["T"] = cfg["T"]
    return arch
