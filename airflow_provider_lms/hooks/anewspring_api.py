"""The aNewSpring API's typed calls: REST with form-encoded POST bodies and ``X-API-Key`` (anewspring-api.nl.txt,
FACTS.md, anewspring-more.md).

:class:`ANewSpringApi` holds one typed method per documented call;
:class:`~airflow_provider_lms.hooks.anewspring.ANewSpringHook` builds the generic capabilities on it.
Every call addresses the learner and the course in one of two ways:

* by external ids, in the path: ``GET /getResults/{userID}/{courseID}`` (``address_by="id"``, the default);
* by UIDs, in the query: ``GET /getResults?userUID=..&courseUID=..`` (``address_by="uid"``).

The user, group and roster calls (``getUser``, ``addOrUpdateUser``, ``addUserRoles``, ``getGroupUsers``,
``groupUserExists``, ``addGroupUsers``, ``deleteGroupUsers``, ``getStudentSubscriptions``) are published with
external ids in the path only.

An id in the path is percent-encoded as exactly one segment (``/``, ``?``, ``#``, ``%`` and spaces are
escaped, and a ``.`` or ``..`` segment is written ``%2E``/``%2E%2E`` so that URL resolution cannot drop
it), so no id can ever reach another endpoint.

Answers: ``Accept: application/json``; a POST answers 200 with an empty body; errors are plain text
unless ``_formatErrors=true``, which this hook always sends. 404 means user, course, group or activity
not found, or not subscribed; 409 a conflict such as a duplicate subscription.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.auth import HeaderAuth
from airflow_provider_lms.http.client import ErrorParser, PlatformError
from airflow_provider_lms.http.errors import LmsInputError, LmsNotFoundError, LmsTransportError
from airflow_provider_lms.models.anewspring import (
    ANewSpringCourseResult,
    ANewSpringPart,
    ANewSpringStudentSubscription,
    ANewSpringSubscription,
    ANewSpringUser,
    ANewSpringUserSummary,
)
from airflow_provider_lms.models.connection import ApiKeyConnection, LmsConnection
from airflow_provider_lms.models.inputs import (
    as_list,
    check_extra_fields,
    check_number,
    check_renames,
    check_text,
    shown,
    validate_id,
)

__all__ = [
    "ADDRESS_MODES",
    "ROLES",
    "SCORE_FIELDS",
    "UPDATE_SUBSCRIPTION_FIELDS",
    "USER_FIELDS",
    "ANewSpringApi",
    "ANewSpringConnection",
    "AddressBy",
    "encode_path_segment",
    "field_names",
    "form_fields",
    "form_value",
    "iso_date",
    "parse_anewspring_error",
    "read_json",
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


#: The roles a user can hold (the public client's ``addUserRoles`` comment; ``mentor`` is shown as observer).
ROLES = frozenset({"student", "teacher", "mentor", "author", "designer", "administrator", "reseller", "tenant"})

#: The form fields ``addOrUpdateUser`` takes: the public client's ``user_fields()`` plus ``userUID``, ``id`` and
#: ``archived`` (anewspring-more.md section 2). Other names are refused before sending.
USER_FIELDS = frozenset(
    {
        "login", "firstName", "middleName", "lastName", "gender", "title", "initials", "email", "function",
        "company", "dateOfBirth", "telephoneNumber", "faxNumber", "cellPhoneNumber", "address", "zip",
        "residence", "country", "invoiceAddress", "invoiceZip", "invoiceResidence", "invoiceCountry",
        "custom1", "custom2", "custom3", "custom4", "custom5", "locale", "timeZoneGroup", "timeZone",
        "password", "generatePassword", "forcePasswordChange", "notify", "active", "renewable", "avatar",
        "deleteAvatar", "userUID", "id", "archived",
    }
)  # fmt: skip

#: Where a new user's ``login`` comes from (``ensure_learners`` option ``login``).
# ASSUMPTION: the sources do not say whether addOrUpdateUser needs a login to create a user; by default the
# learner's e-mail address is sent as the login when (and only when) the user is created.
LOGIN_SOURCES = frozenset({"email", "external_id", "none"})


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


#: The form helpers, for the capability layer (``hooks/anewspring.py``).
read_json = _json
form_value = _form_value
iso_date = _date
form_fields = _form_fields
field_names = _field_names


@dataclass(frozen=True, kw_only=True)
class ANewSpringConnection(ApiKeyConnection):
    """An aNewSpring connection: the environment's API root and the API key (password, sent as ``X-API-Key``)."""

    extra_keys: ClassVar[frozenset[str] | None] = frozenset()


class ANewSpringApi(LmsHook[ApiKeyConnection]):
    """The typed calls of the aNewSpring API (the base of :class:`~.anewspring.ANewSpringHook`).

    Connection: ``base_url`` is the environment's API root (``https://<environment>/api``), the API key
    is the password and goes out as ``X-API-Key``.

    :param lms_conn_id: the Airflow connection id (type ``anewspring``).
    """

    platform: ClassVar[str] = "aNewSpring"
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

    def _path(self, function: str, *ids: tuple[str, Any]) -> tuple[str, dict[str, str]]:
        """The path of a call that names its records by external id only (users, groups, rosters)."""
        segments = [encode_path_segment(validate_id(name, value)) for name, value in ids]
        return "/".join([f"/{function}", *segments]), dict(self.base_params)

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

    # -- users (anewspring-more.md section 2) -------------------------------------------------------------------
    def get_user(self, user_id: Any) -> ANewSpringUser:
        """``GET /getUser/{userID}``: one user's record. Raises :class:`LmsNotFoundError` (404) for an unknown id."""
        path, params = self._path("getUser", ("user_id", user_id))
        body = self._get(path, params)
        if not isinstance(body, dict):
            raise LmsTransportError("malformed getUser answer", platform=self.platform, path="/getUser")
        return ANewSpringUser.model_validate(body)

    def find_user(self, user_id: Any) -> ANewSpringUser | None:
        """:meth:`get_user`, or None when no user has this external id."""
        try:
            return self.get_user(user_id)
        except LmsNotFoundError:
            return None

    def add_or_update_user(self, user_id: Any, fields: Mapping[str, Any]) -> None:
        """``POST /addOrUpdateUser/{userID}``: create the user with this external id, or update the fields given.

        :param user_id: the user's external id.
        :param fields: form fields, named as the API names them (see :data:`USER_FIELDS`); unknown names and
            values that may not travel in a form are refused before sending.
        """
        form = self._user_form("fields", fields)
        if not form:
            raise LmsInputError("fields", "give at least one user field")
        path, params = self._path("addOrUpdateUser", ("user_id", user_id))
        # Safe to resend: an upsert of the same values leaves the same user (no second user, no other change).
        self._post(path, params, form, idempotent=True)

    @staticmethod
    def _user_form(field_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        checked = _form_fields(field_name, fields)
        for name in checked:
            if name not in USER_FIELDS:
                raise LmsInputError(f"{field_name}.{name}", f"is not an addOrUpdateUser field ({sorted(USER_FIELDS)})")
        email = checked.get("email")
        if isinstance(email, str) and email and ("@" not in email or any(c.isspace() for c in email)):
            raise LmsInputError(f"{field_name}.email", f"is not an e-mail address: {shown(email)}")
        return checked

    def add_user_roles(self, user_id: Any, roles: Sequence[str], *, ignore_duplicates: bool = True) -> None:
        """``POST /addUserRoles/{userID}``: give the user these roles (``role`` repeated).

        :param roles: names from :data:`ROLES`.
        :param ignore_duplicates: a role the user already has is no error (default True; False answers 409).
        """
        names = [check_text(f"roles[{i}]", r, max_length=40) for i, r in enumerate(as_list("roles", roles))]
        if not names:
            raise LmsInputError("roles", "is an empty list")
        for i, name in enumerate(names):
            if name not in ROLES:
                raise LmsInputError(f"roles[{i}]", f"must be one of {sorted(ROLES)}, got {shown(name)}")
        path, params = self._path("addUserRoles", ("user_id", user_id))
        # Safe to resend with ignoreDuplicates: the role is a set membership.
        self._post(path, params, {"role": names, "ignoreDuplicates": ignore_duplicates}, idempotent=ignore_duplicates)

    # -- learner groups (anewspring-more.md section 3) ------------------------------------------------------------
    def get_group_users(self, group_id: Any) -> list[ANewSpringUserSummary]:
        """``GET /getGroupUsers/{groupID}``: the group's members (404 for an unknown group)."""
        path, params = self._path("getGroupUsers", ("group_id", group_id))
        body = self._get(path, params)
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise LmsTransportError("malformed getGroupUsers answer", platform=self.platform, path="/getGroupUsers")
        return [ANewSpringUserSummary.model_validate(u) for u in users]

    def group_user_exists(self, group_id: Any, user_id: Any) -> bool:
        """``GET /groupUserExists/{groupID}/{userID}``: whether the user is a member (404 for an unknown group)."""
        path, params = self._path("groupUserExists", ("group_id", group_id), ("user_id", user_id))
        body = self._get(path, params)
        if isinstance(body, dict) and isinstance(body.get("result"), bool):
            return bool(body["result"])
        raise LmsTransportError("malformed groupUserExists answer", platform=self.platform, path="/groupUserExists")

    def _user_list(self, user_ids: Any) -> list[str]:
        ids = [validate_id(f"user_ids[{i}]", u) for i, u in enumerate(as_list("user_ids", user_ids))]
        if not ids:
            raise LmsInputError("user_ids", "is an empty list")
        return list(dict.fromkeys(ids))

    def add_group_users(
        self,
        group_id: Any,
        user_ids: Sequence[Any],
        *,
        ignore_duplicates: bool = True,
        notify: bool = False,
        add_to_teacher_students: bool = False,
    ) -> None:
        """``POST /addGroupUsers/{groupID}``: add users to a group (``user`` repeated).

        :param ignore_duplicates: a member already in is no error (default True; False answers 409).
        :param notify: mail learners about the subscriptions the group gives them (default False).
        :param add_to_teacher_students: also put the learners on the instructors' "My Students" list.
        """
        users = self._user_list(user_ids)
        for name, value in (
            ("ignore_duplicates", ignore_duplicates),
            ("notify", notify),
            ("add_to_teacher_students", add_to_teacher_students),
        ):
            if not isinstance(value, bool):
                raise LmsInputError(name, f"must be true or false, got {shown(value)}")
        path, params = self._path("addGroupUsers", ("group_id", group_id))
        form = {
            "user": users,
            "ignoreDuplicates": ignore_duplicates,
            "notify": notify,
            "addToTeacherStudents": add_to_teacher_students,
        }
        # Safe to resend only with ignoreDuplicates: a member added twice is then no error and no change.
        self._post(path, params, form, idempotent=ignore_duplicates)

    def delete_group_users(self, group_id: Any, user_ids: Sequence[Any], *, ignore_missing: bool = True) -> None:
        """``POST /deleteGroupUsers/{groupID}``: remove users from a group (``user`` repeated).

        :param ignore_missing: a user who is not a member (or unknown) is no error (default True; False
            answers 409 or 404).
        """
        users = self._user_list(user_ids)
        if not isinstance(ignore_missing, bool):
            raise LmsInputError("ignore_missing", f"must be true or false, got {shown(ignore_missing)}")
        path, params = self._path("deleteGroupUsers", ("group_id", group_id))
        # Safe to resend only with ignoreMissing: removing a member twice then ends in the same state.
        self._post(path, params, {"user": users, "ignoreMissing": ignore_missing}, idempotent=ignore_missing)

    # -- the course roster (anewspring-more.md section 4) ---------------------------------------------------------
    def get_student_subscriptions(
        self, course_id: Any, *, skip_stats: bool = True
    ) -> list[ANewSpringStudentSubscription]:
        """``GET /getStudentSubscriptions/{courseID}``: every learner subscribed to the course, in one call.

        No pagination is published for this call (nor for any aNewSpring call): the whole roster is one
        answer, within the connection's ``max_response_bytes``.

        :param skip_stats: leave out progress, knowledge intake, efficiency and objectives progress (default
            True, as the public client does: they are costly, and the state needs none of them). Sent in the
            query string.
        """
        if not isinstance(skip_stats, bool):
            raise LmsInputError("skip_stats", f"must be true or false, got {shown(skip_stats)}")
        path, params = self._path("getStudentSubscriptions", ("course_id", course_id))
        if skip_stats:
            params["skipStats"] = "true"
        body = self._get(path, params)
        students = body.get("students") if isinstance(body, dict) else None
        if not isinstance(students, list):
            raise LmsTransportError(
                "malformed getStudentSubscriptions answer", platform=self.platform, path="/getStudentSubscriptions"
            )
        return [ANewSpringStudentSubscription.model_validate(s) for s in students]
