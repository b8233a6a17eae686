import os
import shutil
from pathlib import Path

import pytest

# Under pytest-xdist (``make test``: two workers on two cores) each worker's torch and BLAS
# run one thread: two workers with two OpenMP threads each spin against each other (a run
# measured 1,561 CPU s against about 970 serially). numba keeps its threads, so the tests of
# its parallel kernels still run them in parallel.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")


def make_cifar_archive(path, name="cifar100", n_train=20, n_test=10, rng=0, truncate=False):
    """Write a small archive in the official CIFAR python format (same members and keys)."""
    from fclib.io.datasets import write_cifar_archive

    out = write_cifar_archive(path, name, n_train=n_train, n_test=n_test, rng=rng)
    if truncate:
        data = out.read_bytes()
        out.write_bytes(data[: len(data) // 2])
    return out


def on_disk(da, path):
    """``da`` written to netCDF at ``path`` and opened lazily, as a recording's layer is read
    (nothing loaded; its name kept)."""
    import numpy as np
    import xarray as xr

    da.to_dataset(name="spikes").to_netcdf(path, engine="netcdf4")
    lazy = xr.open_dataset(path, engine="netcdf4", cache=False)["spikes"]
    assert not isinstance(lazy.variable._data, np.ndarray)   # still on disk
    lazy.name = da.name
    return lazy


def book_extension(name: str):
    """The book's Sphinx extension ``book/_ext/<name>.py``, loaded as a module (it is not a
    package of fclib; Sphinx finds it through ``local_extensions``)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "book" / "_ext" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def one_numba_thread():
    """numba on one thread for the test (the setting is per thread and restored)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke profile trained and recorded once for the whole session."""
    from fclib.pipeline import run

    data_dir = tmp_path_factory.mktemp("smoke-data")
    r = run("smoke", data_dir, progress=False)
    # the run as trained and recorded, copied before the smoke book adds every chapter's
    # artefacts to it (360 MB): for the tests that move whole runs (smoke_run_core)
    shutil.copytree(data_dir / "runs", tmp_path_factory.getbasetemp() / "smoke-core" / "runs")
    return r


@pytest.fixture(scope="session")
def smoke_run_core(smoke_run, tmp_path_factory):
    """The session's smoke run as :func:`smoke_run` trained and recorded it (model,
    checkpoints, recording; a copy in another data folder), without the artefacts that the
    smoke book and other tests add to ``smoke_run``'s folder. For tests of what moves whole
    runs about (bundles: export, manifest, checks, import): they export a few MB, not 360."""
    from fclib.pipeline import run

    return run("smoke", tmp_path_factory.getbasetemp() / "smoke-core", progress=False)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def smoke_book(smoke_run, tmp_path_factory):
    """Every chapter executed on the smoke profile and the HTML book built, once per session,
    in a copy of the book's sources: ``(root, params, seconds per chapter)``.

    Two chapters at a time where the machine has two cores (as ``make book`` runs them, each
    kernel's threads sharing the cores): the chapters share the run's artefacts under the
    same locks, so what they show does not depend on it, and CI waits less."""
    from fclib import pipeline
    from fclib.pipeline.book import execute_workshop

    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "book", root / "book",
                    ignore=shutil.ignore_patterns("*.ipynb", "_build", "_static"))
    if (ROOT / "book" / "_static").exists():  # built assets (MathJax) come along
        shutil.copytree(ROOT / "book" / "_static", root / "book" / "_static")
    params = {"profile": "smoke", "data_dir": str(smoke_run.data_dir)}
    jobs = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)
    times = pipeline.execute_notebooks(root, params, progress=False, jobs=jobs)
    execute_workshop(root)   # as `fclib book` does
    pipeline.build_book(root)
    return root, params, times


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Every test that reads the built smoke book is ``slow`` (``-m "not slow"`` leaves it
    out). Under pytest-xdist (``make test`` runs two workers) every test of the smoke run
    (``smoke_run``, and ``smoke_book`` built on it) runs in one worker: the run is trained
    and the book built once per session, not once per worker, and no test of another worker
    writes into the run's folder while a chapter of the book reads it (some tests add
    conditions or place a file there for a moment)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        book = "smoke_book" in names or item.module.__name__.endswith("test_browser")
        if book:
            item.add_marker(pytest.mark.slow)
        if book or "smoke_run" in names:
            item.add_marker(pytest.mark.xdist_group("smoke"))
    if getattr(config.option, "loadgroup", False):   # an xdist worker: the longest group first
        items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)
