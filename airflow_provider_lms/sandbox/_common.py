"""Small pieces shared by the sandbox platforms, the middlewares and the app factory.

This module, like every generic module of the sandbox, names no platform: each platform package
(``sandbox/<platform>/``) describes itself in a :class:`PlatformMount` and the app hangs it in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

if TYPE_CHECKING:
    from fastapi import APIRouter
    from fastapi.exceptions import RequestValidationError

    from airflow_provider_lms.sandbox.state import SandboxState

#: Every path under this prefix belongs to the sandbox itself: no auth, no faults, not logged.
CONTROL_PREFIX = "/_sandbox"

#: Renders a platform's own error body for ``(status, message)``; used by exception handlers and by
#: the fault middleware, which must answer in the platform's dialect without calling the platform.
ErrorRenderer = Callable[[int, str], Response]


class SandboxHTTPError(Exception):
    """An error a sandbox platform answers with; each platform subclasses it to render its own body.

    :param status: HTTP status code.
    :param message: Human-readable message.
    :param headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def to_response(self) -> Response:
        """Render the error; platforms override this with their own body format."""
        return Response(
            content=self.message,
            status_code=self.status,
            headers=self.headers,
            media_type="text/plain",
        )


@dataclass(frozen=True)
class PlatformMount:
    """How one platform is hung into the sandbox app: one entry in ``app.PLATFORMS`` per platform.

    :param name: Short platform name, the name of its package under ``sandbox/``.
    :param prefix: URL prefix the platform's router is mounted under, e.g. ``"/<name>/api/v1"``.
    :param router_factory: Builds the platform's ``APIRouter`` from the shared ``SandboxState``.
    :param render_error: Renders the platform's error body; used for 404/405 on unknown paths and by the
        fault middleware for injected 429/5xx answers.
    :param render_validation_error: Optional; turns FastAPI's request-validation error into the
        platform's own error answer. Without it a 422 from ``render_error`` is used.
    :param state_factory: Builds the platform's state (with ``reset()``) from the sandbox clock; it is then
        reachable as ``SandboxState.platform(<name>)`` (or ``SandboxState.<name>``).
    :param control_router_factory: Optional extra control routes (mounted under ``/_sandbox``; use paths
        starting with ``/<name>/``) to move the platform's state forward in tests and demos.
    :param connection_factory: Returns the Airflow connection (as the JSON dict ``AIRFLOW_CONN_*`` takes)
        that points at this platform in a sandbox whose root URL is given.
    :param conn_id: The connection id the example DAGs use for this platform.
    :param webhook_scheme: How this platform signs and retries the webhooks it sends, if it sends any
        (``WebhookSender(<name>, secret)`` uses it).
    """

    name: str
    prefix: str
    router_factory: Callable[[SandboxState], APIRouter]
    render_error: ErrorRenderer
    render_validation_error: Callable[[RequestValidationError], Response] | None = None
    state_factory: Callable[[Callable[[], datetime]], Any] | None = None
    control_router_factory: Callable[[SandboxState], APIRouter] | None = None
    connection_factory: Callable[[str], dict[str, Any]] | None = None
    conn_id: str | None = None
    webhook_scheme: WebhookScheme | None = None


@dataclass(frozen=True)
class WebhookScheme:
    """How a platform signs its webhook deliveries and which answers make it try again.

    :param sign: ``(body, secret) -> headers`` that carry the signature (and any salt) for ``body``.
    :param retryable: Whether a delivery that got this status (``None``: no answer) is tried again.
    :param gone_status: The status with which a receiver ends the subscription, if the platform has one.
    """

    sign: Callable[[bytes, str], dict[str, str]]
    retryable: Callable[[int | None], bool]
    gone_status: int | None = None


def iso_timestamp(moment: datetime) -> str:
    """Format a timestamp as ISO 8601 in UTC with milliseconds: ``yyyy-MM-ddTHH:mm:ss.SSSZ``."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_date(day: date | None) -> str | None:
    """Format a date as ``YYYY-MM-DD`` (or pass ``None`` through)."""
    return day.isoformat() if day is not None else None


def utc_now() -> datetime:
    """The wall clock in UTC; the sandbox clock adds its offset to this."""
    return datetime.now(timezone.utc)
