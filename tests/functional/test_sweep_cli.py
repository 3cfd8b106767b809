"""`wca-sim sweep`, `sensitivity` and `breakeven` on a small, short DES scenario."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wca_sim.engines import get_engine
from wca_sim.scenario import load_scenario
from wca_sim.sweeps import load_sweep

# A small, short run: 0.5% of claimants, nine months.
SHORT = ["--scale", "0.005", "--set", "end_date=2014-06-30", "--set", "report_dates=[2014-04-30, 2014-06-30]"]
FTE = "providers.atos.workforce.fte_at_start"
DNA = "providers.atos.productivity.dna_rate"


def cli(argv: list[str]) -> int:
    """The real `wca-sim` entry point once the sweep commands are wired in; else the sweep module's own."""
    from wca_sim import cli as main_cli

    if "sweep" in main_cli.build_parser()._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
        return main_cli.main(argv)
    from wca_sim.cli_sweep import main

    return main(argv)


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "out"
    argv = ["sweep", "early-exit", "--param", f"{FTE}=1200,2400", "--param", f"{DNA}=0.1:0.3", "--design", "grid",
            "--points", "2", "--reps", "2", "--engine", "des", "--seed", "3", "--no-progress", "--out", str(out), *SHORT]
    assert cli(argv) == 0
    return out, argv


def test_sweep_writes_its_files_and_each_point_is_the_engine_run_with_its_overrides(grid_sweep):
    out, _ = grid_sweep
    for name in ("sweep.nc", "kpis.csv", "design.csv", "provenance.json", "sweep.json", "scenario-early-exit.toml"):
        assert (out / name).exists(), name
    ds = load_sweep(out)
    assert ds.sizes["point"] == 4 and ds.sizes["replication"] == 2
    assert sorted(set(ds[FTE].values)) == [1200.0, 2400.0] and sorted(set(ds[DNA].values)) == [0.1, 0.3]
    kpis = pd.read_csv(out / "kpis.csv")
    assert len(kpis) == ds["kpis"].size
    # Independent check of one point: run the engine directly with the same overrides and seed.
    base = load_scenario("early-exit").with_overrides(
        {"scale": 0.005, "end_date": "2014-06-30", "report_dates": ["2014-04-30", "2014-06-30"]})
    point = 3
    scenario = base.with_overrides({FTE: float(ds[FTE][point]), DNA: float(ds[DNA][point])})
    direct = get_engine("des").run(scenario, [0, 1], 3).kpis
    for r in (0, 1):
        value = direct[(direct["replication"] == r) & (direct["kpi"] == "backlog_on_2014-06-30")]["value"].item()
        assert ds["kpis"].sel(point=point, replication=r, kpi="backlog_on_2014-06-30").item() == value
    # More staff, same random numbers (CRN): a smaller backlog at the horizon.
    backlog = ds["kpis"].sel(kpi="backlog_on_2014-06-30").mean("replication")
    for dna in (0.1, 0.3):
        at = backlog.where(ds[DNA] == dna, drop=True)
        low_fte = at.where(at[FTE] == 1200, drop=True).item()
        high_fte = at.where(at[FTE] == 2400, drop=True).item()
        assert high_fte < low_fte


def test_same_command_again_resumes_and_recomputes_nothing(grid_sweep, capsys):
    out, argv = grid_sweep
    before = load_sweep(out)
    parts = sorted(p.name for p in (out / "store").glob("part-*.parquet"))
    assert cli(argv) == 0
    assert "resuming: 4 points already stored" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "store").glob("part-*.parquet")) == parts
    assert np.array_equal(load_sweep(out)["kpis"].to_numpy(), before["kpis"].to_numpy())


def test_sensitivity_command_writes_table_and_figure(tmp_path, capsys):
    out = tmp_path / "morris"
    argv = ["sweep", "early-exit", "--param", f"{FTE}=1000:2500", "--param", f"{DNA}=0.1:0.3", "--design", "morris",
            "--points", "3", "--reps", "1", "--engine", "des", "--no-progress", "--out", str(out), *SHORT]
    assert cli(argv) == 0
    capsys.readouterr()
    assert cli(["sensitivity", str(out), "--kpi", "backlog_on_2014-06-30"]) == 0
    printed = capsys.readouterr().out
    assert "mu_star" in printed and FTE in printed
    table = pd.read_csv(out / "sensitivity-backlog_on_2014-06-30.csv", index_col="param")
    # Staff reduce the backlog: its elementary effects are negative.
    assert table.loc[FTE, "mu"] < 0
    assert (out / "figures" / "sensitivity-backlog_on_2014-06-30.png").stat().st_size > 1000
    assert cli(["sensitivity", str(out), "--kpi", "no_such_kpi"]) == 2


def test_breakeven_command(tmp_path, capsys):
    out = tmp_path / "be"
    argv = ["breakeven", "early-exit", "--param", f"{FTE}=800:3000", "--kpi", "backlog_on_2014-06-30",
            "--threshold", "700000", "--share", "0.5", "--points", "3", "--refine", "0", "--reps", "4",
            "--engine", "des", "--no-progress", "--out", str(out), *SHORT]
    assert cli(argv) == 0
    report = json.loads((out / "breakeven.json").read_text())
    curve = pd.read_csv(out / "breakeven-curve.csv")
    assert report["param"] == FTE and len(curve) == 3
    assert "keeping backlog_on_2014-06-30 within 700000" in capsys.readouterr().out or np.isnan(report["value"])


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--param", "providers.atos.workforce.fte_at_strat=1:2"], "fte_at_start"),
        (["--param", f"{FTE}=5"], None),  # a single listed value is allowed: not an error
        (["--param", f"{FTE}=2:1"], "low < high"),
        (["--param", f"{FTE}"], "expected KEY=LOW:HIGH"),
        (["--param", f"{DNA}=0.5:1.5"], "dna_rate"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, bad, message):
    out = tmp_path / "out"
    argv = ["sweep", "early-exit", *bad, "--design", "lhs", "--points", "2", "--reps", "1", "--engine", "des",
            "--no-progress", "--out", str(out), "--scale", "0.001", "--set", "end_date=2013-11-30",
            "--set", "report_dates=[2013-11-30]"]
    if message is None:
        assert cli(argv) == 0
        return
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
