"""Query parameters as Eduframe reads them: a value that cannot be used is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from starlette.requests import Request

from airflow_provider_lms.sandbox.eduframe.errors import bad_request

__all__ = [
    "bool_param",
    "date_param",
    "datetime_param",
    "enum_list_param",
    "int_list_param",
    "int_param",
    "list_param",
]


def int_param(request: Request, name: str) -> int | None:
    """An integer parameter; ``None`` when absent or empty."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(name, "is not an integer") from None


def list_param(request: Request, name: str) -> list[str]:
    """Array filters: ``status=a&status=b`` (the spec's form/explode) and Rails' ``status[]=a``."""
    values = request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]")
    return [v for v in values if v != ""]


def int_list_param(request: Request, name: str) -> list[int]:
    """An array filter of integers."""
    try:
        return [int(v) for v in list_param(request, name)]
    except ValueError:
        raise bad_request(name, "is not an integer") from None


def enum_list_param(request: Request, name: str, allowed: Iterable[str]) -> list[str]:
    """An array filter whose values must come from ``allowed``."""
    values = list_param(request, name)
    allowed_set = set(allowed)
    if any(v not in allowed_set for v in values):
        raise bad_request(name, f"must be one of {', '.join(sorted(allowed_set))}")
    return values


def bool_param(request: Request, name: str, default: bool) -> bool:
    """A boolean parameter; ``default`` when absent or empty."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    # The API documents true/false/1/0 for every boolean parameter.
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(name, "is not a boolean")


def date_param(request: Request, name: str) -> date | None:
    """A date parameter (a date-time is cut to its date)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise bad_request(name, "is not a date") from None


def datetime_param(request: Request, name: str, default_tz: tzinfo | None) -> datetime | None:
    """An ISO 8601 date-time parameter (``Z`` allowed); one without offset is taken in ``default_tz``."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(name, "is not a date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment
