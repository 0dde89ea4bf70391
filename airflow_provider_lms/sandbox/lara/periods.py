"""The portal's time and a period's end, computed by the double itself from ``lara-cycles-api.fr.txt``.

Lära writes dates without an offset (``2018-02-08T15:02:45.73``): they are wall-clock times of the portal,
whose zone is America/Toronto. A period starts at ``startDate`` and lasts ``duration`` ``durationUnit``
(0 hours, 1 days, 2 weeks, 3 months, 4 years). Days, weeks, months and years are calendar units on the
portal's wall clock (a 1-day period ends at the same wall-clock time the next day, however many hours DST
makes that; Jan 31 plus one month is the last day of February); hours are elapsed time.

This module is the sandbox's own: it does not share the client's period code, so a misreading in one is
not hidden by the same misreading in the other.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "PORTAL_TIMEZONE",
    "parse_request_date",
    "period_end",
    "portal_moment",
    "start_for_end",
    "to_portal",
]

PORTAL_TIMEZONE = "America/Toronto"
_ZONE = ZoneInfo(PORTAL_TIMEZONE)

# durationUnit -> the calendar field it counts (hours are handled apart: they are elapsed time).
_HOURS = 0
_CALENDAR_UNITS = {1: "days", 2: "weeks", 3: "months", 4: "years"}


def portal_moment(local: datetime) -> datetime:
    """The instant a naive portal wall-clock time names, as an aware datetime in the portal's zone.

    A time that falls in a DST gap (e.g. 2025-03-09T02:30 in Toronto, where clocks jump from 02:00 to
    03:00) does not exist; it is resolved forward, to the wall-clock time after the gap (03:30 EDT), as
    pendulum does by default. ``fold=0`` gives exactly that: in a gap it applies the offset from before
    the transition, and the round trip through UTC lands after it. (The client read such a start an hour
    early, issue 16; the double must not copy that.) An ambiguous time (fall back) is its first occurrence.
    """
    if local.tzinfo is not None:
        return local.astimezone(_ZONE)
    return local.replace(tzinfo=_ZONE, fold=0).astimezone(timezone.utc).astimezone(_ZONE)


def to_portal(moment: datetime) -> datetime:
    """A moment as the portal's naive wall-clock time (a naive value already is one)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(_ZONE).replace(tzinfo=None)


def _shift_months(local: datetime, months: int) -> datetime:
    """``local`` moved by whole months, the day clamped to the target month's last day."""
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _shift_calendar(local: datetime, unit: int, amount: int) -> datetime:
    """A naive wall-clock time moved by ``amount`` calendar units (negative: back)."""
    name = _CALENDAR_UNITS[unit]
    if name == "days":
        return local + timedelta(days=amount)
    if name == "weeks":
        return local + timedelta(weeks=amount)
    return _shift_months(local, amount * (12 if name == "years" else 1))


def _whole(duration: float, unit: int) -> int:
    if unit != _HOURS and unit not in _CALENDAR_UNITS:
        raise ValueError(f"unknown durationUnit {unit!r}")
    if not float(duration).is_integer():
        # A fraction of a month or a year has no calendar meaning; the double refuses it.
        raise ValueError(f"duration {duration!r} in unit {unit} must be a whole number")
    return int(duration)


def period_end(start: datetime, duration: float, unit: int) -> datetime:
    """When a period starting at ``start`` (naive: portal time; aware: an instant) ends, aware in the portal zone.

    :param start: The period's ``startDate``.
    :param duration: The period's ``duration``.
    :param unit: The period's ``durationUnit`` (0 hours, 1 days, 2 weeks, 3 months, 4 years).
    """
    if unit == _HOURS:
        # Elapsed time: added in UTC (an aware datetime plus a timedelta would move the wall clock instead).
        begin = portal_moment(start).astimezone(timezone.utc)
        return (begin + timedelta(seconds=round(float(duration) * 3600))).astimezone(_ZONE)
    return portal_moment(_shift_calendar(to_portal(start), unit, _whole(duration, unit)))


def start_for_end(end: datetime, duration: float, unit: int) -> datetime:
    """The naive portal start that makes a period of ``duration`` ``unit`` end at ``end`` (aware)."""
    if unit == _HOURS:
        return to_portal(end.astimezone(timezone.utc) - timedelta(seconds=round(float(duration) * 3600)))
    return _shift_calendar(to_portal(end), unit, -_whole(duration, unit))


def parse_request_date(text: str) -> datetime:
    """A date sent in a request: ISO 8601, with ``Z`` or an offset (an instant) or without (portal time).

    Raises ``ValueError`` when ``text`` is not such a date.
    """
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
