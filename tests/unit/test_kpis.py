"""KPIs from small synthetic time series whose answers are worked out by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.synthetic import small_scenario, zero_timeseries  # noqa: E402

from wca_sim.kpis import (  # noqa: E402
    binned_quantile,
    compute_kpis,
    contract_year_label,
    contract_years,
    kpi_names,
    quarter_label,
)
from wca_sim.results import COST_COMPONENTS, Results  # noqa: E402


def _kpi(table: pd.DataFrame, name: str, replication: int = 0, scenario: str | None = None) -> float:
    rows = table[(table["kpi"] == name) & (table["replication"] == replication)]
    if scenario is not None:
        rows = rows[rows["scenario"] == scenario]
    assert len(rows) == 1, f"{name}: {len(rows)} rows"
    return float(rows["value"].iloc[0])


@pytest.fixture(scope="module")
def scenario():
    # 2013-10-01 .. 2015-06-30: two contract years (2013-14 whole from the start, 2014-15 partial).
    return small_scenario(end="2015-06-30", report_dates=["2014-04-30", "2015-06-30"])


def test_labels():
    assert contract_year_label(pd.Timestamp("2014-08-31")) == "2013-14"
    assert contract_year_label(pd.Timestamp("2014-09-01")) == "2014-15"
    assert contract_year_label(pd.Timestamp("1999-09-01")) == "1999-00"
    assert quarter_label(pd.Timestamp("2013-10-01")) == "2013Q4"
    assert quarter_label(pd.Timestamp("2014-03-31")) == "2014Q1"


def test_names_follow_scenario(scenario):
    names = kpi_names(scenario)
    assert names[:2] == ["backlog_on_2014-04-30", "backlog_on_2015-06-30"]
    assert contract_years(scenario) == ["2013-14", "2014-15"]
    assert "assessments_atos_2013-14" in names and "assessments_successor_2014-15" in names
    # Quarters from the start quarter to the end quarter only (initial stock quarters left out).
    quarters = sorted({n.rsplit("_", 1)[1] for n in names if n.startswith("decision_days_p")})
    assert quarters == ["2013Q4", "2014Q1", "2014Q2", "2014Q3", "2014Q4", "2015Q1", "2015Q2"]
    assert len(names) == len(set(names))


def test_backlog_and_peak(scenario):
    ds = zero_timeseries(scenario, [0, 1])
    days = scenario.days
    ds["backlog"][0, 0, :] = 1000.0 + np.arange(days)  # rising: peak on the last day
    tent = np.minimum(np.arange(days), 100)  # rises 100 days then flat: first maximum on day 100
    ds["backlog"][0, 1, :] = tent
    table = compute_kpis(ds, {scenario.name: scenario})
    day_of_report = (pd.Timestamp("2014-04-30") - pd.Timestamp("2013-10-01")).days
    assert _kpi(table, "backlog_on_2014-04-30", 0) == 1000.0 + day_of_report
    assert _kpi(table, "peak_backlog", 0) == 1000.0 + days - 1
    assert _kpi(table, "peak_backlog", 1) == 100.0
    peak0 = pd.Timestamp(0) + pd.to_timedelta(_kpi(table, "peak_backlog_date", 0), "D")
    peak1 = pd.Timestamp(0) + pd.to_timedelta(_kpi(table, "peak_backlog_date", 1), "D")
    assert peak0 == pd.Timestamp("2015-06-30")
    assert peak1 == pd.Timestamp("2013-10-01") + pd.Timedelta(days=100)


def test_decision_percentiles_interpolate_in_weekly_bins(scenario):
    ds = zero_timeseries(scenario, [0])
    counts = np.zeros(ds.sizes["wait_week"])
    counts[:3] = [10.0, 30.0, 60.0]  # 100 decisions; 40 in weeks 0-1, 60 in week 2
    ds["decisions_by_wait"].loc[dict(referral_quarter="2014Q1")] = counts
    one_bin = np.zeros(ds.sizes["wait_week"])
    one_bin[5] = 8.0  # all waits in [35, 42): uniform inside -> median 38.5
    ds["decisions_by_wait"].loc[dict(referral_quarter="2014Q2")] = one_bin
    # A quarter of the initial stock is not reported even with decisions.
    ds["decisions_by_wait"].loc[dict(referral_quarter="2013Q2")] = counts
    table = compute_kpis(ds, {scenario.name: scenario})
    # Median: 50th decision is 10 of the 60 into week 2 -> 14 + 7 * 10/60 days.
    assert _kpi(table, "decision_days_p50_2014Q1") == pytest.approx(14 + 7 * 10 / 60)
    assert _kpi(table, "decision_days_p90_2014Q1") == pytest.approx(14 + 7 * 50 / 60)
    assert _kpi(table, "decision_days_p50_2014Q2") == pytest.approx(38.5)
    assert _kpi(table, "decision_days_p90_2014Q2") == pytest.approx(35 + 0.9 * 7)
    assert np.isnan(_kpi(table, "decision_days_p50_2014Q3"))  # no decisions
    assert not any(table["kpi"].str.endswith("2013Q2"))


def test_binned_quantile_matches_sample_quantiles():
    # Waits uniform within 7-day bins: the interpolated histogram quantile is the sample quantile.
    rng = np.random.default_rng(5)
    waits = rng.gamma(3.0, 20.0, size=200_000)
    hist = np.bincount((waits // 7).astype(int))
    for q in (0.1, 0.5, 0.9):
        assert binned_quantile(hist, q) == pytest.approx(np.quantile(waits, q), rel=0.01)
    assert np.isnan(binned_quantile(np.zeros(4), 0.5))


def test_decision_days_mean_is_decision_weighted(scenario):
    ds = zero_timeseries(scenario, [0])
    ds["decisions"][0, 0, 0, :] = [4.0, 3.0, 3.0]  # 10 decisions on day 0, mean wait 20
    ds["decision_wait_days_mean"][0, 0, 0] = 20.0
    ds["decisions"][0, 0, 1, 2] = 30.0  # 30 decisions on day 1, mean wait 40
    ds["decision_wait_days_mean"][0, 0, 1] = 40.0
    table = compute_kpis(ds, {scenario.name: scenario})
    assert _kpi(table, "decision_days_mean") == pytest.approx((10 * 20 + 30 * 40) / 40)
    assert _kpi(table, "decisions_total") == 40.0


def test_assessments_by_contract_year_and_costs(scenario):
    ds = zero_timeseries(scenario, [0])
    ds["assessments"].loc[dict(provider="atos", kind="paper")] = 1.0
    ds["assessments"].loc[dict(provider="atos", kind="f2f")] = 2.0
    ds["cost"].loc[dict(component="provider_paper")] = 60.0
    ds["cost"].loc[dict(component="provider_f2f")] = 230.0
    ds["cost"].loc[dict(component="tribunal")] = 1.0
    ds["appeals_lodged"][:] = 2.0
    ds["appeals_heard"][:] = 1.5
    ds["appeals_overturned"][:] = 0.5
    table = compute_kpis(ds, {scenario.name: scenario})
    days_1314 = (pd.Timestamp("2014-08-31") - pd.Timestamp("2013-10-01")).days + 1  # 335
    days_1415 = (pd.Timestamp("2015-06-30") - pd.Timestamp("2014-09-01")).days + 1  # 303
    assert days_1314 + days_1415 == scenario.days
    assert _kpi(table, "assessments_atos_2013-14") == 3 * days_1314
    assert _kpi(table, "assessments_atos_2014-15") == 3 * days_1415
    assert _kpi(table, "assessments_successor_2014-15") == 0.0
    assert _kpi(table, "assessments_total") == 3 * scenario.days
    assert _kpi(table, "appeals_lodged_total") == 2 * scenario.days
    assert _kpi(table, "appeals_heard_total") == 1.5 * scenario.days
    assert _kpi(table, "appeals_overturned_total") == 0.5 * scenario.days
    assert _kpi(table, "cost_total") == 291 * scenario.days
    assert _kpi(table, "cost_tribunal_total") == scenario.days
    assert _kpi(table, "cost_dwp_mr_total") == 0.0
    assert _kpi(table, "cost_per_assessment") == pytest.approx(290 / 3)
    assert {f"cost_{c}_total" for c in COST_COMPONENTS} <= set(table["kpi"])


def test_cost_per_assessment_nan_without_assessments(scenario):
    table = compute_kpis(zero_timeseries(scenario, [0]), {scenario.name: scenario})
    assert np.isnan(_kpi(table, "cost_per_assessment"))
    assert np.isnan(_kpi(table, "decision_days_mean"))


def test_table_layout(scenario):
    table = compute_kpis(zero_timeseries(scenario, [3, 7]), {scenario.name: scenario})
    assert list(table.columns) == ["scenario", "replication", "kpi", "value"]
    assert table["value"].dtype == np.float64
    names = kpi_names(scenario)
    assert table["kpi"].tolist() == names * 2
    assert table["replication"].tolist() == [3] * len(names) + [7] * len(names)


def test_concatenated_scenarios_give_the_same_kpis():
    # Two scenarios with different horizons and providers: after concatenation the
    # dates and providers are padded with NaN, which must not change any KPI.
    short = small_scenario("run-to-aug-2015", end="2014-06-30")
    long = small_scenario("early-exit", end="2015-06-30")
    parts = []
    for sc, offset in ((short, 0.0), (long, 5.0)):
        ds = zero_timeseries(sc, [0, 1])
        rng = np.random.default_rng(int(offset))
        for var in ("backlog", "appeals_lodged", "decision_wait_days_mean"):
            ds[var][:] = rng.uniform(1, 100, size=ds[var].shape) + offset
        ds["assessments"][:] = rng.uniform(0, 5, size=ds["assessments"].shape)
        ds["decisions"][:] = rng.uniform(0, 5, size=ds["decisions"].shape)
        ds["decisions_by_wait"][:] = rng.uniform(0, 5, size=ds["decisions_by_wait"].shape)
        parts.append(Results(ds, compute_kpis(ds, {sc.name: sc}), {sc.name: sc}))
    combined = Results.concat(parts)
    assert combined.timeseries.sizes["date"] == long.days
    again = compute_kpis(combined.timeseries, combined.scenarios)
    pd.testing.assert_frame_equal(again, combined.kpis)
