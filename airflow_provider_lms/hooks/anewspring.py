"""aNewSpring: REST with form-encoded POST bodies and ``X-API-Key`` (anewspring-api.nl.txt, FACTS.md).

Every call addresses the learner and the course in one of two ways, and the caller chooses:

* by external ids, in the path: ``GET /getResults/{userID}/{courseID}`` (``address_by="id"``, the default);
* by UIDs, in the query: ``GET /getResults?userUID=..&courseUID=..`` (``address_by="uid"``).

An id in the path is percent-encoded as exactly one segment (``/``, ``?``, ``#``, ``%`` and spaces are
escaped, and a ``.`` or ``..`` segment is written ``%2E``/``%2E%2E`` so that URL resolution cannot drop
it), so no id can ever reach another endpoint.

Answers: ``Accept: application/json``; a POST answers 200 with an empty body; errors are plain text
unless ``_formatErrors=true``, which this hook always sends. 404 means user, course, group or activity
not found, or not subscribed; 409 a conflict such as a duplicate subscription.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.http.auth import HeaderAuth
from airflow_provider_lms.http.client import ErrorParser, LmsHttpClient, PlatformError
from airflow_provider_lms.http.errors import (
    LmsConflictError,
    LmsInputError,
    LmsNotFoundError,
    LmsServerError,
    LmsTransportError,
)
from airflow_provider_lms.models.anewspring import (
    ANewSpringCourseResult,
    ANewSpringPart,
    ANewSpringSubscription,
    parse_percent,
)
from airflow_provider_lms.models.connection import ApiKeyConnection, LmsConnection
from airflow_provider_lms.models.inputs import (
    ScoreRow,
    check_extra_fields,
    check_number,
    check_renames,
    check_text,
    recheck,
    shown,
    validate_id,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus
from airflow_provider_lms.models.state import NormalizedEnrollment

__all__ = [
    "ADDRESS_MODES",
    "SCORE_FIELDS",
    "UPDATE_SUBSCRIPTION_FIELDS",
    "ANewSpringConnection",
    "ANewSpringHook",
    "encode_path_segment",
    "parse_anewspring_error",
]

AddressBy = Literal["id", "uid"]
ADDRESS_MODES = frozenset({"id", "uid"})

# ASSUMPTION: the document does not name updateSubscription's form fields (each environment documents them
# at /apidocs). These names follow the getSubscriptions record (startDate) and getCourses (expireDate);
# override them per call with ``field_names``.
UPDATE_SUBSCRIPTION_FIELDS: dict[str, str] = {
    "start_date": "startDate",
    "expiry_date": "expireDate",
    "expired": "expired",
}
# ASSUMPTION: likewise for scoreExternalActivity: ``score`` a percentage 0-100 (results show scores as "67%"),
# ``passed`` true/false, ``comment``. Override per call with ``field_names``.
SCORE_FIELDS: dict[str, str] = {"score": "score", "passed": "passed", "comment": "comment"}

# ASSUMPTION: the document writes the UID forms of two calls as "POST /subscribe?courseUID=" (subscribeGroups)
# and "POST /updateSubscriptions?userUID=" (updateSubscription). We read both as slips and use the call's own
# name; the sandbox accepts the document's spellings as well.
_UID_FUNCTION = {"subscribeGroups": "subscribeGroups", "updateSubscription": "updateSubscription"}


def encode_path_segment(value: str) -> str:
    """Percent-encode an id as exactly one path segment.

    Everything but unreserved characters is escaped (``/`` -> ``%2F``, ``%`` -> ``%25``, space -> ``%20``,
    UTF-8 for the rest), and a segment of only dots is written with ``%2E``: RFC 3986 resolution would
    otherwise remove a ``.`` or ``..`` segment and send the request to another endpoint.
    """
    encoded = quote(value, safe="")
    if encoded and set(encoded) == {"."}:
        encoded = "%2E" * len(encoded)
    return encoded


def parse_anewspring_error(response: httpx.Response) -> PlatformError:
    """Read an error answer: formatted (JSON, with ``_formatErrors=true``) or plain text.

    # ASSUMPTION: the document does not show the formatted error body; we read ``message``/``error``/``code``
    # or ``status`` from a JSON object, and fall back to the text.
    """
    text = response.text.strip()
    content_type = response.headers.get("content-type", "")
    if "json" in content_type or text.startswith("{"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            nested = body.get("error")
            inner: dict[str, Any] = nested if isinstance(nested, dict) else body
            message = inner.get("message") or (inner.get("error") if isinstance(inner.get("error"), str) else None)
            code = inner.get("code") or inner.get("status")
            raw_fields = inner.get("fields")
            fields: dict[str, Any] = raw_fields if isinstance(raw_fields, dict) else {}
            return PlatformError(message=str(message)[:300] if message else None, code=code, field_errors=fields)
    return PlatformError(message=text[:300] or None)


def _json(response: httpx.Response) -> Any:
    return response.json()


def _form_value(value: Any) -> Any:
    """Form encoding: booleans as ``true``/``false``, dates ISO, lists repeated (httpx repeats list values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_form_value(v) for v in value]
    return value


def _date(field: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            text = value.strip()
            # The whole value must parse: "2026-01-01T25:00" is not silently read as 2026-01-01.
            if len(text) > 10:
                return dt.datetime.fromisoformat(text).date().isoformat()
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise LmsInputError(field, f"must be a date (YYYY-MM-DD), got {shown(value)}")


def _form_fields(field: str, fields: Any) -> dict[str, Any]:
    """Extra form fields, sent as given: text keys and values that may travel in a form body."""
    return check_extra_fields(field, fields, scalars=(bool, int, float, dt.date))


def _field_names(field: str, names: Any, defaults: Mapping[str, str]) -> dict[str, str]:
    """Renamed form field names: only the known keys, each renamed to a clean name."""
    return check_renames(field, names, defaults)


@dataclass(frozen=True, kw_only=True)
class ANewSpringConnection(ApiKeyConnection):
    """An aNewSpring connection: the environment's API root and the API key (password, sent as ``X-API-Key``)."""

    extra_keys: ClassVar[frozenset[str] | None] = frozenset()


@register_platform
class ANewSpringHook(LmsHook[ApiKeyConnection]):
    """Talk to the aNewSpring subscription and results API.

    Connection: ``base_url`` is the environment's API root (``https://<environment>/api``), the API key
    is the password and goes out as ``X-API-Key``.

    Every API method takes ``address_by``: ``"id"`` (external ids, in the path; the default) or ``"uid"``
    (UIDs, in the query). Generic operators pass it as ``platform_options={"address_by": "uid"}``.

    :param lms_conn_id: the Airflow connection id (type ``anewspring``).
    """

    conn_type = "anewspring"
    hook_name = "aNewSpring"
    default_conn_name = "anewspring_default"
    platform: ClassVar[str] = "aNewSpring"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {
            "subscribe",
            "subscribe_groups",
            "unsubscribe",
            "update_subscription",
            "score_external_activity",
            "enrollment_status",
        }
    )
    connection_model: ClassVar[type[LmsConnection]] = ANewSpringConnection
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}
    #: Sent with every request so that errors come back as a parseable body instead of free text.
    base_params: ClassVar[dict[str, str]] = {"_formatErrors": "true"}

    def auth_for(self, config: ApiKeyConnection) -> httpx.Auth:
        return HeaderAuth({"X-API-Key": config.api_key})

    def error_parser(self) -> ErrorParser:
        return parse_anewspring_error

    # -- addressing ----------------------------------------------------------------------------------------
    @staticmethod
    def _address_by(value: Any) -> AddressBy:
        if value not in ADDRESS_MODES:
            raise LmsInputError("address_by", f"must be 'id' (external ids) or 'uid', got {value!r}")
        return value  # type: ignore[no-any-return,unused-ignore]

    def endpoint(
        self,
        function: str,
        *,
        user: Any = None,
        course: Any = None,
        activity: Any = None,
        address_by: AddressBy = "id",
    ) -> tuple[str, dict[str, str]]:
        """The path and query parameters of a call, by external ids or by UIDs.

        :param function: the API function, e.g. ``"getResults"``.
        :param user: the learner's external id or UID.
        :param course: the course's external id or UID.
        :param activity: the activity's external id (always an external id, also in the UID form).
        :param address_by: ``"id"`` or ``"uid"``.
        """
        by = self._address_by(address_by)
        values = [
            (name, validate_id(field, value))
            for name, field, value in (("user", "user_id", user), ("course", "course_id", course))
            if value is not None
        ]
        act = None if activity is None else validate_id("activity_id", activity)
        params = dict(self.base_params)
        if by == "id":
            segments = [encode_path_segment(v) for _, v in values]
            if act is not None:
                segments.append(encode_path_segment(act))
            return "/".join([f"/{function}", *segments]), params
        for name, value in values:
            params[f"{name}UID"] = value
        if act is not None:
            params["activityID"] = act
        return f"/{_UID_FUNCTION.get(function, function)}", params

    def _get(self, path: str, params: dict[str, str]) -> Any:
        return self.client.request("GET", path, params=params, parse=_json)

    def _post(self, path: str, params: dict[str, str], form: Mapping[str, Any] | None, *, idempotent: bool) -> None:
        data = {k: _form_value(v) for k, v in (form or {}).items() if v is not None}
        self.client.request("POST", path, params=params, data=data or None, idempotent=idempotent)

    # -- GET calls --------------------------------------------------------------------------------------------
    def is_subscribed(self, user: Any, course: Any, *, address_by: AddressBy = "id") -> bool:
        """``GET /isSubscribed``: whether the learner has a subscription to the course.

        # ASSUMPTION: the answer is ``{"result": true|false}`` (as the public PHP client reads it).
        """
        path, params = self.endpoint("isSubscribed", user=user, course=course, address_by=address_by)
        body = self._get(path, params)
        if isinstance(body, dict) and isinstance(body.get("result"), bool):
            return bool(body["result"])
        if isinstance(body, bool):
            return body
        raise LmsTransportError("malformed isSubscribed answer", platform=self.platform, path=path)

    def get_subscriptions(
        self, user: Any, *, address_by: AddressBy = "id", skip_stats: bool = False
    ) -> list[ANewSpringSubscription]:
        """``GET /getSubscriptions``: every subscription of the learner (``skip_stats`` skips the costly figures)."""
        path, params = self.endpoint("getSubscriptions", user=user, address_by=address_by)
        if skip_stats:
            params["skipStats"] = "true"
        body = self._get(path, params)
        return [ANewSpringSubscription.model_validate(c) for c in (body or {}).get("courses", [])]

    def get_results(self, user: Any, *, address_by: AddressBy = "id") -> list[ANewSpringCourseResult]:
        """``GET /getResults/{userID}``: the learner's results in every course.

        # ASSUMPTION: the answer is ``{"courses": [<course result>, ...]}`` (as the public PHP client reads it).
        """
        path, params = self.endpoint("getResults", user=user, address_by=address_by)
        body = self._get(path, params)
        courses = body.get("courses", []) if isinstance(body, dict) else body
        return [ANewSpringCourseResult.model_validate(c) for c in courses or []]

    def get_course_results(self, user: Any, course: Any, *, address_by: AddressBy = "id") -> ANewSpringCourseResult:
        """``GET /getResults/{userID}/{courseID}``: one subscription's results (404 when not subscribed)."""
        path, params = self.endpoint("getResults", user=user, course=course, address_by=address_by)
        return ANewSpringCourseResult.model_validate(self._get(path, params))

    def get_activity_results(
        self, user: Any, course: Any, activity: Any, *, address_by: AddressBy = "id"
    ) -> ANewSpringPart:
        """``GET /getResults/{userID}/{courseID}/{activityID}``: one activity's result.

        # ASSUMPTION: the answer is the activity's record as in ``parts[]``; a course-shaped answer is read
        # by picking the activity out of its parts.
        """
        path, params = self.endpoint("getResults", user=user, course=course, activity=activity, address_by=address_by)
        body = self._get(path, params)
        if isinstance(body, dict) and "parts" in body and "partId" not in body:
            part = ANewSpringCourseResult.model_validate(body).part(str(activity))
            if part is None:
                raise LmsNotFoundError(f"activity {activity!r} is not in the answer", platform=self.platform)
            return part
        return ANewSpringPart.model_validate(body)

    # -- POST calls ---------------------------------------------------------------------------------------------
    def subscribe(
        self, user: Any, course: Any, *, address_by: AddressBy = "id", fields: Mapping[str, Any] | None = None
    ) -> None:
        """``POST /subscribe``. Raises :class:`LmsConflictError` (409) when already subscribed: prefer
        :meth:`subscribe_learner`, which treats that as done.

        :param fields: extra form fields your environment's /apidocs lists (sent as given).
        """
        fields = _form_fields("fields", fields)
        path, params = self.endpoint("subscribe", user=user, course=course, address_by=address_by)
        # Not resent blindly: a second subscribe after a lost answer is answered 409 at best.
        self._post(path, params, fields, idempotent=False)

    def subscribe_groups(
        self,
        course: Any,
        group_ids: Sequence[Any],
        *,
        address_by: AddressBy = "id",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """``POST /subscribeGroups/{courseID}``: subscribe existing learner groups; ``groupID`` is repeated."""
        if isinstance(group_ids, str | bytes | bytearray) or not isinstance(group_ids, Sequence) or not group_ids:
            raise LmsInputError("group_ids", f"must be a non-empty list of group ids, got {shown(group_ids)}")
        groups = list(dict.fromkeys(validate_id(f"group_ids[{i}]", g) for i, g in enumerate(group_ids)))
        fields = _form_fields("fields", fields)
        path, params = self.endpoint("subscribeGroups", course=course, address_by=address_by)
        # Safe to resend: members already subscribed are not subscribed twice (a group subscription is a set
        # operation), so a retry after a lost answer leaves the same subscriptions.
        self._post(path, params, {**(fields or {}), "groupID": groups}, idempotent=True)

    def update_subscription(
        self,
        user: Any,
        course: Any,
        *,
        start_date: Any = None,
        expiry_date: Any = None,
        expired: bool | None = None,
        address_by: AddressBy = "id",
        field_names: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /updateSubscription``: set the start date, the expiry date and/or the expired flag.

        :param field_names: override the form field names (keys ``start_date``, ``expiry_date``,
            ``expired``); see :data:`UPDATE_SUBSCRIPTION_FIELDS`.
        :param fields: further form fields, sent as given.
        :return: the form that was sent.
        """
        form = self.update_form(start_date, expiry_date, expired, field_names)
        form.update(_form_fields("fields", fields))
        if not form:
            raise LmsInputError("update", "give start_date, expiry_date or expired")
        path, params = self.endpoint("updateSubscription", user=user, course=course, address_by=address_by)
        # Safe to resend: it sets absolute values.
        self._post(path, params, form, idempotent=True)
        return form

    @staticmethod
    def update_form(
        start_date: Any, expiry_date: Any, expired: Any, field_names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The updateSubscription form for these values, validated (errors name the field)."""
        names = _field_names("field_names", field_names, UPDATE_SUBSCRIPTION_FIELDS)
        form: dict[str, Any] = {}
        start = None if start_date in (None, "") else _date("start_date", start_date)
        expiry = None if expiry_date in (None, "") else _date("expiry_date", expiry_date)
        if start is not None and expiry is not None and expiry < start:
            # ISO dates compare as text; aNewSpring would store a subscription that expires before it starts.
            raise LmsInputError("expiry_date", f"{expiry} is before start_date {start}")
        if start is not None:
            form[names["start_date"]] = start
        if expiry is not None:
            form[names["expiry_date"]] = expiry
        if expired is not None:
            if not isinstance(expired, bool):
                raise LmsInputError("expired", f"must be true or false, got {shown(expired)}")
            form[names["expired"]] = expired
        return form

    def unsubscribe(self, user: Any, course: Any, *, address_by: AddressBy = "id") -> None:
        """``POST /unsubscribe``. 404 when not subscribed: prefer :meth:`unsubscribe_learner`."""
        path, params = self.endpoint("unsubscribe", user=user, course=course, address_by=address_by)
        # Safe to resend: unsubscribing twice ends in the same state (the second answers 404, handled above us).
        self._post(path, params, None, idempotent=True)

    def score_external_activity(
        self,
        user: Any,
        course: Any,
        activity: Any,
        *,
        score: float | None = None,
        passed: bool | None = None,
        comment: str | None = None,
        address_by: AddressBy = "id",
        field_names: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /scoreExternalActivity``: register a score on an external activity.

        :param score: a percentage from 0 to 100.
        :param passed: whether the learner passed.
        :param comment: a note.
        :param field_names: override the form field names (keys ``score``, ``passed``, ``comment``); see
            :data:`SCORE_FIELDS`.
        :param fields: further form fields, sent as given.
        :return: the form that was sent.
        """
        form = self.score_form(score, passed, comment, field_names)
        form.update(_form_fields("fields", fields))
        path, params = self.endpoint(
            "scoreExternalActivity", user=user, course=course, activity=activity, address_by=address_by
        )
        # Safe to resend: the score is an absolute value, registering it twice leaves the same result.
        self._post(path, params, form, idempotent=True)
        return form

    @staticmethod
    def score_form(
        score: Any, passed: Any, comment: Any, field_names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The scoreExternalActivity form for these values, validated."""
        names = _field_names("field_names", field_names, SCORE_FIELDS)
        form: dict[str, Any] = {}
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise LmsInputError("score", f"must be a percentage from 0 to 100, got {shown(score)}")
            try:
                check_number("score", score, minimum=0, maximum=100)
            except LmsInputError:
                raise LmsInputError("score", f"must be a percentage from 0 to 100, got {shown(score)}") from None
            form[names["score"]] = int(score) if float(score).is_integer() else score
        if passed is not None:
            if not isinstance(passed, bool):
                raise LmsInputError("passed", f"must be true or false, got {shown(passed)}")
            form[names["passed"]] = passed
        if comment:
            form[names["comment"]] = check_text("comment", comment, max_length=5000, multiline=True)
        if not form:
            raise LmsInputError("score", "give a score or passed")
        return form

    # -- the UI's Test button -------------------------------------------------------------------------------------
    def check_connection(self) -> str:
        """Ask for the subscriptions of a user id that cannot exist: 404 proves key and URL are right."""
        probe = "airflow-connection-test"
        # A 404 is the expected answer; 401 (bad key) and transport errors propagate.
        with contextlib.suppress(LmsNotFoundError):
            self.get_subscriptions(probe, skip_stats=True)
        return f"Connected to aNewSpring at {self.client.base_url}"

    # -- capabilities used by the generic operators ------------------------------------------------------------
    def parse_learner_id(self, field: str, value: Any) -> str:
        return validate_id(field, value)

    def parse_course_id(self, field: str, value: Any) -> str:
        return validate_id(field, value)

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        raise LmsInputError(
            field, "aNewSpring has no enrollment ids; name the subscription by learner_id and course_id"
        )

    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        checked = dict(options)
        known = {"address_by", "fields", "field_names", "check_first"}
        for name in options:
            if name not in known:
                raise LmsInputError(f"platform_options.{name}", f"is not an aNewSpring option ({sorted(known)})")
        if "address_by" in options:
            try:
                checked["address_by"] = self._address_by(options["address_by"])
            except LmsInputError:
                raise LmsInputError(
                    "platform_options.address_by", f"must be 'id' or 'uid', got {options['address_by']!r}"
                ) from None
        for name in ("fields", "field_names"):
            if name in options and not isinstance(options[name], dict):
                raise LmsInputError(f"platform_options.{name}", f"must be a mapping, got {shown(options[name])}")
        if "fields" in options:
            checked["fields"] = _form_fields("platform_options.fields", options["fields"])
        if "field_names" in options:
            defaults = SCORE_FIELDS if capability == "score_external_activity" else UPDATE_SUBSCRIPTION_FIELDS
            _field_names("platform_options.field_names", options["field_names"], defaults)
        if "check_first" in options and not isinstance(options["check_first"], bool):
            raise LmsInputError(
                "platform_options.check_first", f"must be true or false, got {options['check_first']!r}"
            )
        return checked

    def subscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Subscribe one learner unless subscribed; an existing subscription (409 or isSubscribed) is done.

        :param options: ``address_by`` (``"id"``/``"uid"``), ``fields`` (extra form fields), ``check_first``
            (default True: ask isSubscribed before subscribing, so a platform that re-subscribes instead of
            answering 409 is never asked to).
        """
        by = self._address_by(options.get("address_by", "id"))
        result = {"learner_id": learner_id, "course_id": course_id, "enrollment_id": f"{learner_id}/{course_id}"}
        if options.get("check_first", True) and self.is_subscribed(learner_id, course_id, address_by=by):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        try:
            self.subscribe(learner_id, course_id, address_by=by, fields=options.get("fields"))
        except LmsConflictError:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        except (LmsTransportError, LmsServerError):
            # The subscribe may or may not have happened: look instead of sending it again.
            if self.is_subscribed(learner_id, course_id, address_by=by):
                return ItemResult(status=ItemStatus.DONE, result=result)
            raise
        return ItemResult(status=ItemStatus.DONE, result=result)

    def subscribe_group(self, course_id: str, group_id: str, **options: Any) -> ItemResult[Any]:
        """Subscribe one learner group to a course (members already subscribed are left as they are)."""
        by = self._address_by(options.get("address_by", "id"))
        self.subscribe_groups(course_id, [group_id], address_by=by, fields=options.get("fields"))
        return ItemResult(status=ItemStatus.DONE, result={"group_id": group_id, "course_id": course_id})

    def unsubscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Unsubscribe one learner; one who is not subscribed counts as already done."""
        by = self._address_by(options.get("address_by", "id"))
        result = {"learner_id": learner_id, "course_id": course_id}
        # isSubscribed answers 404 for an unknown user or course: that is an error, not "already done".
        if not self.is_subscribed(learner_id, course_id, address_by=by):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        try:
            self.unsubscribe(learner_id, course_id, address_by=by)
        except LmsNotFoundError:
            # Subscribed a moment ago, not any more: someone (or a lost earlier answer of ours) got there first.
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        return ItemResult(status=ItemStatus.DONE, result=result)

    def update_learner_subscription(
        self,
        course_id: str,
        learner_id: str,
        *,
        start_date: Any = None,
        expiry_date: Any = None,
        expired: bool | None = None,
        **options: Any,
    ) -> ItemResult[Any]:
        """Update one subscription; unchanged when what getSubscriptions shows already matches.

        The expiry date is not in any answer, so an update that sets it is always sent (it is idempotent).
        """
        by = self._address_by(options.get("address_by", "id"))
        form = self.update_form(start_date, expiry_date, expired, options.get("field_names"))
        result = {
            "learner_id": learner_id,
            "course_id": course_id,
            "sent": {k: _form_value(v) for k, v in form.items()},
        }
        if expiry_date in (None, "") and not options.get("fields"):
            current = self._find_subscription(learner_id, course_id, by)
            if current is None:
                raise LmsNotFoundError(
                    f"learner {learner_id} has no subscription to course {course_id}", platform=self.platform
                )
            same_start = start_date in (None, "") or current.start_date == _date("start_date", start_date)
            same_expired = expired is None or bool(current.expired) == expired
            if same_start and same_expired:
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.update_subscription(
            learner_id,
            course_id,
            start_date=start_date,
            expiry_date=expiry_date,
            expired=expired,
            address_by=by,
            field_names=options.get("field_names"),
            fields=options.get("fields"),
        )
        return ItemResult(status=ItemStatus.DONE, result=result)

    def _find_subscription(self, user: str, course: str, by: AddressBy) -> ANewSpringSubscription | None:
        for sub in self.get_subscriptions(user, address_by=by, skip_stats=True):
            if (sub.uid if by == "uid" else sub.id) == course:
                return sub
        return None

    def check_score_row(self, field: str, row: ScoreRow, **options: Any) -> None:
        """Refuse a row ``score_activity`` would refuse, before the bulk run sends anything.

        :param field: where the row is, e.g. ``scores[3]``; errors name ``scores[3].score``.
        """
        if row.activity_id is None:
            raise LmsInputError(f"{field}.activity_id", "aNewSpring scores an activity: give the row's activity_id")
        try:
            self.score_form(row.score, getattr(row, "passed", None), row.comment, options.get("field_names"))
        except LmsInputError as exc:
            raise LmsInputError(f"{field}.{exc.field}", str(exc).removeprefix(f"invalid {exc.field}: ")) from None

    def check_subscription_update(self, start_date: Any, expiry_date: Any, expired: Any, **options: Any) -> None:
        """Refuse dates or a flag the updateSubscription form would refuse (errors name the field)."""
        self.update_form(start_date, expiry_date, expired, options.get("field_names"))

    def score_activity(self, row: ScoreRow, **options: Any) -> ItemResult[Any]:
        """Register a row's score on its external activity unless the same score is already there.

        The row needs ``activity_id``; ``score`` is a percentage (0-100); ``passed`` and ``comment`` are
        sent when given. ``check_first`` (default True) reads the activity's result first and leaves an
        equal score alone (the platform shows whole percentages, so 66.7 equals "67%").
        """
        by = self._address_by(options.get("address_by", "id"))
        row = recheck(row, "row")
        if row.activity_id is None:
            raise LmsInputError("activity_id", "aNewSpring scores an activity: give the row's activity_id")
        user, course, activity = str(row.learner_id), str(row.course_id), str(row.activity_id)
        passed = getattr(row, "passed", None)
        form = self.score_form(row.score, passed, row.comment, options.get("field_names"))
        result = {"learner_id": user, "course_id": course, "activity_id": activity, "score": row.score}
        if options.get("check_first", True):
            try:
                part = self.get_activity_results(user, course, activity, address_by=by)
            except LmsNotFoundError:
                part = None  # let the POST say what is missing (user, course, activity or subscription)
            if part is not None and self._same_score(part, row.score, passed):
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.score_external_activity(
            user,
            course,
            activity,
            score=row.score,
            passed=passed,
            comment=row.comment,
            address_by=by,
            field_names=options.get("field_names"),
            fields=options.get("fields"),
        )
        return ItemResult(
            status=ItemStatus.DONE, result={**result, "sent": {k: _form_value(v) for k, v in form.items()}}
        )

    @staticmethod
    def _same_score(part: ANewSpringPart, score: float | None, passed: bool | None) -> bool:
        shown = parse_percent(part.score)
        if score is not None and (shown is None or abs(shown - score) > 0.5):
            return False
        return passed is None or part.passed == passed

    # -- enrollment state (sensor and trigger) ------------------------------------------------------------------
    def _state_endpoint(self, ref: EnrollmentRef) -> tuple[str, dict[str, str]]:
        if ref.learner_id is None or ref.course_id is None:
            raise LmsInputError("learner_id", "aNewSpring subscriptions are named by learner_id and course_id")
        return self.endpoint("getResults", user=ref.learner_id, course=ref.course_id)

    def _normalize(self, ref: EnrollmentRef, body: Any) -> NormalizedEnrollment:
        normalized = ANewSpringCourseResult.model_validate(body).normalized(ref.learner_id)
        normalized.course_id = normalized.course_id or ref.course_id
        normalized.enrollment_id = f"{ref.learner_id}/{ref.course_id}"
        return normalized

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The normalized state of a learner's subscription, from ``getResults/{userID}/{courseID}``.

        404 (not subscribed, or no such user or course) is reported as ``not_enrolled``.
        """
        path, params = self._state_endpoint(ref)
        try:
            body = self._get(path, params)
        except LmsNotFoundError:
            return self.not_enrolled(ref.learner_id, ref.course_id)
        return self._normalize(ref, body)

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, for the deferrable trigger."""
        client: LmsHttpClient = await self.aget_conn()
        path, params = self._state_endpoint(ref)
        try:
            body = await client.arequest("GET", path, params=params, parse=_json)
        except LmsNotFoundError:
            return self.not_enrolled(ref.learner_id, ref.course_id)
        return self._normalize(ref, body)
