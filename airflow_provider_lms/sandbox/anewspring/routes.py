"""The aNewSpring API under ``/anewspring/api``: a route table over the raw path, one thin action per function.

aNewSpring puts external ids in the path, one segment each, and an id may hold ``/``, ``..``, ``?``, ``#``,
``%``, spaces or any Unicode. FastAPI matches routes on the decoded path (``%2F`` would split an id), so
the table (:data:`ROUTES`, the usual :class:`~airflow_provider_lms.sandbox.routing.Route` entries) is matched
by :meth:`ANewSpringResponses.dispatch` on the raw path, each segment percent-decoded on its own; one
catch-all FastAPI route hands every request to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox.anewspring.errors import ANewSpringError
from airflow_provider_lms.sandbox.anewspring.records import AddressForm
from airflow_provider_lms.sandbox.anewspring.views import (
    api_user_json,
    part_json,
    results_json,
    roster_json,
    subscription_json,
    user_summary_json,
)
from airflow_provider_lms.sandbox.routing import Route

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.anewspring.state import ANewSpringSandboxState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["ANEWSPRING_PREFIX", "ROUTES", "ANewSpringResponses", "create_router"]

ANEWSPRING_PREFIX = "/anewspring/api"
_RAW_PREFIX = ANEWSPRING_PREFIX.encode()

# ASSUMPTION: the form fields of updateSubscription and scoreExternalActivity (the document does not name them;
# the hook's defaults are the same and can be overridden per call). Subscribe accepts the same date fields.
UPDATE_FIELDS = frozenset({"startDate", "expireDate", "expired"})
SCORE_FIELDS = frozenset({"score", "passed", "comment"})
SUBSCRIBE_FIELDS = frozenset({"startDate", "expireDate", "notify"})
#: addOrUpdateUser's fields (anewspring-more.md section 2: the public client's user fields plus userUID, id,
#: archived); the sandbox keeps its own copy, it shares no code with the client.
USER_FORM_FIELDS = frozenset(
    {
        "userID", "login", "firstName", "middleName", "lastName", "gender", "title", "initials", "email",
        "function", "company", "dateOfBirth", "telephoneNumber", "faxNumber", "cellPhoneNumber", "address", "zip",
        "residence", "country", "invoiceAddress", "invoiceZip", "invoiceResidence", "invoiceCountry", "custom1",
        "custom2", "custom3", "custom4", "custom5", "locale", "timeZoneGroup", "timeZone", "password",
        "generatePassword", "forcePasswordChange", "notify", "active", "renewable", "avatar", "deleteAvatar",
        "userUID", "id", "archived",
    }
)  # fmt: skip
_USER_FLAGS = ("generatePassword", "forcePasswordChange", "notify", "active", "renewable", "deleteAvatar", "archived")
#: The role names addUserRoles knows (the public client's list).
ROLE_NAMES = frozenset({"student", "teacher", "mentor", "author", "designer", "administrator", "reseller", "tenant"})

#: The functions in both address forms. A placeholder matches one raw path segment (never empty); without
#: placeholders the ids come from the query or form: ``userUID``, ``courseUID``, ``activityID``.
ROUTES: tuple[Route, ...] = (
    Route("GET", "/isSubscribed/{user}/{course}", "is_subscribed"),
    Route("GET", "/isSubscribed", "is_subscribed"),
    Route("GET", "/getSubscriptions/{user}", "get_subscriptions"),
    Route("GET", "/getSubscriptions", "get_subscriptions"),
    Route("GET", "/getResults/{user}", "get_results"),
    Route("GET", "/getResults/{user}/{course}", "get_results"),
    Route("GET", "/getResults/{user}/{course}/{activity}", "get_results"),
    Route("GET", "/getResults", "get_results"),
    Route("POST", "/subscribe/{user}/{course}", "subscribe"),
    Route("POST", "/subscribe", "subscribe_by_uid"),
    Route("POST", "/subscribeGroups/{course}", "subscribe_groups"),
    Route("POST", "/subscribeGroups", "subscribe_groups"),
    Route("POST", "/updateSubscription/{user}/{course}", "update_subscription"),
    Route("POST", "/updateSubscription", "update_subscription"),
    # The document writes the UID form of updateSubscription as /updateSubscriptions: accepted too.
    Route("POST", "/updateSubscriptions", "update_subscription"),
    Route("POST", "/unsubscribe/{user}/{course}", "unsubscribe"),
    Route("POST", "/unsubscribe", "unsubscribe"),
    Route("POST", "/scoreExternalActivity/{user}/{course}/{activity}", "score_external_activity"),
    Route("POST", "/scoreExternalActivity", "score_external_activity"),
    # Users, groups and rosters (anewspring-more.md): external ids in the path only.
    Route("GET", "/getUser/{user}", "get_user"),
    Route("POST", "/addOrUpdateUser/{user}", "add_or_update_user"),
    Route("POST", "/addUserRoles/{user}", "add_user_roles"),
    Route("GET", "/getGroupUsers/{group}", "get_group_users"),
    Route("GET", "/groupUserExists/{group}/{user}", "group_user_exists"),
    Route("POST", "/addGroupUsers/{group}", "add_group_users"),
    Route("POST", "/deleteGroupUsers/{group}", "delete_group_users"),
    Route("GET", "/getStudentSubscriptions/{course}", "get_student_subscriptions"),
)

#: The methods the catch-all route takes: the others are answered 405 by the dispatcher, in aNewSpring's form.
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass
class _Call:
    """One parsed API call: which function, how it addresses its records, and its parameters."""

    function: str
    action: str
    method: str
    raw_path: str
    by: AddressForm
    user: str | None = None
    course: str | None = None
    activity: str | None = None
    group: str | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None

    def record(self) -> dict[str, Any]:
        """What ``GET /_sandbox/anewspring/calls`` shows of this call (the key left out)."""
        return {
            "function": self.function,
            "method": self.method,
            "raw_path": self.raw_path,
            "address_by": self.by,
            "user": self.user,
            "course": self.course,
            "activity": self.activity,
            "group": self.group,
            "form": {k: v for k, v in self.form.items() if k != "_key"},
        }


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _split_raw_path(request: Request) -> list[str]:
    """The path's segments after the prefix, each percent-decoded on its own (so ``%2F`` stays inside)."""
    raw = request.scope.get("raw_path")
    if not raw:
        raw = quote(request.scope.get("path", "")).encode()
    raw = raw.split(b"?", 1)[0]
    if not raw.startswith(_RAW_PREFIX + b"/"):
        raise ANewSpringError(404, "Not Found")
    try:
        text = raw[len(_RAW_PREFIX) + 1 :].decode("ascii")
        return [unquote(seg, encoding="utf-8", errors="strict") for seg in text.split("/")]
    except UnicodeDecodeError:
        raise ANewSpringError(400, "Bad Request: the path is not valid UTF-8") from None


def _match(method: str, segments: list[str]) -> tuple[Route, dict[str, str]]:
    """The route of ``ROUTES`` for the function and ids in ``segments`` (404: none; 405: other method)."""
    function, ids = segments[0], segments[1:]
    candidates = []
    for route in ROUTES:
        literal, *names = route.path.lstrip("/").split("/")
        if literal == function and len(names) == len(ids) and all(ids):
            candidates.append((route, {name.strip("{}"): value for name, value in zip(names, ids, strict=True)}))
    if not candidates:
        raise ANewSpringError(404, "Not Found")
    for route, values in candidates:
        if route.method == method:
            return route, values
    raise ANewSpringError(405, f"Method Not Allowed: {function} takes {candidates[0][0].method}")


def _bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ANewSpringError(400, f"Bad Request: {name} must be true or false, got {value!r}")


def _date(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ANewSpringError(400, f"Bad Request: {name} must be a date (yyyy-MM-dd), got {value!r}") from None


def _score(value: str | None) -> float | None:
    """A score as sent (``75``, ``75,5`` or ``75%``), from 0 to 100."""
    if value in (None, ""):
        return None
    try:
        score = float(str(value).rstrip("%").replace(",", "."))
    except ValueError:
        raise ANewSpringError(400, f"Bad Request: score must be a number, got {value!r}") from None
    if not 0 <= score <= 100:
        raise ANewSpringError(400, f"Bad Request: score must be from 0 to 100, got {value!r}")
    return score


def _check_fields(call: _Call, allowed: frozenset[str]) -> None:
    unknown = sorted(k for k in call.form if not k.startswith("_") and k not in allowed)
    if unknown:
        # ASSUMPTION: unknown form fields are rejected, so that a misnamed field cannot pass silently.
        raise ANewSpringError(400, f"Bad Request: unknown parameter(s) {', '.join(unknown)}")


def _ok(call: _Call) -> Response:
    if _bool("_returnSuccessMessage", call.first("_returnSuccessMessage")):
        # ASSUMPTION: the success message's shape is not documented.
        return JSONResponse({"message": "OK"})
    return Response(status_code=200)


async def _parse_call(request: Request) -> _Call:
    segments = _split_raw_path(request)
    query = _multi(parse_qsl(request.url.query, keep_blank_values=True))
    form: dict[str, list[str]] = {}
    body = await request.body()
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method == "POST" and body:
        if media != "application/x-www-form-urlencoded":
            raise ANewSpringError(415, f"Unsupported Media Type: send application/x-www-form-urlencoded, not {media!r}")
        form = _multi(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif request.method == "GET" and body and media == "application/x-www-form-urlencoded":
        # The public PHP client sends GET options (skipStats...) as a form body: read them there too.
        form = _multi(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    route, ids = _match(request.method, segments)
    raw_path = (request.scope.get("raw_path") or b"").decode("ascii", "replace")
    call = _Call(segments[0], route.action, request.method, raw_path, "id" if ids else "uid", form=form, query=query)
    if ids:
        call.user, call.course, call.activity = ids.get("user"), ids.get("course"), ids.get("activity")
        call.group = ids.get("group")
    else:
        call.user, call.course, call.activity = call.first("userUID"), call.first("courseUID"), call.first("activityID")
    return call


class ANewSpringResponses:
    """The actions of the aNewSpring API: parse the call's parameters, apply a state rule, render a view.

    :param ans: The aNewSpring state.
    """

    def __init__(self, ans: ANewSpringSandboxState) -> None:
        self.ans = ans

    async def dispatch(self, request: Request) -> Response:
        """Every request under the prefix: parse, match :data:`ROUTES`, check the key, run the action.

        The key is checked here, after matching, not in a router dependency: it may come in the form body
        (``_key``), and an unknown function (404), a wrong method (405) or a body that is not a form (415)
        is answered before a missing key.
        """
        formatted = False
        try:
            call = await _parse_call(request)
            formatted = bool(_bool("_formatErrors", call.first("_formatErrors")))
            self._check_key(request, call)
            self.ans.apply_auto_progress()
            self.ans.record_call(call.record())
            action: Any = getattr(self, call.action)
            response: Response = action(call)
            return response
        except ANewSpringError as exc:
            if not formatted:
                query = dict(parse_qsl(request.url.query))
                formatted = query.get("_formatErrors", "").lower() == "true"
            return exc.to_response(formatted=formatted)

    def _check_key(self, request: Request, call: _Call) -> None:
        key = request.headers.get("x-api-key") or call.first("_key")
        if not key:
            raise ANewSpringError(401, "Unauthorized: send the API key in the X-API-Key header")
        if key not in self.ans.api_keys:
            raise ANewSpringError(401, "Unauthorized: invalid API key")

    def is_subscribed(self, call: _Call) -> Response:
        user = self.ans.user(call.user, call.by)
        course = self.ans.course(call.course, call.by)
        return JSONResponse({"result": self.ans.is_subscribed(self.ans.subscriptions.get((user.id, course.id)))})

    def get_subscriptions(self, call: _Call) -> Response:
        user = self.ans.user(call.user, call.by)
        skip = bool(_bool("skipStats", call.first("skipStats")))
        subs = self.ans.subscriptions_of(user)
        return JSONResponse({"courses": [subscription_json(self.ans, s, skip_stats=skip) for s in subs]})

    def get_results(self, call: _Call) -> Response:
        if call.course is None:
            user = self.ans.user(call.user, call.by)
            subs = self.ans.subscriptions_of(user)
            # ASSUMPTION: unsubscribed courses are left out of the results.
            return JSONResponse({"courses": [results_json(self.ans, s) for s in subs if not s.unsubscribed]})
        sub = self.ans.subscription(call.user, call.course, call.by)
        if call.activity is None:
            return JSONResponse(results_json(self.ans, sub))
        return JSONResponse(part_json(self.ans, sub, self.ans.part_of(sub, call.activity)))

    def subscribe(self, call: _Call) -> Response:
        _check_fields(call, SUBSCRIBE_FIELDS)
        user = self.ans.user(call.user, call.by)
        course = self.ans.course(call.course, call.by)
        start = _date("startDate", call.first("startDate"))
        expire = _date("expireDate", call.first("expireDate"))
        self.ans.subscribe_user(user, course, start, expire)
        return _ok(call)

    def subscribe_by_uid(self, call: _Call) -> Response:
        if call.user is None and "groupID" in call.form:
            return self.subscribe_groups(call)  # the document's spelling of subscribeGroups' UID form
        return self.subscribe(call)

    def subscribe_groups(self, call: _Call) -> Response:
        _check_fields(call, SUBSCRIBE_FIELDS | {"groupID"})
        course = self.ans.course(call.course, call.by)
        group_ids = call.form.get("groupID") or call.query.get("groupID") or []
        self.ans.check_groups(group_ids)
        start = _date("startDate", call.first("startDate"))
        expire = _date("expireDate", call.first("expireDate"))
        self.ans.subscribe_groups(course, group_ids, start, expire)
        return _ok(call)

    def update_subscription(self, call: _Call) -> Response:
        _check_fields(call, UPDATE_FIELDS)
        sub = self.ans.subscription(call.user, call.course, call.by)
        start = _date("startDate", call.first("startDate"))
        expire = _date("expireDate", call.first("expireDate"))
        expired = _bool("expired", call.first("expired"))
        self.ans.update_subscription(sub, start, expire, expired)
        return _ok(call)

    def unsubscribe(self, call: _Call) -> Response:
        self.ans.unsubscribe(self.ans.subscription(call.user, call.course, call.by))
        return _ok(call)

    def score_external_activity(self, call: _Call) -> Response:
        _check_fields(call, SCORE_FIELDS)
        sub = self.ans.subscription(call.user, call.course, call.by)
        part = self.ans.scorable_part(sub, call.activity)
        score = _score(call.first("score"))
        passed = _bool("passed", call.first("passed"))
        self.ans.score_external_activity(sub, part, score, passed, call.first("comment"))
        return _ok(call)

    # -- users -----------------------------------------------------------------------------------------------------
    def get_user(self, call: _Call) -> Response:
        return JSONResponse(api_user_json(self.ans.user(call.user, "id")))

    def add_or_update_user(self, call: _Call) -> Response:
        _check_fields(call, USER_FORM_FIELDS)
        for name in _USER_FLAGS:
            _bool(name, call.first(name))
        birth = call.first("dateOfBirth")
        if birth not in (None, ""):
            try:
                date.fromisoformat(str(birth))
            except ValueError:
                # The message the public client quotes for an impossible date (anewspring-more.md section 1).
                raise ANewSpringError(400, f"dateOfBirth does not contain an ISO8601 date value: {birth}") from None
        if call.user is None:
            raise ANewSpringError(404, "Not Found: give userID")
        form = {k: v[-1] for k, v in call.form.items() if not k.startswith("_") and k != "userID"}
        self.ans.upsert_user(call.user, form)
        return _ok(call)

    def add_user_roles(self, call: _Call) -> Response:
        _check_fields(call, frozenset({"role", "ignoreDuplicates"}))
        user = self.ans.user(call.user, "id")
        roles = call.form.get("role") or call.query.get("role") or []
        if not roles:
            raise ANewSpringError(400, "Bad Request: give at least one role")
        unknown = [r for r in roles if r not in ROLE_NAMES]
        if unknown:
            # ASSUMPTION: an unknown role name is a bad request.
            raise ANewSpringError(400, f"Bad Request: unknown role {unknown[0]!r}")
        self.ans.add_roles(user, roles, bool(_bool("ignoreDuplicates", call.first("ignoreDuplicates"))))
        return _ok(call)

    # -- groups ------------------------------------------------------------------------------------------------------
    def get_group_users(self, call: _Call) -> Response:
        members = self.ans.group(call.group)
        return JSONResponse({"users": [user_summary_json(self.ans.users[m]) for m in members if m in self.ans.users]})

    def group_user_exists(self, call: _Call) -> Response:
        # ASSUMPTION: an unknown user is simply not a member (false); only an unknown group is 404.
        return JSONResponse({"result": call.user in self.ans.group(call.group)})

    def _users(self, call: _Call) -> list[str]:
        users = call.form.get("user") or call.query.get("user") or []
        if not users:
            raise ANewSpringError(400, "Bad Request: give at least one user")
        return list(dict.fromkeys(users))

    def add_group_users(self, call: _Call) -> Response:
        _check_fields(call, frozenset({"user", "addToTeacherStudents", "ignoreDuplicates", "notify"}))
        self.ans.group(call.group)
        for name in ("addToTeacherStudents", "notify"):
            _bool(name, call.first(name))
        ignore = bool(_bool("ignoreDuplicates", call.first("ignoreDuplicates")))
        self.ans.add_group_users(str(call.group), self._users(call), ignore)
        return _ok(call)

    def delete_group_users(self, call: _Call) -> Response:
        _check_fields(call, frozenset({"user", "ignoreMissing"}))
        self.ans.group(call.group)
        ignore = bool(_bool("ignoreMissing", call.first("ignoreMissing")))
        self.ans.delete_group_users(str(call.group), self._users(call), ignore)
        return _ok(call)

    # -- the course roster -----------------------------------------------------------------------------------------
    def get_student_subscriptions(self, call: _Call) -> Response:
        course = self.ans.course(call.course, "id")
        skip = bool(_bool("skipStats", call.first("skipStats")))
        # No pagination: none is published for any aNewSpring call; the whole roster is one answer.
        return JSONResponse({"students": [roster_json(self.ans, s, skip_stats=skip) for s in self.ans.roster(course)]})


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The aNewSpring router (mounted at ``/anewspring/api``) over the sandbox's aNewSpring state.

    :param sandbox_state: The shared sandbox state.
    """
    responses = ANewSpringResponses(sandbox_state.platform("anewspring"))
    router = APIRouter(prefix=ANEWSPRING_PREFIX, tags=["anewspring"])
    router.add_api_route("/{rest:path}", responses.dispatch, methods=_METHODS, include_in_schema=False)
    return router
