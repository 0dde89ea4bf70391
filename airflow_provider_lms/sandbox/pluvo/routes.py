"""The Pluvo API under ``/pluvo``: the OAuth2 token endpoint and the GraphQL endpoint, as a route table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox.pluvo.errors import PluvoError
from airflow_provider_lms.sandbox.pluvo.graphql import execute
from airflow_provider_lms.sandbox.pluvo.state import TOKEN_LIFETIME_SECONDS
from airflow_provider_lms.sandbox.pluvo.views import token_json
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["API_ROUTES", "PLUVO_PREFIX", "ROUTES", "TOKEN_ROUTES", "PluvoResponses", "create_router"]

PLUVO_PREFIX = "/pluvo"

#: Open to anyone: where a client gets its token. Both paths end in a slash, as Pluvo's do (FACTS.md).
TOKEN_ROUTES: tuple[Route, ...] = (Route("POST", "/oauth/token/", "token"),)
#: Behind a Bearer token.
API_ROUTES: tuple[Route, ...] = (Route("POST", "/graphql/", "graphql"),)
ROUTES: tuple[Route, ...] = TOKEN_ROUTES + API_ROUTES


class PluvoResponses:
    """One thin action per Pluvo endpoint.

    :param state: The Pluvo double's state.
    """

    def __init__(self, state: PluvoState) -> None:
        self.state = state

    async def require_bearer(self, request: Request) -> None:
        """The dependency of every API route: a 401 in the GraphQL ``errors`` shape without a valid token."""
        self.state.authenticate(request.headers.get("Authorization", ""))

    async def token(self, request: Request) -> Response:
        form = await request.form()
        scope = str(form.get("scope") or "")
        token = self.state.grant_token(
            str(form.get("grant_type") or ""),
            str(form.get("client_id") or ""),
            str(form.get("client_secret") or ""),
            scope,
        )
        return JSONResponse(token_json(token, TOKEN_LIFETIME_SECONDS, scope))

    async def graphql(self, request: Request) -> Response:
        query, variables = _graphql_request(await _json_body(request))
        return JSONResponse(execute(self.state, query, variables))


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise PluvoError(400, "Body is not valid JSON") from None


def _graphql_request(body: Any) -> tuple[str, dict[str, Any]]:
    """``(query, variables)`` of a GraphQL-over-HTTP body; a 400 when it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise PluvoError(400, "Must provide query string.")
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise PluvoError(400, "Variables must be an object.")
    return body["query"], variables


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The Pluvo API router over the Pluvo part of ``sandbox_state``."""
    responses = PluvoResponses(sandbox_state.platform("pluvo"))
    router = APIRouter()
    router.include_router(build_router(TOKEN_ROUTES, responses, prefix=PLUVO_PREFIX, tags=["pluvo"]))
    router.include_router(
        build_router(
            API_ROUTES, responses, prefix=PLUVO_PREFIX, tags=["pluvo"], dependencies=[Depends(responses.require_bearer)]
        )
    )
    return router
