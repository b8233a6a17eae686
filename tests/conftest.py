import io
import pickle
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest


def make_cifar_archive(path, name="cifar100", n_train=20, n_test=10, seed=0, truncate=False):
    """Write a small archive in the official CIFAR python format (same members and keys)."""
    from fclib.io.datasets import CIFAR_ARCHIVES

    spec = CIFAR_ARCHIVES[name]
    rng = np.random.default_rng(seed)
    n_classes = 100 if name == "cifar100" else 10

    def batch(n):
        d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             spec["label_key"]: list(rng.integers(0, n_classes, n).tolist()),
             b"filenames": [f"img{i}.png".encode() for i in range(n)]}
        if name == "cifar100":
            d[b"coarse_labels"] = [0] * n
        return d

    members = {}
    per = max(1, n_train // len(spec["train"]))
    for m in spec["train"]:
        members[m] = batch(per)
    members[spec["test"][0]] = batch(n_test)
    members[spec["meta"]] = {spec["names_key"]: [f"class{i}".encode() for i in range(n_classes)]}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m, obj in members.items():
            blob = pickle.dumps(obj)
            info = tarfile.TarInfo(f"{spec['folder']}/{m}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    data = buf.getvalue()
    if truncate:
        data = data[: len(data) // 2]
    path.mkdir(parents=True, exist_ok=True)
    out = path / spec["file"]
    out.write_bytes(data)
    return out


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke profile trained and recorded once for the whole session."""
    from fclib.pipeline import run

    data_dir = tmp_path_factory.mktemp("smoke-data")
    return run("smoke", data_dir, progress=False)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def smoke_book(smoke_run, tmp_path_factory):
    """Every chapter executed on the smoke profile and the HTML book built, once per session,
    in a copy of the book's sources: ``(root, params, seconds per chapter)``."""
    from fclib import pipeline

    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "book", root / "book",
                    ignore=shutil.ignore_patterns("*.ipynb", "_build", "_static"))
    if (ROOT / "book" / "_static").exists():  # built assets (MathJax) come along
        shutil.copytree(ROOT / "book" / "_static", root / "book" / "_static")
    params = {"profile": "smoke", "data_dir": str(smoke_run.data_dir)}
    times = pipeline.execute_notebooks(root, params, progress=False)
    pipeline.build_book(root)
    return root, params, times
