"""Tiles of :func:`fclib.stats.edges.significant_edges` as tasks on a dask cluster.

``distributed`` is imported here only, and only when a function of this module is called:
importing :mod:`fclib.stats` does not import it.

Three ways to run (the ``client`` argument of :func:`~fclib.stats.edges.significant_edges`):

* ``client=None``: every tile in this process;
* ``connect(workers=N)``: a ``distributed.LocalCluster`` of ``N`` worker processes on this
  machine;
* ``connect("tcp://host:8786")``: an existing scheduler, e.g. a SLURM or Kubernetes
  deployment made with ``dask-jobqueue`` or ``dask-kubernetes``; its workers need fclib
  installed (the results come back to this process, which writes the tiles, so workers
  need no shared file system).

A worker that dies mid-run loses nothing: the scheduler reruns its tasks on another worker
(tiles are pure functions of their inputs), and with ``path=`` the tiles finished before
an interruption of the whole run are on disk.
"""
from __future__ import annotations

__all__ = ["connect", "run_tiles"]


def connect(scheduler: str | None = None, workers: int | None = None, *, timeout: float = 10.0,
            threads_per_worker: int | None = None):
    """A ``distributed.Client``, or ``None`` to run in this process.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``"tcp://host:8786"``).
    workers : int, optional
        Start a ``LocalCluster`` of this many worker processes instead.
    timeout : float
        Seconds to wait for ``scheduler`` to answer.
    threads_per_worker : int, optional
        Threads of each local worker (default: the cores shared out).

    Returns
    -------
    distributed.Client or None
        ``None`` with neither ``scheduler`` nor ``workers`` (one process, as without dask).

    Raises
    ------
    ValueError
        Both ``scheduler`` and ``workers``, or ``workers`` below 1.
    ConnectionError
        ``scheduler`` does not answer within ``timeout`` seconds (names it)."""
    if scheduler is not None and workers is not None:
        raise ValueError("pass scheduler= (an existing cluster) or workers= (a local one), "
                         "not both")
    if scheduler is None and workers is None:
        return None
    from distributed import Client

    if scheduler is not None:
        try:
            return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise ConnectionError(f"no dask scheduler answers at {scheduler!r} within "
                                  f"{timeout:g} s ({type(e).__name__}); start one (`dask "
                                  "scheduler`) or check the address") from None
    import os

    from distributed import LocalCluster

    workers = int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    tpw = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=tpw, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def run_tiles(client, func, tiles, args, finish, key: str, *, progress: bool = False,
              in_flight: int | None = None) -> None:
    """Run ``func(*args(t))`` for every tile ``t`` on ``client``; ``finish(t, result)`` is
    called here as each completes.

    At most ``in_flight`` tiles (default: twice the workers' threads) are submitted at once,
    so the tiles' inputs never pile up in the scheduler's memory. Task keys are named after
    the run's ``key`` and the tile, so a rerun on the same cluster reuses finished tasks.

    Parameters
    ----------
    client : distributed.Client
        Where the tiles run.
    func : callable
        The work of one tile.
    tiles : iterable
        The tiles.
    args : callable
        ``args(tile)``: the arguments of ``func`` for a tile.
    finish : callable
        ``finish(tile, result)``, called in this process.
    key : str
        Names the run's tasks.
    progress : bool
        Show a progress bar.
    in_flight : int, optional
        Most tiles submitted at once.

    Raises
    ------
    TypeError
        ``client`` is not a ``distributed.Client``."""
    if not hasattr(client, "nthreads"):
        raise TypeError(f"client must be a distributed.Client (fclib.stats.distributed.connect), got "
                        f"{type(client).__name__}")
    import warnings

    from distributed import as_completed

    from fclib._util import progress_bar

    if in_flight is None:
        in_flight = 2 * max(1, sum(client.nthreads().values()))
    pending = list(tiles)[::-1]
    futures = {}

    def submit():
        t = pending.pop()
        with warnings.catch_warnings():  # a tile's trains are a few MB: not a large graph
            warnings.filterwarnings("ignore", message=".*[Ll]arge.*")
            f = client.submit(_on_worker, func, *args(t), key=f"fclib-edge-tile-{key}-{t[0]}-{t[1]}",
                              pure=False)
        futures[f] = t
        return f

    ac = as_completed([submit() for _ in range(min(in_flight, len(pending)))])
    bar = progress_bar(total=len(tiles), desc="edge tiles", progress=progress)
    for f in ac:
        res = f.result()
        t = futures.pop(f)
        f.release()
        finish(t, res)
        bar.update()
        if pending:
            ac.add(submit())
    bar.close()
    client.run(_clear_worker_cache)


def _on_worker(func, *args):
    """``func(*args)`` with numba's parallel kernels on as many threads as the worker has
    (``numba.set_num_threads`` is per calling thread): worker processes sharing a machine
    would otherwise each start a thread per core."""
    import numba
    from distributed import get_worker

    n = max(1, min(get_worker().state.nthreads, numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        return func(*args)
    finally:
        numba.set_num_threads(before)


def _clear_worker_cache():
    from fclib.stats.edges import clear_cache

    clear_cache()
