"""Lära's error answers: the cycle error codes 1000-1010 of ``lara-cycles-api.fr.txt`` in one envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError

if TYPE_CHECKING:
    from fastapi.exceptions import RequestValidationError

__all__ = ["ERROR_MESSAGES", "LaraError", "render_error", "render_validation_error"]

# The table "Description des codes d'erreurs de cycle".
ERROR_MESSAGES: dict[int, str] = {
    1000: "Required id",
    1001: "Invalid id",
    1002: "Required memberId",
    1003: "Invalid memberId",
    1004: "Required customFieldAPIName",
    1005: "Invalid customFieldAPIName",
    1006: "A list of statuses must be provided",
    1007: "A status must be provided",
    1008: "Invalid status id",
    1009: "Invalid user",
    1010: "Invalid date",
}


def error_body(status: int, message: str, code: int | None = None) -> JSONResponse:
    """Lära's error body (ASSUMPTION: ``{"isSuccess": false, "ErrorID", "Message"}``)."""
    body: dict[str, Any] = {"isSuccess": False}
    if code is not None:
        body["ErrorID"] = code
    body["Message"] = message
    return JSONResponse(body, status_code=status)


class LaraError(SandboxHTTPError):
    """A Lära error answer.

    :param code: One of the documented 1000-1010, or ``None`` for HTTP-level errors (401, 404, bad JSON).
    :param status: HTTP status code.
    :param message: The message; by default the document's message for ``code``.
    """

    def __init__(self, code: int | None, status: int = 400, message: str | None = None) -> None:
        super().__init__(status, message or ERROR_MESSAGES.get(code or 0, "Error"))
        self.code = code

    def to_response(self) -> Response:
        return error_body(self.status, self.message, self.code)


def render_error(status: int, message: str) -> Response:
    """``ErrorRenderer`` for unknown paths and injected faults."""
    return error_body(status, message)


def render_validation_error(exc: RequestValidationError) -> Response:
    """A request FastAPI could not validate: a plain 400 in Lära's envelope."""
    return error_body(400, "Bad Request")
