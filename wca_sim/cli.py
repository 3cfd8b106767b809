"""The ``wca-sim`` command: parse arguments, call the library, write files.

Commands: ``scenarios``, ``show``, ``run``, ``compare``, ``plot``. The CLI is
thin: scenarios come from :mod:`wca_sim.scenario`, runs from
:func:`wca_sim.run`, tables from :mod:`wca_sim.analysis`, figures from
:mod:`wca_sim.plots`, files from :meth:`wca_sim.Results.save`.

Every user error (unknown scenario or key, invalid value, malformed TOML, bad
option) is found before anything runs and is reported as one line on stderr
with exit status 2; output folders are written atomically, so a failed
command leaves ``--out`` as it was. Exit status 1 if the output cannot be
written (disk full), 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from . import __version__
from .scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    builtin_names,
    dump_scenario,
    load_scenario,
    parse_override,
)
from .tables import comparison_table, kpi_order, kpi_table
from .cli_types import positive_int as _positive_int, seed as _seed, scale as _scale

#: Files a run or comparison writes; anything else in an output folder is left alone.
OUTPUT_PATTERNS = (
    "timeseries.nc",
    "kpis.csv",
    "scenario-*.toml",
    "provenance.json",
    "journeys.parquet",
    "summary.csv",
    "differences.csv",
    "figures/*.png",
)


class UsageError(Exception):
    """A problem with the command line or its inputs: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line (no usage dump), so every user error looks alike."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ------------------------------------------------------------ argument types


def _until(text: str) -> tuple[str, float]:
    kpi, sep, raw = text.partition("=")
    if not sep or not kpi.strip():
        raise argparse.ArgumentTypeError(f"expected KPI=HALF_WIDTH, got {text!r}")
    try:
        width = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"half-width of {kpi.strip()!r} must be a number, got {raw!r}") from None
    if not (math.isfinite(width) and width > 0):
        raise argparse.ArgumentTypeError(f"half-width of {kpi.strip()!r} must be positive, got {raw!r}")
    return kpi.strip(), width


def _engine_names() -> list[str]:
    from .engines import engine_names

    return engine_names()


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``wca-sim`` (also used to generate docs/cli.md)."""
    parser = _Parser(
        prog="wca-sim",
        description="Simulate Work Capability Assessment contract scenarios and compare them.",
        epilog="Exit status: 0 success, 2 bad input (nothing is written), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"wca_sim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    commands.add_parser("scenarios", help="list the built-in scenarios", description="List the built-in scenarios.")

    show = commands.add_parser(
        "show",
        help="print a resolved scenario as TOML",
        description="Print the resolved scenario (after --set) as TOML that 'wca-sim run' accepts.",
    )
    show.add_argument("scenario", metavar="SCENARIO_OR_FILE", help="built-in name or path to a TOML file")
    _add_set(show)

    run = commands.add_parser(
        "run",
        help="simulate one scenario and print its KPIs",
        description="Simulate replications of one scenario; print KPI means with 95%% confidence intervals.",
    )
    run.add_argument("scenario", metavar="SCENARIO_OR_FILE", help="built-in name or path to a TOML file")
    _add_set(run)
    _add_run_options(run)
    run.add_argument("--journeys", action="store_true", help="also write per-claimant records (journeys.parquet; des engine)")

    compare = commands.add_parser(
        "compare",
        help="simulate several scenarios with common random numbers and compare them",
        description="Simulate replications of two or more scenarios with common random numbers; print KPI "
        "means and paired differences against the reference with 95%% confidence intervals.",
    )
    compare.add_argument("scenarios", metavar="SCENARIO_OR_FILE", nargs="+", help="two or more built-in names or TOML files")
    _add_set(compare, every=True)
    _add_run_options(compare)
    compare.add_argument("--reference", metavar="NAME", help="scenario to compare against (default: the first)")

    plot = commands.add_parser(
        "plot",
        help="redraw figures from saved results",
        description="Redraw the figures of a folder written by 'run' or 'compare' --out into DIR/figures.",
    )
    plot.add_argument("directory", metavar="DIR", help="folder holding timeseries.nc, kpis.csv, scenario-*.toml")

    # Sweeps and calibration live in their own modules; they only add subcommands here.
    from .cli_calibration import add_calibration_parsers
    from .cli_sweep import add_sweep_parsers

    add_sweep_parsers(commands)
    add_calibration_parsers(commands)
    return parser


def _add_set(parser: argparse.ArgumentParser, every: bool = False) -> None:
    target = (
        " Applies to every scenario; prefix NAME: (e.g. early-exit:KEY=VALUE) to change one scenario only."
        if every
        else ""
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter by its dotted key, e.g. providers.atos.workforce.fte_at_start=500 "
        "(VALUE is a TOML value: number, date, string, [list] or {table}); repeatable." + target,
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reps", type=_positive_int, default=20, metavar="N", help="replications per scenario (default 20)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S", help="root random seed (default 0)")
    parser.add_argument(
        "--scale", type=_scale, metavar="F", help="fraction of claimants simulated, in (0, 1] (default: the scenario's)"
    )
    parser.add_argument("--engine", choices=_engine_names(), default="des", help="simulation engine (default des)")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="K", help="local worker processes (default 1)")
    parser.add_argument(
        "--until",
        type=_until,
        action="append",
        default=[],
        metavar="KPI=HALF_WIDTH",
        help="add replications until the 95%% CI half-width of KPI (paired difference against the reference "
        "when comparing) is at most HALF_WIDTH, or --max-reps is reached; repeatable",
    )
    parser.add_argument("--max-reps", type=_positive_int, default=1000, metavar="N", help="cap for --until (default 1000)")
    parser.add_argument("--out", metavar="DIR", type=Path, help="write results into DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


# ----------------------------------------------------------- resolution


@dataclass(frozen=True)
class _Override:
    target: str | None  # scenario name or spec, or None for every scenario
    key: str
    value: Any
    text: str


def _parse_overrides(texts: Sequence[str]) -> list[_Override]:
    out = []
    for text in texts:
        head, sep, _ = text.partition("=")
        target = None
        body = text
        if sep and ":" in head:
            target, _, key_part = head.partition(":")
            body = key_part + text[len(head):]
            if not target.strip():
                raise UsageError(f"--set {text!r}: expected NAME:KEY=VALUE")
            target = target.strip()
        key, value = parse_override(body, source=f"--set {text!r}")
        out.append(_Override(target, key, value, text))
    return out


def _resolve(specs: Sequence[str], overrides: list[_Override], scale: float | None) -> list[Scenario]:
    """Load each scenario, apply the --set overrides meant for it and --scale; all validation happens here."""
    scenarios = [load_scenario(spec) for spec in specs]
    for item in overrides:
        if item.target is not None and not any(item.target in (spec, sc.name) for spec, sc in zip(specs, scenarios)):
            names = [sc.name for sc in scenarios]
            raise UsageError(f"--set {item.text!r}: no scenario named {item.target!r}{_did_you_mean(item.target, names)}")
    resolved = []
    for spec, sc in zip(specs, scenarios):
        mine = {o.key: o.value for o in overrides if o.target is None or o.target in (spec, sc.name)}
        if mine:
            sc = _apply(sc, mine, f"--set for {spec}")
        if scale is not None:
            sc = _apply(sc, {"scale": scale}, f"--scale for {spec}")
        resolved.append(sc)
    names = [sc.name for sc in resolved]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(
            f"scenario name {repeated[0]!r} appears more than once; results are keyed by name, "
            "so give each scenario file a distinct 'name'"
        )
    return resolved


def _apply(scenario: Scenario, overrides: dict[str, Any], source: str) -> Scenario:
    return apply_overrides(scenario, overrides, source=source)


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_engine(engine: str, scenarios: list[Scenario], journeys: bool) -> None:
    from .engines import UnsupportedScenario, get_engine

    if journeys and engine != "des":
        raise UsageError(f"--journeys needs --engine des (engine {engine!r} keeps no per-claimant records)")
    try:
        engine_obj = get_engine(engine)
    except ImportError as exc:
        raise UsageError(f"engine {engine!r} is not available: {exc}") from None
    for sc in scenarios:
        try:
            engine_obj.check(sc)
        except UnsupportedScenario as exc:
            raise UsageError(f"engine {engine!r} cannot run scenario {sc.name!r}: {exc}") from None


def _check_until(until: list[tuple[str, float]], scenarios: list[Scenario]) -> dict[str, float] | None:
    if not until:
        return None
    from .kpis import kpi_names

    for kpi, _ in until:
        for sc in scenarios:
            names = kpi_names(sc)
            if kpi not in names:
                raise UsageError(f"--until: scenario {sc.name!r} has no KPI {kpi!r}{_did_you_mean(kpi, names)}")
    return dict(until)


def _check_out(out: Path | None) -> None:
    """Refuse an output folder we could not write, or one holding files that are not wca-sim results."""
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "provenance.json").is_file():
        raise UsageError(f"--out {out}: folder is not empty and holds no wca-sim results; choose a new or empty folder")
    ancestor = out
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not (ancestor.is_dir() and os.access(ancestor, os.W_OK | os.X_OK)):
        raise UsageError(f"--out {out}: cannot write into {ancestor}")


# -------------------------------------------------------------- commands


def _cmd_scenarios(args: argparse.Namespace) -> int:
    rows = [(name, load_scenario(name)) for name in builtin_names()]
    width = max(len(name) for name, _ in rows)
    for name, sc in rows:
        print(f"{name:<{width}}  {sc.start_date:%d %b %Y} to {sc.end_date:%d %b %Y}  {sc.description}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    (sc,) = _resolve([args.scenario], _parse_overrides(args.overrides), None)
    header = f"# Scenario {sc.name!r}, resolved from {args.scenario}"
    if args.overrides:
        header += " with " + " ".join(f"--set {shlex.quote(o)}" for o in args.overrides)
    print(header + ".\n# Run it with: wca-sim run THIS_FILE.toml\n")
    print(dump_scenario(sc), end="")
    return 0


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return _simulate(args, argv, [args.scenario], compare=False)


def _cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenarios (use 'wca-sim run' for one)")
    return _simulate(args, argv, args.scenarios, compare=True)


def _simulate(args: argparse.Namespace, argv: Sequence[str], specs: list[str], compare: bool) -> int:
    journeys = bool(getattr(args, "journeys", False))
    # Everything that can be wrong with the input is checked before the first replication.
    scenarios = _resolve(specs, _parse_overrides(args.overrides), args.scale)
    reference = None
    if compare:
        reference = _reference_name(getattr(args, "reference", None), specs, scenarios)
    until = _check_until(args.until, scenarios)
    _check_out(args.out)
    _check_engine(args.engine, scenarios, journeys)

    from .runner import run

    results = run(
        scenarios,
        reps=args.reps,
        seed=args.seed,
        engine=args.engine,
        workers=args.workers,
        until=until,
        max_reps=max(args.max_reps, args.reps),
        reference=reference,
        journeys=journeys,
        progress=False if args.no_progress else None,
    )
    results.provenance["command"] = shlex.join(["wca-sim", *argv])
    results.provenance["overrides"] = list(args.overrides)
    results.provenance["sources"] = dict(zip([sc.name for sc in scenarios], specs))
    if reference is not None:
        results.provenance["reference"] = reference

    from .analysis import summarise

    summary = summarise(results)
    differences = None
    if compare:
        from .analysis import compare as compare_results

        differences = compare_results(results, reference=reference)
        kpis = results.kpis
        order = kpi_order(*[kpis.loc[kpis["scenario"] == name, "kpi"].unique().tolist() for name in results.scenario_names])
        print(comparison_table(summary, differences, results.provenance, order))
    else:
        print(kpi_table(summary, results.provenance))
    if args.out is not None:
        try:
            _write_outputs(results, args.out, summary if compare else None, differences, figures=compare,
                           reference=reference)
        except OSError as exc:  # disk full, permissions changed mid-run: the folder is left as it was
            print(f"wca-sim: error: cannot write {args.out}: {exc}", file=sys.stderr)
            return 1
        print(f"\nResults written to {args.out}")
    return 0


def _reference_name(wanted: str | None, specs: list[str], scenarios: list[Scenario]) -> str:
    if wanted is None:
        return scenarios[0].name
    for spec, sc in zip(specs, scenarios):
        if wanted in (spec, sc.name):
            return sc.name
    names = [sc.name for sc in scenarios]
    raise UsageError(f"--reference {wanted!r} is not one of the scenarios{_did_you_mean(wanted, names)}: {', '.join(names)}")


def _write_outputs(
    results: Any, out: Path, summary: pd.DataFrame | None, differences: pd.DataFrame | None, figures: bool,
    reference: str | None = None,
) -> None:
    """Write every file into ``out`` atomically, replacing the files of an earlier run there."""
    from .io_util import atomic_directory
    from .results import write_results_files

    with atomic_directory(out) as tmp:
        write_results_files(results, tmp)
        if summary is not None:
            summary.to_csv(tmp / "summary.csv", index=False)
        if differences is not None:
            differences.to_csv(tmp / "differences.csv", index=False)
        if figures:
            _save_figures(results, tmp, reference)
        # Files of an earlier run that this one does not produce (another scenario's TOML, an old
        # journeys.parquet) would be read back as if they belonged to it: remove them.
        _remove_stale(out, tmp)


def _remove_stale(out: Path, fresh: Path) -> None:
    if not out.is_dir():
        return
    for pattern in OUTPUT_PATTERNS:
        for path in out.glob(pattern):
            if path.is_file() and not (fresh / path.relative_to(out)).exists():
                path.unlink()


def _save_figures(results: Any, folder: Path, reference: str | None) -> list[Path]:
    """Write ``folder/figures/*.png``."""
    import warnings

    from .plots import save_figures

    with warnings.catch_warnings():
        # Percentile bands over dates where a quantity does not exist yet (a provider before its
        # contract) are NaN by design; numpy's warning about it is noise on a terminal.
        warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
        return save_figures(results, folder, reference=reference)


def _cmd_plot(args: argparse.Namespace) -> int:
    folder = Path(args.directory)
    if not (folder / "timeseries.nc").is_file():
        raise UsageError(f"{folder}: no saved results here (timeseries.nc is missing)")
    from .io_util import atomic_directory
    from .results import load_results

    try:
        results = load_results(folder)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{folder}: cannot read saved results: {exc}") from None
    reference = results.provenance.get("reference")
    if reference not in results.scenario_names:
        reference = None
    with atomic_directory(folder) as tmp:
        written = _save_figures(results, tmp, reference)
    for path in written:
        print(folder / Path(path).relative_to(tmp))
    return 0


# ------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``wca-sim`` command; returns the exit status.

    Parameters
    ----------
    argv
        Arguments after the program name (default ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if args.command == "scenarios":
            return _cmd_scenarios(args)
        if args.command == "show":
            return _cmd_show(args)
        if args.command == "run":
            return _cmd_run(args, argv)
        if args.command == "compare":
            return _cmd_compare(args, argv)
        if args.command in ("sweep", "sensitivity", "breakeven"):
            from .cli_sweep import run_sweep_command

            return run_sweep_command(args, argv)
        from .cli_calibration import CALIBRATION_COMMANDS, run_calibration_command

        if args.command in CALIBRATION_COMMANDS:
            return run_calibration_command(args, argv)
        return _cmd_plot(args)
    except (UsageError, ScenarioError) as exc:
        # One line, whatever the message holds (pydantic messages can contain newlines).
        message = " ".join(str(exc).split())
        print(f"wca-sim: error: {message.removeprefix('wca-sim: ')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wca-sim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `wca-sim show x | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
