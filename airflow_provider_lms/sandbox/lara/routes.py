"""The ``lmsapi`` cycle methods: every one is ``POST /lara/lmsapi/cycle/<method>`` with a JSON body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox.lara.errors import LaraError
from airflow_provider_lms.sandbox.lara.seed import LARA_CREDENTIALS
from airflow_provider_lms.sandbox.lara.views import OK, cycle_json, period_json, progress_json, statuses_json
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.lara.state import LaraState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["LARA_PREFIX", "ROUTES", "LaraResponses", "create_router"]

LARA_PREFIX = "/lara"

ROUTES: tuple[Route, ...] = (
    Route("POST", "/getlist", "getlist"),
    Route("POST", "/getperiodlist", "getperiodlist"),
    Route("POST", "/getuserprogress", "getuserprogress"),
    Route("POST", "/getmemberstatuses", "getmemberstatuses"),
    Route("POST", "/updatememberstatuses", "updatememberstatuses"),
    Route("POST", "/updatememberstatus", "updatememberstatus"),
    Route("POST", "/changecurrentmemberstatus", "changecurrentmemberstatus"),
)


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise LaraError(None, 400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise LaraError(None, 400, "The body must be a JSON object")
    return body


async def _check_credentials(request: Request) -> None:
    for name, value in LARA_CREDENTIALS.items():
        if request.headers.get(name) != value:
            raise LaraError(None, 401, "Unauthorized: missing or invalid API credentials")


class LaraResponses:
    """One thin method per cycle method: read the JSON body, call the state, render the answer.

    :param lara: The Lära state the methods read and change.
    """

    def __init__(self, lara: LaraState) -> None:
        self.lara = lara

    async def getlist(self, request: Request) -> JSONResponse:
        await _json_body(request)  # the request is {}, but a malformed body is still refused
        return JSONResponse([cycle_json(c) for c in self.lara.list_cycles()])

    async def getperiodlist(self, request: Request) -> JSONResponse:
        periods = self.lara.get_period_list(await _json_body(request))
        return JSONResponse([period_json(p) for p in periods])

    async def getuserprogress(self, request: Request) -> JSONResponse:
        return JSONResponse(progress_json(self.lara.get_user_progress(await _json_body(request))))

    async def getmemberstatuses(self, request: Request) -> JSONResponse:
        return JSONResponse(statuses_json(self.lara.get_member_statuses(await _json_body(request))))

    async def updatememberstatuses(self, request: Request) -> JSONResponse:
        self.lara.update_member_statuses(await _json_body(request))
        return JSONResponse(OK)

    async def updatememberstatus(self, request: Request) -> JSONResponse:
        self.lara.update_member_status(await _json_body(request))
        return JSONResponse(OK)

    async def changecurrentmemberstatus(self, request: Request) -> JSONResponse:
        self.lara.change_current_member_status(await _json_body(request))
        return JSONResponse(OK)


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The ``lmsapi`` router over the sandbox's Lära state."""
    return build_router(
        ROUTES,
        LaraResponses(sandbox_state.platform("lara")),
        prefix=f"{LARA_PREFIX}/lmsapi/cycle",
        tags=["lara"],
        dependencies=[Depends(_check_credentials)],
    )
