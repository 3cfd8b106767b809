"""Sweeps through real Dask scheduler and worker processes give the local serial result, even when a worker dies."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

pytest.importorskip("distributed")

from wca_sim.sweeps import IshigamiModel, sweep  # noqa: E402


# --- real dask processes on 127.0.0.1 ----------------------------------------
# Ports are chosen by the OS (--port 0; the scheduler writes its address to a
# scheduler file). Every process has an idle/death timeout so it ends on its own
# even if pytest is killed, and stop() kills whatever is left.

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0


@dataclass
class LocalDaskCluster:
    folder: Path
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    address: str = ""

    def start(self, n_workers: int = 2) -> LocalDaskCluster:
        dask = shutil.which("dask")
        if dask is None:
            raise RuntimeError("the `dask` command is not installed")
        scheduler_file = self.folder / "scheduler.json"
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "5"}
        self.scheduler = subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file), "--idle-timeout", "300s"],
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "scheduler.log", "w"), env=env,
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
                stdout=subprocess.DEVNULL, stderr=open(self.folder / f"worker{i}.log", "w"), env=env,
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
