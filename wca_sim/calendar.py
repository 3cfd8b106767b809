"""Working days, the working-time clock and the reporting calendar, shared by both engines.

Time ``t`` is in days from the scenario's ``start_date`` (day ``d`` covers
``[d, d+1)``). Assessment centres work in a *working-time clock* (docs/model.md,
"Time"): working day number ``k`` (the ``k``-th working day from the start,
counting from 0) is the interval ``[k, k+1)`` of working time, and its shift
occupies the calendar interval ``[day + shift_start, day + shift_start + shift_length)``.
Non-working days and the hours outside shifts contribute no working time, so a
claimant ready at night or at a weekend is ready at the start of the next shift.

With ``working_days = "all"`` and ``shift_hours = 24`` the working-time clock is
the calendar clock, which is what the queueing-theory tests rely on.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

#: Calendar hour at which a shift shorter than a day starts (09:00).
SHIFT_START_HOUR = 9.0


def working_day_mask(start: dt.date, days: int, working_days: str) -> np.ndarray:
    """Boolean array: is each of ``days`` calendar days from ``start`` a working day?

    Parameters
    ----------
    start
        First day.
    days
        Number of days.
    working_days
        ``"england-and-wales"`` (Mon-Fri less England & Wales bank holidays) or ``"all"``.
    """
    if working_days == "all":
        return np.ones(days, dtype=bool)
    if working_days != "england-and-wales":
        raise ValueError(f"unknown working_days {working_days!r}")
    import holidays

    dates = pd.date_range(start, periods=days, freq="D")
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, dates[-1].year + 1))
    weekday = dates.day_of_week.to_numpy() < 5
    is_holiday = np.array([d.date() in bank for d in dates], dtype=bool)
    return weekday & ~is_holiday


class WorkingCalendar:
    """Calendar days <-> working-time clock for one scenario.

    Parameters
    ----------
    start
        The scenario's start date (day 0).
    days
        Days to cover. Conversions beyond this are clamped, so pass a margin
        beyond the horizon (ready times can fall after the end date).
    working_days
        As :attr:`wca_sim.scenario.model.Calendar.working_days`.
    shift_hours
        Length of a shift in hours (24 makes the shift the whole day).

    Attributes
    ----------
    is_working
        ``(days,)`` bool.
    before
        ``(days + 1,)`` int: working days strictly before each calendar day
        (the working time at which day ``d``'s shift starts, if it is a working day).
    day_of
        ``(n_working,)`` int: the calendar day of each working day.
    """

    def __init__(self, start: dt.date, days: int, working_days: str = "england-and-wales", shift_hours: float = 7.5):
        self.start = start
        self.days = int(days)
        self.is_working = working_day_mask(start, self.days, working_days)
        self.before = np.concatenate([[0], np.cumsum(self.is_working)]).astype(np.int64)
        self.day_of = np.flatnonzero(self.is_working).astype(np.int64)
        self.shift_length = shift_hours / 24.0
        # A full-day shift starts at midnight; a shorter one at 09:00 (or earlier
        # if it would otherwise run past midnight).
        self.shift_start = 0.0 if shift_hours >= 24.0 else min(SHIFT_START_HOUR / 24.0, 1.0 - self.shift_length)

    @classmethod
    def for_scenario(cls, scenario, margin_days: int = 800) -> WorkingCalendar:
        """The calendar of a scenario, covering its horizon plus ``margin_days``."""
        return cls(
            scenario.start_date,
            scenario.days + margin_days,
            scenario.calendar.working_days,
            scenario.calendar.shift_hours,
        )

    @property
    def n_working(self) -> int:
        """Working days covered."""
        return len(self.day_of)

    def to_working(self, t: np.ndarray) -> np.ndarray:
        """Working time of calendar times ``t`` (days from start; negative times map to 0)."""
        t = np.maximum(np.asarray(t, dtype=np.float64), 0.0)
        day = np.minimum(np.floor(t).astype(np.int64), self.days - 1)
        frac = np.clip((t - day - self.shift_start) / self.shift_length, 0.0, 1.0)
        return self.before[day] + np.where(self.is_working[day], frac, 0.0)

    def to_calendar(self, w: np.ndarray, *, end: bool = False) -> np.ndarray:
        """Calendar time of working times ``w``.

        ``end=True`` reads an integer working time ``k`` as the end of shift
        ``k - 1`` (a service that ends exactly at the end of a shift completes
        that day), otherwise as the start of shift ``k``.
        """
        w = np.asarray(w, dtype=np.float64)
        k = (np.ceil(w) - 1).astype(np.int64) if end else np.floor(w).astype(np.int64)
        k = np.clip(k, 0, self.n_working - 1)
        return self.day_of[k] + self.shift_start + (w - k) * self.shift_length

    def completion_day(self, w: np.ndarray) -> np.ndarray:
        """Calendar day on which work ending at working time ``w`` completes."""
        k = np.clip((np.ceil(np.asarray(w, dtype=np.float64)) - 1).astype(np.int64), 0, self.n_working - 1)
        return self.day_of[k]


# ------------------------------------------------------------ reporting calendar


def oldest_initial_age(scenario) -> float:
    """Days since referral of the oldest claimant the initial state can hold."""
    initial = scenario.initial_state
    return max(
        [q.max_age_days for q in initial.provider_queue]
        + [initial.awaiting_decision_max_age_days, initial.tribunal_max_age_days]
    )


def referral_quarters(scenario) -> list[str]:
    """``referral_quarter`` coordinate: from the earliest possible initial-stock referral to the end date."""
    first = scenario.start_date - dt.timedelta(days=math.ceil(oldest_initial_age(scenario)))
    return [str(p) for p in pd.period_range(first, scenario.end_date, freq="Q")]


def wait_weeks(scenario) -> int:
    """Number of ``wait_week`` bins (the last one open-ended)."""
    return math.ceil((scenario.days + oldest_initial_age(scenario)) / 7) + 1


def quarter_starts(scenario) -> np.ndarray:
    """First day (days from start, may be negative) of each of :func:`referral_quarters`."""
    quarters = pd.PeriodIndex(referral_quarters(scenario), freq="Q")
    return np.array([(q.start_time.date() - scenario.start_date).days for q in quarters], dtype=np.float64)


def quarter_index_of_days(scenario, t: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    """Index into :func:`referral_quarters` of calendar times ``t`` (days from start, may be negative).

    Pass ``starts`` (from :func:`quarter_starts`) when calling often.
    """
    if starts is None:
        starts = quarter_starts(scenario)
    index = np.searchsorted(starts, np.asarray(t, dtype=np.float64), side="right") - 1
    return np.clip(index, 0, len(starts) - 1)
