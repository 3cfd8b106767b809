"""The DES assessment stage against queueing theory: Erlang C (M/M/c) and Little's law.

The scenario is cut down so that the assessment stage is exactly an M/M/c
queue: every day a working day with a 24-hour shift (working time = calendar
time), one region, one provider with constant FTE (no hiring, no attrition),
face-to-face only with no non-attendance, no scrutiny or booking lead, no
rework, no closure, exponential service (cv = 1), Poisson arrivals, and
prognosis periods beyond the horizon so no repeat referrals feed back.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wca_sim.engines.des import DesEngine
from wca_sim.scenario import load_scenario, scenario_from_dict, scenario_to_dict


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), computed from first principles."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    # Erlang B by its stable recursion, then Erlang C = B / (1 - rho (1 - B)).
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = a * blocking / (k + a * blocking)
    p_wait = blocking / (1 - rho * (1 - blocking))
    return p_wait / (servers * service_rate - arrival_rate)


def queue_scenario(
    arrivals_per_day: float,
    service_per_day: float,
    servers: int,
    days: int,
    **productivity: float,
):
    """A scenario whose assessment stage is a single multi-server queue."""
    data = scenario_to_dict(load_scenario("run-to-aug-2015"))
    start = dt.date(2013, 10, 1)
    end = start + dt.timedelta(days=days - 1)
    base = data["providers"]["atos"]
    provider = {
        "contract_start": "2005-09-01",
        "contract_end": "2030-01-01",
        "handover_policy": "transfer",
        "workforce": {
            "fte_at_start": float(servers),
            "hires_per_month": 0.0,
            "attrition_per_month": 0.0,
            "incidents_per_1000_assessments": 0.0,
        },
        "productivity": {
            "paper_per_hcp_day": 10.0,
            "f2f_per_hcp_day": service_per_day,
            "service_time_cv": 1.0,
            "paper_share": {"new_claim": 0.0, "ib_reassessment": 0.0, "repeat": 0.0},
            "scrutiny_days": 0.0,
            "booking_lead_days": 0.0,
            "dna_rate": 0.0,
            "rework_rate": 0.0,
            **productivity,
        },
        "prices": base["prices"],
    }
    data.update(
        name="mmc",
        start_date=start,
        end_date=end,
        scale=1.0,
        report_dates=[end],
        calendar={"working_days": "all", "shift_hours": 24.0},
        regions={"only": {"referral_share": 1.0, "assessment_centres": 1, "served_by": [{"start": start, "provider": "p"}]}},
        providers={"p": provider},
        initial_state={"provider_queue": [], "awaiting_decision": 0.0, "mr_pending": 0.0, "tribunal_backlog": 0.0},
    )
    data["demand"] = {
        "new_claims_per_month": arrivals_per_day * 365.25 / 12,
        "ib_reassessments_per_month": 0.0,
        "existing_repeats_per_month": 0.0,
        "closure_hazard_per_week": {"new_claim": 0.0, "ib_reassessment": 0.0, "repeat": 0.0},
    }
    # Prognosis periods beyond the horizon: no repeat referrals feed back into the queue.
    never = {"months": [100000.0], "probabilities": [1.0]}
    data["decisions"]["prognosis_sg"] = never
    data["decisions"]["prognosis_wrag"] = never
    return scenario_from_dict(data)


def test_erlang_c_mean_wait():
    lam, mu, c = 8.5, 1.0, 10  # utilisation 0.85
    days, warmup = 1500, 100
    scenario = queue_scenario(lam, mu, c, days)
    reps = list(range(8))
    res = DesEngine().run(scenario, reps, seed=11, journeys=True)
    j = res.journeys
    t_ref = (j["referral_date"] - pd.Timestamp(scenario.start_date)) / pd.Timedelta(days=1)
    wait = (j["assessment_start_date"] - j["referral_date"]) / pd.Timedelta(days=1)
    window = (t_ref >= warmup) & (t_ref < days - 30)
    assert wait[window].notna().all(), "everyone referred in the window starts service before the end"
    per_rep = wait[window].groupby(j["replication"][window]).mean().to_numpy()
    mean, se = per_rep.mean(), per_rep.std(ddof=1) / math.sqrt(len(per_rep))
    half = stats.t.ppf(0.995, len(per_rep) - 1) * se
    expected = erlang_c_wait(lam, mu, c)
    assert abs(mean - expected) <= half, f"mean wait {mean:.4f} +- {half:.4f} vs Erlang C {expected:.4f}"
    # The test has teeth: the CI is much narrower than the gap to a neighbouring server count.
    assert half < abs(erlang_c_wait(lam, mu, c + 1) - expected) / 2
    # Throughput: assessments per day equal the arrival rate (stable queue).
    assessed = res.timeseries["assessments"].sum(("provider", "kind")).isel(date=slice(warmup, None))
    assert float(assessed.mean()) == pytest.approx(lam, rel=0.03)


def test_littles_law_on_backlog():
    lam, mu, c = 10.0, 2.0, 6
    days, warmup = 1200, 150
    scenario = queue_scenario(
        lam, mu, c, days, scrutiny_days=1.0, booking_lead_days=2.0, dna_rate=0.1, dna_rebook_share=0.5
    ).with_overrides({"demand.closure_hazard_per_week.new_claim": 0.5})
    res = DesEngine().run(scenario, [0, 1, 2, 3], seed=5, journeys=True)
    j = res.journeys
    origin = pd.Timestamp(scenario.start_date)
    t_ref = (j["referral_date"] - origin) / pd.Timedelta(days=1)
    closed = j["exit"].isin(["closed_while_waiting", "closed_dna"])
    leave = j["assessed_date"].where(j["assessed_date"].notna(), j["exit_date"].where(closed))
    in_backlog = (leave - j["referral_date"]) / pd.Timedelta(days=1)
    window = (t_ref >= warmup) & (t_ref < days - 60)
    assert in_backlog[window].notna().all()
    backlog = res.timeseries["backlog"].isel(scenario=0, date=slice(warmup, days - 60))
    for r in res.replications:
        mine = window & (j["replication"] == r)
        arrival_rate = mine.sum() / (days - 60 - warmup)
        little = arrival_rate * in_backlog[mine].mean()
        observed = float(backlog.sel(replication=r).mean())
        assert observed == pytest.approx(little, rel=0.05), (r, observed, little)
