"""Dated schedules: step and linear semantics, validation and the TOML form."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pydantic import ValidationError

from wca_sim.scenario import Schedule, constant

D = dt.date


def step(*points: tuple[dt.date, float]) -> Schedule:
    return Schedule(interpolation="step", points=points)


def linear(*points: tuple[dt.date, float]) -> Schedule:
    return Schedule(interpolation="linear", points=points)


class TestStep:
    sched = step((D(2014, 1, 1), 10.0), (D(2014, 3, 1), 20.0), (D(2014, 6, 1), 5.0))

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (D(2013, 6, 1), 10.0),  # before the first point the first value holds
            (D(2014, 1, 1), 10.0),
            (D(2014, 2, 28), 10.0),  # the day before a change keeps the old value
            (D(2014, 3, 1), 20.0),  # the new value holds from its own date
            (D(2014, 5, 31), 20.0),
            (D(2014, 6, 1), 5.0),
            (D(2020, 1, 1), 5.0),  # after the last point the last value holds
        ],
    )
    def test_value_holds_from_its_date_until_the_next(self, day: dt.date, expected: float) -> None:
        assert self.sched.at(day) == expected

    def test_daily_matches_at_on_every_day(self) -> None:
        start = D(2013, 12, 1)
        values = self.sched.daily(start, 250)
        assert values.dtype == np.float64
        assert values.shape == (250,)
        for i in range(250):
            assert values[i] == self.sched.at(start + dt.timedelta(days=i))


class TestLinear:
    sched = linear((D(2015, 3, 1), 0.0), (D(2015, 9, 1), 80.0))

    def test_interpolates_linearly_between_points(self) -> None:
        span = (D(2015, 9, 1) - D(2015, 3, 1)).days
        for offset in (0, 1, 46, span // 2, span - 1, span):
            day = D(2015, 3, 1) + dt.timedelta(days=offset)
            assert self.sched.at(day) == pytest.approx(80.0 * offset / span)

    def test_flat_outside_the_points(self) -> None:
        assert self.sched.at(D(2014, 1, 1)) == 0.0
        assert self.sched.at(D(2016, 1, 1)) == 80.0

    def test_daily_is_monotone_for_increasing_points(self) -> None:
        values = self.sched.daily(D(2015, 1, 1), 400)
        assert np.all(np.diff(values) >= 0)
        assert values[0] == 0.0 and values[-1] == 80.0


def test_bare_number_is_a_constant_everywhere() -> None:
    sched = Schedule.model_validate(42)
    assert sched.is_constant
    assert sched.at(D(1900, 1, 1)) == sched.at(D(2100, 1, 1)) == 42.0
    assert constant(3.5).to_toml_value() == 3.5


def test_bool_is_not_a_number() -> None:
    with pytest.raises(ValidationError):
        Schedule.model_validate(True)


@pytest.mark.parametrize(
    "points",
    [
        [(D(2014, 3, 1), 1.0), (D(2014, 1, 1), 2.0)],  # out of order
        [(D(2014, 1, 1), 1.0), (D(2014, 1, 1), 2.0)],  # repeated date
        [],
        [(D(2014, 1, 1), float("nan"))],
        [(D(2014, 1, 1), float("inf"))],
    ],
)
def test_rejects_bad_points(points: list[tuple[dt.date, float]]) -> None:
    with pytest.raises(ValidationError):
        Schedule(points=points)


def test_rejects_unknown_interpolation_and_keys() -> None:
    with pytest.raises(ValidationError):
        Schedule.model_validate({"interpolation": "cubic", "points": [(D(2014, 1, 1), 1.0)]})
    with pytest.raises(ValidationError):
        Schedule.model_validate({"points": [(D(2014, 1, 1), 1.0)], "pionts": []})


@pytest.mark.parametrize("kind", ["step", "linear"])
def test_toml_value_round_trips(kind: str) -> None:
    sched = Schedule(interpolation=kind, points=[(D(2014, 1, 1), 1.0), (D(2015, 1, 1), 3.0)])
    again = Schedule.model_validate(sched.to_toml_value())
    assert again == sched
    assert again.at(D(2014, 7, 2)) == sched.at(D(2014, 7, 2))
