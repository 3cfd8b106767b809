"""Sweeps through real Dask scheduler and worker processes give the local serial result, even when a worker dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from wca_sim.sweeps import IshigamiModel, sweep  # noqa: E402

PARAMS = IshigamiModel.params()
START_TIMEOUT = 60.0


# --- real dask processes on 127.0.0.1 ----------------------------------------


@dataclass
class LocalDaskCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1.

    Ports are chosen by the OS (``--port 0``; the scheduler writes its address
    to a scheduler file). Every process has an idle/death timeout so it ends on
    its own even if pytest is killed, and :meth:`stop` kills whatever is left.
    """

    folder: Path
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    address: str = ""

    def start(self, n_workers: int = 2) -> LocalDaskCluster:
        dask = shutil.which("dask")
        if dask is None:
            pytest.skip("the `dask` command is not installed")
        scheduler_file = self.folder / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file), "--idle-timeout", "300s"],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "scheduler.log", "w"),
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.stop()
                raise RuntimeError("dask scheduler did not start: " + (self.folder / "scheduler.log").read_text())
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]
        for i in range(n_workers):
            self.workers.append(subprocess.Popen(
                [dask, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--name", f"w{i}", "--death-timeout", "60s",
                 "--local-directory", str(self.folder / f"w{i}")],
                stdout=subprocess.DEVNULL, stderr=open(self.folder / f"worker{i}.log", "w"),
            ))
        return self

    def stop(self) -> None:
        # Workers are test processes holding nothing worth saving: kill them outright
        # (a polite SIGTERM can take seconds); then stop the scheduler.
        for process in self.workers:
            if process.poll() is None:
                process.kill()
        if self.scheduler is not None and self.scheduler.poll() is None:
            self.scheduler.terminate()
        for process in [*self.workers, self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path):
    c = LocalDaskCluster(tmp_path)
    try:
        yield c.start(n_workers=2)
    finally:
        c.stop()


def _serial(model, points, reps, seed):
    return sweep(IshigamiModel.base(), PARAMS, design="lhs", points=points, reps=reps, model=model, seed=seed)


# --- tests ---------------------------------------------------------------------


def test_dask_processes_reproduce_serial_result(cluster, tmp_path):
    from dask.distributed import Client, get_task_stream

    model = IshigamiModel(noise_sd=0.3, delay=0.05)
    expected = _serial(model, points=24, reps=3, seed=11)
    with Client(cluster.address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT)
        with get_task_stream(client) as stream:
            got = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=24, reps=3, model=model, seed=11,
                        client=client, batch_size=6, out=tmp_path / "out")
        # Both worker processes ran tasks: the work really was distributed.
        assert len({task["worker"] for task in stream.data}) == 2
    assert np.array_equal(got["kpis"].to_numpy(), expected["kpis"].to_numpy())
    for key in PARAMS:
        assert np.array_equal(got[key].to_numpy(), expected[key].to_numpy())
    # And via a scheduler address (the CLI's --scheduler), the client made and closed by sweep().
    by_address = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=24, reps=3, model=model, seed=11,
                       scheduler=cluster.address, batch_size=9)
    assert np.array_equal(by_address["kpis"].to_numpy(), expected["kpis"].to_numpy())


def test_worker_killed_mid_sweep_still_completes_identically(cluster, tmp_path):
    from dask.distributed import Client

    model = IshigamiModel(noise_sd=0.3, delay=0.1)
    points = 40
    expected = _serial(IshigamiModel(noise_sd=0.3), points=points, reps=2, seed=5)
    victim = cluster.workers[0]
    seen: dict[str, int] = {}

    def kill_after_some(done: int, total: int) -> None:
        if done >= 4 and "killed_at" not in seen:
            os.kill(victim.pid, signal.SIGKILL)
            seen["killed_at"] = done

    with Client(cluster.address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT)
        got = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=points, reps=2, model=model, seed=5,
                    client=client, batch_size=4, out=tmp_path / "out", progress=kill_after_some)
        survivors = len(client.nthreads())
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert seen["killed_at"] < points  # the kill happened mid-sweep
    assert survivors == 1
    assert np.array_equal(got["kpis"].to_numpy(), expected["kpis"].to_numpy())


@pytest.mark.slow
def test_local_cluster_backend_matches_serial():
    model = IshigamiModel(noise_sd=0.3)
    expected = _serial(model, points=12, reps=2, seed=3)
    got = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=12, reps=2, model=model, seed=3,
                cluster="local", workers=2, batch_size=4)
    assert np.array_equal(got["kpis"].to_numpy(), expected["kpis"].to_numpy())
