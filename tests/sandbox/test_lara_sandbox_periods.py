"""The sandbox's own period-end computation (``sandbox/lara/periods.py``), on the document's units and DST cases.

The double does not use the client's code for this, so these cases are checked against it separately.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_lms.sandbox.lara.periods import period_end, portal_moment, start_for_end, to_portal

TORONTO = ZoneInfo("America/Toronto")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO)


@pytest.mark.parametrize(
    ("unit", "duration", "expected"),
    [
        (0, 36, local(2025, 6, 11, 21, 0)),  # heures
        (1, 10, local(2025, 6, 20, 9, 0)),  # jours
        (2, 3, local(2025, 7, 1, 9, 0)),  # semaines
        (3, 7, local(2026, 1, 10, 9, 0)),  # mois
        (4, 2, local(2027, 6, 10, 9, 0)),  # années
    ],
)
def test_every_documented_duration_unit(unit: int, duration: int, expected: datetime):
    assert period_end(datetime(2025, 6, 10, 9), duration, unit) == expected


def test_the_documents_start_date_with_fractional_seconds():
    # getperiodlist's example: "startDate": "2018-02-08T15:02:45.73", "duration": 2, "durationUnit": 4.
    assert period_end(datetime(2018, 2, 8, 15, 2, 45, 730000), 2, 4) == local(2020, 2, 8, 15, 2, 45, 730000)


def test_month_ends_and_leap_days_are_clamped_to_the_target_month():
    assert period_end(datetime(2025, 1, 31), 1, 3) == local(2025, 2, 28)
    assert period_end(datetime(2024, 1, 31), 1, 3) == local(2024, 2, 29)
    assert period_end(datetime(2024, 2, 29, 10), 1, 4) == local(2025, 2, 28, 10)
    assert period_end(datetime(2024, 2, 29, 10), 4, 4) == local(2028, 2, 29, 10)


def test_calendar_units_keep_the_wall_clock_time_and_hours_are_elapsed_across_dst():
    # Toronto springs forward on 2025-03-09 at 02:00.
    days = period_end(datetime(2025, 3, 8, 12), 2, 1)
    assert days == local(2025, 3, 10, 12) and days.utcoffset() == timedelta(hours=-4)
    assert period_end(datetime(2025, 3, 8, 12), 24, 0) == local(2025, 3, 9, 13)
    # And falls back on 2025-11-02: a week across it lasts 169 hours.
    week = period_end(datetime(2025, 10, 30), 1, 2)
    elapsed = week.astimezone(timezone.utc) - portal_moment(datetime(2025, 10, 30)).astimezone(timezone.utc)
    assert week == local(2025, 11, 6) and elapsed == timedelta(hours=169)


def test_a_start_inside_the_dst_gap_is_resolved_forward():
    # 2025-03-09T02:30 does not exist in Toronto (02:00 -> 03:00): it is the instant of 03:30 EDT, 07:30 UTC,
    # not an hour early (issue 16).
    start = portal_moment(datetime(2025, 3, 9, 2, 30))
    assert start.astimezone(timezone.utc) == datetime(2025, 3, 9, 7, 30, tzinfo=timezone.utc)
    assert to_portal(start) == datetime(2025, 3, 9, 3, 30)
    assert period_end(datetime(2025, 3, 9, 2, 30), 1, 0).astimezone(timezone.utc) == datetime(
        2025, 3, 9, 8, 30, tzinfo=timezone.utc
    )
    # A one-day period from the gap ends at 02:30 the next day, which exists.
    assert period_end(datetime(2025, 3, 9, 2, 30), 1, 1) == local(2025, 3, 10, 2, 30)
    # An end that lands in the gap is resolved forward too.
    assert to_portal(period_end(datetime(2024, 3, 9, 2, 30), 1, 4)) == datetime(2025, 3, 9, 3, 30)


def test_start_for_end_is_the_inverse_and_bad_durations_are_refused():
    end = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    for unit in range(5):
        assert period_end(start_for_end(end, 3, unit), 3, unit) == end
    with pytest.raises(ValueError):
        period_end(datetime(2025, 1, 1), 1.5, 3)
    with pytest.raises(ValueError):
        period_end(datetime(2025, 1, 1), 1, 5)
