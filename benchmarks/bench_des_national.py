"""Benchmark: the DES engine at national scale (scale=1), full horizon, one replication.

Usage::

    python benchmarks/bench_des_national.py [--scenario early-exit] [--seed 1]

Prints wall and CPU time, peak resident memory (``resource.getrusage`` max RSS of this
process) and the numbers of referrals and assessments simulated.
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="early-exit")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import wca_sim as ws
    from wca_sim.engines.des import DesEngine

    scenario = ws.load_scenario(args.scenario).with_overrides({"scale": 1.0})
    started, cpu_started = time.perf_counter(), time.process_time()
    res = DesEngine().run(scenario, [0], seed=args.seed)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ts = res.timeseries.isel(scenario=0, replication=0)
    referrals = float(ts["referrals"].sum())
    assessments = float(ts["assessments"].sum())
    print(f"scenario={scenario.name} scale=1 days={scenario.days} seed={args.seed}")
    print(f"referrals={referrals:,.0f} initial_stock={float(ts['initial_stock']):,.0f} assessments={assessments:,.0f}")
    # CPU time is what the run costs on one core; wall time also counts waiting for a busy machine.
    print(f"wall_s={wall:.1f} cpu_s={cpu:.1f} peak_rss_mb={peak_mb:.0f} referrals_per_s={referrals / wall:,.0f}")


if __name__ == "__main__":
    main()
