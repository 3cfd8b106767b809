"""Experiment designs: sizes, bounds, stratification, determinism, list parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wca_sim.sweeps.designs import Param, as_params, make_design
from wca_sim.sweeps.models import kpi_table_to_array

RANGES = {"a": (0.0, 1.0), "b": (10.0, 20.0), "c": (-5.0, 5.0)}


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_space_filling_designs_stay_in_bounds_and_depend_only_on_seed(design):
    table, info = make_design(RANGES, design, points=64, seed=3)
    assert table.shape == (64, 3)
    for key, (low, high) in RANGES.items():
        assert table[key].between(low, high).all()
    again, _ = make_design(RANGES, design, points=64, seed=3)
    other, _ = make_design(RANGES, design, points=64, seed=4)
    pd.testing.assert_frame_equal(table, again)
    assert not table.equals(other)


def test_latin_hypercube_has_one_point_in_every_stratum():
    n = 50
    table, _ = make_design(RANGES, "lhs", points=n, seed=1)
    for key, (low, high) in RANGES.items():
        strata = np.floor((table[key] - low) / (high - low) * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_grid_is_the_full_factorial():
    table, info = make_design({"a": (0.0, 1.0), "mode": ["transfer", "run_off"], "n": [1, 2, 3]}, "grid", points=4)
    assert len(table) == 4 * 2 * 3
    assert sorted(set(table["a"])) == [0.0, 1 / 3, 2 / 3, 1.0]
    assert len(table.drop_duplicates()) == len(table)
    assert info["X"] is None


def test_salib_designs_have_their_sizes():
    saltelli, info = make_design(RANGES, "saltelli", points=16, seed=0)
    assert len(saltelli) == 16 * (3 + 2)
    assert np.asarray(info["X"]).shape == (80, 3)
    morris, info = make_design(RANGES, "morris", points=10, seed=0, num_levels=4)
    assert len(morris) == 10 * (3 + 1)
    # Morris points sit on the 4-level grid of each range.
    levels = np.linspace(0.0, 1.0, 4)
    assert np.isin(np.round(morris["a"], 12), np.round(levels, 12)).all()


def test_list_parameters_map_to_their_values_in_continuous_designs():
    table, _ = make_design({"mode": ["transfer", "run_off"], "x": (0.0, 1.0)}, "lhs", points=40, seed=2)
    assert set(table["mode"]) == {"transfer", "run_off"}
    assert (table["mode"] == "transfer").sum() == 20  # LHS strata split evenly between the two values


def test_integer_parameters_are_rounded():
    table, _ = make_design([Param("n", 1.0, 10.0, integer=True)], "lhs", points=30, seed=0)
    assert (table["n"] == np.round(table["n"])).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"a": (1.0, 1.0)}, "low < high"),
        ({"a": []}, "empty"),
        ({"a": "wide"}, "expected"),
        ({}, "no parameters"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        as_params(params)


def test_unknown_design_is_refused():
    with pytest.raises(ValueError, match="unknown design"):
        make_design(RANGES, "random", points=4)


def test_kpi_tables_in_both_forms_give_the_same_array():
    long = pd.DataFrame({"scenario": "s", "replication": [7, 7, 8, 8], "kpi": ["u", "v", "u", "v"],
                         "value": [1.0, 2.0, 3.0, 4.0]})
    names, array = kpi_table_to_array(long, [7, 8])
    assert names == ["u", "v"]
    np.testing.assert_array_equal(array, [[1.0, 2.0], [3.0, 4.0]])
    names2, array2 = kpi_table_to_array({"u": [1.0, 3.0], "v": [2.0, 4.0]}, [7, 8])
    assert names2 == names and np.array_equal(array, array2)
