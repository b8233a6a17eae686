import numpy as np
import pytest

from conftest import make_cifar_archive
from fclib.io import datasets as data


def test_digits_split_is_deterministic_and_stratified():
    imgs, labels, names = data.load_digits(16)
    assert imgs.shape == (1797, 1, 16, 16) and imgs.dtype == np.float32
    assert 0 <= imgs.min() and imgs.max() <= 1
    a = data.split_dataset(imgs, labels, names, 1 / 3, rng=0)
    b = data.split_dataset(imgs, labels, names, 1 / 3, rng=0)
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    np.testing.assert_array_equal(a.train_images, b.train_images)
    assert len(a.train_labels) + len(a.test_labels) == 1797
    counts = np.bincount(a.test_labels, minlength=10)
    assert counts.min() >= 55 and counts.max() <= 62
    c = data.split_dataset(imgs, labels, names, 1 / 3, rng=1)
    assert not np.array_equal(a.test_images, c.test_images)


def test_split_caps_are_class_balanced():
    imgs, labels, names = data.load_digits(8)
    s = data.split_dataset(imgs, labels, names, 0.3, rng=0, max_train=50, max_test=20)
    assert len(s.train_labels) == 50 and len(s.test_labels) == 20
    assert np.bincount(s.test_labels, minlength=10).tolist() == [2] * 10


def test_presentations_are_seeded_and_distinct():
    p = data.presentation_params(10_000, 600, rng=3)
    q = data.presentation_params(10_000, 600, rng=3)
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])
    # every image shown equally often (up to one)
    counts = np.bincount(p["image"], minlength=600)
    assert counts.max() - counts.min() <= 1
    # few presentations repeat exactly: transform parameters are continuous draws
    keys = set(zip(p["image"], p["dy"].round(6), p["dx"].round(6), p["rotation"].round(6)))
    assert len(keys) == 10_000
    assert np.abs(p["rotation"]).max() <= 10 and np.abs(p["dx"]).max() <= 1.5


def test_present_identity_without_jitter_and_transforms_with_it():
    imgs, labels, _ = data.load_digits(16)
    p = data.presentation_params(5, 5, rng=0, jitter=False)
    out = data.present(imgs[:5], p)
    np.testing.assert_array_equal(out, imgs[:5][p["image"]])
    pj = data.presentation_params(5, 5, rng=0)
    outj = data.present(imgs[:5], pj)
    assert outj.shape == (5, 1, 16, 16) and outj.min() >= 0 and outj.max() <= 1
    assert not np.allclose(outj, imgs[:5][pj["image"]])
    # a pure translation by one pixel moves the image by one pixel
    t = {"image": np.array([0]), "dy": np.array([0.0]), "dx": np.array([1.0]),
         "rotation": np.array([0.0]), "scale": np.array([1.0])}
    shifted = data.present(imgs[:1], t)[0, 0]
    np.testing.assert_allclose(shifted[:, 1:], imgs[0, 0][:, :-1], atol=1e-6)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_reads_official_format(tmp_path, name):
    make_cifar_archive(tmp_path, name, n_train=25, n_test=10)
    s = data.load_cifar(tmp_path, name, check_md5=False)
    assert s.train_images.shape[1:] == (3, 32, 32) and s.test_images.shape == (10, 3, 32, 32)
    assert s.train_images.dtype == np.float32 and s.train_images.max() <= 1
    assert s.n_classes == (100 if name == "cifar100" else 10)


def test_cifar_missing_archive_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-100-python.tar.gz"):
        data.load_cifar(tmp_path, "cifar100")


def test_cifar_truncated_archive_is_refused(tmp_path):
    make_cifar_archive(tmp_path, "cifar100", truncate=True)
    with pytest.raises(ValueError, match="corrupt or truncated"):
        data.load_cifar(tmp_path, "cifar100", check_md5=False)


def test_cifar_checksum_mismatch_is_refused(tmp_path):
    make_cifar_archive(tmp_path, "cifar10")
    with pytest.raises(ValueError, match="MD5"):
        data.load_cifar(tmp_path, "cifar10", check_md5=True)


def test_unknown_cifar_name(tmp_path):
    with pytest.raises(ValueError, match="unknown CIFAR"):
        data.load_cifar(tmp_path, "cifar1000")
