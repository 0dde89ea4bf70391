"""The one input layer: a DAG author's input checked strictly, before any request is sent.

Every operator, sensor and public hook method passes what it was given through here (or through a platform
rule built on it, such as Eduframe's integer ids). The rules:

* **Types are strict.** A bool is not a number and not an id (``True`` is not learner 1); bytes are not a
  string and not a list (``b"23"`` is not two learners); a float is not an id; an integer too large for
  any platform's id is refused by its size, before ``str()`` could raise a ``ValueError`` naming nothing.
* **Text that reaches the wire is clean.** No control characters (C0, DEL, C1 including U+0085), no line or
  paragraph separators (U+2028, U+2029), no bidirectional overrides, no byte-order mark, no lone surrogates
  (which cannot be encoded as UTF-8 and would crash a log line or the transport), and the length limits of
  the field. Free text that may span lines (a comment) may hold tab, line feed and carriage return.
* **Ids are normalised, then de-duplicated.** Each id is first turned into the platform's form (Eduframe
  ``"06"`` is ``6``), then duplicates are merged; :class:`NormalizedIds` says which inputs were merged, and
  the operators return that as ``merged``. Identical rows (two equal score rows) are one row; two rows
  for the same target that disagree are refused, because which one would win depends on timing.
* **Every error names the field** as the author wrote it (``learners[3].email``, ``scores[2].comment``) and
  shows the bad value cut short and escaped (:func:`shown`), never a secret.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from airflow_provider_lms.http.errors import LmsInputError

__all__ = [
    "MAX_ID_LENGTH",
    "LearnerSpec",
    "NormalizedIds",
    "ScoreRow",
    "as_list",
    "bad_character",
    "check_extra_fields",
    "check_int",
    "check_number",
    "check_renames",
    "check_text",
    "dedupe_rows",
    "normalize_ids",
    "parse_moment",
    "recheck",
    "shown",
    "validate_id",
    "validate_ids",
    "validate_model",
    "validate_models",
]

M = TypeVar("M", bound=BaseModel)

#: The neutral cap on an id's length; platforms with a documented limit apply their own.
MAX_ID_LENGTH = 256
#: The largest id any platform uses: a signed 64-bit integer.
_MAX_INT_ID = 2**63 - 1
_EMAIL_LOCAL_MAX = 64

# Characters that never belong in text sent to a platform, beyond the categories Cc (C0, DEL, C1) and
# Cs (surrogates): line/paragraph separators, bidirectional embeddings, overrides and isolates (they make a
# name display as something else), and the byte-order mark / non-characters.
_FORBIDDEN_EXTRA = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\ufffe\uffff")
_MULTILINE_ALLOWED = frozenset("\t\n\r")


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: safe for a log line whatever the value holds.

    ``repr`` escapes control characters and lone surrogates, so the result always encodes as UTF-8; a huge
    integer is described by its size instead (``str()`` of one over 4,300 digits raises).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bad_character(text: str, *, multiline: bool = False) -> str | None:
    """Describe the first character of ``text`` that must not reach the wire, or None when all are fine."""
    for i, char in enumerate(text):
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        category = unicodedata.category(char)
        if category == "Cs":
            return f"a lone surrogate U+{ord(char):04X} at position {i} (not encodable as UTF-8)"
        if category == "Cc" or char in _FORBIDDEN_EXTRA:
            return f"the control character U+{ord(char):04X} at position {i}"
    return None


def check_text(
    field: str,
    value: Any,
    *,
    max_length: int | None = None,
    min_length: int = 1,
    multiline: bool = False,
    strip: bool = True,
) -> str:
    """A string that may be sent: a ``str`` (not bytes), clean characters, within the length limits.

    :param field: the field's name for the error.
    :param value: the value given.
    :param max_length: the most characters allowed (after stripping), if any.
    :param min_length: the fewest characters (1: not empty).
    :param multiline: allow tab, line feed and carriage return (free text such as a comment).
    :param strip: strip surrounding whitespace first (it is never meaningful in a name or id).
    """
    if not isinstance(value, str):
        raise LmsInputError(field, f"must be text, got {type(value).__name__} {shown(value)}")
    problem = bad_character(value, multiline=multiline)
    if problem:
        raise LmsInputError(field, f"contains {problem}: {shown(value)}")
    text = value.strip() if strip else value
    if len(text) < min_length:
        raise LmsInputError(field, "is empty" if not text else f"is shorter than {min_length} characters")
    if max_length is not None and len(text) > max_length:
        raise LmsInputError(field, f"is {len(text)} characters long; at most {max_length} are allowed")
    return text


def check_int(field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a bool), within bounds; a huge one is refused by its size, without ``str()``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LmsInputError(field, f"must be an integer, got {type(value).__name__} {shown(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = [] if minimum is None else [f"from {minimum}"]
        bounds = " ".join(low + ([] if maximum is None else [f"to {maximum}"]))
        raise LmsInputError(field, f"must be an integer {bounds}, got {shown(value)}")
    return value


def check_number(field: str, value: Any, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A finite number (int or float, never a bool), within bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LmsInputError(field, f"must be a number, got {type(value).__name__} {shown(value)}")
    if isinstance(value, int) and value.bit_length() > 64:
        raise LmsInputError(field, f"is too large: {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise LmsInputError(field, f"must be a finite number, got {shown(value)}")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise LmsInputError(field, f"must be from {minimum} to {maximum}, got {shown(value)}")
    return number


def validate_id(field: str, value: Any, *, max_length: int = MAX_ID_LENGTH) -> str:
    """A platform-neutral id: a non-negative integer (not a bool) or clean, non-empty text.

    Blanks inside are allowed (aNewSpring's external ids may hold them; the hook encodes them as one path
    segment); platform hooks apply their own stricter rules on top (Eduframe ids are positive integers, Lära
    ids have no blanks).
    """
    if value is None:
        raise LmsInputError(field, "is missing (got None)")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(check_int(field, value, minimum=0, maximum=_MAX_INT_ID))
    if not isinstance(value, str):
        raise LmsInputError(field, f"must be a string or integer id, got {type(value).__name__} {shown(value)}")
    return check_text(field, value, max_length=max_length)


def as_list(field: str, values: Any) -> list[Any]:
    """A list (or tuple) of items; a string, bytes, a mapping or a set is refused, never iterated."""
    if isinstance(values, str | bytes | bytearray | memoryview) or not isinstance(values, Sequence):
        raise LmsInputError(field, f"must be a list, got {type(values).__name__} {shown(values)}")
    return list(values)


@dataclass
class NormalizedIds:
    """Ids after the platform's rule and de-duplication.

    :param ids: the distinct normalised ids, in input order (first occurrence kept).
    :param merged: each dropped input (as written) -> the id it was merged into, e.g. ``{"06": "6"}``.
    """

    ids: list[str]
    merged: dict[str, str] = field(default_factory=dict)


def _as_written(value: Any) -> str:
    """An input as the author wrote it, for the ``merged`` record (ids that passed their rule: short and clean)."""
    return value if isinstance(value, str) else str(value)


def normalize_ids(
    field: str,
    values: Any,
    parse: Callable[[str, Any], str] = validate_id,
    *,
    allow_empty: bool = False,
) -> NormalizedIds:
    """Check every id of a list with ``parse`` (the platform's rule), then merge the duplicates.

    De-duplicating after ``parse`` is what keeps ``[6, "06", "006"]`` one Eduframe learner, not three orders.
    """
    items = as_list(field, values)
    if not items and not allow_empty:
        raise LmsInputError(field, "is an empty list")
    result = NormalizedIds(ids=[])
    seen: set[str] = set()
    for i, raw in enumerate(items):
        normal = parse(f"{field}[{i}]", raw)
        if normal in seen:
            result.merged[_as_written(raw)] = normal
            continue
        seen.add(normal)
        result.ids.append(normal)
    return result


def validate_ids(field: str, values: Any) -> list[str]:
    """A non-empty list of neutral ids, duplicates merged (see :func:`normalize_ids` for the merge record)."""
    return normalize_ids(field, values).ids


def dedupe_rows(
    field: str, rows: Sequence[M], key: Callable[[M], Hashable], *, what: str = "target"
) -> tuple[list[M], dict[str, str]]:
    """Merge identical rows; refuse two rows with the same ``key`` that say different things.

    :return: the distinct rows and ``{"<field>[j]": "<field>[i]"}`` for each row merged into an earlier one.
    """
    first: dict[Hashable, int] = {}
    kept: list[M] = []
    merged: dict[str, str] = {}
    for j, row in enumerate(rows):
        k = key(row)
        if k not in first:
            first[k] = j
            kept.append(row)
            continue
        i = first[k]
        if rows[i].model_dump() != row.model_dump():
            raise LmsInputError(
                f"{field}[{j}]", f"is for the same {what} as {field}[{i}] but differs from it; give one row per {what}"
            )
        merged[f"{field}[{j}]"] = f"{field}[{i}]"
    return kept, merged


def _field_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        # A key the author wrote may itself hold a surrogate or a control character (an unknown key is
        # named in the error): escaped, so that the message always prints.
        name = str(part) if bad_character(str(part)) is None else shown(str(part))
        path += f"[{part}]" if isinstance(part, int) else (f".{name}" if path else name)
    return path or "input"


def validate_model(model: type[M], data: Any, field: str) -> M:
    """Validate ``data`` as ``model`` and raise :class:`LmsInputError` naming the first bad field."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise LmsInputError(field, f"must be a mapping, got {type(data).__name__} {shown(data)}")
    for key in data:
        if not isinstance(key, str):
            raise LmsInputError(field, f"has a key that is not text: {shown(key)}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _field_path(field, tuple(err["loc"]))
        message = str(err["msg"]).removeprefix("Value error, ")
        raise LmsInputError(where, f"{message} (got {shown(err.get('input'))})") from None


def validate_models(model: type[M], rows: Any, field: str) -> list[M]:
    """Validate a non-empty list of rows as ``model``."""
    items = as_list(field, rows)
    if not items:
        raise LmsInputError(field, "is an empty list")
    return [validate_model(model, row, f"{field}[{i}]") for i, row in enumerate(items)]


class _Strict(BaseModel):
    """Unknown keys refused; every text field checked for characters before pydantic sees it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    #: Fields that are free text and may span lines (tab, LF and CR allowed).
    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            raise ValueError(f"must be text, not {type(value).__name__}")
        if isinstance(value, str):
            problem = bad_character(value, multiline=info.field_name in cls.multiline_fields)
            if problem:
                raise ValueError(f"contains {problem}")
        return value


def _email_check(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in value) or "@" in local:
        raise ValueError("is not an e-mail address")
    labels = domain.split(".")
    if len(labels) < 2 or any(not label for label in labels) or len(local) > _EMAIL_LOCAL_MAX:
        raise ValueError("is not an e-mail address")
    return value.lower()


class LearnerSpec(_Strict):
    """A learner to find or create.

    :param email: the learner's e-mail address; it identifies the learner.
    :param first_name: given name, used when the learner is created.
    :param last_name: family name, used when the learner is created.
    :param external_id: your own id for the learner (an HR number), kept where the platform stores one (Pluvo: ``ref``).
    """

    email: str = Field(min_length=3, max_length=254)
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=256)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _email_check(value)


def _row_id(name: str, value: Any) -> Any:
    if value is None:
        return value
    try:
        return validate_id(name, value)
    except LmsInputError as exc:
        raise ValueError(exc.message.removeprefix(f"invalid {name}: ")) from None


class ScoreRow(_Strict):
    """One external result to record, e.g. a row of an exam system's export.

    :param learner_id: the learner's id on the platform.
    :param course_id: the course the result belongs to (Eduframe: the planned course id).
    :param score: a number from 0 up (never a bool; a decimal text such as ``"8.5"`` from a CSV is read as a
        number), or ``None`` when only a grade is given.
    :param grade: a grade text such as ``"A"`` or ``"8,5"``.
    :param activity_id: the activity within the course, on platforms that score activities.
    :param comment: a note stored with the result (may span lines).
    :param passed: whether the learner passed, on platforms that record it with the score (aNewSpring).
    """

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"comment"})

    learner_id: str | int
    course_id: str | int
    score: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    grade: str | None = Field(default=None, max_length=100)
    activity_id: str | int | None = None
    comment: str | None = Field(default=None, max_length=5000)
    passed: bool | None = Field(default=None, strict=True)

    @field_validator("learner_id", "course_id", "activity_id", mode="before")
    @classmethod
    def _ids(cls, value: Any, info: ValidationInfo) -> Any:
        # Before pydantic's own coercion, which would turn True into 1 and 1.0 into 1.
        return _row_id(str(info.field_name), value)

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            text = value.strip()
            # ASCII decimals only: float() also reads "nan", "1e999", "١٢" and "1_000".
            if text and all(c in "0123456789.-" for c in text) and text.count(".") <= 1 and len(text) <= 32:
                try:
                    return float(text)
                except ValueError:
                    pass
            raise ValueError("must be a number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {type(value).__name__}")
        if isinstance(value, int) and value.bit_length() > 64:
            raise ValueError("is too large")
        return value

    @field_validator("grade", "comment", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"must be text, not {type(value).__name__}")
        return value

    @model_validator(mode="after")
    def _score_or_grade(self) -> ScoreRow:
        if self.score is None and not self.grade:
            raise ValueError("give a score or a grade")
        return self

    def target(self) -> tuple[str, str, str | None]:
        """What the row scores: learner, course and activity (two rows for one target are one result)."""
        activity = None if self.activity_id is None else str(self.activity_id)
        return str(self.learner_id), str(self.course_id), activity


#: Years a moment given to a platform may fall in; outside them a value is a typo (``99999-01-01``, ``0001``).
MOMENT_YEARS = (1900, 2999)


def parse_moment(field: str, value: Any, *, naive_tz: str | None = "UTC") -> datetime:
    """A moment from a datetime, a date or ISO 8601 text; errors name ``field``.

    A ``date`` is the start of that day. A value without an offset (a naive datetime, a date, text without
    ``Z`` or ``+hh:mm``) is read in ``naive_tz``; with ``naive_tz=None`` it is returned naive, for a caller
    with its own rule (Lära: the portal's wall clock). Durations, times without a date, numbers and bools
    are refused.
    """
    if isinstance(value, bool) or value is None or not isinstance(value, str | datetime | date):
        raise LmsInputError(field, f"must be an ISO 8601 date or time, a date or a datetime, got {shown(value)}")
    if isinstance(value, str):
        text = check_text(field, value, max_length=40)
        # A date part first: "10:00" (today?) and "P1D" (a duration) are not moments.
        if not (len(text) >= 8 and text[:4].isascii() and text[:4].isdigit()):
            raise LmsInputError(field, f"{shown(value)} is not an ISO 8601 date or time")
        try:
            parsed: datetime | date = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise LmsInputError(field, f"{shown(value)} is not an ISO 8601 date or time") from None
    else:
        parsed = value
    moment = parsed if isinstance(parsed, datetime) else datetime(parsed.year, parsed.month, parsed.day)
    if not MOMENT_YEARS[0] <= moment.year <= MOMENT_YEARS[1]:
        raise LmsInputError(field, f"{shown(value)} is outside the years {MOMENT_YEARS[0]}-{MOMENT_YEARS[1]}")
    if moment.tzinfo is None and naive_tz is not None:
        moment = moment.replace(tzinfo=ZoneInfo(naive_tz))
    return moment


def check_extra_fields(field: str, fields: Any, *, scalars: tuple[type, ...] = (bool, int, float)) -> dict[str, Any]:
    """Extra fields a caller passes through to a platform (form fields, filters): clean text keys, and values
    that are clean text, finite numbers, the given ``scalars`` or lists of them. Free text may span lines."""
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise LmsInputError(field, f"must be a mapping, got {type(fields).__name__}")
    checked: dict[str, Any] = {}
    for key, value in fields.items():
        name = check_text(f"{field} key", key, max_length=100)
        where = f"{field}.{name}"
        for item in list(value) if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str):
                check_text(where, item, max_length=5000, min_length=0, multiline=True, strip=False)
            elif isinstance(item, float | int) and not isinstance(item, bool):
                check_number(where, item)
            elif item is not None and not isinstance(item, scalars):
                raise LmsInputError(where, f"must be text, a number, true/false or a date, got {shown(item)}")
        checked[name] = value
    return checked


def check_renames(field: str, names: Any, defaults: Mapping[str, str]) -> dict[str, str]:
    """``defaults`` with some names replaced: only known keys, each renamed to a clean name without blanks."""
    if names is None:
        return dict(defaults)
    if not isinstance(names, Mapping):
        raise LmsInputError(field, f"must be a mapping, got {type(names).__name__}")
    for key, value in names.items():
        if key not in defaults:
            raise LmsInputError(f"{field}.{shown(key, 30)}", f"is not one of {sorted(defaults)}")
        validate_id(f"{field}.{key}", value, max_length=100)
    return {**defaults, **{k: str(v).strip() for k, v in names.items()}}


def recheck(value: M, field: str) -> M:
    """Validate a model instance again (a public hook method's argument may have been built with
    ``model_construct``, which skips every check); errors name ``field``."""
    if not isinstance(value, BaseModel):
        raise LmsInputError(field, f"must be a {type(value).__name__} model, got {shown(value)}")
    return validate_model(type(value), value.model_dump(), field)
