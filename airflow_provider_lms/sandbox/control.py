"""The sandbox's own control API under ``/_sandbox`` (no auth, never faulted, never logged).

Tests and demos use it to reset data, switch faults on, read the request log and move the platforms'
state forward (a learner starts or finishes) without a human.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, iso_timestamp
from airflow_provider_lms.sandbox.eduframe import AutoProgress, EduframeSeed
from airflow_provider_lms.sandbox.faults import FaultConfig

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState


class RateLimitBody(BaseModel):
    """``PUT /_sandbox/eduframe/rate_limit``."""

    model_config = ConfigDict(extra="forbid")

    max_requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class CompleteBody(BaseModel):
    """``POST /_sandbox/eduframe/enrollments/{id}/complete``."""

    model_config = ConfigDict(extra="forbid")

    graduation_state: Literal["passed", "failed", "awaiting_judgement"] = "passed"


class AutoProgressBody(BaseModel):
    """``PUT /_sandbox/eduframe/auto_progress``; ``complete_after_seconds: null`` switches it off."""

    model_config = ConfigDict(extra="forbid")

    complete_after_seconds: float | None = Field(default=None, ge=0)
    graduation_state: Literal["passed", "failed", "awaiting_judgement"] = "passed"


class SeedEnrollmentsBody(BaseModel):
    """``POST /_sandbox/eduframe/seed_enrollments`` (benchmarks: many enrollments without many orders)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=2_000_000)
    planned_course_id: int = EduframeSeed.FIRST_AID_FLEXIBLE_PLANNED_COURSE_ID
    student_ids: list[int] = Field(default_factory=lambda: list(EduframeSeed.LEARNER_IDS), min_length=1)


class ClockAdvanceBody(BaseModel):
    """``POST /_sandbox/clock/advance``."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0)


def create_control_router(state: SandboxState) -> APIRouter:
    """Build the ``/_sandbox`` router.

    :param state: The shared sandbox state.
    """
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])
    ef = state.eduframe

    def _clock() -> dict[str, Any]:
        return {"now": iso_timestamp(state.now()), "offset_seconds": state.clock_offset.total_seconds()}

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
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

    # -- eduframe ----------------------------------------------------------------------------------

    @router.get("/eduframe/state")
    async def eduframe_state() -> dict[str, Any]:
        return ef.summary()

    @router.get("/eduframe/rate_limit")
    async def get_rate_limit() -> dict[str, Any]:
        return {"max_requests": ef.limiter.max_requests, "per_seconds": ef.limiter.per_seconds}

    @router.put("/eduframe/rate_limit")
    async def put_rate_limit(body: RateLimitBody) -> dict[str, Any]:
        ef.limiter.configure(body.max_requests, body.per_seconds)
        return {"max_requests": ef.limiter.max_requests, "per_seconds": ef.limiter.per_seconds}

    @router.post("/eduframe/enrollments/{enrollment_id}/complete")
    async def complete_enrollment(enrollment_id: int, body: CompleteBody | None = None) -> JSONResponse:
        graduation_state = body.graduation_state if body is not None else "passed"
        enrollment = ef.set_enrollment_status(enrollment_id, "completed", graduation_state)
        return JSONResponse(ef.enrollment_json(enrollment))

    @router.post("/eduframe/enrollments/{enrollment_id}/start")
    async def start_enrollment(enrollment_id: int) -> JSONResponse:
        enrollment = ef.set_enrollment_status(enrollment_id, "active")
        return JSONResponse(ef.enrollment_json(enrollment))

    @router.post("/eduframe/seed_enrollments")
    async def seed_enrollments(body: SeedEnrollmentsBody) -> dict[str, Any]:
        ids = ef.seed_enrollments(body.count, body.planned_course_id, body.student_ids)
        return {"count": len(ids), "first_id": ids[0], "last_id": ids[-1]}

    @router.get("/eduframe/auto_progress")
    async def get_auto_progress() -> dict[str, Any]:
        rule = ef.auto_progress
        if rule is None:
            return {"complete_after_seconds": None, "graduation_state": "passed"}
        return {"complete_after_seconds": rule.complete_after_seconds, "graduation_state": rule.graduation_state}

    @router.put("/eduframe/auto_progress")
    async def put_auto_progress(body: AutoProgressBody) -> dict[str, Any]:
        if body.complete_after_seconds is None:
            ef.auto_progress = None
        else:
            ef.auto_progress = AutoProgress(body.complete_after_seconds, body.graduation_state)
            ef.apply_auto_progress()
        return body.model_dump()

    return router
