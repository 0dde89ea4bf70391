"""Validation of a DAG author's input, before any request is sent.

Every error names the field as the author wrote it (``scores[3].score``) and shows the bad value, so
that a typo in a DAG fails in the first second of the task with a sentence instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from airflow_provider_lms.http.errors import LmsInputError

__all__ = [
    "LearnerSpec",
    "ScoreRow",
    "validate_id",
    "validate_ids",
    "validate_model",
    "validate_models",
]

M = TypeVar("M", bound=BaseModel)

_MAX_ID_LENGTH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_id(field: str, value: Any) -> str:
    """A platform-neutral check of an id: a non-empty, printable string or a non-negative integer.

    Platform hooks apply their own stricter rules on top (Eduframe ids are positive integers).
    """
    if isinstance(value, bool) or value is None:
        raise LmsInputError(field, f"must be an id, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise LmsInputError(field, f"must not be negative, got {value}")
        return str(value)
    if not isinstance(value, str):
        raise LmsInputError(field, f"must be a string or integer id, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise LmsInputError(field, "is empty")
    if len(text) > _MAX_ID_LENGTH:
        raise LmsInputError(field, f"is {len(text)} characters long; ids are at most {_MAX_ID_LENGTH}")
    if _CONTROL.search(text):
        raise LmsInputError(field, f"contains control characters: {text!r}")
    return text


def validate_ids(field: str, values: Any) -> list[str]:
    """Validate a non-empty list of ids; duplicates are dropped, keeping the first occurrence."""
    if isinstance(values, str | int) or not isinstance(values, Sequence):
        raise LmsInputError(field, f"must be a list of ids, got {type(values).__name__}")
    if not values:
        raise LmsInputError(field, "is an empty list")
    seen: dict[str, None] = {}
    for i, v in enumerate(values):
        seen.setdefault(validate_id(f"{field}[{i}]", v), None)
    return list(seen)


def _field_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "input"


def validate_model(model: type[M], data: Any, field: str) -> M:
    """Validate ``data`` as ``model`` and raise :class:`LmsInputError` naming the first bad field."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise LmsInputError(field, f"must be a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _field_path(field, tuple(err["loc"]))
        raise LmsInputError(where, f"{err['msg']} (got {err.get('input')!r})") from None


def validate_models(model: type[M], rows: Any, field: str) -> list[M]:
    """Validate a non-empty list of rows as ``model``."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise LmsInputError(field, f"must be a list, got {type(rows).__name__}")
    if not rows:
        raise LmsInputError(field, "is an empty list")
    return [validate_model(model, row, f"{field}[{i}]") for i, row in enumerate(rows)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LearnerSpec(_Strict):
    """A learner to find or create.

    :param email: the learner's e-mail address; it identifies the learner.
    :param first_name: given name, used when the learner is created.
    :param last_name: family name, used when the learner is created.
    """

    email: str = Field(min_length=3, max_length=254)
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("is not an e-mail address")
        return value.lower()


class ScoreRow(_Strict):
    """One external result to record, e.g. a row of an exam system's export.

    :param learner_id: the learner's id on the platform.
    :param course_id: the course the result belongs to (Eduframe: the planned course id).
    :param score: a number from 0 up, or ``None`` when only a grade is given.
    :param grade: a grade text such as ``"A"`` or ``"8,5"``.
    :param activity_id: the activity within the course, on platforms that score activities.
    :param comment: a note stored with the result.
    :param passed: whether the learner passed, on platforms that record it with the score (aNewSpring).
    """

    learner_id: str | int
    course_id: str | int
    score: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    grade: str | None = Field(default=None, max_length=100)
    activity_id: str | int | None = None
    comment: str | None = Field(default=None, max_length=5000)
    passed: bool | None = None

    @field_validator("learner_id", "course_id", "activity_id")
    @classmethod
    def _ids(cls, value: Any, info: Any) -> Any:
        if value is None:
            return value
        try:
            return validate_id(info.field_name, value)
        except LmsInputError as exc:
            raise ValueError(exc.message.removeprefix(f"invalid {info.field_name}: ")) from None

    @model_validator(mode="after")
    def _score_or_grade(self) -> ScoreRow:
        if self.score is None and not self.grade:
            raise ValueError("give a score or a grade")
        return self
