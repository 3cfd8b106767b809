"""Dated schedules: scenario inputs that change over time.

A :class:`Schedule` is a constant or a list of dated points with either step
(the value holds from its date until the next point) or linear interpolation
between points. Before the first point the first value holds; after the last
point the last value holds.

In TOML a schedule is written either as a plain number::

    hires_per_month = 40

or as a table::

    hires_per_month = { interpolation = "linear", points = [[2015-03-01, 0.0], [2015-09-01, 80.0]] }
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_EPOCH = dt.date(1970, 1, 1)


class Schedule(BaseModel):
    """A value that changes on dates.

    Parameters
    ----------
    interpolation
        ``"step"``: each value holds from its date until the next point.
        ``"linear"``: values are interpolated linearly between points.
    points
        ``(date, value)`` pairs in strictly increasing date order; at least one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    interpolation: Literal["step", "linear"] = "step"
    points: tuple[tuple[dt.date, float], ...]

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        # A bare number is a constant schedule; it has no natural date, so the
        # epoch is used and the value holds everywhere.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"interpolation": "step", "points": [(_EPOCH, float(value))]}
        return value

    @field_validator("points")
    @classmethod
    def _check_points(cls, points: tuple[tuple[dt.date, float], ...]) -> tuple[tuple[dt.date, float], ...]:
        if not points:
            raise ValueError("a schedule needs at least one point")
        dates = [d for d, _ in points]
        for earlier, later in zip(dates, dates[1:]):
            if later <= earlier:
                raise ValueError(f"dates out of order: {later} does not come after {earlier}")
        for _, value in points:
            if not np.isfinite(value):
                raise ValueError("schedule values must be finite numbers")
        return points

    @property
    def is_constant(self) -> bool:
        """True when the schedule has a single value."""
        return len({v for _, v in self.points}) == 1

    @property
    def values(self) -> tuple[float, ...]:
        """The values at the points, in date order."""
        return tuple(v for _, v in self.points)

    def at(self, date: dt.date) -> float:
        """Value in force on ``date``."""
        return float(self.daily(date, 1)[0])

    def daily(self, start: dt.date, days: int) -> np.ndarray:
        """Values for ``days`` consecutive calendar days from ``start``.

        Returns
        -------
        numpy.ndarray
            float64 array of length ``days``.
        """
        day_numbers = np.arange(days, dtype=np.float64) + start.toordinal()
        point_days = np.array([d.toordinal() for d, _ in self.points], dtype=np.float64)
        point_values = np.array(self.values, dtype=np.float64)
        if self.interpolation == "linear":
            return np.interp(day_numbers, point_days, point_values)
        index = np.searchsorted(point_days, day_numbers, side="right") - 1
        return point_values[np.clip(index, 0, None)]

    def to_toml_value(self) -> float | dict[str, Any]:
        """The TOML form: a number when constant, else a table."""
        # Only the canonical constant (what a bare number loads to) is written as a
        # number; any other one-point schedule keeps its table so it loads back equal.
        if self.points == ((_EPOCH, self.points[0][1]),) and self.interpolation == "step":
            return self.points[0][1]
        return {
            "interpolation": self.interpolation,
            "points": [[d, v] for d, v in self.points],
        }


def constant(value: float) -> Schedule:
    """A schedule holding ``value`` on every date."""
    return Schedule.model_validate(value)
