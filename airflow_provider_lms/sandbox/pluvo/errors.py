"""Pluvo's error answers: GraphQL ``errors`` bodies, OAuth2 token errors, and the control routes' own."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import SandboxHTTPError

__all__ = ["ControlError", "GraphQLError", "OAuthError", "PluvoError", "render_error"]


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


class GraphQLError(Exception):
    """A request error answered in the GraphQL ``errors`` list, with HTTP 200."""
