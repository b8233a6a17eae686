"""Edge lists on a dask.distributed LocalCluster (fclib.stats.distributed)."""
import os
import re
import signal
import socket
import threading
import time

import numpy as np
import pytest
import xarray as xr

from fclib.stats.distributed import connect
from fclib.stats.edges import significant_edges



# tiny tiles on a shared machine: numba's parallel launches cost more than the work
pytestmark = pytest.mark.usefixtures("one_numba_thread")
def _layers(seed=0, n=48, L=3000):
    rng = np.random.default_rng(seed)
    src = (rng.random((n, L)) < 0.05).astype(np.uint8)
    tgt = (rng.random((n, L)) < 0.05).astype(np.uint8)
    tgt[:12] |= src[:12] & (rng.random((12, L)) < 0.5)
    tgt[12:24] = (rng.random((12, L)) < 0.3) & ~src[12:24].astype(bool)
    return src, tgt


@pytest.fixture(scope="module")
def client():
    c = connect(workers=2, threads_per_worker=1)  # two worker processes
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def _worker_pids(client):
    return client.run(os.getpid)


def test_local_cluster_equals_one_process(client):
    src, tgt = _layers()
    assert len(set(_worker_pids(client).values()) - {os.getpid()}) == 2
    for method, kw in (("exact", {}), ("shifts", {"n_shifts": 20, "rng": 3})):
        want = significant_edges(src, tgt, 3.0, method, block=(11, 16), **kw)
        got = significant_edges(src, tgt, 3.0, method, block=(11, 16), client=client, **kw)
        xr.testing.assert_identical(got, want)
        assert want.sizes["edge"] > 0 and (want["z"] < 0).any()


def test_killed_worker_loses_nothing(client, tmp_path):
    src, tgt = _layers(1, n=64, L=6000)
    kw = dict(method="shifts", n_shifts=40, rng=4, block=8)  # 64 tiles
    want = significant_edges(src, tgt, 3.0, **kw)
    path = tmp_path / "e.nc"
    out, err = {}, {}

    def go():
        try:
            out["edges"] = significant_edges(src, tgt, 3.0, client=client, path=path, **kw)
        except BaseException as e:  # reported below
            err["e"] = e
    th = threading.Thread(target=go)
    th.start()
    blocks = path.with_name("e.nc.blocks")
    t0 = time.time()
    while not (blocks.exists() and len(list(blocks.glob("*.nc"))) >= 2):
        assert time.time() - t0 < 60, "no tile finished within a minute"
        time.sleep(0.02)
    addr, pid = sorted(_worker_pids(client).items())[0]
    finished_at_kill = len(list(blocks.glob("*.nc")))
    os.kill(pid, signal.SIGKILL)  # mid-run: its tasks are rerun elsewhere
    th.join(120)
    assert not th.is_alive() and not err, err
    assert finished_at_kill < 64
    assert pid not in _worker_pids(client).values()
    xr.testing.assert_identical(out["edges"], want)


def test_scheduler_that_does_not_answer():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"tcp://127.0.0.1:{port}"
    # the refusal is under test, not how long dask waits: a one-second timeout, named back
    with pytest.raises(ConnectionError, match=re.escape(addr) + ".* within 1 s"):
        connect(addr, timeout=1)


def test_connect_without_cluster_and_bad_arguments():
    assert connect() is None
    with pytest.raises(ValueError, match="not both"):
        connect("tcp://127.0.0.1:1", workers=2)
    with pytest.raises(ValueError, match="workers must be"):
        connect(workers=0)
