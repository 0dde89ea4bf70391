"""Eduframe's control routes, mounted under ``/_sandbox``: rate limit, completions, auto-progress, seeds.

Tests and demos use them to move the double forward without waiting (``/_sandbox/eduframe/...``); they
need no key and are neither rate-limited nor faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox.eduframe import rules, views
from airflow_provider_lms.sandbox.eduframe.seed import EduframeSeed
from airflow_provider_lms.sandbox.eduframe.state import EduframeState

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["AutoProgressBody", "CompleteBody", "RateLimitBody", "SeedEnrollmentsBody", "create_control_router"]


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


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """Eduframe's control routes (paths under ``/eduframe/``), mounted under ``/_sandbox`` by the app.

    :param sandbox_state: The shared sandbox state.
    """
    router = APIRouter(tags=["sandbox control: eduframe"])
    ef: EduframeState = sandbox_state.platform("eduframe")

    @router.get("/eduframe/state")
    async def eduframe_state() -> dict[str, Any]:
        ef.apply_auto_progress()
        return views.summary_json(ef)

    @router.get("/eduframe/rate_limit")
    async def get_rate_limit() -> dict[str, Any]:
        return views.rate_limit_json(ef.limiter)

    @router.put("/eduframe/rate_limit")
    async def put_rate_limit(body: RateLimitBody) -> dict[str, Any]:
        ef.limiter.configure(body.max_requests, body.per_seconds)
        return views.rate_limit_json(ef.limiter)

    @router.post("/eduframe/enrollments/{enrollment_id}/complete")
    async def complete_enrollment(enrollment_id: int, body: CompleteBody | None = None) -> JSONResponse:
        graduation_state = body.graduation_state if body is not None else "passed"
        enrollment = rules.set_enrollment_status(ef, enrollment_id, "completed", graduation_state)
        return JSONResponse(views.enrollment_json(ef, enrollment))

    @router.post("/eduframe/enrollments/{enrollment_id}/start")
    async def start_enrollment(enrollment_id: int) -> JSONResponse:
        enrollment = rules.set_enrollment_status(ef, enrollment_id, "active")
        return JSONResponse(views.enrollment_json(ef, enrollment))

    @router.post("/eduframe/seed_enrollments")
    async def seed_enrollments(body: SeedEnrollmentsBody) -> dict[str, Any]:
        ids = rules.seed_enrollments(ef, body.count, body.planned_course_id, body.student_ids)
        return {"count": len(ids), "first_id": ids[0], "last_id": ids[-1]}

    @router.get("/eduframe/auto_progress")
    async def get_auto_progress() -> dict[str, Any]:
        return views.auto_progress_json(ef.auto_progress)

    @router.put("/eduframe/auto_progress")
    async def put_auto_progress(body: AutoProgressBody) -> dict[str, Any]:
        rules.set_auto_progress(ef, body.complete_after_seconds, body.graduation_state)
        return body.model_dump()

    return router
