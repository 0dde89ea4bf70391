"""Eduframe's error answers: ``{"errors": {...}, "code": <status>, "message": "..."}`` for every status."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError

__all__ = ["EduframeError", "bad_request", "invalid", "not_found", "render_error", "render_validation_error"]


def render_error(
    status: int,
    message: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Eduframe's error body: ``{"errors": {...}, "code": <status>, "message": "..."}``.

    It is also the mount's ``render_error`` (called with status and message only) for the app's 404/405
    answers and the fault middleware.
    """
    return JSONResponse(
        {"errors": errors or {}, "code": status, "message": message},
        status_code=status,
        headers=headers,
    )


class EduframeError(SandboxHTTPError):
    """An error answered in Eduframe's format.

    :param status: HTTP status code.
    :param message: Human-readable message.
    :param errors: Field errors, ``{field: ["message", ...]}`` (422 validation errors).
    :param headers: Extra headers, e.g. ``Retry-After`` on 429.
    """

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers)
        self.errors = errors or {}

    def to_response(self) -> Response:
        """Render as Eduframe's JSON error body."""
        return render_error(self.status, self.message, self.errors, self.headers)


def not_found(kind: str, record_id: object) -> EduframeError:
    """404 in the Rails wording: ``Couldn't find <kind> with 'id'=<id>``."""
    return EduframeError(404, f"Couldn't find {kind} with 'id'={record_id}")


def invalid(errors: dict[str, list[str]]) -> EduframeError:
    """422 with field errors."""
    return EduframeError(422, "Validation failed", errors)


def bad_request(name: str, problem: str = "is invalid") -> EduframeError:
    """400 for a query parameter ``name`` that cannot be used."""
    return EduframeError(400, f"Bad Request: parameter {name} {problem}", {name: [problem]})


def render_validation_error(exc: RequestValidationError) -> Response:
    """Map FastAPI's validation error onto Eduframe's answers.

    A malformed path id is a 404 (no such record), a bad query parameter or unparsable JSON a 400, and a
    body that parses but breaks the schema a 422 with ``errors`` keyed by field name.
    """
    errors: dict[str, list[str]] = {}
    status = 422
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        where = loc[0] if loc else "body"
        if where == "path":
            return render_error(404, "Not Found")
        kind = err.get("type", "")
        if where in ("query", "header") or kind == "json_invalid" or (where == "body" and len(loc) == 1):
            status = 400
        # A JSON syntax error's loc holds a character offset, not a field.
        name = str(loc[1]) if len(loc) > 1 and kind != "json_invalid" else "base"
        message = "can't be blank" if kind == "missing" else str(err.get("msg", "is invalid"))
        errors.setdefault(name, []).append(message)
    return render_error(status, "Validation failed" if status == 422 else "Bad Request", errors)
