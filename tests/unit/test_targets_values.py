"""Parsing of published values and the arithmetic of targets, against hand-computed answers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wca_sim.calibration import TargetError, load_figures, load_targets, parse_value
from wca_sim.calibration.targets import Target


@pytest.mark.parametrize(
    "raw, kind, low, high, central",
    [
        ("712000", "number", 712000, 712000, 712000),
        ("65000-75000", "range", 65000, 75000, 70000),
        ("36-39%", "range", 0.36, 0.39, 0.375),
        ("700000+", "lower_bound", 700000, math.inf, 700000),
        (">2x", "lower_bound", 2, math.inf, 2),
        ("<0.1%", "upper_bound", -math.inf, 0.001, 0.001),
        ("up to 20%", "upper_bound", -math.inf, 0.2, 0.2),
        ("~60400", "approx", 60400, 60400, 60400),
        ("-89%", "number", -0.89, -0.89, -0.89),
        ("1,200", "number", 1200, 1200, 1200),
        ("23.1", "number", 23.1, 23.1, 23.1),
    ],
)
def test_numeric_values(raw, kind, low, high, central):
    v = parse_value(raw)
    assert v.kind == kind
    assert v.numeric
    assert v.low == pytest.approx(low)
    assert v.high == pytest.approx(high)
    assert v.central == pytest.approx(central)


def test_non_numeric_values():
    assert parse_value("2014-03-27").date == dt.date(2014, 3, 27)
    assert parse_value("2015-08").date == dt.date(2015, 8, 1)
    shares = parse_value("SG 41% / WRAG 20% / FFW 38%")
    assert shares.kind == "shares" and shares.shares == pytest.approx({"SG": 0.41, "WRAG": 0.2, "FFW": 0.38})
    series = parse_value("8,15,18,17")
    assert series.kind == "series" and series.series == (8, 15, 18, 17)
    for text in ("48 -> 80", "early 2020", "63 of 96", ""):
        assert not parse_value(text).numeric


def test_every_shipped_figure_parses_and_every_mapping_resolves():
    figures = load_figures()
    assert len(figures) > 100
    assert figures["parsed"].map(lambda v: v.kind).ne("text").mean() > 0.9
    targets = load_targets(strict=True)
    assert {"wca_backlog_apr2014_total", "maximus_assessments_per_week_mid2015", "mr_decisions_oct2013_apr2016"} <= {
        t.figure for t in targets}
    for t in targets:
        assert t.source_url.startswith("http"), t.figure  # every target keeps its source


def _target(**kw) -> Target:
    base = dict(figure="x", published=parse_value("100"), variable="v", aggregation="on_date", date=dt.date(2014, 1, 2))
    base.update(kw)
    return Target(**base)


def test_standardised_error_and_bounds():
    t = _target(tolerance=0.1)  # scale 10
    assert t.error(100) == 0 and t.error(130) == pytest.approx(3.0) and t.error(80) == pytest.approx(-2.0)
    ranged = _target(published=parse_value("90-110"), tolerance=0.1)
    assert ranged.error(105) == 0 and ranged.error(120) == pytest.approx(1.0)
    bound = _target(published=parse_value("100+"), tolerance=0.1)
    assert bound.error(1e9) == 0 and bound.error(90) == pytest.approx(-1.0)
    at_most = _target(relation="at_most", tolerance=0.1)
    assert at_most.error(-1e9) == 0 and at_most.error(110) == pytest.approx(1.0)
    assert _target(published_factor=0.5).central == 50


def _dataset() -> xr.Dataset:
    dates = pd.date_range("2014-01-01", periods=10, freq="D")
    reps = [0, 1]
    flow = np.array([np.arange(10.0), 2 * np.arange(10.0)])  # rep 1 doubles rep 0
    stock = np.array([np.full(10, 50.0), np.full(10, 100.0)])
    by_type = np.stack([flow, 3 * flow], axis=-1)
    hist = np.zeros((2, 1, 5))
    hist[:, 0, :] = [1, 1, 1, 1, 0]  # waits uniform over 4 weekly bins: median 2 weeks
    return xr.Dataset(
        {
            "flow": (("replication", "date"), flow),
            "stock": (("replication", "date"), stock),
            "typed": (("replication", "date", "referral_type"), by_type),
            "decisions_by_wait": (("replication", "referral_quarter", "wait_week"), hist),
        },
        coords={"replication": reps, "date": dates, "referral_type": ["a", "b"], "referral_quarter": ["2014Q1"],
                "wait_week": np.arange(5)},
    )


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(variable="flow", aggregation="on_date", date=dt.date(2014, 1, 4)), [3, 6]),
        (dict(variable="flow", aggregation="sum", start=dt.date(2014, 1, 1), end=dt.date(2014, 1, 7)), [21, 42]),
        (dict(variable="flow", aggregation="mean_per_week", start=dt.date(2014, 1, 1), end=dt.date(2014, 1, 7)), [21, 42]),
        (dict(variable="flow", aggregation="max", start=dt.date(2014, 1, 1), end=dt.date(2014, 1, 5)), [4, 8]),
        (dict(variable="typed", select={"referral_type": "b"}, aggregation="on_date", date=dt.date(2014, 1, 3)), [6, 12]),
        (dict(variable="typed", aggregation="on_date", date=dt.date(2014, 1, 3)), [8, 16]),
        (dict(variable="flow", aggregation="ratio", start=dt.date(2014, 1, 2), end=dt.date(2014, 1, 5)), [4, 4]),
        (dict(variable="flow", aggregation="relative_change", reference_value=10.0, start=dt.date(2014, 1, 1),
              end=dt.date(2014, 1, 5)), [0.0, 1.0]),
        (dict(variable="flow", aggregation="share", denominator="stock", start=dt.date(2014, 1, 1),
              end=dt.date(2014, 1, 2)), [1 / 100, 2 / 200]),
        (dict(variable="flow", aggregation="completed", stock="stock", start=dt.date(2014, 1, 2),
              end=dt.date(2014, 1, 4)), [6, 12]),
        (dict(variable="stock", aggregation="littles_law_weeks", flow="flow", start=dt.date(2014, 1, 1),
              end=dt.date(2014, 1, 10)), [50 / 4.5 / 7, 100 / 9 / 7]),
        (dict(variable="decisions_by_wait", aggregation="median_wait_weeks", start=dt.date(2014, 1, 1),
              end=dt.date(2014, 3, 31)), [2, 2]),
    ],
)
def test_aggregations(kw, expected):
    values = _target(**kw).model_values(_dataset())
    assert values == pytest.approx(expected)


def test_period_outside_run_is_an_error():
    t = _target(variable="flow", aggregation="sum", start=dt.date(2013, 12, 1), end=dt.date(2014, 1, 5))
    with pytest.raises(TargetError, match="outside the run"):
        t.model_values(_dataset())


def test_bad_mapping_is_reported(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[target]]\nfigure = "wca_backlog_apr2014_total"\nvariable = "backlog"\naggregation = "median"\n'
                   'date = 2014-04-30\n')
    with pytest.raises(TargetError, match="unknown aggregation"):
        load_targets(bad)
    bad.write_text('[[target]]\nfigure = "wca_backlog_apr2014_total"\nvariable = "backlog"\naggregation = "on_date"\n'
                   'date = 2014-04-30\nsauce = 1\n')
    with pytest.raises(TargetError, match="sauce"):
        load_targets(bad)
    bad.write_text('[[target]]\nfigure = "atos_exit_announced"\nvariable = "backlog"\naggregation = "on_date"\n'
                   'date = 2014-04-30\n')
    with pytest.raises(TargetError, match="not numeric"):
        load_targets(bad)
