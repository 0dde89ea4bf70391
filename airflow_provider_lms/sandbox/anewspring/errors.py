"""aNewSpring's error answers: plain text (FACTS.md), or a JSON object when the caller sent ``_formatErrors=true``."""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse, Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError

__all__ = ["ANewSpringError", "render_error", "render_plain_error"]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def render_error(status: int, message: str, *, formatted: bool = False) -> Response:
    """Plain text by default (FACTS.md); with ``_formatErrors=true`` a JSON object.

    # ASSUMPTION: the formatted body is ``{"code": <status>, "error": "<reason>", "message": "..."}``; the
    # document does not show it.
    """
    if formatted:
        body = {"code": status, "error": _REASONS.get(status, "Error"), "message": message}
        return JSONResponse(body, status_code=status)
    return PlainTextResponse(message, status_code=status)


def render_plain_error(status: int, message: str) -> Response:
    """The mount's renderer (unknown paths, injected faults): no request to ask for the formatted form."""
    return render_error(status, message)


class ANewSpringError(SandboxHTTPError):
    """An error answer of the aNewSpring API.

    The API's dispatcher catches it and renders it in the form the request asked for; rendered on its own
    (:meth:`to_response`) it is plain text.

    :param status: HTTP status code.
    :param message: The message, e.g. ``"Not Found: no user with ID 'x'"``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)

    def to_response(self, *, formatted: bool = False) -> Response:
        """Render the error, as JSON when ``formatted``."""
        return render_error(self.status, self.message, formatted=formatted)
