"""The Eduframe API under ``/eduframe/api/v1``: a route table over one thin action per endpoint.

Each action parses the request (path id, query filters, body model), calls a lookup or query of the state
or a rule of ``rules.py``, and renders a view; lists are cut into cursor pages by ``pagination.py``. Every
route first passes :meth:`EduframeResponses.guard`: Bearer auth, the per-token rate limit, auto-progress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox.eduframe import rules, views
from airflow_provider_lms.sandbox.eduframe.bodies import (
    AwardCertificate,
    EnrollmentPatch,
    GradeCreate,
    GradePatch,
    OrderCreate,
    PlannedCoursePatch,
    UserCreate,
    UserPatch,
    WebhookCreate,
    WebhookPatch,
)
from airflow_provider_lms.sandbox.eduframe.errors import EduframeError, bad_request
from airflow_provider_lms.sandbox.eduframe.pagination import paginate, paginate_ids
from airflow_provider_lms.sandbox.eduframe.params import (
    bool_param,
    date_param,
    datetime_param,
    enum_list_param,
    int_list_param,
    int_param,
)
from airflow_provider_lms.sandbox.eduframe.records import (
    EfEnrollment,
    EfPlannedCourse,
    EfProgramEnrollment,
    EfVariant,
    VariantableType,
)
from airflow_provider_lms.sandbox.eduframe.state import EduframeState, EnrollmentFilter
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["EDUFRAME_PREFIX", "ROUTES", "EduframeResponses", "create_router"]

EDUFRAME_PREFIX = "/eduframe/api/v1"

_VARIANTABLE_TYPE_FILTER: dict[str, VariantableType] = {
    "planned_course": "PlannedCourse",
    "program_edition": "Program::Edition",
}

#: The endpoints, in the order the router matches them (paths as in the OpenAPI document).
ROUTES: tuple[Route, ...] = (
    Route("GET", "/educators/current", "get_current_educator"),
    Route("GET", "/users", "list_users"),
    Route("POST", "/users", "create_user", status_code=201),
    Route("GET", "/users/{user_id}", "get_user"),
    Route("PATCH", "/users/{user_id}", "update_user"),
    Route("GET", "/planned_courses", "list_planned_courses"),
    Route("GET", "/planned_courses/{planned_course_id}", "get_planned_course"),
    Route("PATCH", "/planned_courses/{planned_course_id}", "update_planned_course"),
    Route("GET", "/catalog/variants", "list_catalog_variants"),
    Route("GET", "/catalog/variants/{variant_id}", "get_catalog_variant"),
    Route("GET", "/enrollments", "list_enrollments"),
    Route("GET", "/enrollments/{enrollment_id}", "get_enrollment"),
    Route("PATCH", "/enrollments/{enrollment_id}", "update_enrollment"),
    Route("PUT", "/enrollments/{enrollment_id}/cancel", "cancel_enrollment"),
    Route("GET", "/orders", "list_orders"),
    Route("POST", "/orders", "create_order", status_code=201),
    Route("GET", "/orders/{order_id}", "get_order"),
    Route("POST", "/grades", "create_grade", status_code=201),
    Route("GET", "/grades/{grade_id}", "get_grade"),
    Route("PATCH", "/grades/{grade_id}", "update_grade"),
    Route("DELETE", "/grades/{grade_id}", "delete_grade", status_code=204),
    Route("GET", "/program/enrollments", "list_program_enrollments"),
    Route("GET", "/program/enrollments/{enrollment_id}", "get_program_enrollment"),
    Route("PUT", "/program/enrollments/{enrollment_id}/award_certificate", "award_certificate"),
    Route("POST", "/program/enrollments/{enrollment_id}/delete_certificate", "delete_certificate"),
    Route("PUT", "/program/enrollments/{enrollment_id}/cancel", "cancel_program_enrollment"),
    Route("GET", "/credits", "list_credits"),
    Route("GET", "/webhooks", "list_webhooks"),
    Route("POST", "/webhooks", "create_webhook", status_code=201),
    Route("GET", "/webhooks/{webhook_id}", "get_webhook"),
    Route("PATCH", "/webhooks/{webhook_id}", "update_webhook"),
    Route("DELETE", "/webhooks/{webhook_id}", "delete_webhook"),
)

T = TypeVar("T")


def _by_id(record: Any) -> int:
    return int(record.id)


def _page(request: Request, records: Sequence[T], render: Callable[[T], dict[str, Any]]) -> JSONResponse:
    """One cursor page of id-ascending ``records``, rendered, with its ``Link`` header."""
    window, headers = paginate(request, records, _by_id)
    return JSONResponse([render(r) for r in window], headers=headers)


def _created(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=201)


class EduframeResponses:
    """One method per Eduframe endpoint of :data:`ROUTES`; handlers are async and never await mid-change.

    :param ef: The Eduframe state the endpoints read and change.
    """

    def __init__(self, ef: EduframeState) -> None:
        self.ef = ef

    async def guard(self, request: Request) -> None:
        """Bearer auth, then the per-token rate limit, then time-driven changes."""
        ef = self.ef
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise EduframeError(401, "Unauthorized: send Authorization: Bearer <api key>")
        if token not in ef.api_keys:
            raise EduframeError(401, "Unauthorized: invalid API key")
        wait = ef.limiter.hit(token)
        if wait is not None:
            raise EduframeError(
                429,
                f"Too Many Requests: limit is {ef.limiter.max_requests} requests per "
                f"{ef.limiter.per_seconds:g} seconds",
                headers={"Retry-After": str(wait)},
            )
        ef.apply_auto_progress()

    # -- educator -----------------------------------------------------------------------------------

    async def get_current_educator(self) -> JSONResponse:
        return JSONResponse(views.educator_json())

    # -- users --------------------------------------------------------------------------------------

    async def list_users(self, request: Request) -> JSONResponse:
        # ASSUMPTION: ``sort`` is accepted but lists always come id-ascending (cursor stability).
        found = self.ef.find_users(request.query_params.get("email"), request.query_params.get("role"))
        return _page(request, found, views.user_json)

    async def create_user(self, body: UserCreate) -> JSONResponse:
        return _created(views.user_json(rules.create_user(self.ef, body)))

    async def get_user(self, user_id: int) -> JSONResponse:
        return JSONResponse(views.user_json(self.ef.user(user_id)))

    async def update_user(self, user_id: int, body: UserPatch) -> JSONResponse:
        return JSONResponse(views.user_json(rules.update_user(self.ef, user_id, body)))

    # -- planned courses ----------------------------------------------------------------------------

    async def list_planned_courses(self, request: Request) -> JSONResponse:
        found = self.ef.find_planned_courses(
            course_ids=int_list_param(request, "course_id"),
            statuses=enum_list_param(request, "status", ("planned", "active", "completed", "canceled")),
            type_=request.query_params.get("type"),
            start_from=date_param(request, "start_date_from"),
            start_until=date_param(request, "start_date_until"),
            availability=request.query_params.get("availability_state"),
        )
        return _page(request, found, self._planned_course_json)

    async def get_planned_course(self, planned_course_id: int) -> JSONResponse:
        return JSONResponse(self._planned_course_json(self.ef.planned_course(planned_course_id)))

    async def update_planned_course(self, planned_course_id: int, body: PlannedCoursePatch) -> JSONResponse:
        pc = rules.update_planned_course(self.ef, planned_course_id, body)
        return JSONResponse(self._planned_course_json(pc))

    def _planned_course_json(self, pc: EfPlannedCourse) -> dict[str, Any]:
        return views.planned_course_json(self.ef, pc)

    # -- catalog variants ---------------------------------------------------------------------------

    async def list_catalog_variants(self, request: Request) -> JSONResponse:
        variantable_id = int_param(request, "variantable_id")
        product_id = int_param(request, "product_id")
        type_filter = request.query_params.get("variantable_type")
        if type_filter and type_filter not in _VARIANTABLE_TYPE_FILTER:
            raise bad_request("variantable_type", "must be one of planned_course, program_edition")
        wanted_type = _VARIANTABLE_TYPE_FILTER.get(type_filter or "")
        found = self.ef.find_variants(variantable_id, product_id, wanted_type)
        return _page(request, found, self._variant_json)

    async def get_catalog_variant(self, variant_id: int) -> JSONResponse:
        return JSONResponse(self._variant_json(self.ef.variant(variant_id)))

    def _variant_json(self, variant: EfVariant) -> dict[str, Any]:
        return views.variant_json(self.ef, variant)

    # -- enrollments --------------------------------------------------------------------------------

    async def list_enrollments(self, request: Request) -> JSONResponse:
        flt = EnrollmentFilter(
            student_id=int_param(request, "student_id"),
            planned_course_id=int_param(request, "planned_course_id"),
            statuses=enum_list_param(request, "status", ("confirmed", "active", "canceled", "completed")),
            with_canceled=bool_param(request, "with_canceled", default=True),
        )
        # An index narrows the candidates to one learner's or one course's enrollments (ids ascending);
        # then only the page's records are looked at.
        ids = self.ef.indexed_enrollment_ids(flt)
        page = None
        if ids is not None:
            page = paginate_ids(request, ids, lambda enrollment_id: self.ef.matching_enrollment(flt, enrollment_id))
        if page is not None:
            window, headers = page
            return JSONResponse([self._enrollment_json(e) for e in window], headers=headers)
        return _page(request, self.ef.find_enrollments(flt), self._enrollment_json)

    async def get_enrollment(self, enrollment_id: int) -> JSONResponse:
        return JSONResponse(self._enrollment_json(self.ef.enrollment(enrollment_id)))

    async def update_enrollment(self, enrollment_id: int, body: EnrollmentPatch) -> JSONResponse:
        return JSONResponse(self._enrollment_json(rules.update_enrollment(self.ef, enrollment_id, body)))

    async def cancel_enrollment(self, enrollment_id: int) -> JSONResponse:
        return JSONResponse(self._enrollment_json(rules.cancel_enrollment(self.ef, enrollment_id)))

    def _enrollment_json(self, enrollment: EfEnrollment) -> dict[str, Any]:
        return views.enrollment_json(self.ef, enrollment)

    # -- orders -------------------------------------------------------------------------------------

    async def list_orders(self, request: Request) -> JSONResponse:
        found = self.ef.find_orders(
            creator_id=int_param(request, "creator_id"),
            created_after=datetime_param(request, "created_at_after", self.ef.clock().tzinfo),
        )
        return _page(request, found, views.order_json)

    async def create_order(self, body: OrderCreate) -> JSONResponse:
        return _created(views.order_json(rules.create_order(self.ef, body)))

    async def get_order(self, order_id: int) -> JSONResponse:
        return JSONResponse(views.order_json(self.ef.order(order_id)))

    # -- grades -------------------------------------------------------------------------------------

    async def create_grade(self, body: GradeCreate) -> JSONResponse:
        return _created(views.grade_json(rules.create_grade(self.ef, body)))

    async def get_grade(self, grade_id: int) -> JSONResponse:
        return JSONResponse(views.grade_json(self.ef.grade(grade_id)))

    async def update_grade(self, grade_id: int, body: GradePatch) -> JSONResponse:
        return JSONResponse(views.grade_json(rules.update_grade(self.ef, grade_id, body)))

    async def delete_grade(self, grade_id: int) -> Response:
        rules.delete_grade(self.ef, grade_id)
        return Response(status_code=204)

    # -- program enrollments ------------------------------------------------------------------------

    async def list_program_enrollments(self, request: Request) -> JSONResponse:
        found = self.ef.find_program_enrollments(int_param(request, "student_id"), int_param(request, "edition_id"))
        return _page(request, found, self._program_enrollment_json)

    async def get_program_enrollment(self, enrollment_id: int) -> JSONResponse:
        return JSONResponse(self._program_enrollment_json(self.ef.program_enrollment(enrollment_id)))

    async def award_certificate(self, enrollment_id: int, body: AwardCertificate) -> JSONResponse:
        pe = rules.award_certificate(self.ef, enrollment_id, body.certificate_template_id)
        return JSONResponse(self._program_enrollment_json(pe))

    async def delete_certificate(self, enrollment_id: int) -> JSONResponse:
        return JSONResponse(self._program_enrollment_json(rules.delete_certificate(self.ef, enrollment_id)))

    async def cancel_program_enrollment(self, enrollment_id: int) -> JSONResponse:
        return JSONResponse(self._program_enrollment_json(rules.cancel_program_enrollment(self.ef, enrollment_id)))

    def _program_enrollment_json(self, pe: EfProgramEnrollment) -> dict[str, Any]:
        return views.program_enrollment_json(self.ef, pe)

    # -- credits ------------------------------------------------------------------------------------

    async def list_credits(self, request: Request) -> JSONResponse:
        return _page(request, self.ef.find_credits(int_param(request, "student_id")), views.credit_json)

    # -- webhooks -----------------------------------------------------------------------------------

    async def list_webhooks(self, request: Request) -> JSONResponse:
        window, headers = paginate(request, self.ef.webhooks_in_order(), lambda w: w.seq)
        return JSONResponse([views.webhook_json(w) for w in window], headers=headers)

    async def create_webhook(self, body: WebhookCreate) -> JSONResponse:
        return _created(views.webhook_json(rules.create_webhook(self.ef, body)))

    async def get_webhook(self, webhook_id: str) -> JSONResponse:
        return JSONResponse(views.webhook_json(self.ef.webhook(webhook_id)))

    async def update_webhook(self, webhook_id: str, body: WebhookPatch) -> JSONResponse:
        return JSONResponse(views.webhook_json(rules.update_webhook(self.ef, webhook_id, body)))

    async def delete_webhook(self, webhook_id: str) -> JSONResponse:
        return JSONResponse(views.webhook_json(rules.delete_webhook(self.ef, webhook_id)))


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """Build the Eduframe router (mounted at ``/eduframe/api/v1``) over ``sandbox_state.platform("eduframe")``.

    :param sandbox_state: The shared sandbox state.
    """
    responses = EduframeResponses(sandbox_state.platform("eduframe"))
    return build_router(
        ROUTES, responses, prefix=EDUFRAME_PREFIX, tags=["eduframe"], dependencies=[Depends(responses.guard)]
    )
