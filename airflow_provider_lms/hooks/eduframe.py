"""Eduframe: REST + JSON, API key as Bearer, Link-header cursors, 500 requests per 5 minutes.

Paths, methods and bodies follow eduframe-openapi-v1.json: PATCH updates, PUT state changes, and
enrolling is done by ordering (``POST /orders``) after checking ``GET /enrollments``, because there
is no ``POST /enrollments`` and an order does not check for an existing enrollment.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, get_args

import httpx

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.hooks.eduframe_admin import EduframeAdminMixin
from airflow_provider_lms.hooks.eduframe_converge import Converged, EduframeConvergeMixin
from airflow_provider_lms.hooks.rosters import EduframeRosterMixin
from airflow_provider_lms.http.auth import BearerAuth
from airflow_provider_lms.http.client import ErrorParser, PlatformError, RetryRecorder
from airflow_provider_lms.http.errors import LmsInputError, LmsNotFoundError, LmsValidationError
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.models.connection import ApiKeyConnection, ConnectionFields, LmsConnection
from airflow_provider_lms.models.eduframe import (
    EduframeCatalogVariant,
    EduframeCredit,
    EduframeEducator,
    EduframeEnrollment,
    EduframeGrade,
    EduframeOrder,
    EduframePlannedCourse,
    EduframeProgramEnrollment,
    EduframeUser,
    EduframeWebhook,
    EnrollmentStatus,
)
from airflow_provider_lms.models.eduframe import eduframe_id as _eduframe_id
from airflow_provider_lms.models.inputs import (
    LearnerSpec,
    ScoreRow,
    check_number,
    check_text,
    recheck,
    shown,
    validate_model,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus
from airflow_provider_lms.models.state import NormalizedEnrollment

__all__ = ["EduframeConnection", "EduframeHook", "parse_eduframe_error"]

#: Eduframe's documented limit: 500 requests per 5 minutes per token (FACTS.md).
EDUFRAME_RATE_LIMIT = {"rate_limit_requests": 500, "rate_limit_period": 300.0}
PER_PAGE = 100  # the documented maximum: fewest requests per record
# The filter takes snake_case names, records carry the VariantableType enum (OpenAPI document).
_VARIANTABLE_TYPES = {"planned_course": "PlannedCourse", "program_edition": "Program::Edition"}
SUBSCRIBE_TARGETS = frozenset(_VARIANTABLE_TYPES)


def parse_eduframe_error(response: httpx.Response) -> PlatformError:
    """Read Eduframe's error body ``{"errors": {...}, "code": <status>, "message": "..."}``."""
    try:
        body = response.json()
    except ValueError:
        return PlatformError(message=response.text.strip()[:300] or None)
    if not isinstance(body, dict):
        return PlatformError()
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return PlatformError(message=body.get("message"), code=body.get("code"), field_errors=errors or {})


def _json(response: httpx.Response) -> Any:
    return response.json()


_ENROLLMENT_STATUSES = frozenset(get_args(EnrollmentStatus))
_PLANNED_COURSE_STATUSES = frozenset({"planned", "active", "completed", "canceled"})


def _enum_values(field: str, values: Any, allowed: frozenset[str]) -> list[str]:
    """Check filter values against the document's enum, so a typo fails before the request."""
    if values is None:
        return []
    if isinstance(values, bytes | bytearray) or not isinstance(values, str | list | tuple):
        raise LmsInputError(field, f"must be a value or a list of values, got {shown(values)}")
    items = [values] if isinstance(values, str) else list(values)
    for value in items:
        if not isinstance(value, str) or value not in allowed:
            raise LmsInputError(field, f"{shown(value)} is not one of {sorted(allowed)}")
    return items


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Query filters passed through: plain text or integer values (or lists of them) that may travel in a URL."""
    for name, value in filters.items():
        check_text("filters key", name, max_length=100)
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str):
                check_text(f"filters.{name}", item, max_length=1000)
            elif isinstance(item, bool | float) or not isinstance(item, int):
                raise LmsInputError(f"filters.{name}", f"must be text or an integer, got {shown(item)}")
            elif item.bit_length() > 63:
                raise LmsInputError(f"filters.{name}", f"is too large: {shown(item)}")
    return filters


@dataclass(frozen=True, kw_only=True)
class EduframeConnection(ApiKeyConnection):
    """An Eduframe connection: the API key (the password field, sent as Bearer) and the optional order creator.

    :param order_creator_id: the user recorded as the creator of the orders the hook places (None: the learner).
    """

    order_creator_id: int | None = None
    extra_keys: ClassVar[frozenset[str] | None] = frozenset({"order_creator_id"})

    @classmethod
    def read_options(cls, fields: ConnectionFields) -> dict[str, Any]:
        creator = fields.extras.get("order_creator_id")
        if creator in (None, ""):
            return {}
        return {"order_creator_id": _eduframe_id(f"connection {fields.conn_id!r} order_creator_id", creator)}


@register_platform
class EduframeHook(EduframeAdminMixin, EduframeConvergeMixin, EduframeRosterMixin, LmsHook[EduframeConnection]):
    """Talk to the Eduframe REST API v1.

    Connection: ``base_url`` (default ``https://api.eduframe.nl/api/v1``) and the API key in the
    password field, sent as ``Authorization: Bearer <key>``. Optional ``order_creator_id``: the user
    recorded as the creator of the orders this hook places (default: the learner).

    :param lms_conn_id: the Airflow connection id (type ``eduframe``).
    """

    conn_type = "eduframe"
    hook_name = "Eduframe"
    default_conn_name = "eduframe_default"
    platform: ClassVar[str] = "Eduframe"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {
            "ensure_learners",
            "subscribe",
            "unsubscribe",
            "score_external_activity",
            "award_certificate",
            "revoke_certificate",
            "enrollment_status",
        }
    )
    connection_model: ClassVar[type[LmsConnection]] = EduframeConnection
    default_base_url: ClassVar[str | None] = "https://api.eduframe.nl/api/v1"
    default_client_settings: ClassVar[dict[str, Any]] = EDUFRAME_RATE_LIMIT

    def __init__(self, lms_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(lms_conn_id, **kwargs)
        self._variant_cache: dict[tuple[str, int], int] = {}
        self._cache_lock = threading.Lock()
        # One lock per catalog variant lookup: the first thread looks it up, the others wait for its answer
        # instead of each sending the same request (8 threads, 8 lookups, before).
        self._variant_locks: dict[tuple[str, int], threading.Lock] = {}
        # The bulk items (their per-item retry recorder) that have sent a write in this run. An item whose
        # write went out but whose read-back failed is tried again by the bulk runner; its second pass then
        # finds the record and must still say "done": this run made it, not an earlier one.
        self._wrote: weakref.WeakSet[RetryRecorder] = weakref.WeakSet()
        self._wrote_lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------------------------
    def auth_for(self, config: EduframeConnection) -> httpx.Auth:
        return BearerAuth(config.api_key)

    def error_parser(self) -> ErrorParser:
        return parse_eduframe_error

    def check_connection(self) -> str:
        educator = self.get_current_educator()
        return f"Connected to Eduframe as educator {educator.name or educator.slug or educator.id}"

    # -- id rules ---------------------------------------------------------------------------------------------
    def parse_learner_id(self, field: str, value: Any) -> str:
        return str(_eduframe_id(field, value))

    def parse_course_id(self, field: str, value: Any) -> str:
        return str(_eduframe_id(field, value))

    def parse_program_id(self, field: str, value: Any) -> str:
        return str(_eduframe_id(field, value))

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        return str(_eduframe_id(field, value))

    #: The platform_options each capability reads; anything else is a typo that would be silently ignored.
    _OPTIONS: ClassVar[dict[str, frozenset[str]]] = {
        "ensure_learners": frozenset({"update_existing"}),
        "subscribe": frozenset({"creator_id", "approve", "target"}),
        "unsubscribe": frozenset({"target"}),
        "award_certificate": frozenset({"certificate_template_id"}),
        "revoke_certificate": frozenset(),
    }

    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        known = self._OPTIONS.get(capability, frozenset())
        for name in options:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise LmsInputError(f"platform_options.{name}", f"is not an Eduframe option here (known: {listed})")
        checked = dict(options)
        if capability == "award_certificate":
            checked["certificate_template_id"] = _eduframe_id(
                "certificate_template_id", options.get("certificate_template_id")
            )
        if "creator_id" in options:
            checked["creator_id"] = _eduframe_id("platform_options.creator_id", options["creator_id"])
        if "target" in options and options["target"] not in SUBSCRIBE_TARGETS:
            raise LmsInputError(
                "platform_options.target", f"must be one of {sorted(SUBSCRIBE_TARGETS)}, got {options['target']!r}"
            )
        for flag in ("approve", "update_existing"):
            if flag in options and not isinstance(options[flag], bool):
                raise LmsInputError(f"platform_options.{flag}", f"must be true or false, got {shown(options[flag])}")
        return checked

    # -- plain API methods -----------------------------------------------------------------------------------
    def get_current_educator(self) -> EduframeEducator:
        """``GET /educators/current``: the tenant of the API key."""
        return EduframeEducator.model_validate(self.client.request("GET", "/educators/current", parse=_json))

    def find_user_by_email(self, email: str) -> EduframeUser | None:
        """``GET /users?email=``: the user with this e-mail, or None."""
        wanted = check_text("email", email, max_length=254).lower()
        for record in self.client.iter_link_items("/users", {"email": wanted, "per_page": PER_PAGE}):
            user = EduframeUser.model_validate(record)
            if (user.email or "").lower() == wanted:
                return user
        return None

    def create_user(self, email: str, first_name: str, last_name: str, **fields: Any) -> EduframeUser:
        """``POST /users``. Not idempotent: prefer :meth:`ensure_learner`."""
        spec = validate_model(LearnerSpec, {"email": email, "first_name": first_name, "last_name": last_name}, "user")
        for name, value in fields.items():
            if isinstance(value, str):
                check_text(f"user.{name}", value, max_length=5000, min_length=0)
        body = {"email": spec.email, "first_name": spec.first_name, "last_name": spec.last_name, **fields}
        return EduframeUser.model_validate(self.client.request("POST", "/users", json=body, parse=_json))

    def get_user(self, user_id: int | str) -> EduframeUser:
        """``GET /users/{id}``."""
        uid = _eduframe_id("user_id", user_id)
        return EduframeUser.model_validate(self.client.request("GET", f"/users/{uid}", parse=_json))

    def list_planned_courses(self, **filters: Any) -> Iterator[EduframePlannedCourse]:
        """``GET /planned_courses`` with the documented filters (``course_id``, ``status``...)."""
        _filters(filters)
        if "status" in filters:
            filters["status"] = _enum_values("status", filters["status"], _PLANNED_COURSE_STATUSES)
        for record in self.client.iter_link_items("/planned_courses", {**filters, "per_page": PER_PAGE}):
            yield EduframePlannedCourse.model_validate(record)

    def get_planned_course(self, planned_course_id: int | str) -> EduframePlannedCourse:
        """``GET /planned_courses/{id}``."""
        pid = _eduframe_id("planned_course_id", planned_course_id)
        return EduframePlannedCourse.model_validate(self.client.request("GET", f"/planned_courses/{pid}", parse=_json))

    def list_catalog_variants(self, **filters: Any) -> Iterator[EduframeCatalogVariant]:
        """``GET /catalog/variants`` (``variantable_id``, ``variantable_type``, ``product_id``)."""
        _filters(filters)
        for record in self.client.iter_link_items("/catalog/variants", {**filters, "per_page": PER_PAGE}):
            yield EduframeCatalogVariant.model_validate(record)

    def catalog_variant_id_for(self, variantable_type: str, variantable_id: int) -> int:
        """The catalog variant that sells a planned course or program edition (cached per hook)."""
        key = (variantable_type, variantable_id)
        with self._cache_lock:
            if key in self._variant_cache:
                return self._variant_cache[key]
            lookup = self._variant_locks.setdefault(key, threading.Lock())
        # Single flight: one thread reads the catalog, the others wait here and then find the cached answer.
        # A failed lookup caches nothing, so the next thread through tries again.
        with lookup:
            with self._cache_lock:
                if key in self._variant_cache:
                    return self._variant_cache[key]
            variant_id = self._find_variant(variantable_type, variantable_id)
            with self._cache_lock:
                self._variant_cache[key] = variant_id
            return variant_id

    def _find_variant(self, variantable_type: str, variantable_id: int) -> int:
        wanted_type = _VARIANTABLE_TYPES[variantable_type]
        for variant in self.list_catalog_variants(variantable_type=variantable_type, variantable_id=variantable_id):
            if variant.variantable_id == variantable_id and variant.variantable_type == wanted_type:
                return variant.id
        raise LmsNotFoundError(
            f"no catalog variant sells {variantable_type} {variantable_id}; it cannot be ordered",
            platform=self.platform,
        )

    @staticmethod
    def _enrollment_params(
        student_id: int | str | None,
        planned_course_id: int | str | None,
        status: str | list[str] | None,
        with_canceled: bool | None,
    ) -> list[tuple[str, Any]]:
        """``GET /enrollments``'s query, checked before any request."""
        params: list[tuple[str, Any]] = [("per_page", PER_PAGE)]
        if student_id is not None:
            params.append(("student_id", _eduframe_id("student_id", student_id)))
        if planned_course_id is not None:
            params.append(("planned_course_id", _eduframe_id("planned_course_id", planned_course_id)))
        for s in _enum_values("status", status, _ENROLLMENT_STATUSES):
            params.append(("status", s))
        if with_canceled is not None:
            params.append(("with_canceled", "true" if with_canceled else "false"))
        return params

    def list_enrollments(
        self,
        *,
        student_id: int | str | None = None,
        planned_course_id: int | str | None = None,
        status: list[str] | None = None,
        with_canceled: bool | None = None,
    ) -> Iterator[EduframeEnrollment]:
        """``GET /enrollments`` with its filters, lazily across pages."""
        params = self._enrollment_params(student_id, planned_course_id, status, with_canceled)
        for record in self.client.iter_link_items("/enrollments", params):
            yield EduframeEnrollment.model_validate(record)

    async def aiter_enrollments(
        self,
        *,
        student_id: int | str | None = None,
        planned_course_id: int | str | None = None,
        status: str | list[str] | None = None,
        with_canceled: bool | None = None,
    ) -> AsyncIterator[EduframeEnrollment]:
        """The async twin of :meth:`list_enrollments` (triggers): lazily across the Link-header pages."""
        params = self._enrollment_params(student_id, planned_course_id, status, with_canceled)
        client = await self.aget_conn()
        async for record in client.aiter_link_items("/enrollments", params):
            yield EduframeEnrollment.model_validate(record)

    def get_enrollment(self, enrollment_id: int | str) -> EduframeEnrollment:
        """``GET /enrollments/{id}``."""
        eid = _eduframe_id("enrollment_id", enrollment_id)
        return EduframeEnrollment.model_validate(self.client.request("GET", f"/enrollments/{eid}", parse=_json))

    def find_enrollment(self, student_id: int | str, planned_course_id: int | str) -> EduframeEnrollment | None:
        """The learner's enrollment in the planned course that is not canceled, or None."""
        for enrollment in self.list_enrollments(student_id=student_id, planned_course_id=planned_course_id):
            if enrollment.status != "canceled":
                return enrollment
        return None

    def create_order(
        self,
        catalog_variant_id: int,
        creator_id: int,
        student_ids: list[int],
        *,
        approve: bool = True,
        **fields: Any,
    ) -> EduframeOrder:
        """``POST /orders``. Not idempotent and not duplicate-checked by Eduframe: prefer
        :meth:`subscribe_learner`, which looks for an enrollment first."""
        body = {
            "catalog_variant_id": catalog_variant_id,
            "creator_id": creator_id,
            "student_ids": student_ids,
            "approve": approve,
            **fields,
        }
        return EduframeOrder.model_validate(self.client.request("POST", "/orders", json=body, parse=_json))

    def create_grade(
        self, enrollment_id: int, *, score: float | None, grade: str | None, comment: str | None = None
    ) -> EduframeGrade:
        """``POST /grades`` on an enrollment. Not idempotent: prefer :meth:`score_activity`."""
        enrollment_id = _eduframe_id("enrollment_id", enrollment_id)
        if score is not None:
            check_number("score", score, minimum=0)
        if grade is not None:
            check_text("grade", grade, max_length=100)
        if comment is not None:
            check_text("comment", comment, max_length=5000, min_length=0, multiline=True)
        body: dict[str, Any] = {
            "grade": grade,
            "score": score,
            "gradeable_id": enrollment_id,
            "gradeable_type": "Enrollment",
        }
        if comment is not None:
            body["comment"] = comment
        return EduframeGrade.model_validate(self.client.request("POST", "/grades", json=body, parse=_json))

    def update_grade(self, grade_id: int, **fields: Any) -> EduframeGrade:
        """``PATCH /grades/{id}``."""
        gid = _eduframe_id("grade_id", grade_id)
        for name, value in fields.items():
            if isinstance(value, str):
                check_text(name, value, max_length=5000, min_length=0, multiline=name == "comment")
            elif isinstance(value, float | int) and not isinstance(value, bool):
                check_number(name, value)
        # Safe to resend: the PATCH sets absolute values, so doing it twice leaves the same grade.
        return EduframeGrade.model_validate(
            self.client.request("PATCH", f"/grades/{gid}", json=fields, parse=_json, idempotent=True)
        )

    def list_program_enrollments(
        self, *, student_id: int | str | None = None, edition_id: int | str | None = None
    ) -> Iterator[EduframeProgramEnrollment]:
        """``GET /program/enrollments``."""
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if student_id is not None:
            params["student_id"] = _eduframe_id("student_id", student_id)
        if edition_id is not None:
            params["edition_id"] = _eduframe_id("edition_id", edition_id)
        for record in self.client.iter_link_items("/program/enrollments", params):
            yield EduframeProgramEnrollment.model_validate(record)

    def find_program_enrollment(self, student_id: int | str, edition_id: int | str) -> EduframeProgramEnrollment | None:
        """The learner's program enrollment in the edition that is not canceled, or None."""
        for pe in self.list_program_enrollments(student_id=student_id, edition_id=edition_id):
            if pe.state != "canceled":
                return pe
        return None

    def award_program_certificate(
        self, program_enrollment_id: int, certificate_template_id: int
    ) -> EduframeProgramEnrollment:
        """``PUT /program/enrollments/{id}/award_certificate`` (a PUT: safe to resend)."""
        pid = _eduframe_id("program_enrollment_id", program_enrollment_id)
        body = {"certificate_template_id": _eduframe_id("certificate_template_id", certificate_template_id)}
        return EduframeProgramEnrollment.model_validate(
            self.client.request("PUT", f"/program/enrollments/{pid}/award_certificate", json=body, parse=_json)
        )

    def list_credits(self, *, student_id: int | str | None = None) -> Iterator[EduframeCredit]:
        """``GET /credits``."""
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if student_id is not None:
            params["student_id"] = _eduframe_id("student_id", student_id)
        for record in self.client.iter_link_items("/credits", params):
            yield EduframeCredit.model_validate(record)

    def list_webhooks(self) -> Iterator[EduframeWebhook]:
        """``GET /webhooks``."""
        for record in self.client.iter_link_items("/webhooks", {"per_page": PER_PAGE}):
            yield EduframeWebhook.model_validate(record)

    def create_webhook(self, url: str, events: list[str], *, active: bool = True) -> EduframeWebhook:
        """Register a webhook unless one with the same URL exists (``GET`` then ``POST /webhooks``)."""
        url = check_text("url", url, max_length=2000)
        if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
            raise LmsInputError("url", f"{shown(url)} must be an http(s) URL")
        if isinstance(events, str | bytes) or not isinstance(events, list | tuple) or not events:
            raise LmsInputError("events", f"must be a non-empty list of event names, got {shown(events)}")
        events = [check_text(f"events[{i}]", e, max_length=100) for i, e in enumerate(events)]

        def find() -> EduframeWebhook | None:
            return next((w for w in self.list_webhooks() if w.url == url), None)

        def create() -> EduframeWebhook:
            body = {"url": url, "active": active, "events": events}
            return EduframeWebhook.model_validate(self.client.request("POST", "/webhooks", json=body, parse=_json))

        return create_once(find, create)[0]

    # -- capabilities used by the generic operators --------------------------------------------------------------
    def ensure_learner(self, learner: LearnerSpec, **options: Any) -> ItemResult[Any]:
        """Find the user by e-mail or create them; result ``{"learner_id", "email"}``.

        :param options: ``update_existing`` (default False): when a user with the e-mail exists and the first
            or last name differs, change it (``PATCH /users/{id}``, only the fields that differ); the result
            then says which fields changed (``updated_fields``). Identical data sends nothing.
        """
        learner = recheck(learner, "learner")
        update_existing = options.get("update_existing", False)
        if not isinstance(update_existing, bool):
            raise LmsInputError(
                "platform_options.update_existing", f"must be true or false, got {shown(update_existing)}"
            )

        def create() -> EduframeUser:
            try:
                return self.create_user(learner.email, learner.first_name, learner.last_name)
            except LmsValidationError as exc:
                # Someone created the same e-mail between our look and our create: that user is ours.
                if "email" in exc.field_errors:
                    found = self.find_user_by_email(learner.email)
                    if found is not None:
                        return found
                raise

        def create_noted() -> EduframeUser:
            self._note_write()
            return create()

        user, created = create_once(lambda: self.find_user_by_email(learner.email), create_noted)
        result: dict[str, Any] = {"learner_id": str(user.id), "email": learner.email}
        if not update_existing:
            return ItemResult(status=self._status(created), result=result)
        changes = {} if created else self._learner_changes(user, learner)
        if changes:
            self._note_write()
            self.update_user(user.id, **changes)
        result["updated_fields"] = sorted(changes)
        return ItemResult(status=self._status(created or bool(changes)), result=result)

    def subscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Enroll a learner in a planned course unless an enrollment (not canceled) exists.

        :param course_id: the planned course id.
        :param learner_id: the user id.
        :param options: ``creator_id`` (default: the connection's ``order_creator_id``, else the
            learner), ``approve`` (default True), and ``target``: ``"planned_course"`` (default) or
            ``"program_edition"``, in which case ``course_id`` is a program edition id.
        """
        student = _eduframe_id("learner_id", learner_id)
        creator = self._creator(options, student)
        approve = bool(options.get("approve", True))
        target = "program_edition" if options.get("target", "planned_course") == "program_edition" else "planned_course"
        return self._order_once(target, _eduframe_id("course_id", course_id), student, creator, approve)

    def _creator(self, options: dict[str, Any], student: int) -> int:
        if options.get("creator_id") is not None:
            return _eduframe_id("creator_id", options["creator_id"])
        return self.connection_config.order_creator_id or student

    def _order_once(
        self,
        variantable_type: str,
        target_id: int,
        student: int,
        creator: int,
        approve: bool,
    ) -> ItemResult[Any]:
        """Order the variant selling ``target_id`` for the learner unless enrolled, then converge on one enrollment.

        An overlapping attempt may order at the same moment (no idempotency key): both the look and the
        read-back keep the oldest enrollment and cancel the others, and a shared store's claim keeps the two
        from ordering at once (``hooks/eduframe_converge.py`` says why that holds).
        """
        variant_id = self.catalog_variant_id_for(variantable_type, target_id)

        def find() -> Converged | None:
            return self._converge(variantable_type, target_id, student)

        def create() -> Converged:
            self._note_write()
            order = self.create_order(variant_id, creator, [student], approve=approve)
            found = self._converge(variantable_type, target_id, student, order_id=order.id)
            if found is None:
                where = variantable_type.replace("_", " ")
                raise LmsNotFoundError(
                    f"order placed but no enrollment of learner {student} in {where} {target_id} appeared",
                    platform=self.platform,
                )
            return found

        # With a shared store, an overlapping attempt waits here instead of ordering at the same moment.
        with self._claimed(variantable_type, target_id, student):
            return self._converged_result(*create_once(find, create), student)

    def score_activity(self, row: ScoreRow, **options: Any) -> ItemResult[Any]:
        """Record a grade on the learner's enrollment in the planned course ``row.course_id``.

        Creates the grade, or updates it when it differs; an identical grade is left alone.
        """
        row = recheck(row, "row")
        student = _eduframe_id("learner_id", row.learner_id)
        pc_id = _eduframe_id("course_id", row.course_id)
        enrollment = self.find_enrollment(student, pc_id)
        if enrollment is None:
            raise LmsNotFoundError(
                f"learner {student} has no enrollment in planned course {pc_id} to grade",
                platform=self.platform,
            )
        wanted_score = row.score
        existing = enrollment.grade
        if existing is not None:
            same = existing.score_value == wanted_score and (existing.grade or None) == (row.grade or None)
            if same:
                return ItemResult(
                    status=ItemStatus.ALREADY_DONE,
                    result={"grade_id": str(existing.id), "enrollment_id": str(enrollment.id)},
                )
            updated = self.update_grade(existing.id, score=wanted_score, grade=row.grade, comment=row.comment)
            return ItemResult(result={"grade_id": str(updated.id), "enrollment_id": str(enrollment.id)})

        def find() -> EduframeGrade | None:
            return self.get_enrollment(enrollment.id).grade

        def create() -> EduframeGrade:
            return self.create_grade(enrollment.id, score=wanted_score, grade=row.grade, comment=row.comment)

        grade, _ = create_once(find, create, already_looked=True)
        return ItemResult(result={"grade_id": str(grade.id), "enrollment_id": str(enrollment.id)})

    def award_certificate(self, learner_id: str, program_id: str, **options: Any) -> ItemResult[Any]:
        """Award the certificate of program edition ``program_id`` to the learner.

        :param options: ``certificate_template_id`` (required by Eduframe).
        """
        student = _eduframe_id("learner_id", learner_id)
        edition = _eduframe_id("program_id", program_id)
        template = _eduframe_id("certificate_template_id", options.get("certificate_template_id"))
        enrollment = self.find_program_enrollment(student, edition)
        if enrollment is None:
            raise LmsNotFoundError(
                f"learner {student} has no enrollment in program edition {edition}", platform=self.platform
            )
        result = {"program_enrollment_id": str(enrollment.id), "learner_id": str(student)}
        if enrollment.certified:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.award_program_certificate(enrollment.id, template)
        return ItemResult(result=result)

    def _resolve(self, ref: EnrollmentRef) -> tuple[str, Any]:
        if ref.enrollment_id is not None:
            return "id", _eduframe_id("enrollment_id", ref.enrollment_id)
        return "pair", (_eduframe_id("learner_id", ref.learner_id), _eduframe_id("course_id", ref.course_id))

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The normalized state of an enrollment, by id or by learner and planned course."""
        kind, key = self._resolve(ref)
        if kind == "id":
            try:
                return self.get_enrollment(key).normalized()
            except LmsNotFoundError:
                return self.not_enrolled(ref.learner_id, ref.course_id)
        canceled: EduframeEnrollment | None = None
        for enrollment in self.list_enrollments(student_id=key[0], planned_course_id=key[1]):
            if enrollment.status != "canceled":
                return enrollment.normalized()
            canceled = enrollment
        # Only canceled enrollments: report that, so a sensor stops waiting instead of polling forever.
        return canceled.normalized() if canceled else self.not_enrolled(ref.learner_id, ref.course_id)

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, used by the deferrable trigger."""
        client = await self.aget_conn()
        kind, key = self._resolve(ref)
        if kind == "id":
            try:
                record = await client.arequest("GET", f"/enrollments/{key}", parse=_json)
            except LmsNotFoundError:
                return self.not_enrolled(ref.learner_id, ref.course_id)
            return EduframeEnrollment.model_validate(record).normalized()
        canceled: EduframeEnrollment | None = None
        async for enrollment in self.aiter_enrollments(student_id=key[0], planned_course_id=key[1]):
            if enrollment.status != "canceled":
                return enrollment.normalized()
            canceled = enrollment
        return canceled.normalized() if canceled else self.not_enrolled(ref.learner_id, ref.course_id)
