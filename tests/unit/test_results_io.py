"""Results.save / load_results round trip and Results.concat."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.fake_engine import FakeEngine  # noqa: E402
from helpers.synthetic import small_scenario  # noqa: E402

import wca_sim as ws  # noqa: E402
from wca_sim.results import Results  # noqa: E402


@pytest.fixture(scope="module")
def results() -> Results:
    res = ws.run([small_scenario("run-to-aug-2015"), small_scenario("early-exit")], reps=3, seed=4,
                 engine=FakeEngine(), progress=False)
    res.timeseries.attrs["title"] = "round trip"
    res.timeseries["backlog"].attrs["units"] = "claimants"
    res.journeys = pd.DataFrame(
        {
            "scenario": ["early-exit", "run-to-aug-2015"],
            "replication": np.array([0, 2], dtype=np.int64),
            "referral_date": pd.to_datetime(["2013-10-02", "2014-01-05"]),
            "decision_date": pd.to_datetime(["2014-01-01", pd.NaT]),
            "route": ["f2f", "paper"],
            "wait_days": [91.5, np.nan],
        }
    )
    return res


def test_round_trip_is_exact(results, tmp_path):
    results.save(tmp_path / "out")
    loaded = ws.load_results(tmp_path / "out")
    assert loaded.timeseries.identical(results.timeseries)
    for coord in results.timeseries.coords:
        assert loaded.timeseries[coord].dtype == results.timeseries[coord].dtype, coord
    pd.testing.assert_frame_equal(loaded.kpis, results.kpis, check_exact=True)
    assert loaded.scenarios == results.scenarios
    assert list(loaded.scenarios) == list(results.scenarios)
    assert loaded.provenance == results.provenance
    pd.testing.assert_frame_equal(loaded.journeys, results.journeys, check_exact=True)


def test_files_written(results, tmp_path):
    results.save(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"timeseries.nc", "kpis.csv", "provenance.json", "journeys.parquet",
            "scenario-run-to-aug-2015.toml", "scenario-early-exit.toml"} <= names
    # The scenario files load with the ordinary loader and give the same scenarios.
    assert ws.load_scenario(tmp_path / "out" / "scenario-early-exit.toml") == results.scenarios["early-exit"]


def test_stray_scenario_files_are_ignored(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scenario-add-providers.toml").write_text(ws.dump_scenario(ws.load_scenario("add-providers")))
    results.save(out)
    assert list(ws.load_results(out).scenarios) == ["run-to-aug-2015", "early-exit"]


def test_concat_does_not_depend_on_batch_order():
    engine = FakeEngine()
    a, b = small_scenario("run-to-aug-2015"), small_scenario("early-exit")
    parts = [engine.run(a, [2, 3], 1), engine.run(b, [0, 1, 2, 3], 1), engine.run(a, [0, 1], 1)]
    one = Results.concat(parts)
    other = Results.concat([parts[2], parts[0], parts[1]])
    whole = Results.concat([engine.run(a, [0, 1, 2, 3], 1), engine.run(b, [0, 1, 2, 3], 1)])
    assert one.replications == [0, 1, 2, 3]
    assert one.scenario_names == ["run-to-aug-2015", "early-exit"]
    assert one.timeseries.identical(other.timeseries)
    assert one.timeseries.identical(whole.timeseries)
    pd.testing.assert_frame_equal(one.kpis, whole.kpis)


def test_concat_pads_providers_of_other_scenarios():
    engine = FakeEngine()
    a, b = small_scenario("run-to-aug-2015"), small_scenario("early-exit")
    res = Results.concat([engine.run(a, [0], 1), engine.run(b, [0], 1)])
    assert res.timeseries["provider"].values.tolist() == ["atos", "successor", "maximus"]
    fte = res.timeseries["hcp_fte"]
    assert np.isnan(fte.sel(scenario="early-exit", provider="successor")).all()
    assert np.isnan(fte.sel(scenario="run-to-aug-2015", provider="maximus")).all()
    assert (fte.sel(provider="atos") == 0).all()


def test_concat_rejects_duplicates():
    engine = FakeEngine()
    a = small_scenario("run-to-aug-2015")
    with pytest.raises(ValueError, match="more than once"):
        Results.concat([engine.run(a, [0, 1], 1), engine.run(a, [1], 1)])
    renamed = small_scenario("early-exit").with_overrides({"name": "run-to-aug-2015"})
    with pytest.raises(ValueError, match="two different scenarios"):
        Results.concat([engine.run(a, [0], 1), engine.run(renamed, [1], 1)])
