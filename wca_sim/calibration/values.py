"""Parse published values as written: numbers, ranges, bounds, shares, dates and text.

The figures file keeps each value as it was published (``65000-75000``,
``700000+``, ``>2x``, ``41%``, ``~60400``, ``<0.1%``, ``up to 20%``,
``SG 41% / WRAG 20% / FFW 38%``, ``2014-01-20``). :func:`parse_value` turns
one into a :class:`PublishedValue`: an interval ``[low, high]`` (either end may
be infinite for a bound) with a central value where one exists, so a model
output can be compared with it whatever its form.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+"


@dataclass(frozen=True)
class PublishedValue:
    """A published figure as an interval.

    Attributes
    ----------
    raw
        The text as published.
    kind
        ``number``, ``approx`` (``~x``), ``range`` (``a-b``), ``lower_bound``
        (``x+``, ``>x``, ``over x``), ``upper_bound`` (``<x``, ``up to x``),
        ``shares`` (``SG 41% / WRAG 20% / ...``), ``date``, ``series``
        (comma-separated numbers) or ``text`` (not numeric).
    low, high
        The interval the figure allows (``-inf``/``inf`` for an open side; NaN for text).
    central
        A single representative value: the number, the middle of a range, the
        bound itself for a bound; NaN for text.
    percent
        True if the figure was a percentage (values are then fractions: 41% -> 0.41).
    multiplier
        True if the figure was a ratio written with ``x`` (``>2x``).
    shares
        Named shares (fractions) for a ``shares`` value.
    series
        Numbers of a ``series`` value.
    date
        The date of a ``date`` value.
    """

    raw: str
    kind: str
    low: float = math.nan
    high: float = math.nan
    central: float = math.nan
    percent: bool = False
    multiplier: bool = False
    shares: dict[str, float] = field(default_factory=dict)
    series: tuple[float, ...] = ()
    date: dt.date | None = None

    @property
    def numeric(self) -> bool:
        """True when the value is an interval a model output can be compared with."""
        return self.kind in ("number", "approx", "range", "lower_bound", "upper_bound")

    def describe(self) -> str:
        """Short human-readable form, in the published units (percent shown as %)."""
        if not self.numeric:
            return self.raw

        def fmt(x: float) -> str:
            if self.percent:
                return f"{100 * x:.4g}%"
            return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

        if self.kind == "range":
            return f"{fmt(self.low)}-{fmt(self.high)}"
        if self.kind == "lower_bound":
            return f">= {fmt(self.low)}"
        if self.kind == "upper_bound":
            return f"<= {fmt(self.high)}"
        return ("~" if self.kind == "approx" else "") + fmt(self.central)


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def parse_value(raw: str) -> PublishedValue:
    """Parse one published value.

    Parameters
    ----------
    raw
        The value as written in the figures file.

    Returns
    -------
    PublishedValue
        ``kind`` says which form was recognised; anything else is ``text``.

    Examples
    --------
    >>> parse_value("65000-75000").central
    70000.0
    >>> parse_value("700000+").low, parse_value("700000+").high
    (700000.0, inf)
    >>> parse_value("41%").central
    0.41
    """
    text = str(raw).strip()
    if not text:
        return PublishedValue(raw=str(raw), kind="text")
    try:
        return PublishedValue(raw=text, kind="date", date=dt.date.fromisoformat(text))
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d{2}", text):  # a month, e.g. 2015-08
        return PublishedValue(raw=text, kind="date", date=dt.date(int(text[:4]), int(text[5:]), 1))
    if "/" in text and "%" in text:
        shares = {
            m.group(1).strip(): _num(m.group(2)) / 100
            for m in re.finditer(r"([A-Za-z][A-Za-z ]*?)\s*~?(" + _NUMBER + r")(?:-\d+)?\s*%", text)
        }
        if shares:
            return PublishedValue(raw=text, kind="shares", shares=shares)
    body = text.lower()
    percent = body.endswith("%")
    multiplier = bool(re.fullmatch(r"[<>~]?\s*" + r"(?:" + _NUMBER + r")\s*x", body))
    body = body.rstrip("%").rstrip("x").strip() if (percent or multiplier) else body
    factor = 0.01 if percent else 1.0

    def value(kind: str, low: float, high: float, central: float) -> PublishedValue:
        return PublishedValue(
            raw=text, kind=kind, low=low * factor, high=high * factor, central=central * factor,
            percent=percent, multiplier=multiplier,
        )

    if re.fullmatch(_NUMBER, body):
        x = _num(body)
        return value("number", x, x, x)
    m = re.fullmatch(r"~\s*(" + _NUMBER + ")", body)
    if m:
        x = _num(m.group(1))
        return value("approx", x, x, x)
    m = re.fullmatch(r"(" + _NUMBER + r")\s*\+", body) or re.fullmatch(r"(?:>=?|over|more than|at least)\s*(" + _NUMBER + ")", body)
    if m:
        x = _num(m.group(1))
        return value("lower_bound", x, math.inf, x)
    m = re.fullmatch(r"(?:<=?|up to|under|less than|at most)\s*(" + _NUMBER + ")", body)
    if m:
        x = _num(m.group(1))
        return value("upper_bound", -math.inf, x, x)
    m = re.fullmatch(r"(" + _NUMBER + r")\s*%?\s*(?:-|–|to)\s*(" + _NUMBER.replace("[-+]?", "") + r")", body)
    if m:
        a, b = sorted((_num(m.group(1)), _num(m.group(2))))
        return value("range", a, b, (a + b) / 2)
    if re.fullmatch(r"(?:" + _NUMBER + r")(?:\s*,\s*(?:" + _NUMBER + r"))+", body) and "," in body:
        parts = tuple(float(p) for p in re.split(r"\s*,\s*", body))
        return PublishedValue(raw=text, kind="series", series=parts)
    return PublishedValue(raw=text, kind="text")
