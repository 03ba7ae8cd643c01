"""Budget periods: UTC calendar days or months, worked out from an injectable clock.

A call's spend belongs to the period in which it was reserved, so the
period is decided once, at the reservation, from the clock the guard was
given (``time.time`` in service, a settable one in tests).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Final

__all__ = ["PERIODS", "Period", "Periods"]

PERIODS: Final = ("day", "month")
_UTC = datetime.UTC


@dataclass(frozen=True, slots=True)
class Period:
    """One budget period.

    Args:
        name: ``2026-12-02`` (day) or ``2026-12`` (month): part of the Redis keys.
        start: its first instant, seconds since the epoch.
        end: the first instant of the next period, seconds since the epoch.
    """

    name: str
    start: float
    end: float

    def seconds_left(self, now: float) -> float:
        """Seconds from ``now`` to the period's end (0 once it has ended)."""
        return max(0.0, self.end - now)

    @property
    def ends_at(self) -> datetime.datetime:
        """The period's end as an aware UTC datetime."""
        return datetime.datetime.fromtimestamp(self.end, _UTC)


def period_at(kind: str, now: float) -> Period:
    """The ``kind`` period (``day`` or ``month``, UTC) that holds the instant ``now``."""
    moment = datetime.datetime.fromtimestamp(now, _UTC)
    if kind == "day":
        first = datetime.datetime(moment.year, moment.month, moment.day, tzinfo=_UTC)
        following = first + datetime.timedelta(days=1)
        name = first.strftime("%Y-%m-%d")
    elif kind == "month":
        first = datetime.datetime(moment.year, moment.month, 1, tzinfo=_UTC)
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        following = datetime.datetime(year, month, 1, tzinfo=_UTC)
        name = first.strftime("%Y-%m")
    else:
        raise ValueError(f"a budget period is one of {', '.join(PERIODS)}, not {kind!r}")
    return Period(name, first.timestamp(), following.timestamp())


class Periods:
    """The current period of one kind, recomputed only when the clock passes its end.

    Args:
        kind: ``day`` or ``month``.
    """

    __slots__ = ("_current", "kind")

    def __init__(self, kind: str) -> None:
        period_at(kind, 0.0)  # checks the kind
        self.kind = kind
        self._current = Period("", 0.0, 0.0)

    def at(self, now: float) -> Period:
        """The period holding ``now``: a comparison on the call path, a date computation once."""
        current = self._current
        if current.start <= now < current.end:
            return current
        current = self._current = period_at(self.kind, now)
        return current
