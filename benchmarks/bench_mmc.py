"""Benchmark: the DES assessment stage as an M/M/c queue against a plain SimPy model.

The wca_sim run uses the M/M/c configuration of
``tests/functional/test_des_queueing.py`` (every day a working day, 24-hour
shift, one region and provider, constant FTE, exponential service, Poisson
arrivals). The plain SimPy model has one process per customer and a
``simpy.Resource`` with ``c`` servers, and is fed the *same* arrival times
(read from the wca_sim journeys) and exponential service times with the same
rate, over the same run length. Both report customers served per second of
CPU time (``time.process_time``, robust to a busy machine) and the mean wait in queue (compare with Erlang C).

Usage::

    python benchmarks/bench_mmc.py [--days 3000] [--servers 20] [--rho 0.85]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "functional"))
from test_des_queueing import erlang_c_wait, queue_scenario  # noqa: E402


def plain_simpy(arrivals: np.ndarray, services: np.ndarray, servers: int, horizon: float) -> tuple[int, float]:
    """One process per customer with a simpy.Resource; returns (customers started, mean wait)."""
    env = simpy.Environment()
    hcps = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def customer(arrival: float, service: float):
        with hcps.request() as request:
            yield request
            waits.append(env.now - arrival)
            yield env.timeout(service)

    def source():
        for arrival, service in zip(arrivals.tolist(), services.tolist()):
            yield env.timeout(arrival - env.now)
            env.process(customer(arrival, service))

    env.process(source())
    env.run(until=horizon)
    return len(waits), float(np.mean(waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3000)
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--mu", type=float, default=5.0, help="services per server-day")
    parser.add_argument("--rho", type=float, default=0.85)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from wca_sim.engines.des import DesEngine, Replication

    lam = args.rho * args.servers * args.mu
    scenario = queue_scenario(lam, args.mu, args.servers, args.days)
    DesEngine().check(scenario)

    # wca_sim: the whole pipeline runs (decisions, MR, appeals, recorder) but the
    # queue dominates; time the simulation itself, without building the Dataset.
    started = time.process_time()
    sim = Replication(scenario, args.seed, 0, journeys=True)
    sim.run()
    wca_wall = time.process_time() - started
    j = sim.journeys()
    served = int(j["assessment_start_date"].notna().sum())
    wait = ((j["assessment_start_date"] - j["referral_date"]) / pd.Timedelta(days=1)).mean()

    # Same arrivals into plain SimPy.
    arrivals = ((j["referral_date"] - pd.Timestamp(scenario.start_date)) / pd.Timedelta(days=1)).to_numpy()
    rng = np.random.default_rng(args.seed)
    services = rng.exponential(1.0 / args.mu, len(arrivals))
    started = time.process_time()
    plain_served, plain_wait = plain_simpy(arrivals, services, args.servers, float(args.days))
    plain_wall = time.process_time() - started

    expected = erlang_c_wait(lam, args.mu, args.servers)
    wca_rate, plain_rate = served / wca_wall, plain_served / plain_wall
    print(f"M/M/{args.servers}: lambda={lam:g}/day mu={args.mu:g}/day rho={args.rho} days={args.days}")
    print(f"Erlang C mean wait (days): {expected:.4f}")
    print(f"wca_sim DES : {served:,} customers in {wca_wall:.2f} CPU s = {wca_rate:,.0f}/s, mean wait {wait:.4f}")
    print(f"plain SimPy : {plain_served:,} customers in {plain_wall:.2f} CPU s = {plain_rate:,.0f}/s, mean wait {plain_wait:.4f}")
    print(f"ratio (wca_sim / plain SimPy): {wca_rate / plain_rate:.2f}x")


if __name__ == "__main__":
    main()
