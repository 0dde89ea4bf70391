"""Control routes under ``/_sandbox/anewspring``: set up learners, courses and groups, move results forward."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox.anewspring.records import Stage
from airflow_provider_lms.sandbox.anewspring.seed import ANewSpringSeed
from airflow_provider_lms.sandbox.anewspring.views import results_json, summary, user_json

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.anewspring.state import ANewSpringSandboxState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["create_control_router"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserBody(_Strict):
    """One learner to create.

    :param id: External id.
    :param name: Display name (default: the id).
    :param uid: UID (default: derived from the id, the same after every reset).
    """

    id: str = Field(min_length=1)
    name: str | None = None
    uid: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    roles: list[str] = Field(default_factory=lambda: ["student"])

    def fields(self) -> dict[str, str]:
        """The user's record fields, named as ``addOrUpdateUser`` names them."""
        pairs = (("email", self.email), ("firstName", self.first_name), ("lastName", self.last_name))
        return {k: v for k, v in pairs if v is not None}


class UsersBody(_Strict):
    """``POST /_sandbox/anewspring/users``: create learners (existing ids are left alone)."""

    users: list[UserBody]


class CourseBody(_Strict):
    """``POST /_sandbox/anewspring/courses``: a course run with the activities of ``template``."""

    id: str = Field(min_length=1)
    template: str = ANewSpringSeed.SAFETY_COURSE_ID
    name: str | None = None
    uid: str | None = None


class GroupBody(_Strict):
    """``POST /_sandbox/anewspring/groups``: create or replace a learner group."""

    id: str = Field(min_length=1)
    members: list[str]
    type: Literal["student", "teacher", "mentor"] = "student"


class AdvanceBody(_Strict):
    """``POST /_sandbox/anewspring/advance``: move a learner's results forward (ids in the body, unencoded)."""

    user_id: str
    course_id: str
    to: Stage | None = None


class AutoProgressBody(_Strict):
    """``PUT /_sandbox/anewspring/auto_progress``; ``complete_after_seconds: null`` switches it off."""

    complete_after_seconds: float | None = Field(default=None, ge=0)


def _not_found(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=404)


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """Routes under ``/_sandbox/anewspring`` to set up data and move results forward.

    :param sandbox_state: The shared sandbox state.
    """
    router = APIRouter(prefix="/anewspring", tags=["sandbox control"])
    ans: ANewSpringSandboxState = sandbox_state.platform("anewspring")

    @router.get("/state")
    async def get_state() -> dict[str, Any]:
        return summary(ans)

    @router.get("/calls")
    async def get_calls() -> list[dict[str, Any]]:
        return list(ans.calls)

    @router.post("/users")
    async def add_users(body: UsersBody) -> dict[str, Any]:
        made = [ans.add_user(u.id, u.name, u.uid, fields=u.fields(), roles=u.roles) for u in body.users]
        return {"users": [user_json(u) for u in made]}

    @router.post("/courses")
    async def add_course(body: CourseBody) -> JSONResponse:
        if body.template not in ans.courses:
            return _not_found(f"no course {body.template!r} to copy")
        course = ans.add_course(body.id, template=body.template, name=body.name, uid=body.uid)
        return JSONResponse({"id": course.id, "uid": course.uid, "name": course.name})

    @router.post("/groups")
    async def add_group(body: GroupBody) -> JSONResponse:
        unknown = ans.unknown_users(body.members)
        if unknown:
            return _not_found(f"unknown users {unknown}")
        ans.set_group(body.id, body.members, body.type)
        return JSONResponse({"id": body.id, "members": body.members, "type": body.type})

    @router.post("/advance")
    async def advance(body: AdvanceBody) -> JSONResponse:
        sub = ans.advance_learner(body.user_id, body.course_id, body.to)
        if sub is None:
            return _not_found("not subscribed")
        return JSONResponse({"stage": ans.stage(sub), "results": results_json(ans, sub)})

    @router.put("/auto_progress")
    async def put_auto_progress(body: AutoProgressBody) -> dict[str, Any]:
        ans.set_auto_progress(body.complete_after_seconds)
        return body.model_dump()

    return router
