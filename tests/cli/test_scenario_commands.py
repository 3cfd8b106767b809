"""``wca-sim scenarios`` and ``wca-sim show``: no simulation involved."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import wca_sim
from wca_sim.scenario import builtin_names, load_scenario, scenario_from_toml


def test_scenarios_lists_every_builtin_with_its_description(cli) -> None:
    result = cli("scenarios")
    assert result.status == 0 and result.err == ""
    lines = result.out.strip().splitlines()
    assert len(lines) == len(builtin_names())
    for name, line in zip(builtin_names(), lines):
        assert line.startswith(name + " ")
        assert load_scenario(name).description in line
    assert {"run-to-aug-2015", "early-exit", "add-providers"} <= set(builtin_names())


@pytest.mark.parametrize("name", ["run-to-aug-2015", "early-exit", "add-providers"])
def test_show_prints_toml_that_loads_to_the_same_scenario(cli, name: str) -> None:
    result = cli("show", name)
    assert result.status == 0
    assert scenario_from_toml(result.out) == load_scenario(name)


def test_show_applies_overrides(cli, tmp_path: Path) -> None:
    result = cli(
        "show", "early-exit",
        "--set", "providers.maximus.workforce.hires_per_month=120",
        "--set", "end_date=2014-06-30",
        "--set", "report_dates=[2014-06-30]",
        "--set", "providers.atos.handover_policy=run_off",
    )
    assert result.status == 0
    shown = scenario_from_toml(result.out)
    assert shown.end_date == dt.date(2014, 6, 30)
    assert shown.report_dates == (dt.date(2014, 6, 30),)
    assert shown.providers["maximus"].workforce.hires_per_month.at(dt.date(2016, 1, 1)) == 120.0
    assert shown.providers["atos"].handover_policy == "run_off"
    # the command is recorded at the top, as a comment
    assert result.out.startswith("# Scenario 'early-exit'")

    # what show prints is a file show (and run) accept, and showing it again changes nothing
    path = tmp_path / "mine.toml"
    path.write_text(result.out, encoding="utf-8")
    again = cli("show", str(path))
    assert again.status == 0
    assert scenario_from_toml(again.out) == shown


def test_show_of_a_file_with_extends(cli, tmp_path: Path) -> None:
    path = tmp_path / "more-staff.toml"
    path.write_text(
        'extends = "early-exit"\nname = "more-staff"\n[providers.maximus.workforce]\ntransfer_share = 0.9\n',
        encoding="utf-8",
    )
    result = cli("show", str(path))
    assert result.status == 0
    shown = scenario_from_toml(result.out)
    assert shown.name == "more-staff"
    assert shown.providers["maximus"].workforce.transfer_share == 0.9
    assert "extends" not in result.out  # resolved: the whole scenario, standing alone


def test_help_and_version(cli) -> None:
    assert cli("--help").status == 0
    for command in ("scenarios", "show", "run", "compare", "plot"):
        result = cli(command, "--help")
        assert result.status == 0 and "usage: wca-sim " + command in result.out
    result = cli("--version")
    assert result.status == 0 and wca_sim.__version__ in result.out


def test_compare_help_documents_set_for_every_scenario(cli) -> None:
    text = " ".join(cli("compare", "--help").out.split())
    assert "Applies to every scenario" in text and "NAME:" in text
