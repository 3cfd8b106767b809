"""Bad input: one clear line on stderr naming the field and the file, exit status 2, nothing written.

Every case is run with ``--out`` pointing at (a) a folder that does not exist,
which must still not exist afterwards, and (b) a folder holding an earlier
run's results, which must be left byte for byte as it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BASE = 'extends = "early-exit"\nname = "mine"\n'

# (file body or None, arguments before --out, words the message must contain)
CASES: list[tuple[str, str | None, list[str], list[str]]] = [
    ("unknown scenario", None, ["run", "early-exti"], ["unknown scenario 'early-exti'", "did you mean 'early-exit'"]),
    ("missing file", None, ["run", "{dir}/nope.toml"], ["nope.toml", "cannot read"]),
    ("unknown key in file", BASE + "[providers.atos.workforce]\nattrtion_per_month = 0.1\n", ["run", "{file}"],
     ["{file}", "field 'providers.atos.workforce.attrtion_per_month'", "did you mean 'attrition_per_month'"]),
    ("wrong type in file", BASE + '[providers.atos.workforce]\nfte_at_start = "many"\n', ["run", "{file}"],
     ["{file}", "field 'providers.atos.workforce.fte_at_start'", "many"]),
    ("probability above 1 in file", BASE + "[providers.atos.productivity]\ndna_rate = 1.5\n", ["run", "{file}"],
     ["{file}", "field 'providers.atos.productivity.dna_rate'", "1.5"]),
    ("negative probability schedule in file", BASE + "[appeals]\noverturn_rate = -0.2\n", ["run", "{file}"],
     ["{file}", "field 'appeals.overturn_rate'", "-0.2"]),
    ("negative capacity in file", BASE + "[appeals]\nhearings_per_working_day = -10\n", ["run", "{file}"],
     ["{file}", "field 'appeals.hearings_per_working_day'", "-10"]),
    ("negative workforce in file", BASE + "[providers.maximus.workforce]\nfte_at_start = -1.0\n", ["run", "{file}"],
     ["{file}", "field 'providers.maximus.workforce.fte_at_start'"]),
    ("contract dates out of order", BASE + "[providers.maximus]\ncontract_end = 2014-01-01\n", ["run", "{file}"],
     ["{file}", "field 'providers.maximus'", "contract_end"]),
    ("schedule dates out of order", BASE + "[providers.maximus.workforce]\n"
     "hires_per_month = { points = [[2016-01-01, 5.0], [2015-01-01, 6.0]] }\n", ["run", "{file}"],
     ["{file}", "providers.maximus.workforce.hires_per_month", "out of order"]),
    ("horizon out of order", BASE + "end_date = 2013-01-01\n", ["run", "{file}"], ["{file}", "end_date"]),
    ("malformed TOML", BASE + "[providers.atos\n", ["run", "{file}"], ["{file}", "malformed TOML"]),
    ("extends a missing file", 'extends = "base.toml"\nname = "x"\n', ["run", "{file}"], ["{file}", "field 'extends'"]),
    ("bad --set syntax", None, ["run", "early-exit", "--set", "scale"], ["--set", "KEY=VALUE"]),
    ("--set unknown key", None, ["run", "early-exit", "--set", "providers.atos.workforce.attrtion_per_month=0.1"],
     ["--set for early-exit", "field 'providers.atos.workforce.attrtion_per_month'", "did you mean 'attrition_per_month'"]),
    ("--set unknown provider", None, ["run", "early-exit", "--set", "providers.atoss.prices.f2f=100"],
     ["field 'providers.atoss.prices.f2f'", "did you mean 'atos'"]),
    ("--set wrong type", None, ["run", "early-exit", "--set", "providers.atos.workforce.fte_at_start=many"],
     ["field 'providers.atos.workforce.fte_at_start'", "many"]),
    ("--set probability", None, ["run", "early-exit", "--set", "appeals.appeal_rate_after_mr=1.2"],
     ["field 'appeals.appeal_rate_after_mr'", "1.2"]),
    ("--set negative capacity", None, ["run", "early-exit", "--set", "providers.atos.workforce.fte_at_start=-3"],
     ["field 'providers.atos.workforce.fte_at_start'"]),
    ("--set end before start", None, ["run", "early-exit", "--set", "end_date=2013-01-01"], ["--set", "end_date"]),
    ("--set on a file names it", BASE, ["run", "{file}", "--set", "providers.atos.prices.f2ff=1"],
     ["{file}", "did you mean 'f2f'"]),
    ("--set for an unknown scenario", None, ["compare", "early-exit", "run-to-aug-2015", "--set", "earli-exit:scale=0.5"],
     ["no scenario named 'earli-exit'", "did you mean 'early-exit'"]),
    ("unknown engine", None, ["run", "early-exit", "--engine", "warp"], ["--engine", "warp", "des"]),
    ("reps zero", None, ["run", "early-exit", "--reps", "0"], ["--reps", "at least 1"]),
    ("reps not a number", None, ["run", "early-exit", "--reps", "many"], ["--reps", "many"]),
    ("scale zero", None, ["run", "early-exit", "--scale", "0"], ["--scale", "(0, 1]"]),
    ("scale above one", None, ["compare", "early-exit", "run-to-aug-2015", "--scale", "1.5"], ["--scale", "1.5"]),
    ("scale not a number", None, ["run", "early-exit", "--scale", "tiny"], ["--scale", "tiny"]),
    ("negative seed", None, ["run", "early-exit", "--seed", "-1"], ["--seed"]),
    ("workers zero", None, ["run", "early-exit", "--workers", "0"], ["--workers"]),
    ("until syntax", None, ["run", "early-exit", "--until", "peak_backlog"], ["--until", "KPI=HALF_WIDTH"]),
    ("until negative width", None, ["run", "early-exit", "--until", "peak_backlog=-5"], ["--until", "positive"]),
    ("until unknown KPI", None, ["compare", "early-exit", "run-to-aug-2015", "--until", "peak_backlg=1000"],
     ["peak_backlg", "did you mean 'peak_backlog'"]),
    ("unknown reference", None, ["compare", "early-exit", "run-to-aug-2015", "--reference", "early-exti"],
     ["--reference", "did you mean 'early-exit'"]),
    ("compare needs two", None, ["compare", "early-exit"], ["at least two"]),
    ("compare duplicate names", None, ["compare", "early-exit", "early-exit"], ["'early-exit'", "more than once"]),
    ("journeys with the fast engine", None, ["run", "early-exit", "--engine", "fast", "--journeys"], ["--journeys", "des"]),
    ("unknown command", None, ["simulate", "early-exit"], ["simulate"]),
]


def _fill(text: str, file: Path, folder: Path) -> str:
    return text.replace("{file}", str(file)).replace("{dir}", str(folder))


def _check_one_line(err: str, words: list[str]) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("wca-sim: error: ")
    for word in words:
        assert word in line, (word, line)
    return line


@pytest.mark.parametrize(("body", "args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_to_a_new_folder(cli, tmp_path: Path, body: str | None, args: list[str], words: list[str]) -> None:
    file = tmp_path / "scenario.toml"
    if body is not None:
        file.write_text(body, encoding="utf-8")
    out = tmp_path / "out"
    result = cli(*[_fill(a, file, tmp_path) for a in args], "--out", str(out))
    assert result.status == 2
    assert result.out == ""
    _check_one_line(result.err, [_fill(w, file, tmp_path) for w in words])
    assert not out.exists()
    # no temporary folder left beside it either
    assert not list(tmp_path.glob(".out*"))


@pytest.mark.parametrize(
    ("body", "args", "words"),
    [c[1:] for c in CASES if c[2][0] in ("run", "compare")][::3],
    ids=[c[0] for c in CASES if c[2][0] in ("run", "compare")][::3],
)
def test_bad_input_leaves_earlier_results_alone(
    cli, snapshot, tmp_path: Path, body: str | None, args: list[str], words: list[str]
) -> None:
    file = tmp_path / "scenario.toml"
    if body is not None:
        file.write_text(body, encoding="utf-8")
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "provenance.json").write_text('{"engine": "des"}', encoding="utf-8")
    (out / "kpis.csv").write_text("scenario,replication,kpi,value\n", encoding="utf-8")
    (out / "figures" / "backlog_fan.png").write_bytes(b"not really a png")
    before = snapshot(out)
    result = cli(*[_fill(a, file, tmp_path) for a in args], "--out", str(out))
    assert result.status == 2
    assert snapshot(out) == before


def test_out_is_a_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("keep me", encoding="utf-8")
    result = cli("run", "early-exit", "--out", str(out))
    assert result.status == 2
    _check_one_line(result.err, [str(out), "not a folder"])
    assert out.read_text(encoding="utf-8") == "keep me"


def test_out_folder_with_other_files_is_refused(cli, snapshot, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.txt").write_text("precious", encoding="utf-8")
    result = cli("run", "early-exit", "--out", str(out))
    assert result.status == 2
    _check_one_line(result.err, [str(out), "not empty"])
    assert snapshot(out) == {"thesis.txt": snapshot(out)["thesis.txt"]}


def test_plot_without_results(cli, tmp_path: Path) -> None:
    result = cli("plot", str(tmp_path))
    assert result.status == 2
    _check_one_line(result.err, [str(tmp_path), "timeseries.nc"])
    assert not (tmp_path / "figures").exists()


def test_show_reports_bad_set_too(cli) -> None:
    result = cli("show", "early-exit", "--set", "decisions.new_claim.sg=2")
    assert result.status == 2
    _check_one_line(result.err, ["field 'decisions.new_claim.sg'"])


def test_subprocess_bad_input_has_no_traceback(tmp_path: Path) -> None:
    """The real entry point, in its own process: exit status 2, one line, no traceback."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "wca_sim.cli", "run", "early-exit", "--set", "providers.atos.workforce.fte_at_start=-1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    _check_one_line(proc.stderr, ["field 'providers.atos.workforce.fte_at_start'"])
    assert not out.exists()
