"""Lära cycle models (règlements de formation), the period-end rule and the active-member rule.

Field names follow ``lara-cycles-api.fr.txt`` (camelCase on the wire, snake_case in Python). Lära sends
dates such as ``2018-02-08T15:02:45.73`` without an offset: they are wall-clock times of the portal,
so they are read in the portal's time zone (the connection's ``portal_timezone``).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, ClassVar

import pendulum
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.connection import ConnectionFields, LmsConnection
from airflow_provider_lms.models.inputs import bad_character, shown

__all__ = [
    "ACTIVE_STATUS_NAMES",
    "DEFAULT_PORTAL_TIMEZONE",
    "MAX_ID_LENGTH",
    "MAX_STATUS_LENGTH",
    "DurationUnit",
    "LaraConnection",
    "LaraCycle",
    "LaraCyclePeriod",
    "LaraLanguage",
    "LaraMemberStatus",
    "LaraMultilingualText",
    "LaraRequirement",
    "LaraStatusInput",
    "LaraText",
    "LaraUserProgress",
    "MemberRef",
    "RequirementType",
    "answer_records",
    "as_status_list",
    "current_status_entry",
    "format_lara_datetime",
    "is_active_status_name",
    "normalize_status_name",
    "parse_lara_datetime",
    "period_end",
    "portal_time",
]

log = logging.getLogger(__name__)

DEFAULT_PORTAL_TIMEZONE = "America/Toronto"

# ASSUMPTION: the document gives no length limits; ids look like 22-character URL-safe tokens (URL-encoded:
# a few more), so 256 leaves room without letting a pasted document through; a status name is a short label.
MAX_ID_LENGTH = 256
MAX_STATUS_LENGTH = 100


def _clean_text(value: str, max_length: int) -> None:
    """Refuse what must not reach the wire (the input layer's rule) and overlong text, as a pydantic error."""
    problem = bad_character(value)
    if problem:
        raise ValueError(f"contains {problem}")
    if len(value.strip()) > max_length:
        raise ValueError(f"is {len(value.strip())} characters long; at most {max_length} are allowed")


class LaraLanguage(IntEnum):
    """``languageId`` of a multilingual text."""

    FRENCH_CANADA = 1
    ENGLISH = 2
    FRENCH_FRANCE = 3
    SPANISH = 4


class DurationUnit(IntEnum):
    """``durationUnit`` of a period: the unit of ``duration``."""

    HOURS = 0
    DAYS = 1
    WEEKS = 2
    MONTHS = 3
    YEARS = 4


class RequirementType(IntEnum):
    """``type`` of a period requirement."""

    CREDITS = 1
    TRAINING_TYPES = 2
    CATEGORY_COUNT = 3


class _LaraModel(BaseModel):
    # Unknown fields are kept: the document is not exhaustive, and a new field must not break a DAG.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class LaraText(_LaraModel):
    """One translation: ``{"text", "languageId"}`` (1 fr-CA, 2 en, 3 fr-FR, 4 es)."""

    text: str
    language_id: LaraLanguage


class LaraMultilingualText(_LaraModel):
    """``{"texts": [...]}``; :meth:`get` picks a language with a fallback."""

    texts: list[LaraText] = Field(default_factory=list)

    def get(self, language: LaraLanguage | int = LaraLanguage.FRENCH_CANADA) -> str | None:
        """The text in ``language``, else the first text, else None."""
        for t in self.texts:
            if t.language_id == language:
                return t.text
        return self.texts[0].text if self.texts else None


class LaraCycle(_LaraModel):
    """A cycle (règlement) from ``cycle/getlist``."""

    cycle_id: str
    admin_name: str | None = None
    name: LaraMultilingualText = Field(default_factory=LaraMultilingualText)
    rule_id: str | None = None
    is_active: bool = True
    is_deleted: bool = False


class LaraRequirement(_LaraModel):
    """A requirement of a period: type 1 credits, 2 training types, 3 number of categories."""

    id: str | None = None
    cycle_period_id: str | None = None
    type: RequirementType
    target_value: float | None = None
    parent_id: str | None = None
    rule_id: str | None = None
    provider_id: str | None = None

    @field_validator("id", "cycle_period_id", "parent_id", "rule_id", "provider_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        # The document's own example has an id with a leading space (" vBW5..."): ids are opaque, but
        # surrounding blanks are never part of one.
        return value.strip() if isinstance(value, str) else value


def portal_time(wall: datetime, tz: str = DEFAULT_PORTAL_TIMEZONE) -> pendulum.DateTime:
    """The instant a portal wall-clock time (naive) names, aware in ``tz``.

    The zone's published rules (IANA) leave two kinds of wall-clock times without one clear instant:

    * in a spring-forward gap the time does not exist (America/Toronto 2025-03-09 02:00-03:00): it is read
      *after* the gap, as the clock a person looks at would show it (02:30 -> 03:30 EDT, 07:30 UTC);
    * in a fall-back overlap it exists twice (2025-11-02 01:00-02:00): the first occurrence (EDT) is taken.

    pendulum's ``fold`` gives each of these on its own but not both: ``fold=0`` reads a gap time an hour
    early (01:30 EST), which is the bug of issue 16; ``fold=1`` reads an overlap time as its second
    occurrence. So: the first occurrence, unless its wall clock does not read back (a gap), then ``fold=1``.
    """
    parts = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond)
    first = pendulum.datetime(*parts, tz=tz, fold=0)
    if first.replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first
    return pendulum.datetime(*parts, tz=tz, fold=1)


def parse_lara_datetime(value: datetime | str, tz: str = DEFAULT_PORTAL_TIMEZONE) -> pendulum.DateTime:
    """A Lära date as an aware datetime in the portal's time zone.

    A value without an offset is a wall-clock time of the portal (see :func:`portal_time` for the times
    DST leaves without one instant); one with an offset (``Z``) is an instant and is converted.
    """
    zone = pendulum.timezone(tz)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            parsed = pendulum.parse(text, tz=None)  # type: ignore[assignment]
        if not isinstance(parsed, datetime):
            raise ValueError(f"{value!r} is not a date and time")
        value = parsed
    if value.tzinfo is None:
        return portal_time(value, tz)
    return pendulum.instance(value).in_timezone(zone)


def format_lara_datetime(value: datetime, tz: str = DEFAULT_PORTAL_TIMEZONE) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in the portal's wall-clock time, the form of the document's examples."""
    local = parse_lara_datetime(value, tz) if value.tzinfo is not None else value
    return local.strftime("%Y-%m-%dT%H:%M:%S")


def _wall_clock(start: datetime | str, tz: str) -> pendulum.DateTime:
    """The start as the portal's naive wall-clock time: as written when naive, converted when an instant."""
    if isinstance(start, str):
        start = parse_lara_datetime(start, tz) if _has_offset(start) else _naive(start)
    elif start.tzinfo is not None:
        start = pendulum.instance(start).in_timezone(tz)
    return pendulum.naive(start.year, start.month, start.day, start.hour, start.minute, start.second, start.microsecond)


def _has_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _naive(text: str) -> datetime:
    parsed = parse_lara_datetime(text, "UTC")
    return parsed.replace(tzinfo=None)


def period_end(
    start: datetime | str, duration: float, unit: DurationUnit | int, tz: str = DEFAULT_PORTAL_TIMEZONE
) -> pendulum.DateTime:
    """When a period that starts at ``start`` and lasts ``duration`` ``unit`` ends, in ``tz``.

    Days, weeks, months and years are calendar units on the portal's wall clock: the start's wall-clock
    time (as Lära wrote it) is moved by whole units and then read in the zone (:func:`portal_time`). So a
    1-day period that starts at noon the day before a DST change ends at noon (23 or 25 hours later), one
    that starts at 02:30 on a spring-forward day ends at 02:30 the next day, Jan 31 plus 1 month is the last
    day of February, and Feb 29 plus 1 year is Feb 28. Hours are elapsed time from the start's instant.
    """
    unit = DurationUnit(unit)
    amount = float(duration)
    if unit is DurationUnit.HOURS:
        if not math.isfinite(amount):
            raise ValueError(f"duration {duration!r} is not a number of hours")
        return parse_lara_datetime(start, tz).add(seconds=round(amount * 3600))
    if not amount.is_integer():
        # Calendar units have no exact fraction (what is half a February?); refuse instead of guessing.
        raise ValueError(f"duration {duration!r} in {unit.name.lower()} must be a whole number")
    n = int(amount)
    wall = _wall_clock(start, tz)
    if unit is DurationUnit.DAYS:
        moved = wall.add(days=n)
    elif unit is DurationUnit.WEEKS:
        moved = wall.add(weeks=n)
    elif unit is DurationUnit.MONTHS:
        moved = wall.add(months=n)
    else:
        moved = wall.add(years=n)
    return portal_time(moved, tz)


class LaraCyclePeriod(_LaraModel):
    """A period of a cycle, from ``cycle/getperiodlist``.

    ``start_date`` is kept as Lära sent it (naive = portal wall-clock time); use :meth:`start` and
    :meth:`end` with the portal's time zone.
    """

    cycle_period_id: str
    cycle_id: str | None = None
    admin_name: str | None = None
    start_date: datetime
    duration: float
    duration_unit: DurationUnit
    is_requirements_shown: bool | None = None
    rule_id: str | None = None
    is_user_statement: bool | None = None
    is_active: bool = True
    is_deleted: bool = False
    requirements: list[LaraRequirement] = Field(default_factory=list)

    def start(self, tz: str = DEFAULT_PORTAL_TIMEZONE) -> pendulum.DateTime:
        """The start as an aware datetime in ``tz``."""
        return parse_lara_datetime(self.start_date, tz)

    def end(self, tz: str = DEFAULT_PORTAL_TIMEZONE) -> pendulum.DateTime:
        """The end: start plus duration times unit, in ``tz`` (see :func:`period_end`)."""
        return period_end(self.start_date, self.duration, self.duration_unit, tz)

    def contains(self, moment: datetime, tz: str = DEFAULT_PORTAL_TIMEZONE) -> bool:
        """Whether ``moment`` falls in ``[start, end)``."""
        at = parse_lara_datetime(moment, tz)
        return self.start(tz) <= at < self.end(tz)

    @property
    def required_credits(self) -> float | None:
        """The top-level credit requirement (type 1 without a parent), if any."""
        for req in self.requirements:
            if req.type is RequirementType.CREDITS and not req.parent_id:
                return req.target_value
        return None


class LaraUserProgress(_LaraModel):
    """A member's progress in a period, from ``cycle/getuserprogress``."""

    id: str | None = None
    member_id: str | None = None
    required_credits: float = 0.0
    completed_credits: float = 0.0
    exempted_credits: float = 0.0
    provider_credits: float = 0.0
    custom_field_api_name: str | None = Field(default=None, alias="customFieldAPIName")

    def earned_credits(self, *, count_exempted: bool = True) -> float:
        """Completed credits, plus exempted ones when they count."""
        return self.completed_credits + (self.exempted_credits if count_exempted else 0.0)

    def is_compliant(self, *, count_exempted: bool = True) -> bool:
        """Whether the earned credits reach the required ones."""
        # Credits are decimals such as 19.5: compare with a tolerance so 0.1 + 0.2 style sums count.
        return self.earned_credits(count_exempted=count_exempted) + 1e-9 >= self.required_credits


#: The status names the document lists as active when ``isActiveMember`` is not given.
ACTIVE_STATUS_NAMES: tuple[str, ...] = (
    "membre",
    "member",
    "1ère inscription",
    "inscription",
    "temporaire",
    "limitation du droit d'exercice",
    "suspension du droit d'exercice",
    "autorisation spéciale",
)

_APOSTROPHES = re.compile("[\u2018\u2019\u02bc\u00b4`]")
_SPACES = re.compile(r"\s+")


def normalize_status_name(name: str) -> str:
    """Fold a status name the way a person's typing varies: case, accents, apostrophes, spaces."""
    text = _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", name))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().casefold()


_ACTIVE_NORMALIZED = frozenset(normalize_status_name(n) for n in ACTIVE_STATUS_NAMES)


def is_active_status_name(name: str | None) -> bool:
    """Whether a status name counts as active by the document's list (when ``isActiveMember`` is null)."""
    return bool(name) and normalize_status_name(name or "") in _ACTIVE_NORMALIZED


class LaraMemberStatus(_LaraModel):
    """One status range of a member, from ``cycle/getmemberstatuses``."""

    entry_id: str | None = None
    user_id: str | None = None
    status: str
    is_active_member: bool | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def is_active(self) -> bool:
        """The document's rule: an explicit ``isActiveMember`` wins, else the status name decides."""
        if self.is_active_member is not None:
            return self.is_active_member
        return is_active_status_name(self.status)

    @property
    def is_open(self) -> bool:
        """Whether the range is still running (no end date)."""
        return self.end_date is None

    def covers(self, moment: datetime, tz: str = DEFAULT_PORTAL_TIMEZONE) -> bool:
        """Whether ``moment`` falls in this range (an open range runs on forever)."""
        at = parse_lara_datetime(moment, tz)
        if self.start_date is not None and at < parse_lara_datetime(self.start_date, tz):
            return False
        return self.end_date is None or at <= parse_lara_datetime(self.end_date, tz)


class LaraStatusInput(BaseModel):
    """A status to save (``updatememberstatus(es)``, ``changecurrentmemberstatus``), checked before sending.

    :param status: the status name, e.g. ``"Membre"``.
    :param is_active_member: True/False to say it; None lets Lära decide from the name.
    :param start_date: start of the range (naive = portal wall-clock time).
    :param end_date: end of the range; None for a range that runs on.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid", alias_generator=to_camel)

    status: str = Field(min_length=1)
    is_active_member: bool | None = Field(default=None, strict=True)
    start_date: datetime | None = None
    end_date: datetime | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"must be a status name, not {type(value).__name__}")
        _clean_text(value, MAX_STATUS_LENGTH)
        return value

    @field_validator("status")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, bool | int | float | bytes):
            # pydantic would read 1e9 as seconds since 1970: a number is not a date here.
            raise ValueError(f"must be an ISO 8601 date and time, not {type(value).__name__}")
        if isinstance(value, str) and value.strip():
            _clean_text(value, 40)
        return None if value == "" else value

    @model_validator(mode="after")
    def _end_after_start(self) -> LaraStatusInput:
        if self.start_date is not None and self.end_date is not None:
            start = parse_lara_datetime(self.start_date)
            end = parse_lara_datetime(self.end_date)
            if end < start:
                raise ValueError("end_date must be on or after start_date (Lära error 1010)")
        return self

    @property
    def is_active(self) -> bool:
        """Whether Lära will count this status as active."""
        if self.is_active_member is not None:
            return self.is_active_member
        return is_active_status_name(self.status)

    def to_body(self, tz: str = DEFAULT_PORTAL_TIMEZONE) -> dict[str, Any]:
        """The JSON object Lära takes; dates in the portal's wall-clock time, unset flag left out."""
        body: dict[str, Any] = {"status": self.status}
        if self.is_active_member is not None:
            body["isActiveMember"] = self.is_active_member
        if self.start_date is not None:
            # Left out when unset: Lära then keeps the entry's start, or starts a new range now.
            body["startDate"] = format_lara_datetime(self.start_date, tz)
        body["endDate"] = format_lara_datetime(self.end_date, tz) if self.end_date else None
        return body

    def same_as(self, entry: LaraMemberStatus, tz: str = DEFAULT_PORTAL_TIMEZONE) -> bool:
        """Whether ``entry`` already says what this input says (for idempotent re-runs)."""

        def same_time(a: datetime | None, b: datetime | None) -> bool:
            if a is None or b is None:
                return a is None and b is None
            # Lära keeps fractions of a second we do not send: compare to the second.
            return parse_lara_datetime(a, tz).replace(microsecond=0) == parse_lara_datetime(b, tz).replace(
                microsecond=0
            )

        return (
            normalize_status_name(self.status) == normalize_status_name(entry.status)
            and self.is_active == entry.is_active
            and (self.is_active_member is None or self.is_active_member == entry.is_active_member)
            and same_time(self.start_date, entry.start_date)
            and same_time(self.end_date, entry.end_date)
        )


class MemberRef(BaseModel):
    """Which member: by ``user_id``, or by a custom field (``custom_field_api_name`` + ``custom_field_value``).

    A plain string is a user id. Ids are opaque and already URL-encoded (``...%2fSg%3d%3d``): they are
    passed on unchanged.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: str | None = Field(default=None, alias="userId")
    custom_field_api_name: str | None = Field(default=None, alias="customFieldAPIName")
    custom_field_value: str | None = Field(default=None, alias="customFieldValue")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"userId": value}
        return value

    @field_validator("user_id", "custom_field_api_name", "custom_field_value", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > 63:
                raise ValueError("is too large for an id")
            return str(value)
        if not isinstance(value, str):
            raise ValueError(f"must be a string, got {type(value).__name__}")
        _clean_text(value, MAX_ID_LENGTH)
        text = value.strip()
        return text or None

    @field_validator("user_id")
    @classmethod
    def _no_blanks_inside(cls, value: str | None) -> str | None:
        if value is not None and any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not a Lära id (ids are URL-encoded and contain no spaces)")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> MemberRef:
        if self.user_id is None and (self.custom_field_api_name is None or self.custom_field_value is None):
            raise ValueError("give userId, or both customFieldAPIName and customFieldValue")
        return self

    @property
    def key(self) -> str:
        """How the DAG author named the member (for logs and summaries)."""
        if self.user_id is not None:
            return self.user_id
        return f"{self.custom_field_api_name}={self.custom_field_value}"

    def status_body(self) -> dict[str, Any]:
        """The member part of a status request: ``userId``, else the custom field pair."""
        if self.user_id is not None:
            return {"userId": self.user_id}
        return {"customFieldAPIName": self.custom_field_api_name, "customFieldValue": self.custom_field_value}

    def progress_body(self) -> dict[str, Any]:
        """The member part of ``getuserprogress``: ``memberId`` (and ``customFieldAPIName``).

        ASSUMPTION: the document's request has ``memberId`` and ``customFieldAPIName`` but no
        ``customFieldValue``; addressed by a custom field, ``memberId`` carries the field's value.
        """
        if self.user_id is not None:
            return {"memberId": self.user_id}
        return {"memberId": self.custom_field_value, "customFieldAPIName": self.custom_field_api_name}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (XCom, trigger kwargs)."""
        return self.model_dump(by_alias=True, exclude_none=True)


# -- the connection --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class LaraConnection(LmsConnection):
    """A Lära connection: up to two credential headers from onboarding, and the portal's time zone.

    The form's **Credential header names** (the Login field) names one or two headers, comma-separated
    (``X-Lara-Api-Key, X-Lara-Api-Secret``); **Credential values** (the Password field) holds their values in
    the same order. Connections saved before that form keep them in the extras ``credential_1_header``,
    ``credential_1_secret``, ``credential_2_header``, ``credential_2_secret``, which are still read when
    Login and Password are empty.

    :param credential_headers: header name -> encrypted credential value; masked in logs, left out of ``repr``.
    :param portal_timezone: the portal's IANA time zone (default America/Toronto).
    """

    credential_headers: Mapping[str, str] = field(repr=False)
    portal_timezone: str = DEFAULT_PORTAL_TIMEZONE
    #: Where connections saved before the standard form kept the credentials (still read; see ``read_credentials``).
    _EXTRA_CREDENTIALS: ClassVar[frozenset[str]] = frozenset(
        {"credential_1_header", "credential_1_secret", "credential_2_header", "credential_2_secret"}
    )
    extra_keys: ClassVar[frozenset[str] | None] = frozenset({"portal_timezone"}) | _EXTRA_CREDENTIALS

    @classmethod
    def read_options(cls, fields: ConnectionFields) -> dict[str, Any]:
        raw = fields.extras.get("portal_timezone") or DEFAULT_PORTAL_TIMEZONE
        if not isinstance(raw, str) or bad_character(raw) or len(raw) > 64:
            raise fields.error("portal_timezone", f"{shown(raw)} is not an IANA time zone")
        tz = raw.strip()
        try:
            pendulum.timezone(tz)
        except Exception:
            raise fields.error("portal_timezone", f"{tz!r} is not an IANA time zone") from None
        return {"portal_timezone": tz}

    @classmethod
    def read_credentials(cls, fields: ConnectionFields, base_url: str) -> dict[str, Any]:
        login = getattr(fields.conn, "login", None) or ""
        password = getattr(fields.conn, "password", None) or ""
        if login or password:
            return {"credential_headers": cls._standard_credentials(fields, login, password)}
        # Connections saved before the form moved the credentials to Login and Password keep them in the extras.
        headers: dict[str, str] = {}
        for n in (1, 2):
            name = fields.extras.get(f"credential_{n}_header")
            value = fields.extras.get(f"credential_{n}_secret")
            if name in (None, "") and value in (None, ""):
                continue
            # Half a credential is a mistake in the form, not a credential to leave out silently.
            if name in (None, ""):
                raise fields.error(f"credential_{n}_header", f"is empty while credential_{n}_secret is set")
            if value in (None, ""):
                raise fields.error(f"credential_{n}_secret", f"is empty while credential_{n}_header is set")
            header = fields.header_name(name, f"credential_{n}_header")
            if header.lower() in {h.lower() for h in headers}:
                raise fields.error(f"credential_{n}_header", f"{header!r} is already credential 1's header")
            headers[header] = fields.secret(value, f"credential_{n}_secret")
        if not headers:
            raise fields.error(
                "credential_1_header",
                "give at least one credential header and value: the header names in Login, their values in Password",
            )
        return {"credential_headers": headers}

    @classmethod
    def _standard_credentials(cls, fields: ConnectionFields, login: str, password: str) -> dict[str, str]:
        """Header names from Login, their values from Password, both comma-separated in the same order.

        ASSUMPTION: with two headers, neither value holds a comma (onboarding hands over encoded tokens); a
        value that does goes in the extras ``credential_N_header`` / ``credential_N_secret`` instead.
        """
        names_field, values_field = "login (credential header names)", "password (credential values)"
        if not isinstance(login, str) or not login.strip():
            raise fields.error(names_field, "is empty while Password is set; give the header names, e.g. X-Api-Key")
        names = [part.strip() for part in login.split(",")]
        if len(names) > 2:
            raise fields.error(names_field, f"names {len(names)} headers; Lära credentials are one or two headers")
        headers: dict[str, str] = {}
        for name in names:
            header = fields.header_name(name, names_field)
            if header.lower() in {h.lower() for h in headers}:
                raise fields.error(names_field, f"names {header!r} twice")
            headers[header] = ""
        if not isinstance(password, str) or not password:
            raise fields.error(values_field, "is empty; give the value of each header named in Login")
        # One header: the whole password is its value (a comma in it is part of the value).
        values = [password] if len(names) == 1 else [part.strip() for part in password.split(",")]
        if len(values) != len(names):
            raise fields.error(
                values_field,
                f"holds {len(values)} comma-separated values for the {len(names)} header names in Login; give one "
                "value per name, in the same order (a value with a comma in it: use the extras credential_N_secret)",
            )
        for (header, _), value in zip(list(headers.items()), values, strict=True):
            headers[header] = fields.secret(value, values_field)
        stale = sorted(k for k in cls._EXTRA_CREDENTIALS if fields.extras.get(k) not in (None, ""))
        if stale:
            log.warning(
                "connection %r: the credentials in Login and Password are used; the extras %s are ignored",
                fields.conn_id,
                stale,
            )
        return headers


# -- helpers of the hook ----------------------------------------------------------------------------------
def as_status_list(statuses: Any) -> list[Any]:
    """A list of statuses; one status, a string or bytes is not a list (it would be read letter by letter)."""
    if isinstance(statuses, str | bytes | bytearray | Mapping) or not isinstance(statuses, Iterable):
        raise LmsInputError("statuses", f"must be a list of statuses, got {type(statuses).__name__}")
    return list(statuses)


def answer_records(body: Any, *keys: str) -> list[Any]:
    """The records of a list answer: a JSON array, or an object holding one (or a single record)."""
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for key in keys:
            if isinstance(body.get(key), list):
                return list(body[key])
        if body:
            # The document shows a single object where it says "a list of objects".
            return [body]
    return []


def current_status_entry(entries: list[LaraMemberStatus], tz: str) -> LaraMemberStatus | None:
    """The entry ``changecurrentmemberstatus`` would close: the open range that started last."""
    open_entries = [e for e in entries if e.is_open]
    if not open_entries:
        return None
    return max(open_entries, key=lambda e: parse_lara_datetime(e.start_date, tz) if e.start_date else pendulum.now())
