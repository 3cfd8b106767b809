"""Calibration and validation: set_parameters, validation decisions, a twin experiment the fitter must solve, the CLI."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wca_sim as ws
from wca_sim.calibration import load_figures, load_targets, validation_table
from wca_sim.calibration.fit import calibrate, get_parameter, set_parameters
from wca_sim.cli_calibration import main as cli

SHORT = {"end_date": "2014-06-30", "report_dates": ["2014-04-30"]}
ROOT = Path(__file__).resolve().parents[2]


def _short(name: str = "as-happened") -> ws.Scenario:
    return ws.load_scenario(name).with_overrides(SHORT)


def _figures(path: Path, values: dict[str, str]) -> Path:
    """A figures file with the shipped columns holding only ``values``."""
    shipped = load_figures()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "value", "unit", "period", "source_url", "note"])
        for key, value in values.items():
            row = shipped.loc[key]
            writer.writerow([key, value, row["unit"], row["period"], row["source_url"], "test"])
    return path


def test_set_parameters_indexes_lists_and_scales_schedules():
    sc = ws.load_scenario("as-happened")
    new = set_parameters(sc, {"initial_state.provider_queue.1.count": 123.0,
                              "demand.existing_repeats_per_month:scale": 0.5,
                              "providers.atos.workforce.fte_at_start": 7.0})
    assert new.initial_state.provider_queue[1].count == 123.0
    assert new.initial_state.provider_queue[0].count == sc.initial_state.provider_queue[0].count
    old_pts, new_pts = sc.demand.existing_repeats_per_month.points, new.demand.existing_repeats_per_month.points
    assert [d for d, _ in new_pts] == [d for d, _ in old_pts]
    assert [v for _, v in new_pts] == pytest.approx([0.5 * v for _, v in old_pts])
    assert get_parameter(new, "providers.atos.workforce.fte_at_start") == 7.0
    with pytest.raises(ws.ScenarioError):
        set_parameters(sc, {"providers.atos.workforce.nonsense": 1.0})


def test_validation_inside_follows_the_published_value(tmp_path):
    res = ws.run(_short(), reps=3, seed=5, engine="fast", progress=False)
    model = float(res.timeseries["backlog"].sel(date="2014-04-30").mean())
    close = _figures(tmp_path / "close.csv", {"wca_backlog_apr2014_total": f"{model:.0f}",
                                              "wca_backlog_jun2014_minister": "10+"})
    far = _figures(tmp_path / "far.csv", {"wca_backlog_apr2014_total": f"{3 * model:.0f}",
                                          "wca_backlog_jun2014_minister": f"{5 * model:.0f}+"})
    near = validation_table(res, load_targets(figures=close)).set_index("figure")
    away = validation_table(res, load_targets(figures=far)).set_index("figure")
    assert near.loc["wca_backlog_apr2014_total", "model_mean"] == pytest.approx(model)
    assert bool(near.loc["wca_backlog_apr2014_total", "inside"]) and bool(near.loc["wca_backlog_jun2014_minister", "inside"])
    assert not bool(away.loc["wca_backlog_apr2014_total", "inside"])
    assert away.loc["wca_backlog_apr2014_total", "error"] == pytest.approx((model - 3 * model) / (0.05 * 3 * model), rel=1e-6)
    assert not bool(away.loc["wca_backlog_jun2014_minister", "inside"])


def test_calibration_recovers_a_known_parameter(tmp_path):
    """Twin experiment: figures made by the model at a known Atos FTE; the fit must find it again."""
    truth = 560.0
    key = "providers.atos.workforce.fte_at_start"
    sc = _short()
    made = ws.run(set_parameters(sc, {key: truth}), reps=2, seed=1, engine="fast", progress=False)
    backlog = float(made.timeseries["backlog"].sel(date="2014-04-30").mean())
    figures = _figures(tmp_path / "twin.csv", {"wca_backlog_apr2014_total": f"{backlog:.0f}"})
    targets = load_targets(figures=figures)
    start = get_parameter(sc, key)
    assert abs(start - truth) > 40  # the fit has something to do
    cal = calibrate(sc, targets, {key: (300.0, 700.0)}, reps=2, seed=1, max_evals=14, confirm_engine=None,
                    out=tmp_path / "cal")
    assert cal.values[key] == pytest.approx(truth, rel=0.03)
    assert cal.info["objective_best"] < cal.info["objective_start"]
    written = ws.load_scenario(tmp_path / "cal" / f"scenario-{sc.name}.toml")
    assert written.providers["atos"].workforce.fte_at_start == pytest.approx(cal.values[key])
    assert (tmp_path / "cal" / "fit_report.md").read_text().count("wca_backlog_apr2014_total") >= 1
    assert (tmp_path / "cal" / "figures" / "backlog.png").stat().st_size > 1000


def test_cli_validate_and_report(tmp_path, capsys):
    figures = _figures(tmp_path / "f.csv", {"wca_backlog_apr2014_total": "712000", "wca_backlog_apr2014_ib": "83000"})
    scenario = tmp_path / "short.toml"
    scenario.write_text(ws.dump_scenario(_short()))
    out = tmp_path / "run"
    code = cli(["validate", str(scenario), "--figures", str(figures), "--reps", "2", "--engine", "fast", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "wca_backlog_apr2014_total" in printed and "inside:" in printed and "of 2 figures" in printed
    assert (out / "validation.csv").exists() and (out / "timeseries.nc").exists()
    assert cli(["report", str(out), "--validate"]) == 0
    text = (out / "report.md").read_text()
    for heading in ("## 1. Objectives", "## 4. Experimentation", "## 5. Implementation", "## 7. Validation"):
        assert heading in text
    assert "Replications: 2" in text


def test_cli_bad_input_exit_2(tmp_path, capsys):
    assert cli(["report", str(tmp_path)]) == 2
    assert cli(["validate", "no-such-scenario", "--reps", "1"]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name,number\nx,1\n")
    assert cli(["validate", "--figures", str(bad), "--reps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("wca-sim: error:") == 3
    assert cli(["calibrate", "--param", "providers.atos.workforce.nope=1:2", "--out", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c").exists()


def test_parameter_table_in_docs_is_current():
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_parameters.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
