"""The one input layer: strict types, clean characters, ids normalised then de-duplicated, fields named."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import (
    LearnerSpec,
    ScoreRow,
    bad_character,
    check_text,
    dedupe_rows,
    normalize_ids,
    parse_moment,
    shown,
    validate_id,
    validate_model,
    validate_models,
)


@pytest.mark.parametrize(
    "char", ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\u202e", "\ufeff", "\ud800"]
)
def test_every_class_of_control_character_is_refused_naming_the_field(char: str) -> None:
    with pytest.raises(LmsInputError) as info:
        check_text("learners[3].first_name", f"An{char}na")
    assert info.value.field == "learners[3].first_name"
    str(info.value).encode("utf-8")  # a lone surrogate in the input never makes the message unprintable


def test_ordinary_text_passes_and_only_free_text_may_span_lines() -> None:
    assert bad_character("Zoë Ångström-O'Brien 李") is None
    assert check_text("comment", "line one\nline two\ttab", multiline=True) == "line one\nline two\ttab"
    with pytest.raises(LmsInputError):
        check_text("grade", "8\n5")


@pytest.mark.parametrize("value", [True, False, b"23", bytearray(b"1"), 1.0, None, [1], {"id": 1}])
def test_an_id_of_the_wrong_type_is_refused(value: object) -> None:
    with pytest.raises(LmsInputError, match=r"learner_ids\[0\]"):
        validate_id("learner_ids[0]", value)


def test_a_huge_integer_names_the_field_instead_of_raising_a_raw_value_error() -> None:
    with pytest.raises(LmsInputError) as info:
        validate_id("learner_ids[0]", 10**5000)
    assert info.value.field == "learner_ids[0]" and "digits" in str(info.value)
    assert shown(10**5000).startswith("an integer of about")


def test_bytes_are_not_a_list_of_ids() -> None:
    with pytest.raises(LmsInputError, match="must be a list, got bytes"):
        normalize_ids("learner_ids", b"23")


def test_ids_are_normalised_by_the_platform_rule_then_merged() -> None:
    def eduframe_rule(field: str, value: object) -> str:
        return str(int(validate_id(field, value)))

    ids = normalize_ids("learner_ids", [6, "06", "006", 7, 7], eduframe_rule)
    assert ids.ids == ["6", "7"]
    assert ids.merged == {"06": "6", "006": "6", "7": "7"}


def test_identical_rows_are_one_and_disagreeing_rows_are_refused() -> None:
    row = {"learner_id": "6", "course_id": "1", "score": 7}
    rows = validate_models(ScoreRow, [row, dict(row)], "scores")
    kept, merged = dedupe_rows("scores", rows, ScoreRow.target)
    assert len(kept) == 1 and merged == {"scores[1]": "scores[0]"}
    rows = validate_models(ScoreRow, [row, {**row, "score": 8}], "scores")
    with pytest.raises(LmsInputError, match=r"scores\[1\]"):
        dedupe_rows("scores", rows, ScoreRow.target)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": True}, "scores[2].score"),
        ({"score": "nan"}, "scores[2].score"),
        ({"learner_id": True}, "scores[2].learner_id"),
        ({"comment": "ok\x00"}, "scores[2].comment"),
        ({"grade": "A\u2028"}, "scores[2].grade"),
        ({"passed": "yes"}, "scores[2].passed"),
    ],
)
def test_score_rows_are_strict_and_errors_name_the_row_and_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(LmsInputError) as info:
        validate_model(ScoreRow, {"learner_id": 1, "course_id": 1, "score": 5, **change}, "scores[2]")
    assert info.value.field == field


def test_a_score_from_a_csv_is_read_as_a_number() -> None:
    assert ScoreRow(learner_id=1, course_id=1, score="8.5").score == 8.5  # type: ignore[arg-type]


def test_learner_names_are_checked_for_characters() -> None:
    with pytest.raises(LmsInputError) as info:
        validate_model(LearnerSpec, {"email": "a@b.example", "first_name": "A\x85", "last_name": "B"}, "learners[3]")
    assert info.value.field == "learners[3].first_name"


def test_moments_naive_values_are_utc_and_dates_start_their_day() -> None:
    assert parse_moment("since", dt.date(2026, 1, 2)) == dt.datetime(2026, 1, 2, tzinfo=ZoneInfo("UTC"))
    assert parse_moment("since", dt.datetime(2026, 1, 2, 3)).tzinfo is not None
    assert parse_moment("since", "2026-01-02T03:00:00+01:00").utcoffset() == dt.timedelta(hours=1)
    for bad in ("P1D", "10:00", "99999-01-01", True, 1_700_000_000, b"2026-01-01"):
        with pytest.raises(LmsInputError, match="since"):
            parse_moment("since", bad)
