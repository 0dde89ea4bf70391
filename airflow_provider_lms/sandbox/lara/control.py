"""Control routes under ``/_sandbox/lara``: read the state, end a period on demand, set a member's credits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from airflow_provider_lms.sandbox.lara.records import Credits
from airflow_provider_lms.sandbox.lara.views import period_with_end_json, state_summary

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.lara.state import LaraState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["PeriodEndBody", "ProgressBody", "create_control_router"]


class PeriodEndBody(BaseModel):
    """``POST /_sandbox/lara/period_end``: make a period end ``seconds`` from now (negative: ended)."""

    model_config = ConfigDict(extra="forbid")

    cyclePeriodId: str
    seconds: float


class ProgressBody(BaseModel):
    """``PUT /_sandbox/lara/progress``."""

    model_config = ConfigDict(extra="forbid")

    cyclePeriodId: str
    userId: str
    completedCredits: float = 0.0
    exemptedCredits: float = 0.0
    providerCredits: float = 0.0


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """Control routes under ``/_sandbox/lara``."""
    router = APIRouter(tags=["sandbox control"])
    lara: LaraState = sandbox_state.platform("lara")

    @router.get("/lara/state")
    async def lara_state() -> dict[str, Any]:
        return state_summary(lara)

    @router.post("/lara/period_end")
    async def lara_period_end(body: PeriodEndBody) -> dict[str, Any]:
        return period_with_end_json(lara, lara.move_period_end(body.cyclePeriodId, body.seconds))

    @router.put("/lara/progress")
    async def lara_progress(body: ProgressBody) -> dict[str, Any]:
        credits = Credits(body.completedCredits, body.exemptedCredits, body.providerCredits)
        lara.set_progress(body.cyclePeriodId, body.userId, credits)
        return body.model_dump()

    return router
