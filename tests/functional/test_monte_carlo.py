"""Monte Carlo layer end to end: CI coverage against queueing theory, determinism across
workers, common random numbers, save/load and figures with the real DES engine."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.synthetic import results_from_kpi_values  # noqa: E402

import wca_sim as ws  # noqa: E402
from wca_sim.analysis import compare, summarise  # noqa: E402
from wca_sim.results import Results  # noqa: E402

HAVE_DES = importlib.util.find_spec("wca_sim.engines.des") is not None
needs_des = pytest.mark.skipif(not HAVE_DES, reason="the DES engine is not available yet")


# ---------------------------------------------------------------- CI coverage


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    rho = a / servers
    top = a**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return (top / bottom) / (servers * service_rate - arrival_rate)


def test_erlang_c_by_hand():
    # c=2, a=1.5: P(wait) = 4.5 / 7, Wq = P(wait) / (2 - 1.5) = 9/7.
    assert erlang_c_wait(1.5, 1.0, 2) == pytest.approx(9 / 7)


def mmc_replication_means(lam: float, mu: float, c: int, chains: int, customers: int, seed: int) -> np.ndarray:
    """Mean queueing wait of ``customers`` successive arrivals in each of ``chains`` independent M/M/c runs.

    Each run starts in the stationary distribution (number in system drawn from the M/M/c
    stationary law; by memorylessness, residual services are exponential), so every
    customer's expected wait is exactly the Erlang-C value: no warm-up bias. Waits follow
    the Kiefer-Wolfowitz recursion on the sorted vector of server workloads (FIFO).
    """
    rng = np.random.default_rng(seed)
    a, rho = lam / mu, lam / (c * mu)
    n_max = 400
    n = np.arange(n_max)
    weights = np.where(n < c, a**n / np.array([math.factorial(min(k, c)) for k in n], dtype=float),
                       a**c / math.factorial(c) * rho ** np.maximum(n - c, 0))
    in_system = rng.choice(n_max, size=chains, p=weights / weights.sum())
    work = np.zeros((chains, c))
    busy = np.minimum(in_system, c)
    for server in range(c):
        work[:, server] = np.where(busy > server, rng.exponential(1 / mu, chains), 0.0)
    queued = in_system - busy
    for k in range(int(queued.max(initial=0))):
        work.sort(axis=1)
        work[:, 0] += np.where(queued > k, rng.exponential(1 / mu, chains), 0.0)
    work.sort(axis=1)
    total = np.zeros(chains)
    for _ in range(customers):
        work = np.maximum(work - rng.exponential(1 / lam, chains)[:, None], 0.0)
        wait = work[:, 0].copy()
        total += wait
        work[:, 0] += rng.exponential(1 / mu, chains)
        work.sort(axis=1)
    return total / customers


def coverage(experiments: int, reps: int, level: float, seed: int, customers: int = 10_000) -> tuple[int, float]:
    """How many of ``experiments`` t-intervals (from analysis.summarise) cover the Erlang-C mean wait."""
    lam, mu, c = 1.5, 1.0, 2
    truth = erlang_c_wait(lam, mu, c)
    means = mmc_replication_means(lam, mu, c, experiments * reps, customers=customers, seed=seed)
    res = results_from_kpi_values({f"exp{e}": means[e * reps:(e + 1) * reps] for e in range(experiments)},
                                  kpi="mean_wait")
    table = summarise(res, level=level)
    assert len(table) == experiments and (table["n"] == reps).all()
    covered = int(((table["ci_low"] <= truth) & (truth <= table["ci_high"])).sum())
    return covered, truth


#: True coverage accepted as "roughly 95%". t-intervals under-cover slightly when the
#: replication means are skewed (here skewness ~0.5): 4,000 experiments measured ~94%.
COVERAGE_TOLERANCE = (0.935, 0.965)


def acceptance_band(experiments: int, alpha: float = 0.01) -> tuple[int, int]:
    """Counts of covering intervals consistent (two-sided binomial test at ``alpha``) with a
    true coverage inside :data:`COVERAGE_TOLERANCE`."""
    low = int(stats.binom.ppf(alpha / 2, experiments, COVERAGE_TOLERANCE[0]))
    high = int(stats.binom.isf(alpha / 2, experiments, COVERAGE_TOLERANCE[1]))
    return low, high


def test_ci_coverage_mmc():
    # 1,000 experiments of 10 replications (each the mean wait of 10,000 customers): about 5 s.
    low, high = acceptance_band(1000)
    covered, _ = coverage(1000, 10, 0.95, seed=777)
    assert low <= covered <= high, f"{covered}/1000 intervals covered the Erlang-C mean; expected {low}..{high}"


def test_coverage_check_has_power():
    # The same check rejects intervals of the wrong level: 80% intervals fall outside the band.
    low, _ = acceptance_band(300)
    covered, _ = coverage(300, 10, 0.80, seed=20240)
    assert covered < low


@pytest.mark.slow
def test_ci_coverage_mmc_many():
    low, high = acceptance_band(4000)
    covered, _ = coverage(4000, 10, 0.95, seed=4242)
    assert low <= covered <= high, f"{covered}/4000 covered; expected {low}..{high}"


# ------------------------------------------------------------ with the engine

SHORT = {"end_date": "2014-06-30", "report_dates": ["2014-04-30"]}
TO_AUG_2015 = {"end_date": "2015-08-31", "report_dates": ["2015-02-28", "2015-08-31"]}


def _pair(overrides: dict) -> list[ws.Scenario]:
    return [ws.load_scenario(name).with_overrides(overrides) for name in ("run-to-aug-2015", "early-exit")]


@needs_des
def test_des_workers_1_and_2_identical():
    scenarios = _pair(SHORT)
    one = ws.run(scenarios, reps=3, seed=7, engine="des", workers=1, scale=0.01, progress=False)
    two = ws.run(scenarios, reps=3, seed=7, engine="des", workers=2, batch_size=1, scale=0.01, progress=False)
    assert one.timeseries.identical(two.timeseries)
    pd.testing.assert_frame_equal(one.kpis, two.kpis, check_exact=True)
    assert one.scenario_names == ["run-to-aug-2015", "early-exit"] and one.replications == [0, 1, 2]


@needs_des
def test_des_common_random_numbers_narrow_the_paired_ci():
    # Same seed for both scenarios (common random numbers) against the same early-exit runs
    # with another root seed (independent streams), paired by replication id.
    reference, early = _pair(TO_AUG_2015)
    kpis = ["backlog_on_2015-02-28", "backlog_on_2015-08-31", "decision_days_mean"]
    crn = ws.run([reference, early], reps=6, seed=1, engine="des", workers=2, scale=0.01, progress=False)
    other = ws.run(early, reps=6, seed=1001, engine="des", workers=2, scale=0.01, progress=False)
    independent = Results(crn.timeseries, pd.concat([crn.kpis[crn.kpis["scenario"] == reference.name], other.kpis]),
                          crn.scenarios, {})
    with_crn = compare(crn, reference.name, kpis=kpis).set_index("kpi")["half_width"]
    without = compare(independent, reference.name, kpis=kpis).set_index("kpi")["half_width"]
    print("paired-difference CI half-widths, CRN vs independent seeds:\n", pd.DataFrame({"crn": with_crn, "independent": without}))
    # Summed over the KPIs (in units of the independent half-width) CRN must be narrower.
    assert (with_crn / without).mean() < 1.0
    assert with_crn["backlog_on_2015-08-31"] < without["backlog_on_2015-08-31"]


@needs_des
def test_des_save_load_round_trip_and_figures(tmp_path):
    res = ws.run(_pair(SHORT), reps=2, seed=3, engine="des", scale=0.01, progress=False)
    res.save(tmp_path / "out")
    loaded = ws.load_results(tmp_path / "out")
    assert loaded.timeseries.identical(res.timeseries)
    pd.testing.assert_frame_equal(loaded.kpis, res.kpis, check_exact=True)
    assert loaded.scenarios == res.scenarios and loaded.provenance == res.provenance

    from wca_sim.plots import save_figures

    written = save_figures(loaded, tmp_path / "out")
    assert {p.name for p in written} == {"backlog_fan.png", "decision_times.png", "workforce.png",
                                         "tribunal_backlog.png", "kpi_differences.png"}
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
