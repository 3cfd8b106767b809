"""run(): batching, processes, determinism, precision mode, refusals and Ctrl-C (with a fake engine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
from helpers.fake_engine import FakeEngine  # noqa: E402
from helpers.synthetic import small_scenario  # noqa: E402

import wca_sim as ws  # noqa: E402
from wca_sim.analysis import compare  # noqa: E402
from wca_sim.runner import default_batch_size, resolve_scenarios  # noqa: E402


@pytest.fixture(scope="module")
def pair():
    return [small_scenario("run-to-aug-2015"), small_scenario("early-exit")]


def test_workers_and_batches_do_not_change_results(pair):
    serial = ws.run(pair, reps=5, seed=11, engine=FakeEngine(), workers=1, progress=False)
    pooled = ws.run(pair, reps=5, seed=11, engine=FakeEngine(), workers=2, batch_size=2, progress=False)
    single = ws.run(pair, reps=5, seed=11, engine=FakeEngine(), workers=1, batch_size=5, progress=False)
    for other in (pooled, single):
        assert serial.timeseries.identical(other.timeseries)
        pd.testing.assert_frame_equal(serial.kpis, other.kpis, check_exact=True)
    assert serial.scenario_names == ["run-to-aug-2015", "early-exit"]
    assert serial.replications == [0, 1, 2, 3, 4]
    assert pooled.provenance["workers"] == 2 and pooled.provenance["batch_size"] == 2


def test_replication_r_is_the_same_in_any_run(pair):
    # Replication 3 of a 5-replication run equals replication 3 run alone: streams are keyed by (seed, r).
    five = ws.run(pair[0], reps=5, seed=2, engine=FakeEngine(), progress=False)
    engine_only = FakeEngine().run(pair[0], [3], 2)
    np.testing.assert_array_equal(five.timeseries["backlog"].sel(replication=3).values,
                                  engine_only.timeseries["backlog"].sel(replication=3).values)
    other_seed = ws.run(pair[0], reps=5, seed=3, engine=FakeEngine(), progress=False)
    assert not np.array_equal(five.timeseries["backlog"].values, other_seed.timeseries["backlog"].values)


def test_resolve_names_paths_and_scale(tmp_path, pair):
    path = tmp_path / "mine.toml"
    path.write_text(ws.dump_scenario(pair[1].with_overrides({"name": "mine"})))
    resolved = resolve_scenarios(["run-to-aug-2015", path, pair[0].with_overrides({"name": "x"})], scale=0.05)
    assert [s.name for s in resolved] == ["run-to-aug-2015", "mine", "x"]
    assert all(s.scale == 0.05 for s in resolved)
    with pytest.raises(ValueError, match="unique"):
        resolve_scenarios([pair[0], pair[0]])
    with pytest.raises(ws.ScenarioError, match="unknown scenario"):
        resolve_scenarios("no-such-scenario")
    res = ws.run(pair[0], reps=1, engine=FakeEngine(), scale=0.25, progress=False)
    assert res.scenarios["run-to-aug-2015"].scale == 0.25
    assert res.provenance["scale"] == {"run-to-aug-2015": 0.25}


def test_provenance(pair):
    res = ws.run(pair, reps=2, seed=9, engine=FakeEngine(), progress=False)
    prov = res.provenance
    for key in ("version", "engine", "seed", "replications", "scenarios", "command", "started", "finished",
                "workers", "batch_size", "reps"):
        assert key in prov, key
    assert (prov["engine"], prov["seed"], prov["reps"]) == ("fake", 9, 2)
    assert prov["scenarios"] == ["run-to-aug-2015", "early-exit"]
    assert prov["replications"] == [0, 1]
    assert prov["started"] <= prov["finished"]


def test_refusal_propagates_with_a_clear_message(pair):
    refused = pair[1].with_overrides({"description": "please refuse"})
    for workers in (1, 2):
        with pytest.raises(ws.UnsupportedScenario, match="engine 'fake' cannot run scenario 'early-exit'"):
            ws.run([pair[0], refused], reps=2, engine=FakeEngine(), workers=workers, progress=False)


def test_bad_arguments(pair):
    with pytest.raises(ValueError, match="unknown engine"):
        ws.run(pair[0], engine="nope")
    with pytest.raises(ValueError, match="reps"):
        ws.run(pair[0], reps=0, engine=FakeEngine())
    with pytest.raises(ValueError, match="reference"):
        ws.run(pair, reps=2, engine=FakeEngine(), until={"peak_backlog": 1.0}, reference="nope")


def test_default_batch_size():
    assert default_batch_size(100, 2, "des") == 13
    assert default_batch_size(3, 4, "des") == 1
    assert default_batch_size(100, 2, "fast") == 50


def test_precision_mode_reaches_target(pair):
    kpi = "backlog_on_2014-04-30"
    first = ws.run(pair, reps=4, seed=5, engine=FakeEngine(), progress=False)
    start_width = compare(first, kpis=[kpi])["half_width"].iloc[0]
    target = start_width / 3  # needs roughly 9x the replications
    res = ws.run(pair, reps=4, seed=5, engine=FakeEngine(), until={kpi: target}, max_reps=500, progress=False)
    info = res.provenance["precision"]
    assert info["met"] and info["final_reps"] == len(res.replications) > 4
    assert res.replications == list(range(len(res.replications)))
    assert compare(res, kpis=[kpi])["half_width"].iloc[0] <= target  # checked independently of the runner
    assert [r["reps"] for r in info["rounds"]] == sorted({r["reps"] for r in info["rounds"]})
    # The first replications are the same as in an ordinary run (extra rounds only append).
    head = res.kpis[res.kpis["replication"] < 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(head, first.kpis, check_exact=True)


def test_precision_mode_stops_at_cap(pair):
    res = ws.run(pair, reps=2, seed=5, engine=FakeEngine(), until={"peak_backlog": 1e-9}, max_reps=7, progress=False)
    info = res.provenance["precision"]
    assert not info["met"] and info["final_reps"] == 7 and len(res.replications) == 7


def test_precision_mode_single_scenario_uses_own_ci(pair):
    res = ws.run(pair[0], reps=3, seed=1, engine=FakeEngine(), until={"peak_backlog": 1e9}, progress=False)
    assert res.provenance["precision"]["met"] and len(res.replications) == 3


def test_progress_bar_runs(pair, capsys):
    ws.run(pair[0], reps=2, engine=FakeEngine(), progress=True)
    assert "replications" in capsys.readouterr().err


SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from helpers.fake_engine import FakeEngine
    from helpers.synthetic import small_scenario
    import wca_sim as ws

    if __name__ == "__main__":
        print("starting", flush=True)
        ws.run([small_scenario()], reps=8, engine=FakeEngine(sleep=20.0), workers=2, batch_size=1, progress=False)
        print("finished", flush=True)
    """
)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_ctrl_c_stops_cleanly(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(SCRIPT.format(tests=str(TESTS)))
    # A new session so that, like a terminal's Ctrl-C, SIGINT can go to the whole process group.
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + 60
    try:
        # Wait until both workers exist and have had time to start on tasks.
        while time.monotonic() < deadline:
            for child in _descendants(proc.pid):
                seen[child.pid] = child
            workers = [c for c in seen.values() if _alive(c) and "spawn_main" in " ".join(c.cmdline())]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        assert len(workers) >= 2, "pool workers never appeared"
        time.sleep(3.0)
        for child in _descendants(proc.pid):
            seen[child.pid] = child
        assert proc.poll() is None, "run finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    gone_by = time.monotonic() + 10
    while time.monotonic() < gone_by and any(_alive(c) for c in seen.values()):
        time.sleep(0.2)
    survivors = [c.pid for c in seen.values() if _alive(c)]
    assert not survivors, f"processes left behind: {survivors}"
