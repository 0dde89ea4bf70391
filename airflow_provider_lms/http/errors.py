"""One exception hierarchy for every platform.

Every error carries what a DAG author needs to act on it (HTTP status, the platform's own code and
message, field errors) and never what would leak a credential: no headers, no query strings, no bodies
that echo the request.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "LmsAuthenticationError",
    "LmsCapabilityError",
    "LmsCircuitOpenError",
    "LmsConflictError",
    "LmsError",
    "LmsInputError",
    "LmsNotFoundError",
    "LmsPermissionError",
    "LmsRateLimitedError",
    "LmsResponseTooLargeError",
    "LmsServerError",
    "LmsTransportError",
    "LmsValidationError",
    "error_class_for_status",
    "may_heal",
]


class LmsError(Exception):
    """Base class of every error this provider raises about a platform call.

    :param message: a readable sentence about what went wrong.
    :param status: the HTTP status, when there was a response.
    :param code: the platform's own error code (e.g. Lära's ``1003``), when it sent one.
    :param platform_message: the platform's own message, as it sent it.
    :param platform: the platform's name, e.g. ``"Eduframe"``.
    :param method: the HTTP method of the failed call.
    :param path: the URL path of the failed call (never the query string, which may hold a key).
    :param field_errors: the platform's per-field validation messages.
    """

    #: Set by the circuit breaker on the one error that opened a bulk run's circuit (see ``http/breaker.py``).
    opened_circuit: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        platform_message: str | None = None,
        platform: str | None = None,
        method: str | None = None,
        path: str | None = None,
        field_errors: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.platform_message = platform_message
        self.platform = platform
        self.method = method
        self.path = path
        self.field_errors = field_errors or {}
        super().__init__(self._render())

    def _render(self) -> str:
        where = " ".join(p for p in (self.method, self.path) if p)
        parts = [f"{self.platform}: " if self.platform else "", self.message]
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code is not None and self.code != self.status:
            details.append(f"code {self.code}")
        if where:
            details.append(where)
        if details:
            parts.append(f" ({', '.join(details)})")
        if self.platform_message and self.platform_message != self.message:
            parts.append(f": {self.platform_message}")
        if self.field_errors:
            fields = "; ".join(f"{k}: {v}" for k, v in self.field_errors.items())
            parts.append(f" [fields: {fields}]")
        return "".join(parts)

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed."""
        return False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary, for bulk outcomes and XCom."""
        return {
            "error": type(self).__name__,
            "message": str(self),
            "status": self.status,
            "code": self.code,
        }


class LmsInputError(LmsError, ValueError):
    """The caller's input is invalid; raised before any request is sent.

    :param field: the name of the offending field, as the DAG author wrote it.
    :param message: what is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"invalid {field}: {message}")


class LmsCapabilityError(LmsError):
    """The platform behind the connection cannot do what the operator asks."""


class LmsAuthenticationError(LmsError):
    """The platform rejected the credentials (HTTP 401)."""


class LmsPermissionError(LmsError):
    """The credentials are valid but lack a permission or scope (HTTP 403)."""


class LmsNotFoundError(LmsError):
    """The addressed record does not exist (HTTP 404)."""


class LmsConflictError(LmsError):
    """The request conflicts with the current state, e.g. a duplicate (HTTP 409)."""


class LmsValidationError(LmsError):
    """The platform rejected the request's content (HTTP 400, 412, 422); see ``field_errors``."""


class LmsRateLimitedError(LmsError):
    """The platform's rate limit was hit and retries were exhausted (HTTP 429).

    :param retry_after: seconds the platform asked to wait, if it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    @property
    def retryable(self) -> bool:
        return True


class LmsServerError(LmsError):
    """The platform failed (HTTP 5xx). The request may or may not have been carried out."""

    @property
    def retryable(self) -> bool:
        return self.status in (500, 502, 503, 504) or self.status is None


class LmsTransportError(LmsError):
    """The request did not complete: connection refused or dropped, timeout, malformed answer.

    :param sent: False when the request certainly never reached the platform (connect errors), so
        even a request that creates something can be sent again.
    :param kind: what went wrong, for the circuit breaker and for waits: ``"refused"`` (no connection),
        ``"dns"`` (the host name does not exist), ``"timeout"`` (a connect, read or write timeout, or the
        request's total deadline), ``"dropped"`` (the connection broke mid-exchange), ``"malformed"`` (an
        answer the parser could not read), ``"too_large"``, or ``"other"``.
    """

    def __init__(self, message: str, *, sent: bool = True, kind: str = "other", **kwargs: Any) -> None:
        self.sent = sent
        self.kind = kind
        super().__init__(message, **kwargs)

    @property
    def retryable(self) -> bool:
        return True


class LmsResponseTooLargeError(LmsTransportError):
    """The answer was larger than the connection's ``max_response_bytes``; reading stopped at the limit.

    Never retried: the same request would bring the same answer (and download it again).

    :param limit: the limit in bytes.
    """

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(message, kind="too_large", **kwargs)

    @property
    def retryable(self) -> bool:
        return False


class LmsCircuitOpenError(LmsError):
    """A bulk run's circuit is open: the platform is unreachable or refuses the credentials, so this
    request was not sent. The items not tried are redone by a retry of the task.

    :param trip: what opened the circuit, one readable line.
    """

    def __init__(self, trip: str, **kwargs: Any) -> None:
        self.trip = trip
        super().__init__(f"not sent: {trip}", **kwargs)


_BY_STATUS: dict[int, type[LmsError]] = {
    400: LmsValidationError,
    401: LmsAuthenticationError,
    403: LmsPermissionError,
    404: LmsNotFoundError,
    409: LmsConflictError,
    412: LmsValidationError,
    422: LmsValidationError,
    429: LmsRateLimitedError,
}


def error_class_for_status(status: int) -> type[LmsError]:
    """The exception class that stands for an HTTP error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return LmsServerError
    return LmsError


#: Transport failures that waiting does not fix: a host name that does not exist.
_DNS_FINAL_KINDS = frozenset({"dns"})


def may_heal(exc: BaseException) -> bool:
    """Whether waiting may fix ``exc``: the rule sensors and triggers ride out outages by.

    Heals: refused connections, timeouts, dropped connections, malformed answers (a maintenance page),
    5xx and 429. Does not heal: 401, 403, 404, other 4xx, a host name that does not resolve, an answer over
    the size limit, bad input, a capability the platform lacks.
    """
    if isinstance(exc, LmsTransportError):
        return exc.retryable and exc.kind not in _DNS_FINAL_KINDS
    return isinstance(exc, LmsRateLimitedError | LmsServerError)
