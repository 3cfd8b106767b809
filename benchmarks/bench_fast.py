"""Benchmark of the fast engine: N replications of each built-in scenario, national scale, full horizon.

Usage::

    python benchmarks/bench_fast.py [--reps 1000] [--workers 2] [--des-reps 1]

Prints wall time, peak memory (max RSS of this process and its workers),
replications per second, and the same for the DES on ``--des-reps``
replications of one scenario, so the ratio is on the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import wca_sim as ws
from wca_sim.engines import get_engine

SCENARIOS = ("run-to-aug-2015", "early-exit", "add-providers")


def _one(name: str, reps: int, seed: int) -> tuple[str, float]:
    t0 = time.perf_counter()
    get_engine("fast").run(ws.load_scenario(name), range(reps), seed)
    return name, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--des-reps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: nproc={os.cpu_count()} cpu={cpu} python={platform.python_version()}")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        for name, secs in pool.map(_one, SCENARIOS, [args.reps] * 3, [args.seed] * 3):
            print(f"fast {name}: {args.reps} reps in {secs:.1f} s ({args.reps / secs:.1f} reps/s per worker)")
    wall = time.perf_counter() - t0
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(f"fast all three: {3 * args.reps} reps, wall {wall:.1f} s, {3 * args.reps / wall:.1f} reps/s, "
          f"peak RSS per process {peak / 1024:.0f} MB")
    sc = ws.load_scenario("early-exit")
    t0 = time.perf_counter()
    get_engine("des").run(sc, range(args.des_reps), args.seed)
    des = time.perf_counter() - t0
    t0 = time.perf_counter()
    get_engine("fast").run(sc, range(args.des_reps), args.seed)
    fast1 = time.perf_counter() - t0
    print(f"des early-exit: {args.des_reps} reps in {des:.1f} s ({args.des_reps / des:.4f} reps/s); "
          f"fast same reps {fast1:.1f} s")
    print(f"reps/s ratio fast (all three, {args.workers} workers) / des (1 core): {(3 * args.reps / wall) / (args.des_reps / des):.0f}x")


if __name__ == "__main__":
    main()
