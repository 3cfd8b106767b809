"""The README's examples work: its scenario file loads, its commands parse, CI runs its test command."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest

from wca_sim.cli import build_parser
from wca_sim.scenario import diff, load_scenario

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands() -> None:
    first = _blocks("bash")[0].strip().splitlines()
    assert len(first) == 2
    assert first[0].startswith("pip install -e . && wca-sim compare ")
    assert first[1] == 'pip install -e ".[test]" && pytest -q'
    assert README.index(first[0]) < 200  # it really opens the README


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert 'pip install --quiet --root-user-action=ignore -e ".[test]"' in script
    assert re.search(r"^pytest -q \|\| status=\$\?$", script, flags=re.M)


def test_readme_commands_parse() -> None:
    parser = build_parser()
    # a trailing backslash continues a command on the next line
    commands = [line for block in _blocks("bash") for line in block.replace("\\\n", " ").strip().splitlines()]
    wca = [c.split("&&")[-1].strip() for c in commands if "wca-sim " in c]
    assert wca
    for command in wca:
        args = shlex.split(command, comments=True)
        assert args[0] == "wca-sim"
        parser.parse_args(args[1:])  # raises on an option the CLI does not have


def test_readme_scenario_example_loads(tmp_path: Path) -> None:
    (example,) = [b for b in _blocks("toml") if "extends" in b]
    name = re.search(r"^# (\S+\.toml)", example, flags=re.M).group(1)
    path = tmp_path / name
    path.write_text(example, encoding="utf-8")
    sc = load_scenario(path)
    base = load_scenario("early-exit")
    hires = sc.providers["maximus"].workforce.hires_per_month
    assert hires.interpolation == "linear"
    # halfway between the first two points of the linear ramp
    assert hires.at(dt.date(2015, 9, 1)) == pytest.approx(80.0 + 40.0 * 184 / 366)
    assert sc.appeals.hearings_per_working_day.at(dt.date(2015, 3, 31)) == 900.0
    assert sc.appeals.hearings_per_working_day.at(dt.date(2015, 4, 1)) == 500.0
    assert {k.split(".")[0] for k in diff(base, sc)} <= {"name", "description", "providers", "appeals"}
