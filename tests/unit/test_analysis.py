"""summarise, compare and timeseries_bands against hand-worked answers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.synthetic import results_from_kpi_values  # noqa: E402

from wca_sim.analysis import (  # noqa: E402
    compare,
    direction,
    paired_differences,
    precision_half_widths,
    summarise,
    t_interval,
    timeseries_bands,
)
from wca_sim.results import Results  # noqa: E402

# Student t quantiles from printed tables (not from scipy, which the code uses).
T_975_DF4 = 2.776445
T_975_DF3 = 3.182446


def test_t_interval_by_hand():
    mean, std, low, high, n = t_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert (mean, n) == (3.0, 5)
    assert std == pytest.approx(np.sqrt(2.5))
    half = T_975_DF4 * np.sqrt(2.5) / np.sqrt(5)
    assert low == pytest.approx(3 - half, rel=1e-6) and high == pytest.approx(3 + half, rel=1e-6)


def test_t_interval_edge_cases():
    assert np.isnan(t_interval(np.array([4.0]))[2])
    assert t_interval(np.array([2.0, 2.0, 2.0]))[2:4] == (2.0, 2.0)
    assert t_interval(np.array([np.nan, 1.0, 3.0]))[4] == 2


def test_summarise_by_hand():
    res = results_from_kpi_values({"a": np.arange(1.0, 22.0), "b": np.array([1.0, 2.0, 3.0, 4.0, 5.0])})
    table = summarise(res).set_index("scenario")
    assert list(table.columns) == ["kpi", "n", "mean", "std", "ci_low", "ci_high", "p5", "p50", "p95"]
    a = table.loc["a"]
    assert (a["n"], a["mean"], a["p50"]) == (21, 11.0, 11.0)
    assert a["p5"] == pytest.approx(2.0) and a["p95"] == pytest.approx(20.0)  # 1 + q * 20
    b = table.loc["b"]
    assert b["ci_high"] - b["mean"] == pytest.approx(T_975_DF4 * np.sqrt(2.5 / 5), rel=1e-6)


def test_summarise_level_and_nan():
    res = results_from_kpi_values({"a": np.array([1.0, np.nan, 3.0, 5.0])})
    wide = summarise(res, level=0.99).iloc[0]
    narrow = summarise(res, level=0.9).iloc[0]
    assert wide["n"] == 3 and wide["mean"] == 3.0
    assert wide["ci_high"] - wide["ci_low"] > narrow["ci_high"] - narrow["ci_low"]


def test_compare_paired_by_hand():
    res = results_from_kpi_values({"ref": np.array([10.0, 20.0, 30.0, 40.0]), "alt": np.array([9.0, 21.0, 27.0, 38.0])},
                                  kpi="backlog_on_2015-08-31")
    row = compare(res, reference="ref").iloc[0]
    # differences -1, 1, -3, -2: mean -1.25, sample variance 8.75 / 3
    sd = np.sqrt(8.75 / 3)
    assert row["scenario"] == "alt" and row["reference"] == "ref" and row["n"] == 4
    assert row["mean_difference"] == pytest.approx(-1.25)
    assert row["std_difference"] == pytest.approx(sd)
    assert row["half_width"] == pytest.approx(T_975_DF3 * sd / 2, rel=1e-6)
    assert row["better"] == "lower"
    assert row["share_better"] == 0.75  # lower in 3 of 4 replications
    assert row["reference_mean"] == 25.0 and row["scenario_mean"] == pytest.approx(23.75)


def test_compare_pairs_by_replication_id_not_row_order():
    res = results_from_kpi_values({"ref": np.array([10.0, 20.0, 30.0]), "alt": np.array([11.0, 21.0, 31.0])},
                                  kpi="cost_total")
    shuffled = res.kpis.sample(frac=1.0, random_state=3).reset_index(drop=True)
    res2 = Results(res.timeseries, shuffled, {}, {})
    row = compare(res2, reference="ref").iloc[0]
    assert row["mean_difference"] == pytest.approx(1.0) and row["std_difference"] == pytest.approx(0.0)
    assert row["share_better"] == 0.0  # higher cost is never better


def test_compare_default_reference_and_direction_free_kpi():
    res = results_from_kpi_values({"first": np.array([1.0, 2.0]), "second": np.array([3.0, 3.0])},
                                  kpi="appeals_lodged_total")
    row = compare(res).iloc[0]
    assert row["reference"] == "first" and row["better"] == "" and np.isnan(row["share_better"])
    with pytest.raises(ValueError, match="not in the results"):
        paired_differences(res, "nope")


@pytest.mark.parametrize(
    ("kpi", "expected"),
    [
        ("backlog_on_2014-04-30", "lower"),
        ("peak_backlog", "lower"),
        ("peak_backlog_date", None),
        ("decision_days_p90_2014Q1", "lower"),
        ("decision_days_mean", "lower"),
        ("cost_total", "lower"),
        ("cost_per_assessment", "lower"),
        ("assessments_total", "higher"),
        ("assessments_atos_2014-15", None),
        ("appeals_overturned_total", None),
    ],
)
def test_direction_table(kpi, expected):
    assert direction(kpi) == expected


def test_precision_half_widths():
    res = results_from_kpi_values({"ref": np.array([10.0, 20.0, 30.0, 40.0]), "alt": np.array([9.0, 21.0, 27.0, 38.0])})
    widths = precision_half_widths(res, ["x"], "ref")
    assert widths == {"x": {"alt": pytest.approx(T_975_DF3 * np.sqrt(8.75 / 3) / 2, rel=1e-6)}}
    single = results_from_kpi_values({"only": np.array([1.0, 2.0, 3.0, 4.0, 5.0])})
    assert precision_half_widths(single, ["x"], "only")["x"]["only"] == pytest.approx(T_975_DF4 * np.sqrt(0.5), rel=1e-6)
    with pytest.raises(KeyError, match="unknown KPI"):
        precision_half_widths(res, ["nope"], "ref")


def test_timeseries_bands_known_quantiles():
    reps = np.arange(101)
    dates = pd.date_range("2014-01-01", periods=3).values
    values = np.broadcast_to(reps[None, :, None].astype(float), (2, 101, 3)).copy()
    values[1] *= 2
    ds = xr.Dataset({"backlog": (("scenario", "replication", "date"), values)},
                    coords={"scenario": ["a", "b"], "replication": reps, "date": dates})
    bands = timeseries_bands(Results(ds, pd.DataFrame(), {}, {}), "backlog")
    a = bands.sel(scenario="a")
    assert float(a["median"][0]) == 50 and float(a["lower_50"][1]) == 25 and float(a["upper_50"][2]) == 75
    assert float(a["lower_90"][0]) == 5 and float(a["upper_90"][0]) == 95
    assert float(bands["median"].sel(scenario="b")[0]) == 100
    assert bands["median"].dims == ("scenario", "date")
