"""Each experiment script runs at reduced size (--quick) and writes the files its README promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def _run(script: str, tmp_path: Path) -> Path:
    env = dict(os.environ, WCA_SIM_QUICK="1", WCA_SIM_RESULTS_DIR=str(tmp_path), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(EXPERIMENTS / script)], cwd=EXPERIMENTS, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path / Path(script).stem


def test_every_experiment_has_a_readme_line():
    readme = (EXPERIMENTS / "README.md").read_text()
    for script in EXPERIMENTS.glob("[a-z]_*.py"):
        assert script.name in readme, script.name


@pytest.mark.slow
def test_a_contract_scenarios(tmp_path):
    out = _run("a_contract_scenarios.py", tmp_path)
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["scenario"]) == {"run-to-aug-2015", "early-exit", "add-providers"}
    diffs = pd.read_csv(out / "differences.csv")
    assert len(diffs) > 0
    assert any(out.glob("figures/*.png"))


@pytest.mark.slow
def test_b_early_exit_sensitivity(tmp_path):
    out = _run("b_early_exit_sensitivity.py", tmp_path)
    data = json.loads((out / "indices.json").read_text())
    assert set(data["kpis"]) == {"backlog_on_2016-03-31", "peak_backlog"}
    table = pd.read_csv(out / "sobol_backlog_on_2016-03-31.csv", index_col=0)
    assert {"S1", "ST"} <= set(table.columns) and len(table) == 4


@pytest.mark.slow
def test_c_add_providers_tradeoff(tmp_path):
    out = _run("c_add_providers_tradeoff.py", tmp_path)
    table = pd.read_csv(out / "tradeoff.csv", index_col=0)
    # With no regional capacity at all the regions' new referrals wait unserved until Sep 2015,
    # so the backlog on 31 Aug 2015 can only fall as the regional providers get staff.
    backlog = table["backlog_on_2015-08-31"]
    assert backlog["add-providers-x0"] > backlog["add-providers-x2"]
    assert (out / "figures" / "tradeoff.png").exists()


@pytest.mark.slow
def test_d_breakeven_hiring(tmp_path):
    out = _run("d_breakeven_hiring.py", tmp_path)
    data = json.loads((out / "breakeven.json").read_text())
    assert data["kpi"] == "backlog_on_2016-03-31" and "summary" in data
    curve = pd.read_csv(out / "curve.csv")
    assert curve["share"].between(0, 1).all()
