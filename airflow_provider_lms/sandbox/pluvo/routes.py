"""The Pluvo API under ``/pluvo``: the OAuth2 token endpoint and the GraphQL endpoint, as a route table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from airflow_provider_lms.sandbox.pluvo.delivery import deliver_later
from airflow_provider_lms.sandbox.pluvo.errors import AUTH_ERROR_MESSAGE, PluvoError, auth_error_body
from airflow_provider_lms.sandbox.pluvo.rules import apply_time
from airflow_provider_lms.sandbox.pluvo.schema import run_graphql
from airflow_provider_lms.sandbox.pluvo.views import token_json
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["PLUVO_PREFIX", "ROUTES", "PluvoResponses", "create_router"]

PLUVO_PREFIX = "/pluvo"

#: Both paths end in a slash, as Pluvo's do (getting-started-2); without it, ``missing_slash`` answers.
ROUTES: tuple[Route, ...] = (
    Route("POST", "/oauth/token/", "token"),
    Route("POST", "/graphql/", "graphql"),
    Route("POST", "/oauth/token", "missing_slash"),
    Route("POST", "/graphql", "missing_slash"),
)


class PluvoResponses:
    """One thin action per Pluvo endpoint.

    :param state: The Pluvo double's state.
    """

    def __init__(self, state: PluvoState) -> None:
        self.state = state

    async def token(self, request: Request) -> Response:
        form = await request.form()
        scope = str(form.get("scope") or "")
        token = self.state.grant_token(
            str(form.get("grant_type") or ""),
            str(form.get("client_id") or ""),
            str(form.get("client_secret") or ""),
            scope,
        )
        return JSONResponse(token_json(token, self.state.token_lifetime_seconds, scope))

    async def graphql(self, request: Request) -> Response:
        """Authenticate, then parse, validate and execute the request against the published schema."""
        deliver_later(self.state, apply_time(self.state))
        if not self.state.authenticated(request.headers.get("Authorization", "")):
            if self.state.settings.auth_failure == "http_401":
                raise PluvoError(401, AUTH_ERROR_MESSAGE)
            return JSONResponse(auth_error_body())
        query, variables, operation = _graphql_request(await _json_body(request))
        result, executed = run_graphql(self.state, query, variables, operation)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        if executed:
            body["data"] = result.data
        return JSONResponse(body, status_code=200 if executed else self.state.settings.validation_status)

    async def missing_slash(self, request: Request) -> Response:
        """A path without its trailing slash: a 301 to the slash URL (Django's APPEND_SLASH), or a 404."""
        if self.state.settings.missing_slash == "404":
            raise PluvoError(404, "Not Found: the path ends in a slash")
        return RedirectResponse(str(request.url.replace(path=request.url.path + "/")), status_code=301)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise PluvoError(400, "Body is not valid JSON") from None


def _graphql_request(body: Any) -> tuple[str, dict[str, Any], str | None]:
    """``(query, variables, operationName)`` of a GraphQL-over-HTTP body; a 400 when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise PluvoError(400, "Must provide query string.")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise PluvoError(400, "Variables must be an object.")
    operation = body.get("operationName")
    return body["query"], variables, operation if isinstance(operation, str) else None


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The Pluvo API router over the Pluvo part of ``sandbox_state``."""
    responses = PluvoResponses(sandbox_state.platform("pluvo"))
    return build_router(ROUTES, responses, prefix=PLUVO_PREFIX, tags=["pluvo"])
