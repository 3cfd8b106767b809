"""Benchmark: a Latin hypercube sweep with the fast engine, on 1 and 2 local worker processes.

Issue 5's benchmark is 500 points x 20 replications::

    python benchmarks/bench_sweep.py --points 500 --reps 20 --workers 1 2

``--overhead`` times the sweep machinery alone (design, tasks, processes,
Parquet store, assembly) with the analytic Ishigami model in place of the engine.

Prints wall time per worker count, points and replications per second, the
scaling efficiency ``T1 / (K * TK)``, checks that every worker count gave
bit-identical results, and prints a Markdown row for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

PARAMS = {
    "providers.maximus.workforce.transfer_share": (0.3, 0.9),
    "providers.maximus.workforce.hires_per_month": (20.0, 120.0),
    "providers.atos.workforce.attrition_uplift_after_exit": (1.0, 3.0),
    "providers.atos.workforce.fte_at_start": (1200.0, 2400.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="early-exit")
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engine", default="fast")
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--overhead", action="store_true",
                        help="use the analytic Ishigami model (no simulation) to time the sweep machinery alone")
    args = parser.parse_args()

    from wca_sim.sweeps import IshigamiModel, sweep

    base, params, model = args.scenario, PARAMS, None
    if args.overhead:
        model = IshigamiModel(noise_sd=1.0)
        base, params, args.engine = IshigamiModel.base(), IshigamiModel.params(), "none (Ishigami)"

    times: dict[int, float] = {}
    results = {}
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for workers in args.workers:
        out = Path(tempfile.mkdtemp(prefix=f"bench-sweep-{workers}-"))
        try:
            start = time.perf_counter()
            ds = sweep(base, params, design="lhs", points=args.points, reps=args.reps, engine=args.engine, model=model,
                       seed=args.seed, scale=args.scale, workers=workers, out=out / "sweep", progress=True)
            times[workers] = time.perf_counter() - start
            results[workers] = ds["kpis"].to_numpy()
        finally:
            shutil.rmtree(out, ignore_errors=True)
        evaluations = args.points * args.reps
        print(f"workers={workers}: {times[workers]:.1f} s, {args.points / times[workers]:.2f} points/s, "
              f"{evaluations / times[workers]:.1f} replications/s")
    first = args.workers[0]
    identical = all(np.array_equal(results[first], results[w], equal_nan=True) for w in args.workers)
    print(f"bit-identical across worker counts: {identical}")
    base = times.get(1)
    for workers, seconds in times.items():
        if base is not None and workers > 1:
            print(f"scaling efficiency with {workers} workers: {base / (workers * seconds):.0%}")
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; load average at end {load}")
    row = " | ".join(f"{times[w]:.1f} s" for w in args.workers)
    eff = f"{base / (2 * times[2]):.0%}" if base is not None and 2 in times else "n/a"
    print(f"| {args.points} x {args.reps} ({args.engine}, scale={args.scale or 'scenario'}) | {row} | {eff} | {identical} |")


if __name__ == "__main__":
    main()
