"""Pluvo's error answers: GraphQL ``errors`` bodies, OAuth2 token errors, and the control routes' own.

Errors *inside* a GraphQL request (validation, a resolver's refusal) are graphql-core's ``GraphQLError``
and come back in the ``errors`` list of the answer; the classes here are answers at the HTTP level.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError

__all__ = ["AUTH_ERROR_CODE", "ControlError", "OAuthError", "PluvoError", "auth_error_body", "render_error"]

# ASSUMPTION: Pluvo publishes no `extensions.code` catalogue; its reference client treats any code containing
# "Auth" as an authentication failure, so the sandbox answers with this one.
AUTH_ERROR_CODE = "AuthenticationError"
#: The message of an authentication failure, in both of its forms.
AUTH_ERROR_MESSAGE = "Unauthorized: send a valid Bearer token from /oauth/token/"


def render_error(status: int, message: str) -> Response:
    """Pluvo's error body is not documented; the sandbox answers in the GraphQL ``errors`` shape."""
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


class PluvoError(SandboxHTTPError):
    """An HTTP error of the GraphQL endpoint (401, 400), in the GraphQL ``errors`` shape.

    :param status: HTTP status code.
    :param message: The message of the one entry in ``errors``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)

    def to_response(self) -> Response:
        return render_error(self.status, self.message)


class OAuthError(SandboxHTTPError):
    """An error of the token endpoint: ``{"error": <code>}`` as OAuth2 (RFC 6749, 5.2) answers it.

    :param status: HTTP status code.
    :param code: The OAuth2 error code, e.g. ``"invalid_client"``.
    """

    def __init__(self, status: int, code: str) -> None:
        super().__init__(status, code)

    def to_response(self) -> Response:
        return JSONResponse({"error": self.message}, status_code=self.status)


class ControlError(SandboxHTTPError):
    """An error of the ``/_sandbox/pluvo`` control routes: ``{"detail": message}``, as FastAPI answers.

    :param status: HTTP status code.
    :param message: What went wrong.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)

    def to_response(self) -> Response:
        return JSONResponse({"detail": self.message}, status_code=self.status)


def auth_error_body() -> dict[str, Any]:
    """An expired, revoked or missing token answered as a GraphQL error (the form with HTTP 200)."""
    return {"data": None, "errors": [{"message": AUTH_ERROR_MESSAGE, "extensions": {"code": AUTH_ERROR_CODE}}]}
