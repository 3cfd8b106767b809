"""``wca-sim sweep``, ``wca-sim sensitivity`` and ``wca-sim breakeven``.

Wired into :mod:`wca_sim.cli` by :func:`add_sweep_parsers` (adds the three
sub-commands) and :func:`run_sweep_command` (runs the chosen one and returns
the exit status). Every user error is one line on stderr with exit status 2,
found before anything is written to ``--out``; 130 after Ctrl-C (a rerun of
the same ``sweep`` command resumes where it stopped).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from .cli_types import positive_int as _positive_int, seed as _seed, fraction as _fraction, scale as _scale

SWEEP_COMMANDS = ("sweep", "sensitivity", "breakeven")


class SweepUsageError(Exception):
    """Bad input to a sweep command: one line on stderr, exit status 2."""


# ------------------------------------------------------------ argument types


def parse_param(text: str):
    """``KEY=LOW:HIGH``, ``KEY=LOW:HIGH:int`` or ``KEY=v1,v2,...`` as a :class:`~wca_sim.sweeps.Param`."""
    from .sweeps.designs import Param

    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise argparse.ArgumentTypeError(f"expected KEY=LOW:HIGH or KEY=v1,v2,..., got {text!r}")
    try:
        if ":" in spec and "," not in spec:
            parts = spec.split(":")
            integer = len(parts) == 3 and parts[2] == "int"
            if len(parts) != 2 and not integer:
                raise ValueError(f"expected LOW:HIGH or LOW:HIGH:int, got {spec!r}")
            low, high = float(parts[0]), float(parts[1])
            return Param(key, low=low, high=high, integer=integer)
        return Param(key, values=tuple(_toml_value(v) for v in spec.split(",")))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--param {key}: {exc}") from None


def _toml_value(raw: str) -> Any:
    raw = raw.strip()
    if not raw:
        raise ValueError("empty value in list")
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


# ------------------------------------------------------------------ parsers


def add_sweep_parsers(subparsers: Any) -> None:
    """Add ``sweep``, ``sensitivity`` and ``breakeven`` to the ``wca-sim`` sub-command parsers."""
    from .sweeps.designs import DESIGNS

    sweep = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep (grid, Latin hypercube, Sobol, Morris, Saltelli)",
        description="Evaluate a scenario over a design of parameter points, replications at each, locally or on "
        "Dask. Finished points are stored in DIR as they complete: running the same command again resumes.",
    )
    sweep.add_argument("scenario", metavar="SCENARIO", help="built-in scenario name or TOML file")
    _add_param(sweep, "parameter to vary; repeatable")
    sweep.add_argument("--design", choices=DESIGNS, default="lhs", help="experiment design (default lhs)")
    sweep.add_argument("--points", type=_positive_int, default=16, metavar="N",
                       help="points (lhs, sobol); levels per range (grid); trajectories (morris); "
                       "base sample N giving N*(k+2) points (saltelli). Default 16")
    sweep.add_argument("--num-levels", type=_positive_int, default=4, metavar="L", help="Morris grid levels (default 4)")
    _add_common(sweep, reps_default=10)
    sweep.add_argument("--kpi", action="append", default=[], metavar="NAME",
                       help="store only these KPIs (default all); repeatable")
    sweep.add_argument("--overwrite", action="store_true", help="discard results of a different sweep stored in --out")

    sens = subparsers.add_parser(
        "sensitivity",
        help="sensitivity indices of a KPI from a sweep folder",
        description="Sobol (saltelli design), Morris (morris design) or RBD-FAST (lhs/sobol/grid) indices of one KPI, "
        "computed on the mean over replications at each point, with the Monte Carlo noise share. Writes "
        "DIR/sensitivity-KPI.csv and DIR/figures/sensitivity-KPI.png.",
    )
    sens.add_argument("directory", metavar="DIR", type=Path, help="folder written by 'wca-sim sweep --out'")
    sens.add_argument("--kpi", required=True, metavar="NAME", help="KPI name")
    sens.add_argument("--method", choices=("sobol", "morris", "rbd_fast"), help="default: by the sweep's design")
    sens.add_argument("--conf", type=_fraction, default=0.95, metavar="LEVEL", help="confidence level (default 0.95)")
    sens.add_argument("--resamples", type=_positive_int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")

    be = subparsers.add_parser(
        "breakeven",
        help="smallest/largest parameter value meeting a KPI target in a share of replications",
        description="Find the smallest (or largest) value of one parameter such that KPI <= THRESHOLD (or >=) in at "
        "least SHARE of replications, with a confidence interval (per-replication crossings on a refined grid; "
        "see docs/sweeps.md). Resumable like 'sweep'.",
    )
    be.add_argument("scenario", metavar="SCENARIO", help="built-in scenario name or TOML file")
    _add_param(be, "the parameter searched, as KEY=LOW:HIGH (or KEY=LOW:HIGH:int)")
    be.add_argument("--kpi", required=True, metavar="NAME", help="KPI name")
    be.add_argument("--threshold", type=_finite, required=True, metavar="T", help="target value of the KPI")
    be.add_argument("--sense", choices=("le", "ge"), default="le", help="KPI <= T (le, default) or >= T (ge)")
    be.add_argument("--share", type=_fraction, default=0.9, metavar="P", help="share of replications (default 0.9)")
    be.add_argument("--find", choices=("smallest", "largest"), default="smallest", help="default smallest")
    be.add_argument("--points", type=_positive_int, default=9, metavar="N", help="grid points per stage (default 9)")
    be.add_argument("--refine", type=int, default=2, metavar="K", help="refinement stages (default 2)")
    _add_common(be, reps_default=100)
    be.add_argument("--conf", type=_fraction, default=0.95, metavar="LEVEL", help="confidence level (default 0.95)")


def _add_param(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--param", dest="params", type=parse_param, action="append", required=True,
                        metavar="KEY=LOW:HIGH|KEY=v1,v2", help=f"dotted scenario key and its range or values: {what}")


def _add_common(parser: argparse.ArgumentParser, reps_default: int) -> None:
    from .engines import engine_names

    parser.add_argument("--reps", type=_positive_int, default=reps_default, metavar="R",
                        help=f"replications per point (default {reps_default})")
    parser.add_argument("--engine", choices=engine_names(), default="fast", help="simulation engine (default fast)")
    parser.add_argument("--scale", type=_scale, metavar="F", help="fraction of claimants simulated (default: the scenario's)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S", help="root random seed (default 0)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="fixed override of the base scenario; repeatable")
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://host:8786")
    backend.add_argument("--local-cluster", action="store_true", help="start a Dask LocalCluster with --workers workers")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="K",
                        help="local worker processes (default 1: serial)")
    parser.add_argument("--batch-size", type=_positive_int, metavar="N",
                        help="point x replication evaluations per task (default: automatic, at most 200)")
    parser.add_argument("--independent-streams", action="store_true",
                        help="give every point its own replications instead of common random numbers")
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="output folder (resumable store)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


# -------------------------------------------------------------------- run


def run_sweep_command(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run the sweep sub-command in ``args.command``; returns the exit status."""
    from .scenario import ScenarioError
    from .sweeps.store import SweepMismatch

    try:
        if args.command == "sweep":
            return _cmd_sweep(args, argv)
        if args.command == "sensitivity":
            return _cmd_sensitivity(args)
        if args.command == "breakeven":
            return _cmd_breakeven(args, argv)
        raise SweepUsageError(f"not a sweep command: {args.command}")
    except (SweepUsageError, ScenarioError, SweepMismatch, KeyError) as exc:
        message = " ".join(str(exc).strip("'\"").split())
        print(f"wca-sim: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wca-sim: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def _base_and_overrides(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from .scenario import load_scenario, parse_override

    base = load_scenario(args.scenario)
    return base, dict(parse_override(text) for text in args.overrides)


def _backend_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "scheduler": args.scheduler,
        "cluster": "local" if args.local_cluster else None,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "crn": not args.independent_streams,
        "progress": not args.no_progress,
        "seed": args.seed,
        "scale": args.scale,
    }


def _command(argv: Sequence[str] | None) -> str:
    return shlex.join(["wca-sim", *(argv if argv is not None else sys.argv[1:])])


def _cmd_sweep(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from .engines import UnsupportedScenario
    from .sweeps import EngineModel, sweep
    from .sweeps.store import SweepStore

    base, overrides = _base_and_overrides(args)
    keys = [p.key for p in args.params]
    if len(set(keys)) != len(keys):
        raise SweepUsageError(f"--param {sorted(k for k in keys if keys.count(k) > 1)[0]} given twice")
    already = len({p for p, _ in SweepStore(args.out).finished()}) if (args.out / "store").is_dir() else 0
    if already:
        print(f"resuming: {already} points already stored in {args.out}", file=sys.stderr)
    try:
        ds = sweep(base, args.params, design=args.design, points=args.points, reps=args.reps,
                   model=EngineModel(args.engine, kpis=args.kpi or None), out=args.out, overrides=overrides,
                   num_levels=args.num_levels, overwrite=args.overwrite, command=_command(argv),
                   **_backend_kwargs(args))
    except (UnsupportedScenario, ValueError) as exc:
        if isinstance(exc, KeyError):
            raise
        raise SweepUsageError(str(exc)) from None
    print(_summary(ds).to_string(float_format=lambda v: f"{v:,.4g}"))
    print(f"{ds.sizes['point']} points x {ds.sizes['replication']} replications; wrote {args.out}/sweep.nc, "
          f"kpis.csv, design.csv, provenance.json")
    return 0


def _summary(ds: Any):
    """Per KPI: mean, min and max over points of the replication mean."""
    import pandas as pd

    means = ds["kpis"].mean("replication")
    return pd.DataFrame({
        "mean": means.mean("point").to_numpy(),
        "min_point": means.min("point").to_numpy(),
        "max_point": means.max("point").to_numpy(),
    }, index=pd.Index([str(k) for k in ds["kpi"].values], name="kpi"))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io_util import atomic_directory
    from .sweeps import load_sweep
    from .sweeps.sensitivity import plot_indices, sensitivity

    if not (args.directory / "sweep.nc").exists():
        raise SweepUsageError(f"{args.directory}: no sweep.nc (run 'wca-sim sweep --out {args.directory}' first, "
                              "or rerun it to finish an interrupted sweep)")
    ds = load_sweep(args.directory)
    try:
        table = sensitivity(ds, args.kpi, args.method, conf_level=args.conf, num_resamples=args.resamples)
    except ValueError as exc:
        raise SweepUsageError(str(exc)) from None
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    noise = table.attrs
    print(f"Monte Carlo noise: {noise['noise_share']:.1%} of the variance of single runs, "
          f"{noise['noise_share_of_means']:.1%} of the variance of point means ({noise['reps']} replications)")
    name = _safe(args.kpi)
    fig = plot_indices(table)
    with atomic_directory(args.directory) as tmp:
        table.to_csv(tmp / f"sensitivity-{name}.csv")
        (tmp / "figures").mkdir()
        fig.savefig(tmp / "figures" / f"sensitivity-{name}.png", dpi=120)
    plt.close(fig)
    print(f"wrote {args.directory}/sensitivity-{name}.csv, {args.directory}/figures/sensitivity-{name}.png")
    return 0


def _cmd_breakeven(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from .engines import UnsupportedScenario
    from .io_util import atomic_directory
    from .sweeps import EngineModel
    from .sweeps.breakeven import breakeven

    if len(args.params) != 1 or not args.params[0].is_range:
        raise SweepUsageError("breakeven needs exactly one --param KEY=LOW:HIGH")
    param = args.params[0]
    base, overrides = _base_and_overrides(args)
    if overrides:
        base = base.with_overrides(overrides)
    kwargs = _backend_kwargs(args)
    kwargs.pop("crn")
    if args.independent_streams:
        raise SweepUsageError("breakeven always uses common random numbers (drop --independent-streams)")
    try:
        result = breakeven(base, param.key, (param.low, param.high), args.kpi, args.threshold,
                           share=args.share, find=args.find, sense="<=" if args.sense == "le" else ">=",
                           reps=args.reps, points=args.points, refine=args.refine, confidence=args.conf,
                           integer=param.integer, out=args.out, model=EngineModel(args.engine, kpis=[args.kpi]),
                           command=_command(argv), **kwargs)
    except (UnsupportedScenario, ValueError) as exc:
        raise SweepUsageError(str(exc)) from None
    print(result.summary())
    report = {k: getattr(result, k) for k in ("param", "kpi", "threshold", "share", "find", "value", "ci_low",
                                              "ci_high", "confidence", "notes")}
    with atomic_directory(args.out) as tmp:
        (tmp / "breakeven.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        result.curve.to_csv(tmp / "breakeven-curve.csv", index=False)
    print(f"wrote {args.out}/breakeven.json, {args.out}/breakeven-curve.csv")
    return 0


# ------------------------------------------------------- standalone entry


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sweep command without the rest of ``wca-sim`` (``python -m wca_sim.cli_sweep sweep ...``)."""
    parser = _OneLineParser(prog="wca-sim")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    add_sweep_parsers(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except SweepUsageError as exc:
        print(f"wca-sim: error: {exc}", file=sys.stderr)
        return 2
    return run_sweep_command(args, argv)


class _OneLineParser(argparse.ArgumentParser):
    """Report argument errors as one line, like the main ``wca-sim`` parser."""

    def error(self, message: str):  # type: ignore[override]
        raise SweepUsageError(f"{message} (see '{self.prog} --help')")


if __name__ == "__main__":
    sys.exit(main())
