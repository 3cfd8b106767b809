"""Resumable sweeps: an interrupted sweep, rerun, gives exactly the uninterrupted result without recomputing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from wca_sim.sweeps import IshigamiModel, load_sweep, sweep
from wca_sim.sweeps.store import SweepMismatch, SweepStore

PARAMS = IshigamiModel.params()


class CountingModel(IshigamiModel):
    """Ishigami that records which points it evaluated (serial backend: same object)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.calls: list[tuple[float, float, float]] = []

    def __call__(self, scenario, replications, seed):
        self.calls.append((scenario["x1"], scenario["x2"], scenario["x3"]))
        return super().__call__(scenario, replications, seed)


class Interrupt(Exception):
    pass


def _run(out, model, **kwargs):
    return sweep(IshigamiModel.base(), PARAMS, design="sobol", points=32, reps=3, model=model, seed=4,
                 out=out, batch_size=6, **kwargs)


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    reference = _run(tmp_path / "reference", IshigamiModel(noise_sd=0.5))

    def stop_after_some(done, total):
        if done >= 10:
            raise Interrupt

    with pytest.raises(Interrupt):
        _run(tmp_path / "out", IshigamiModel(noise_sd=0.5), progress=stop_after_some)
    stored_points = {p for p, _ in SweepStore(tmp_path / "out").finished()}
    assert 10 <= len(stored_points) < 32
    assert not (tmp_path / "out" / "sweep.nc").exists()

    counting = CountingModel(noise_sd=0.5)
    resumed = _run(tmp_path / "out", counting)
    # Only the missing points were evaluated, each once.
    assert len(counting.calls) == 32 - len(stored_points)
    assert np.array_equal(resumed["kpis"].to_numpy(), reference["kpis"].to_numpy())
    on_disk = load_sweep(tmp_path / "out")
    assert np.array_equal(on_disk["kpis"].to_numpy(), reference["kpis"].to_numpy())
    for key in PARAMS:
        assert np.array_equal(on_disk[key].to_numpy(), reference[key].to_numpy())

    # A third run finds everything stored and evaluates nothing.
    again = CountingModel(noise_sd=0.5)
    _run(tmp_path / "out", again)
    assert again.calls == []


def test_killed_client_process_then_rerun_completes(tmp_path):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        from wca_sim.sweeps import IshigamiModel, sweep
        sweep(IshigamiModel.base(), IshigamiModel.params(), design="sobol", points=32, reps=3,
              model=IshigamiModel(noise_sd=0.5, delay=0.05), seed=4, out={str(out)!r}, batch_size=6)
    """)
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "store").glob("part-*.parquet"))) < 2:
            assert process.poll() is None, "the sweep finished or failed before it could be killed"
            assert time.monotonic() < deadline, "no results stored within 60 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert not (out / "sweep.nc").exists()
    stored = {p for p, _ in SweepStore(out).finished()}
    assert 0 < len(stored) < 32

    counting = CountingModel(noise_sd=0.5)
    resumed = _run(out, counting)
    assert len(counting.calls) == 32 - len(stored)
    reference = _run(tmp_path / "reference", IshigamiModel(noise_sd=0.5))
    assert np.array_equal(resumed["kpis"].to_numpy(), reference["kpis"].to_numpy())


def test_rerun_with_different_arguments_is_refused(tmp_path):
    _run(tmp_path / "out", IshigamiModel())
    with pytest.raises(SweepMismatch, match="seed"):
        sweep(IshigamiModel.base(), PARAMS, design="sobol", points=32, reps=3, model=IshigamiModel(),
              seed=5, out=tmp_path / "out")
    # overwrite=True discards the old results and runs the new sweep.
    new = sweep(IshigamiModel.base(), PARAMS, design="sobol", points=32, reps=3, model=IshigamiModel(),
                seed=5, out=tmp_path / "out", overwrite=True)
    assert load_sweep(tmp_path / "out").attrs["sweep"] == new.attrs["sweep"]


def test_result_independent_of_batching_and_worker_count(tmp_path):
    model = IshigamiModel(noise_sd=0.5)
    serial = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=12, reps=4, model=model, seed=2)
    split = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=12, reps=4, model=model, seed=2,
                  batch_size=1, reps_per_task=3)
    processes = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=12, reps=4, model=model, seed=2,
                      workers=2, batch_size=5, out=tmp_path / "p")
    assert np.array_equal(serial["kpis"].to_numpy(), split["kpis"].to_numpy())
    assert np.array_equal(serial["kpis"].to_numpy(), processes["kpis"].to_numpy())


class DieOnce(IshigamiModel):
    """Kills the worker process running it the first time it is called (a marker file remembers)."""

    def __init__(self, marker, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marker = str(marker)

    def __call__(self, scenario, replications, seed):
        import os

        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)  # abrupt death, as a killed process
        return super().__call__(scenario, replications, seed)


def test_local_worker_process_death_is_survived(tmp_path):
    model = DieOnce(tmp_path / "died", noise_sd=0.5)
    got = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=10, reps=2, model=model, seed=9,
                workers=2, batch_size=4)
    assert (tmp_path / "died").exists()
    expected = sweep(IshigamiModel.base(), PARAMS, design="lhs", points=10, reps=2,
                     model=IshigamiModel(noise_sd=0.5), seed=9)
    assert np.array_equal(got["kpis"].to_numpy(), expected["kpis"].to_numpy())
