"""The sandbox's own control API under ``/_sandbox`` (no auth, never faulted, never logged).

Tests and demos use it to reset data, switch faults on, read the request log and move the clock. Each
platform adds its own control routes (a learner starts or finishes) under ``/_sandbox/<platform>/``
through its mount's ``control_router_factory``.

A reset brings back the seeded data and every default; what the sandbox was *started* with (such as
``--auto-progress``) comes back through ``after_reset``, so a reset never switches it off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, iso_timestamp
from airflow_provider_lms.sandbox.faults import FaultConfig

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState


class ClockAdvanceBody(BaseModel):
    """``POST /_sandbox/clock/advance``."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0)


def create_control_router(
    state: SandboxState, *, after_reset: Callable[[], Awaitable[object]] | None = None
) -> APIRouter:
    """Build the ``/_sandbox`` router.

    :param state: The shared sandbox state.
    :param after_reset: Awaited after every ``POST /_sandbox/reset``: re-applies the settings the
        sandbox was started with.
    """
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

    def _clock() -> dict[str, Any]:
        return {"now": iso_timestamp(state.now()), "offset_seconds": state.clock_offset.total_seconds()}

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        if after_reset is not None:
            await after_reset()
        return {"reset": True}

    # -- faults ------------------------------------------------------------------------------------

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return state.faults.snapshot()

    @router.put("/faults")
    async def put_faults(body: FaultConfig) -> dict[str, Any]:
        state.faults.configure(body)
        return state.faults.snapshot()

    @router.delete("/faults")
    async def delete_faults() -> dict[str, Any]:
        state.faults.disable()
        return state.faults.snapshot()

    # -- request log -------------------------------------------------------------------------------

    @router.get("/requests")
    async def get_requests(path_prefix: str | None = None, method: str | None = None) -> JSONResponse:
        # A plain list, oldest first; how many entries the bounded log already dropped goes in a header.
        entries = state.request_log.entries(path_prefix=path_prefix, method=method)
        return JSONResponse(entries, headers={"X-Sandbox-Log-Evicted": str(state.request_log.evicted)})

    @router.delete("/requests")
    async def delete_requests() -> dict[str, Any]:
        state.request_log.clear()
        return {"cleared": True}

    # -- clock -------------------------------------------------------------------------------------

    @router.get("/clock")
    async def get_clock() -> dict[str, Any]:
        return _clock()

    @router.post("/clock/advance")
    async def advance_clock(body: ClockAdvanceBody) -> dict[str, Any]:
        state.advance_clock(body.seconds)
        return _clock()

    return router
