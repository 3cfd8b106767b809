"""Benchmark of the fast engine: N replications of each built-in scenario, national scale, full horizon.

Usage::

    python benchmarks/bench_fast.py [--reps 1000] [--workers 2] [--tasks-per-scenario 2] [--des-reps 1]

The ``3 x reps`` replications are cut into ``tasks-per-scenario`` equal tasks per
scenario and run on a pool of ``workers`` processes (what ``wca_sim.run(...,
engine="fast", workers=2)`` does with its default batch size); each task is
one ``FastEngine.run`` (simulation, the Results Dataset and the KPIs). The
Results stay in the worker (only timings come back): 1,000 replications of
one scenario are ~640 MB of float64 daily series, so the three together do
not fit the 2 GB target in one process.

Workers are started and warmed up (imports, one tiny run) before the clock
starts, as in a long-lived pool; that start-up is timed and printed apart.
Prints the wall time of the whole pool, CPU seconds and microseconds per
replication-day of each task, the peak RSS of each worker, and, with
``--des-reps N`` (N > 0), the DES on N replications of early-exit for the
replications-per-second ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import wca_sim as ws
# imported before the pool forks, as in a long-lived worker (imports are not what is measured)
import wca_sim.engines.fast
import wca_sim.kpis
from wca_sim.engines import get_engine

SCENARIOS = ("run-to-aug-2015", "early-exit", "add-providers")


def _warm(barrier) -> None:
    """Worker initializer: a tiny run to finish one-time imports and caches, then wait for the others."""
    sc = ws.load_scenario("early-exit").with_overrides({"end_date": "2013-11-30", "report_dates": ["2013-11-30"]})
    get_engine("fast").run(sc, range(2), 0)
    barrier.wait()


def _ping() -> int:
    return os.getpid()


def _task(name: str, reps: range, seed: int) -> tuple[str, int, float, float, float, int]:
    sc = ws.load_scenario(name)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    get_engine("fast").run(sc, reps, seed)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB
    return name, len(reps), cpu, wall, cpu / len(reps) / sc.days * 1e6, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tasks-per-scenario", type=int, default=2)
    ap.add_argument("--des-reps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    print(f"machine: nproc={os.cpu_count()} cpu={cpu} python={platform.python_version()} "
          f"load={os.getloadavg()[0]:.2f}")
    k = max(1, args.tasks_per_scenario)
    step = -(-args.reps // k)
    tasks = [(name, range(a, min(a + step, args.reps))) for name in SCENARIOS for a in range(0, args.reps, step)]
    barrier = multiprocessing.get_context("fork").Barrier(args.workers)
    t_start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_warm, initargs=(barrier,)) as pool:
        # start every worker and let it warm up (the barrier holds each until all are ready)
        pids = {f.result() for f in [pool.submit(_ping) for _ in range(args.workers)]}
        warm = time.perf_counter() - t_start
        t0 = time.perf_counter()
        futures = [pool.submit(_task, name, reps, args.seed) for name, reps in tasks]
        rows = [f.result() for f in futures]
        wall = time.perf_counter() - t0
    print(f"pool start and warm-up of {len(pids)} workers (imports, one tiny run): {warm:.1f} s")
    total = 3 * args.reps
    days = sum(ws.load_scenario(n).days for n in SCENARIOS) / 3
    for name, n, c, w, us, peak in rows:
        print(f"  task {name:16s} {n:5d} reps: cpu {c:6.2f} s, wall {w:6.2f} s, {us:5.2f} us/rep-day (cpu), "
              f"worker peak RSS {peak / 1024:.0f} MB")
    cpu_total = sum(r[2] for r in rows)
    print(f"fast all three: {total} reps x {days:.0f} days, {args.workers} workers: wall {wall:.1f} s "
          f"({total / wall:.1f} reps/s, {wall * args.workers / total / days * 1e6:.2f} us per rep-day per core); "
          f"task cpu {cpu_total:.1f} s ({cpu_total / total / days * 1e6:.2f} us/rep-day); "
          f"peak RSS per worker {max(r[5] for r in rows) / 1024:.0f} MB")
    if args.des_reps > 0:
        sc = ws.load_scenario("early-exit")
        t0 = time.perf_counter()
        get_engine("des").run(sc, range(args.des_reps), args.seed)
        des = time.perf_counter() - t0
        print(f"des early-exit: {args.des_reps} reps in {des:.1f} s ({args.des_reps / des:.4f} reps/s, one core)")
        print(f"reps/s ratio fast (all three, {args.workers} workers) / des (1 core): "
              f"{(total / wall) / (args.des_reps / des):.0f}x")


if __name__ == "__main__":
    main()
