"""Settings of the HTTP core, read from a connection and validated before any request is sent."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from airflow_provider_lms.http.errors import LmsInputError

__all__ = ["ClientSettings", "validate_base_url"]


def validate_base_url(value: str, *, field: str = "base_url") -> str:
    """Return ``value`` without a trailing slash, or raise :class:`LmsInputError` naming ``field``.

    A URL without a scheme (``api.eduframe.nl/api/v1``) is the most common typo in a connection form;
    httpx would otherwise treat it as a relative path and fail deep inside the transport.
    """
    text = (value or "").strip()
    if not text:
        raise LmsInputError(field, "is empty; give a URL such as https://api.example.com")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise LmsInputError(field, f"{text!r} has no http:// or https:// scheme")
    if not parts.hostname:
        raise LmsInputError(field, f"{text!r} has no host name")
    if parts.query or parts.fragment:
        raise LmsInputError(field, f"{text!r} must not contain a query string or fragment")
    return text.rstrip("/")


def _airflow_shared_limit_url() -> str | None:
    """The deployment-wide ``[lms] shared_limit_url`` Airflow setting, when Airflow is there to ask."""
    if "airflow.configuration" not in sys.modules:
        return None  # no Airflow loaded here (benchmarks, plain scripts): importing it only for this costs seconds
    from airflow.configuration import conf

    value = conf.get("lms", "shared_limit_url", fallback=None)
    return str(value) if value else None


class ClientSettings(BaseModel):
    """How the HTTP core talks to one platform; every value can be overridden per connection.

    :param base_url: the platform's API root, with scheme; paths are joined onto it.
    :param timeout: seconds to wait for connect, read, write and pool each (default 30).
    :param connect_timeout: seconds to wait for a TCP/TLS connect (default 10).
    :param max_retries: how many times a failed request is sent again (default 6).
    :param max_retry_wait: the most seconds all retries of one request may wait in total (default 120).
    :param backoff_base: the first backoff step in seconds; it doubles per attempt, with full jitter.
    :param backoff_max: the longest single backoff in seconds.
    :param rate_limit_requests: at most this many requests ...
    :param rate_limit_period: ... per this many seconds, counted client-side per connection; ``None``
        switches the client-side limit off.
    :param max_connections: size of the connection pool.
    :param verify_ssl: verify TLS certificates (keep on outside tests).
    :param request_deadline: the most seconds one attempt of a request may take in all (connect, send, the
        whole answer), however the bytes trickle in; ``timeout`` bounds each single read (default 120).
    :param max_response_bytes: the largest answer read, in bytes after decompression; reading stops there
        with :class:`~airflow_provider_lms.http.errors.LmsResponseTooLargeError` (default 20 MiB).
    :param circuit_failures: in a bulk run, this many connection failures in a row (refused, unresolvable,
        timed out) open the run's circuit: the items not tried yet are marked ``not_attempted`` (default 5).
    :param max_rate_limit_wait: the most seconds all the waits after 429 answers of one request may take in
        total. Default: the larger of ``max_retry_wait`` and 1.5 client-side windows (``rate_limit_period``),
        so that a task that starts after another spent the platform's window waits it out instead of failing.
    :param max_rate_limit_retries: how many 429 answers one request may get before it fails (default 20); a
        429 is counted apart from ``max_retries``, since the platform did nothing with the request.
    :param shared_limit_url: a Redis URL (``redis://host:6379/0``): the rate limit, the pause a 429 asks for
        and a bulk run's circuit are then shared by every task, worker and triggerer that uses this
        connection (:mod:`airflow_provider_lms.http.shared`). Default: the Airflow setting
        ``[lms] shared_limit_url`` (``AIRFLOW__LMS__SHARED_LIMIT_URL``), else none (per process).
    :param rate_limit_slack: seconds added to the client-side window, for the spread between our send time
        and the platform's receipt (default 0.25); raise it when the platform's answers are slow and uneven.
    :param shared_trip_ttl: seconds a shared circuit trip is remembered, so that a task retry after the
        outage starts closed (default 60).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    timeout: float = Field(30.0, gt=0, le=600)
    connect_timeout: float = Field(10.0, gt=0, le=600)
    max_retries: int = Field(6, ge=0, le=50)
    max_retry_wait: float = Field(120.0, ge=0, le=3600)
    backoff_base: float = Field(0.5, ge=0, le=60)
    backoff_max: float = Field(30.0, ge=0, le=600)
    rate_limit_requests: int | None = Field(None, ge=1)
    rate_limit_period: float = Field(1.0, gt=0, le=86400)
    max_connections: int = Field(32, ge=1, le=1000)
    verify_ssl: bool = True
    # ASSUMPTION: no platform documents how long an answer may take or how large it may be; 120 s and
    # 20 MiB are far above any answer the documented endpoints give (a page of records, one SOAP result)
    # and low enough that a hung or hostile answer ends. Both are connection extras.
    request_deadline: float = Field(120.0, gt=0, le=3600)
    max_response_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=2**31)
    # ASSUMPTION: five consecutive connection failures with no answer in between is an outage, not a blip
    # (the fault storms see at most two in a row at 30 % faults); configurable per connection.
    circuit_failures: int = Field(5, ge=1, le=1000)
    max_rate_limit_wait: float | None = Field(None, ge=0, le=86400)
    max_rate_limit_retries: int = Field(20, ge=0, le=1000)
    rate_limit_slack: float = Field(0.25, ge=0, le=60)
    shared_limit_url: str | None = None
    # ASSUMPTION: Airflow's default retry_delay is 300 s; a trip remembered for 60 s stops the other tasks of
    # an outage and is gone before a retry starts.
    shared_trip_ttl: float = Field(60.0, ge=1, le=86400)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return validate_base_url(value)

    @field_validator("shared_limit_url")
    @classmethod
    def _check_shared_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from airflow_provider_lms.http.shared import validate_shared_url

        return validate_shared_url(value)

    @property
    def rate_limit_budget(self) -> float:
        """The most seconds the 429 waits of one request may take (see ``max_rate_limit_wait``)."""
        if self.max_rate_limit_wait is not None:
            return self.max_rate_limit_wait
        window = 1.5 * self.rate_limit_period if self.rate_limit_requests else 0.0
        return max(self.max_retry_wait, window)

    @classmethod
    def from_values(cls, base_url: str, overrides: dict[str, Any], defaults: dict[str, Any]) -> ClientSettings:
        """Build settings from a connection's extras over platform defaults.

        Empty strings and ``None`` in ``overrides`` mean "not set" (the Airflow form stores blank fields
        that way). Errors name the connection field.
        """
        values: dict[str, Any] = dict(defaults)
        for key in cls.model_fields:
            if key == "base_url":
                continue
            raw = overrides.get(key)
            if raw is not None and raw != "":
                values[key] = raw
        values["base_url"] = base_url
        if not values.get("shared_limit_url"):
            values["shared_limit_url"] = _airflow_shared_limit_url()
        try:
            return cls(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "connection"
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, LmsInputError):
                raise cause from None
            raise LmsInputError(field, f"{err['msg']} (got {err.get('input')!r})") from None
