"""Fast engine: invariants, Little's law, determinism, batch independence, refusals, monotonicity."""

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


def test_stalled_queue_grows_ring_without_changing_results(monkeypatch):
    """A provider far short of staff lets its queue heads lag the newest cell by more than the ring
    (512 cells here), so the ring must grow mid-run; the results must equal those of a run whose
    ring is large enough from the start, and conservation must still hold."""
    from wca_sim.engines.fast.queues import ProviderQueues, ring_cells

    sc = ws.load_scenario("run-to-aug-2015").with_overrides({
        "scale": 0.02, "end_date": "2015-06-30", "report_dates": ["2015-06-30"],
        "providers.atos.workforce.fte_at_start": 30.0, "providers.atos.workforce.hires_per_month": 0.0})
    grown = FastEngine().run(sc, [0, 1], seed=1).timeseries
    assert ring_cells(sc) < sc.days                      # the run is longer than the starting ring
    monkeypatch.setattr(ProviderQueues, "min_ring", 4096)
    roomy = FastEngine().run(sc, [0, 1], seed=1).timeseries
    np.testing.assert_array_equal(grown.backlog.values, roomy.backlog.values)
    np.testing.assert_array_equal(grown.decisions_by_wait.values, roomy.decisions_by_wait.values)
    lhs = grown.initial_stock + grown.referrals.sum("referral_type").cumsum("date")
    rhs = (grown.backlog + grown.awaiting_decision + grown.mr_pending + grown.appeals_pending_lodging
           + grown.tribunal_backlog + grown.exits.sum("exit").cumsum("date"))
    assert float(abs(lhs - rhs).max()) < 1.0


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


#: A stationary single-provider configuration: constant new claims only, every day a working day,
#: no closures, no missed appointments, no rework, no decision delay, no staff changes, no repeat
#: referrals (all deferred for good), and an empty queue at the start.
STATIONARY = {
    "scale": 0.05, "end_date": "2014-12-31", "report_dates": ["2014-12-31"],
    "calendar.working_days": "all",
    "demand.new_claims_per_month": 30000.0, "demand.ib_reassessments_per_month": 0.0,
    "demand.existing_repeats_per_month": 0.0,
    "demand.closure_hazard_per_week.new_claim": 0.0, "demand.closure_hazard_per_week.ib_reassessment": 0.0,
    "demand.closure_hazard_per_week.repeat": 0.0,
    "demand.repeat_deferral.start": "2013-10-01", "demand.repeat_deferral.share_deferred": 1.0,
    "decisions.delay_days_mean": 0.0,
    "providers.atos.workforce.hires_per_month": 0.0, "providers.atos.workforce.attrition_per_month": 0.0,
    "providers.atos.workforce.incidents_per_1000_assessments": 0.0,
    "providers.atos.productivity.dna_rate": 0.0, "providers.atos.productivity.rework_rate": 0.0,
    "initial_state.provider_queue": [], "initial_state.awaiting_decision": 0.0,
}


@pytest.mark.parametrize("rho", [0.8, 0.97])
def test_little_law_on_backlog(rho):
    """Little's law on the provider backlog: time-average backlog = arrival rate x mean time in backlog.

    With no decision delay, rework, closures or missed appointments, every referral leaves the
    backlog by being assessed and is decided that day, so ``decision_wait_days_mean`` is the time
    in backlog (days from referral to assessment) of the day's leavers. Counting the backlog at
    the end of each day, a claimant referred on day d and assessed on day s is counted s - d
    times, so over a long window in steady state mean backlog = mean referrals a day x mean of
    (s - d), exactly up to window-edge terms. Those are one backlog's worth of claimants whose
    counts straddle an edge, ~W/window ~ 17/300 of L at most, and they cancel in expectation
    in steady state; measured residuals are below 0.1% here, so the tolerance is 1% (a wait
    one day off, ~6% of W, fails it). The FTE is set for utilisation ``rho``; with fluid daily
    service the wait is mostly the scrutiny and booking lead, plus queueing that grows with rho.
    """
    sc = ws.load_scenario("run-to-aug-2015").with_overrides(STATIONARY)
    prod = sc.providers["atos"].productivity
    paper = prod.paper_share.new_claim
    work = paper / prod.paper_per_hcp_day + (1 - paper) / prod.f2f_per_hcp_day      # HCP-days per claimant
    per_day = 30000.0 * 12 / 365.25
    sc = sc.with_overrides({"providers.atos.workforce.fte_at_start": per_day * work / rho})
    ts = FastEngine().run(sc, range(4), seed=8).timeseries.isel(scenario=0)
    window = slice(150, None)                                 # after the queue has settled
    backlog = float(ts.backlog.isel(date=window).mean())
    arrivals = float(ts.referrals.sum("referral_type").isel(date=window).mean())
    decided = ts.decisions.sum("outcome").isel(date=window)
    wait = ts.decision_wait_days_mean.isel(date=window).fillna(0.0)
    mean_wait = float((decided * wait).sum() / decided.sum())
    # nobody is assessed before ready: scrutiny (paper), scrutiny + booking lead (f2f)
    floor = paper * prod.scrutiny_days + (1 - paper) * (prod.scrutiny_days + prod.booking_lead_days)
    assert mean_wait >= floor - 1e-6
    assert abs(backlog - arrivals * mean_wait) / backlog < 0.01, (backlog, arrivals, mean_wait)
