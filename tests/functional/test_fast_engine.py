"""Fast engine: invariants, determinism, batch independence, refusals, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest

import wca_sim as ws
from wca_sim.engines import UnsupportedScenario, get_engine
from wca_sim.engines.fast import FastEngine
from wca_sim.results import TIMESERIES_SCHEMA

SHORT = {"scale": 0.02, "end_date": "2014-09-30", "report_dates": ["2014-04-30", "2014-09-30"]}


@pytest.fixture(scope="module")
def small():
    return ws.load_scenario("early-exit").with_overrides(SHORT)


@pytest.fixture(scope="module")
def run_small(small):
    return FastEngine().run(small, [0, 1, 2], seed=11)


def test_schema_complete(run_small, small):
    ts = run_small.timeseries
    for name, dims in TIMESERIES_SCHEMA.items():
        assert name in ts, name
        assert ts[name].dims[: 2] == ("scenario", "replication")
        assert set(dims) <= set(ts[name].dims)
        assert ts[name].dtype == np.float64
    assert "initial_stock" in ts
    assert ts.sizes["date"] == small.days
    assert list(ts["provider"].values) == list(small.provider_names)


def test_conservation_every_day(run_small):
    """initial stock + referrals = stocks in progress + exits, every day (docs/model.md, Conservation)."""
    ts = run_small.timeseries
    lhs = ts.initial_stock + ts.referrals.sum("referral_type").cumsum("date")
    rhs = (ts.backlog + ts.awaiting_decision + ts.mr_pending + ts.appeals_pending_lodging + ts.tribunal_backlog
           + ts.exits.sum("exit").cumsum("date"))
    # national counts; a few claimants' worth of float rounding allowed
    assert float(abs(lhs - rhs).max()) < 1.0


def test_no_negative_stocks(run_small):
    ts = run_small.timeseries
    for name in ("backlog", "awaiting_decision", "mr_pending", "tribunal_backlog", "hcp_fte"):
        assert float(ts[name].min()) > -1e-6, name


def test_same_seed_same_result_and_batch_independent(small):
    a = FastEngine().run(small, [0, 1, 2, 3], seed=5).timeseries
    b = FastEngine(chunk_size=1).run(small, [3, 1], seed=5).timeseries
    for r in (1, 3):
        np.testing.assert_array_equal(a.backlog.sel(replication=r).values, b.backlog.sel(replication=r).values)
        np.testing.assert_array_equal(a.decisions_by_wait.sel(replication=r).values,
                                      b.decisions_by_wait.sel(replication=r).values)
    c = FastEngine().run(small, [0], seed=6).timeseries
    assert not np.array_equal(a.backlog.sel(replication=0).values, c.backlog.sel(replication=0).values)


def test_registered_engine():
    assert isinstance(get_engine("fast"), FastEngine)


def test_refuses_run_off_and_journeys(small):
    eng = FastEngine()
    bad = small.with_overrides({"providers.atos.handover_policy": "run_off"})
    assert not eng.supports(bad)
    with pytest.raises(UnsupportedScenario, match="run_off"):
        eng.run(bad, [0], seed=1)
    with pytest.raises(UnsupportedScenario, match="journeys"):
        eng.run(small, [0], seed=1, journeys=True)
    odd = small.with_overrides({"providers.maximus.productivity.booking_lead_days": 21.0})
    with pytest.raises(UnsupportedScenario, match="booking_lead_days"):
        eng.check(odd)
    assert eng.supports(small)


def test_more_staff_never_raises_backlog(small):
    """Common random numbers: +30% FTE gives a lower or equal backlog in each replication."""
    more = small.with_overrides({"providers.atos.workforce.fte_at_start": 480.0 * 1.3})
    base = FastEngine().run(small, [0, 1], seed=3).timeseries.backlog
    up = FastEngine().run(more, [0, 1], seed=3).timeseries.backlog
    assert float((up - base).isel(date=slice(30, None)).max()) <= 1e-6 * float(base.max()) + 1.0 / 0.02 * 5
    assert float(up.isel(date=-1).mean()) < float(base.isel(date=-1).mean())


def test_decisions_by_wait_matches_decisions(run_small):
    """The waiting-time histogram counts about as many decisions as the daily series (it also counts
    decisions falling just after the horizon, so allow that margin)."""
    ts = run_small.timeseries
    hist = float(ts.decisions_by_wait.sum(["referral_quarter", "wait_week"]).mean())
    daily = float(ts.decisions.sum(["date", "outcome"]).mean())
    assert abs(hist - daily) / daily < 0.05


def test_little_law_on_backlog(run_small):
    """Mean backlog ~= throughput x mean wait in queue over a stationary-ish window (loose)."""
    ts = run_small.timeseries
    kp = run_small.kpis
    assert set(kp["kpi"]).issuperset({"backlog_on_2014-04-30", "decision_days_mean"})
