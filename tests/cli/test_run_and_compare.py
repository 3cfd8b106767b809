"""``wca-sim run``, ``compare`` and ``plot`` at small scale: read back every file they write.

The runs are short (1% of claimants, nine months) and shared by the tests of
a module through module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import wca_sim
from wca_sim.cli import main
from wca_sim.kpis import kpi_names
from wca_sim.results import TIMESERIES_SCHEMA
from wca_sim.scenario import load_scenario

SMALL = ["--scale", "0.01", "--set", "end_date=2014-06-30", "--set", "report_dates=[2014-03-31, 2014-06-30]"]
START, END = dt.date(2013, 10, 1), dt.date(2014, 6, 30)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _small(name: str) -> wca_sim.Scenario:
    return load_scenario(name).with_overrides(
        {"scale": 0.01, "end_date": END, "report_dates": [dt.date(2014, 3, 31), END]}
    )


def _call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _run_module(*argv: str) -> tuple[int, str]:
    """main() for module-scoped fixtures (capsys is function-scoped): stdout into a buffer."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(list(argv))
    return status, buffer.getvalue()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "out"
    status, printed = _run_module(
        "run", "early-exit", *SMALL, "--reps", "3", "--seed", "7", "--journeys", "--no-progress", "--out", str(out)
    )
    assert status == 0
    return out, printed


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("compare") / "out"
    status, printed = _run_module(
        "compare", "run-to-aug-2015", "early-exit", "add-providers", *SMALL,
        # --set NAME:KEY=VALUE changes one scenario only
        "--set", "early-exit:providers.atos.workforce.attrition_uplift_after_exit=3.0",
        "--reps", "3", "--seed", "11", "--until", "peak_backlog=1e12", "--no-progress", "--out", str(out),
    )
    assert status == 0
    return out, printed


# ----------------------------------------------------------------------- run


def test_run_writes_every_promised_file(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "journeys.parquet", "kpis.csv", "provenance.json", "scenario-early-exit.toml", "timeseries.nc",
    ]
    assert not list(out.parent.glob(".out*")), "temporary folder left behind"


def test_run_timeseries_opens_with_the_schema(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    with xr.open_dataset(out / "timeseries.nc") as ds:
        assert list(ds["scenario"].values) == ["early-exit"]
        assert list(ds["replication"].values) == [0, 1, 2]
        dates = pd.DatetimeIndex(ds["date"].values)
        assert dates[0].date() == START and dates[-1].date() == END and len(dates) == (END - START).days + 1
        for variable, extra in TIMESERIES_SCHEMA.items():
            assert variable in ds, variable
            assert set(extra) <= set(ds[variable].dims)
        assert "initial_stock" in ds
        # national scale: a 1% run still reports a backlog of national size (hundreds of thousands)
        assert float(ds["backlog"].isel(date=0).mean()) > 1e5


def test_run_kpis_csv(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis.columns) == ["scenario", "replication", "kpi", "value"]
    expected = kpi_names(_small("early-exit"))
    for rep in (0, 1, 2):
        assert kpis.loc[kpis["replication"] == rep, "kpi"].tolist() == expected
    assert set(kpis["scenario"]) == {"early-exit"}


def test_run_table_shows_mean_and_t_interval(run_dir: tuple[Path, str]) -> None:
    out, printed = run_dir
    kpis = pd.read_csv(out / "kpis.csv")
    values = kpis.loc[kpis["kpi"] == "backlog_on_2014-06-30", "value"].to_numpy()
    mean = values.mean()
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    line = next(x for x in printed.splitlines() if x.startswith("backlog_on_2014-06-30"))
    assert f"{mean:,.0f}" in line
    assert f"[{mean - half:,.0f}, {mean + half:,.0f}]" in line
    # readable: thousands separators and the peak date as a calendar date
    assert re.search(r"\d{1,3}(,\d{3})+", line)
    peak_line = next(x for x in printed.splitlines() if x.startswith("peak_backlog_date"))
    assert re.search(r"\d{2} [A-Z][a-z]{2} 201[34]", peak_line)
    assert "3 replications, seed 7, engine des, scale 0.01" in printed


def test_run_provenance(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["version"] == wca_sim.__version__
    assert prov["engine"] == "des"
    assert prov["seed"] == 7
    assert prov["replications"] == [0, 1, 2]
    assert prov["command"].startswith("wca-sim run early-exit")
    assert "--seed 7" in prov["command"]
    assert prov["overrides"] == ["end_date=2014-06-30", "report_dates=[2014-03-31, 2014-06-30]"]


def test_run_scenario_toml_is_the_resolved_scenario(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    assert load_scenario(out / "scenario-early-exit.toml") == _small("early-exit")


def test_run_journeys(run_dir: tuple[Path, str]) -> None:
    out, _ = run_dir
    journeys = pd.read_parquet(out / "journeys.parquet")
    assert len(journeys) > 0
    assert set(journeys["replication"]) == {0, 1, 2}


def test_saved_scenario_reruns_to_identical_results(run_dir: tuple[Path, str], tmp_path: Path, capsys) -> None:
    """The TOML written by a run loads with `wca-sim run` and, with the same seed, reproduces it exactly."""
    out, _ = run_dir
    again = tmp_path / "again"
    status, _, err = _call(capsys, "run", str(out / "scenario-early-exit.toml"), "--reps", "3", "--seed", "7",
                           "--no-progress", "--out", str(again))
    assert status == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(out / "kpis.csv"), pd.read_csv(again / "kpis.csv"))


def test_rerun_into_the_same_folder_replaces_stale_files(run_dir: tuple[Path, str], tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    shutil.copytree(run_dir[0], out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    status, _, err = _call(capsys, "run", "run-to-aug-2015", *SMALL, "--reps", "2", "--no-progress", "--out", str(out))
    assert status == 0, err
    names = sorted(p.name for p in out.iterdir())
    # the earlier run's scenario and journeys are gone (they would be read back as part of this run);
    # a file that is not a wca-sim output is kept
    assert names == ["kpis.csv", "notes.txt", "provenance.json", "scenario-run-to-aug-2015.toml", "timeseries.nc"]
    assert wca_sim.load_results(out).scenario_names == ["run-to-aug-2015"]


# ------------------------------------------------------------------- compare


def test_compare_writes_every_promised_file(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == sorted(
        ["differences.csv", "kpis.csv", "provenance.json", "summary.csv", "timeseries.nc",
         "scenario-run-to-aug-2015.toml", "scenario-early-exit.toml", "scenario-add-providers.toml",
         "figures/backlog_fan.png", "figures/decision_times.png", "figures/kpi_differences.png",
         "figures/workforce.png", "figures/tribunal_backlog.png"]
    )
    for png in (out / "figures").iterdir():
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000


def test_compare_timeseries_and_kpis(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    with xr.open_dataset(out / "timeseries.nc") as ds:
        assert list(ds["scenario"].values) == ["run-to-aug-2015", "early-exit", "add-providers"]
        assert ds.sizes["replication"] == 3
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis.columns) == ["scenario", "replication", "kpi", "value"]
    assert list(dict.fromkeys(kpis["scenario"])) == ["run-to-aug-2015", "early-exit", "add-providers"]


def test_compare_summary_csv_matches_an_independent_calculation(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scenario", "kpi", "n", "mean", "std", "ci_low", "ci_high", "p5", "p50", "p95"]
    kpis = pd.read_csv(out / "kpis.csv")
    values = kpis[(kpis["scenario"] == "add-providers") & (kpis["kpi"] == "cost_total")]["value"].to_numpy()
    row = summary[(summary["scenario"] == "add-providers") & (summary["kpi"] == "cost_total")].iloc[0]
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * half)


def test_compare_differences_are_paired_against_the_reference(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    diffs = pd.read_csv(out / "differences.csv")
    for column in ("scenario", "reference", "kpi", "mean_difference", "ci_low", "ci_high", "half_width", "share_better"):
        assert column in diffs.columns
    assert set(diffs["reference"]) == {"run-to-aug-2015"}
    assert set(diffs["scenario"]) == {"early-exit", "add-providers"}
    kpis = pd.read_csv(out / "kpis.csv").pivot_table(index=["replication", "kpi"], columns="scenario", values="value")
    paired = (kpis["early-exit"] - kpis["run-to-aug-2015"]).xs("backlog_on_2014-06-30", level="kpi")
    row = diffs[(diffs["scenario"] == "early-exit") & (diffs["kpi"] == "backlog_on_2014-06-30")].iloc[0]
    assert row["mean_difference"] == pytest.approx(paired.mean())
    assert row["share_better"] == pytest.approx(float((paired < 0).mean()))


def test_compare_targeted_set_changes_one_scenario(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    early = load_scenario(out / "scenario-early-exit.toml")
    assert early.providers["atos"].workforce.attrition_uplift_after_exit == 3.0
    assert early == _small("early-exit").with_overrides({"providers.atos.workforce.attrition_uplift_after_exit": 3.0})
    for name in ("run-to-aug-2015", "add-providers"):
        assert load_scenario(out / f"scenario-{name}.toml") == _small(name)


def test_compare_provenance_and_precision(compare_dir: tuple[Path, str]) -> None:
    out, _ = compare_dir
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["version"] == wca_sim.__version__ and prov["engine"] == "des" and prov["seed"] == 11
    assert prov["command"].startswith("wca-sim compare run-to-aug-2015 early-exit add-providers")
    assert prov["reference"] == "run-to-aug-2015"
    # a target any run meets: the first round is enough
    assert prov["precision"]["met"] is True and prov["replications"] == [0, 1, 2]


def test_compare_prints_means_and_differences(compare_dir: tuple[Path, str]) -> None:
    _, printed = compare_dir
    assert "Differences from run-to-aug-2015" in printed
    header = next(x for x in printed.splitlines() if x.startswith("KPI") and "run-to-aug-2015" in x)
    for name in ("early-exit", "add-providers"):
        assert name in header
    assert re.search(r"[+-][\d,]+ ± [\d,]+", printed)


def test_compare_reference_option(capsys) -> None:
    status, printed, err = _call(capsys, "compare", "run-to-aug-2015", "early-exit", *SMALL, "--reps", "2",
                                 "--reference", "early-exit", "--no-progress")
    assert status == 0, err
    assert "Differences from early-exit" in printed
    diff_header = printed.split("Differences from early-exit")[1].splitlines()[4]
    assert diff_header.split() == ["KPI", "run-to-aug-2015"]


# ---------------------------------------------------------------------- plot


def test_plot_redraws_figures(compare_dir: tuple[Path, str], tmp_path: Path, capsys) -> None:
    out = tmp_path / "saved"
    shutil.copytree(compare_dir[0], out)
    shutil.rmtree(out / "figures")
    status, printed, err = _call(capsys, "plot", str(out))
    assert status == 0, err
    pngs = sorted(p.name for p in (out / "figures").iterdir())
    assert pngs == ["backlog_fan.png", "decision_times.png", "kpi_differences.png", "tribunal_backlog.png", "workforce.png"]
    assert all((out / "figures" / n).read_bytes()[:8] == PNG_MAGIC for n in pngs)
    assert not list(tmp_path.glob(".saved*"))


# --------------------------------------------------------------- subprocess


@pytest.mark.skipif(shutil.which("wca-sim") is None, reason="console script not installed")
def test_console_script_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        ["wca-sim", "run", "run-to-aug-2015", *SMALL, "--reps", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "backlog_on_2014-06-30" in proc.stdout
    assert "Traceback" not in proc.stderr
    results = wca_sim.load_results(out)
    assert results.scenario_names == ["run-to-aug-2015"]
    assert json.loads((out / "provenance.json").read_text())["command"].startswith("wca-sim run run-to-aug-2015")


def test_ctrl_c_stops_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it: exit 130, no traceback, no output, no workers left."""
    import os
    import signal
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wca_sim.cli", "run", "early-exit", "--scale", "0.05", "--reps", "40", "--workers", "2",
         "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    time.sleep(6)  # past start-up: the worker processes are simulating
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "wca-sim: interrupted"
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))
    # no process of the group is left (worker processes included)
    deadline = time.time() + 10
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.time() < deadline, "worker processes left behind"
        time.sleep(0.2)
