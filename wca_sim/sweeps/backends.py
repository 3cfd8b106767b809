"""Execution backends: where a sweep's tasks run.

Every backend takes a list of tasks and a picklable function, and yields
``(task_index, result)`` pairs as tasks finish, in whatever order. The sweep
addresses results by point, so the order never matters.

``SerialBackend``
    In this process (``workers=1``, no Dask): simplest to debug.
``ProcessBackend``
    A pool of local processes (``workers=K``). If a process dies, the pool is
    rebuilt and the unfinished tasks resubmitted. Ctrl-C cancels pending tasks
    and terminates the processes.
``DaskBackend``
    A ``dask.distributed`` Client: given, or connected to a scheduler address,
    or on a LocalCluster it starts. Tasks are submitted with ``retries``; a
    worker that dies has its tasks rescheduled on others by the scheduler, and
    a task that still fails with ``KilledWorker`` is resubmitted by us.
    Dask is imported only here, only when used.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol


class Backend(Protocol):
    """What a sweep needs from an execution backend."""

    name: str

    @property
    def n_workers(self) -> int:
        ...

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        ...

    def close(self) -> None:
        ...

    def describe(self) -> dict[str, Any]:
        ...


class SerialBackend:
    """Run tasks one after another in this process."""

    name = "serial"
    n_workers = 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, fn(task)

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": 1}


class ProcessBackend:
    """A pool of local worker processes.

    Parameters
    ----------
    workers
        Number of processes.
    restarts
        How many times a broken pool (a worker process killed) is rebuilt.
    start_method
        multiprocessing start method; "spawn" is safe with threads and notebooks.
    """

    name = "processes"

    def __init__(self, workers: int, restarts: int = 3, start_method: str = "spawn") -> None:
        self.n_workers = workers
        self.restarts = restarts
        self.context = multiprocessing.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(max_workers=self.n_workers, mp_context=self.context,
                                         initializer=_ignore_sigint)
        return self._pool

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        pending_ids = list(range(len(tasks)))
        restarts = 0
        try:
            while pending_ids:
                pool = self._new_pool() if self._pool is None else self._pool
                futures: dict[Future, int] = {pool.submit(fn, tasks[i]): i for i in pending_ids}
                broken = False
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        i = futures.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        pending_ids.remove(i)
                        yield i, result
                    if broken:
                        break
                if broken:
                    restarts += 1
                    if restarts > self.restarts:
                        raise RuntimeError(f"worker processes died {restarts} times; giving up")
                    self._terminate()  # end what is left of the broken pool
                    self._new_pool()
        except BaseException:
            self._terminate()
            raise

    def _terminate(self) -> None:
        """Stop now: cancel queued tasks and end the worker processes (Ctrl-C, errors)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": self.n_workers}


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which cancels and terminates them cleanly."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskBackend:
    """Tasks on a dask.distributed cluster.

    Parameters
    ----------
    client
        A connected ``dask.distributed.Client``.
    own
        Close the client (and its cluster) in :meth:`close`.
    retries
        Dask retries per task for exceptions, and our resubmissions after
        ``KilledWorker``.
    """

    name = "dask"

    def __init__(self, client: Any, own: bool = False, retries: int = 3) -> None:
        self.client = client
        self.own = own
        self.retries = retries

    @property
    def n_workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        import uuid

        from dask.distributed import as_completed
        from distributed.scheduler import KilledWorker

        run_id = uuid.uuid4().hex[:8]

        def submit(i: int, attempt: int) -> Any:
            # pure=False: a resubmission must run again, not reuse a lost key.
            return self.client.submit(fn, tasks[i], retries=self.retries, pure=False,
                                      key=f"wca-sweep-{run_id}-task-{i}-{attempt}")

        index: dict[Any, tuple[int, int]] = {}
        for i in range(len(tasks)):
            index[submit(i, 0)] = (i, 0)
        stream = as_completed(list(index))
        try:
            for future in stream:
                i, attempt = index.pop(future)
                try:
                    result = future.result()
                except KilledWorker:
                    if attempt >= self.retries:
                        raise
                    new = submit(i, attempt + 1)
                    index[new] = (i, attempt + 1)
                    stream.add(new)
                    continue
                future.release()
                yield i, result
        finally:
            for future in index:
                future.cancel()

    def close(self) -> None:
        if self.own:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": self.n_workers, "scheduler": self.client.scheduler.address}


def make_backend(
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int = 1,
    cluster: str | None = None,
    retries: int = 3,
) -> Backend:
    """Choose a backend from the sweep's arguments.

    Parameters
    ----------
    client
        A ``dask.distributed.Client`` to use (not closed afterwards).
    scheduler
        Address of a running Dask scheduler, e.g. ``tcp://host:8786``.
    workers
        Local processes (or LocalCluster workers); 1 with no Dask runs serially.
    cluster
        ``"local"`` starts a Dask LocalCluster with ``workers`` single-threaded workers.
    """
    if sum(x is not None for x in (client, scheduler, cluster)) > 1:
        raise ValueError("give at most one of client, scheduler and cluster")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if client is not None:
        return DaskBackend(client, own=False, retries=retries)
    if scheduler is not None:
        from dask.distributed import Client

        return DaskBackend(Client(scheduler, timeout="30s"), own=True, retries=retries)
    if cluster is not None:
        if cluster != "local":
            raise ValueError(f"unknown cluster {cluster!r}; only 'local' is built in (pass a Client for others)")
        from dask.distributed import Client, LocalCluster

        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return DaskBackend(Client(local), own=True, retries=retries)
    if workers == 1:
        return SerialBackend()
    return ProcessBackend(workers)
