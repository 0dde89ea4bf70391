"""A period's end: startDate plus duration x unit, in the portal's time zone (pendulum)."""

from __future__ import annotations

from datetime import datetime, timezone

import pendulum
import pytest

from airflow_provider_lms.models.lara import DurationUnit, LaraCyclePeriod, parse_lara_datetime, period_end

TORONTO = "America/Toronto"


def local(*args: int, tz: str = TORONTO) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=tz)


@pytest.mark.parametrize(
    ("unit", "duration", "expected"),
    [
        (DurationUnit.HOURS, 36, local(2025, 6, 11, 21, 0)),
        (DurationUnit.DAYS, 10, local(2025, 6, 20, 9, 0)),
        (DurationUnit.WEEKS, 3, local(2025, 7, 1, 9, 0)),
        (DurationUnit.MONTHS, 7, local(2026, 1, 10, 9, 0)),
        (DurationUnit.YEARS, 2, local(2027, 6, 10, 9, 0)),
    ],
)
def test_every_duration_unit(unit: DurationUnit, duration: int, expected: pendulum.DateTime):
    assert period_end("2025-06-10T09:00:00", duration, unit, TORONTO) == expected


def test_the_unit_may_be_given_as_its_number_and_unknown_units_are_refused():
    assert period_end("2025-06-10T09:00:00", 1, 4) == local(2026, 6, 10, 9, 0)
    with pytest.raises(ValueError):
        period_end("2025-06-10T09:00:00", 1, 5)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-01-31T00:00:00", 1, local(2025, 2, 28)),  # no Feb 31: the last day of February
        ("2024-01-31T00:00:00", 1, local(2024, 2, 29)),  # a leap year's February
        ("2025-03-31T12:00:00", 1, local(2025, 4, 30, 12)),
        ("2025-08-31T00:00:00", 6, local(2026, 2, 28)),
        ("2025-01-31T00:00:00", 12, local(2026, 1, 31)),
    ],
)
def test_month_end_starts_land_on_the_last_day_of_the_target_month(start: str, months: int, expected):
    assert period_end(start, months, DurationUnit.MONTHS, TORONTO) == expected


def test_feb_29_plus_one_year_is_feb_28_and_plus_four_years_is_feb_29():
    assert period_end("2024-02-29T10:00:00", 1, DurationUnit.YEARS) == local(2025, 2, 28, 10)
    assert period_end("2024-02-29T10:00:00", 4, DurationUnit.YEARS) == local(2028, 2, 29, 10)
    assert period_end("2024-02-29T10:00:00", 12, DurationUnit.MONTHS) == local(2025, 2, 28, 10)


def test_spring_forward_inside_a_period_of_days_keeps_the_wall_clock_time():
    # Toronto moves from EST to EDT on 2025-03-09 at 02:00: that day has 23 hours.
    end = period_end("2025-03-08T12:00:00", 2, DurationUnit.DAYS, TORONTO)
    assert end == local(2025, 3, 10, 12)
    assert end.utcoffset().total_seconds() == -4 * 3600
    start = parse_lara_datetime("2025-03-08T12:00:00", TORONTO)
    assert (end - start).in_hours() == 47


def test_fall_back_inside_a_period_of_weeks_keeps_the_wall_clock_time():
    # EDT -> EST on 2025-11-02: a week that spans it lasts 169 hours.
    end = period_end("2025-10-30T00:00:00", 1, DurationUnit.WEEKS, TORONTO)
    assert end == local(2025, 11, 6)
    assert end.utcoffset().total_seconds() == -5 * 3600
    assert (end - parse_lara_datetime("2025-10-30T00:00:00", TORONTO)).in_hours() == 169


def test_hours_are_elapsed_time_across_a_dst_change():
    # 24 hours from noon before spring-forward is 13:00 the next day on the wall clock.
    assert period_end("2025-03-08T12:00:00", 24, DurationUnit.HOURS, TORONTO) == local(2025, 3, 9, 13)
    assert period_end("2025-03-08T12:00:00", 1.5, DurationUnit.HOURS, TORONTO) == local(2025, 3, 8, 13, 30)


def test_a_yearly_period_across_both_dst_changes_ends_at_the_same_wall_clock_time():
    end = period_end("2025-01-15T00:00:00", 1, DurationUnit.YEARS, TORONTO)
    assert end == local(2026, 1, 15)
    assert end.timezone_name == TORONTO


def test_calendar_units_refuse_fractions():
    with pytest.raises(ValueError, match="whole number"):
        period_end("2025-01-01T00:00:00", 1.5, DurationUnit.MONTHS)


def test_a_start_without_offset_is_read_in_the_portal_zone_and_one_with_offset_is_an_instant():
    naive = period_end("2025-06-10T09:00:00", 1, DurationUnit.DAYS, "Europe/Paris")
    assert naive == local(2025, 6, 11, 9, tz="Europe/Paris")
    # 13:00Z is 09:00 in Toronto (EDT); the end is then computed in Toronto.
    aware = period_end("2025-06-10T13:00:00Z", 1, DurationUnit.DAYS, TORONTO)
    assert aware == local(2025, 6, 11, 9)
    assert period_end(datetime(2025, 6, 10, 13, tzinfo=timezone.utc), 1, 1) == local(2025, 6, 11, 9)


def test_the_documents_fractional_seconds_are_kept():
    assert period_end("2018-02-08T15:02:45.73", 2, DurationUnit.YEARS) == local(2020, 2, 8, 15, 2, 45).add(
        microseconds=730000
    )


def test_the_period_model_uses_the_portal_zone():
    period = LaraCyclePeriod.model_validate(
        {"cyclePeriodId": "p%3d%3d", "startDate": "2024-01-31T00:00:00", "duration": 1, "durationUnit": 3}
    )
    assert period.end() == local(2024, 2, 29)
    assert period.end("UTC") == pendulum.datetime(2024, 2, 29, tz="UTC")
    assert period.contains(local(2024, 2, 28, 23, 59)) and not period.contains(local(2024, 2, 29))


# -- DST gaps and overlaps, from the zones' published rules (IANA tz database) -----------------------------------
# America/Toronto: DST starts the second Sunday of March at 02:00 (clocks jump to 03:00) and ends the first Sunday
# of November at 02:00 (clocks fall back to 01:00). Europe/Paris: the last Sunday of March at 02:00 CET -> 03:00 CEST.


def test_a_start_inside_the_spring_forward_gap_is_read_after_the_gap_not_an_hour_early():
    # 2025-03-09T02:30 does not exist in Toronto; it is 03:30 EDT (07:30 UTC), never 01:30 EST (06:30 UTC).
    start = parse_lara_datetime("2025-03-09T02:30:00", TORONTO)
    assert start.in_timezone("UTC") == pendulum.datetime(2025, 3, 9, 7, 30, tz="UTC")
    assert start.utcoffset().total_seconds() == -4 * 3600


def test_a_period_of_days_starting_in_the_gap_ends_at_the_same_wall_clock_time():
    # The case: a 1-day period from 02:30 on the spring-forward day ends at 02:30 the next day (EDT).
    end = period_end("2025-03-09T02:30:00", 1, DurationUnit.DAYS, TORONTO)
    assert end.in_timezone("UTC") == pendulum.datetime(2025, 3, 10, 6, 30, tz="UTC")
    period = LaraCyclePeriod.model_validate(
        {"cyclePeriodId": "p", "startDate": "2025-03-09T02:30:00", "duration": 1, "durationUnit": 1}
    )
    assert period.end(TORONTO) == end
    assert period.contains(local(2025, 3, 9, 3, 45)) and not period.contains(local(2025, 3, 9, 1, 45))


def test_hours_from_a_start_in_the_gap_count_from_the_instant_after_the_gap():
    end = period_end("2025-03-09T02:30:00", 2, DurationUnit.HOURS, TORONTO)
    assert end.in_timezone("UTC") == pendulum.datetime(2025, 3, 9, 9, 30, tz="UTC")  # 05:30 EDT


def test_a_period_that_ends_inside_the_gap_ends_after_it():
    # A month from 2025-02-09T02:30 lands on the missing 02:30 of March 9: read as 03:30 EDT.
    end = period_end("2025-02-09T02:30:00", 1, DurationUnit.MONTHS, TORONTO)
    assert end.in_timezone("UTC") == pendulum.datetime(2025, 3, 9, 7, 30, tz="UTC")


def test_a_time_in_the_fall_back_overlap_is_its_first_occurrence():
    # 2025-11-02T01:30 happens twice in Toronto: first at EDT (05:30 UTC), then at EST (06:30 UTC).
    start = parse_lara_datetime("2025-11-02T01:30:00", TORONTO)
    assert start.in_timezone("UTC") == pendulum.datetime(2025, 11, 2, 5, 30, tz="UTC")
    end = period_end("2025-11-01T01:30:00", 1, DurationUnit.DAYS, TORONTO)
    assert end.in_timezone("UTC") == pendulum.datetime(2025, 11, 2, 5, 30, tz="UTC")


def test_other_zones_follow_their_own_rules():
    # Paris skips 02:00-03:00 on 2025-03-30: 02:30 is 03:30 CEST (01:30 UTC).
    assert parse_lara_datetime("2025-03-30T02:30:00", "Europe/Paris").in_timezone("UTC") == pendulum.datetime(
        2025, 3, 30, 1, 30, tz="UTC"
    )
    # The same wall-clock time in Toronto that day is an ordinary EDT time.
    assert parse_lara_datetime("2025-03-30T02:30:00", TORONTO).utcoffset().total_seconds() == -4 * 3600


def test_an_aware_start_in_utc_is_an_instant_even_on_a_dst_day():
    # 07:30Z on the spring-forward day is 03:30 EDT; a day later is 03:30 EDT on March 10.
    end = period_end("2025-03-09T07:30:00Z", 1, DurationUnit.DAYS, TORONTO)
    assert end == local(2025, 3, 10, 3, 30)
