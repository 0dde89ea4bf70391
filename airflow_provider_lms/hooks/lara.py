"""Lära: ``lmsapi`` JSON, cycle methods (règlements de formation), member statuses.

Every method is ``POST <portal URL>/lmsapi/<module>/<method>`` with a JSON body and a JSON answer
(FACTS.md). Reads are safe to resend; of the writes, ``updatememberstatuses`` and ``updatememberstatus``
set absolute values (safe to resend) while ``changecurrentmemberstatus`` adds an entry, so it is never
resent blindly: :meth:`LaraHook.ensure_current_member_status` reads the statuses first.

Errors: the cycle error codes 1000-1010 become the typed errors below, keeping the code and Lära's
message; any answer with ``"isSuccess": false`` is an error even under HTTP 200. The generic error
envelope is not documented (FACTS.md has seen an ``ErrorID`` field), so the code is read from
``ErrorID`` / ``errorId`` / ``errorCode`` / ``code`` and the message from ``Message`` / ``message`` /
``errorMessage`` (ASSUMPTION, see README).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any, ClassVar

import httpx
import pendulum
from pydantic import ValidationError

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.http.auth import HeaderAuth
from airflow_provider_lms.http.client import ErrorParser, PlatformError
from airflow_provider_lms.http.errors import LmsError, LmsInputError, LmsNotFoundError, LmsValidationError
from airflow_provider_lms.models.connection import LmsConnection
from airflow_provider_lms.models.inputs import bad_character, check_text, parse_moment, shown
from airflow_provider_lms.models.lara import (
    MAX_ID_LENGTH,
    LaraConnection,
    LaraCycle,
    LaraCyclePeriod,
    LaraMemberStatus,
    LaraStatusInput,
    LaraUserProgress,
    MemberRef,
    answer_records,
    as_status_list,
    current_status_entry,
    normalize_status_name,
    parse_lara_datetime,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus

__all__ = [
    "LARA_ERRORS",
    "LaraApiError",
    "LaraConnection",
    "LaraCustomFieldRequiredError",
    "LaraCycleError",
    "LaraHook",
    "LaraIdRequiredError",
    "LaraInvalidCustomFieldError",
    "LaraInvalidDateError",
    "LaraInvalidIdError",
    "LaraInvalidMemberIdError",
    "LaraInvalidStatusIdError",
    "LaraInvalidUserError",
    "LaraMemberIdRequiredError",
    "LaraStatusRequiredError",
    "LaraStatusesRequiredError",
    "as_member",
    "as_status",
    "parse_lara_error",
]


# -- errors ------------------------------------------------------------------------------------------------
class LaraApiError(LmsValidationError):
    """Lära refused a request (``isSuccess: false`` or an error answer).

    ``code`` is Lära's error number (e.g. ``1003``) when it sent one, ``platform_message`` its message.
    """


class LaraCycleError(LaraApiError):
    """One of the documented cycle errors 1000-1010; each has its own subclass."""

    lara_code: ClassVar[int] = 0
    documented_message: ClassVar[str] = ""
    meaning: ClassVar[str] = ""


def _cycle_error(name: str, code: int, message: str, meaning: str) -> type[LaraCycleError]:
    doc = f"Lära error {code} ``{message}``: {meaning}"
    return type(
        name,
        (LaraCycleError,),
        {"lara_code": code, "documented_message": message, "meaning": meaning, "__doc__": doc, "__module__": __name__},
    )


# The table "Description des codes d'erreurs de cycle" of lara-cycles-api.fr.txt.
LaraIdRequiredError = _cycle_error("LaraIdRequiredError", 1000, "Required id", "a cycle id must be given")
LaraInvalidIdError = _cycle_error("LaraInvalidIdError", 1001, "Invalid id", "the cycle id is invalid")
LaraMemberIdRequiredError = _cycle_error(
    "LaraMemberIdRequiredError", 1002, "Required memberId", "a member id must be given"
)
LaraInvalidMemberIdError = _cycle_error(
    "LaraInvalidMemberIdError", 1003, "Invalid memberId", "the member id is invalid"
)
LaraCustomFieldRequiredError = _cycle_error(
    "LaraCustomFieldRequiredError", 1004, "Required customFieldAPIName", "the custom field's API name must be given"
)
LaraInvalidCustomFieldError = _cycle_error(
    "LaraInvalidCustomFieldError", 1005, "Invalid customFieldAPIName", "the custom field's API name is invalid"
)
LaraStatusesRequiredError = _cycle_error(
    "LaraStatusesRequiredError", 1006, "A list of statuses must be provided", "the list of statuses must be given"
)
LaraStatusRequiredError = _cycle_error(
    "LaraStatusRequiredError", 1007, "A status must be provided", "a non-empty status must be given"
)
LaraInvalidStatusIdError = _cycle_error(
    "LaraInvalidStatusIdError", 1008, "Invalid status id", "the status entry id is invalid"
)
LaraInvalidUserError = _cycle_error("LaraInvalidUserError", 1009, "Invalid user", "the user id is invalid")
LaraInvalidDateError = _cycle_error(
    "LaraInvalidDateError", 1010, "Invalid date", "a status range's end date must be on or after its start date"
)

#: Lära error code to its exception class.
LARA_ERRORS: dict[int, type[LaraCycleError]] = {
    cls.lara_code: cls
    for cls in (
        LaraIdRequiredError,
        LaraInvalidIdError,
        LaraMemberIdRequiredError,
        LaraInvalidMemberIdError,
        LaraCustomFieldRequiredError,
        LaraInvalidCustomFieldError,
        LaraStatusesRequiredError,
        LaraStatusRequiredError,
        LaraInvalidStatusIdError,
        LaraInvalidUserError,
        LaraInvalidDateError,
    )
}

_CODE_KEYS = ("ErrorID", "errorID", "ErrorId", "errorId", "errorCode", "ErrorCode", "code", "Code")
_MESSAGE_KEYS = ("Message", "message", "ErrorMessage", "errorMessage", "error", "Error")


def _first(body: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if body.get(key) not in (None, ""):
            return body[key]
    return None


def _code(value: Any) -> int | str | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _platform_error(body: Any) -> PlatformError:
    if not isinstance(body, Mapping):
        return PlatformError()
    message = _first(body, _MESSAGE_KEYS)
    return PlatformError(message=None if message is None else str(message)[:300], code=_code(_first(body, _CODE_KEYS)))


def parse_lara_error(response: httpx.Response) -> PlatformError:
    """Read an error answer's code and message (the envelope is undocumented; see the module doc)."""
    try:
        return _platform_error(response.json())
    except ValueError:
        return PlatformError(message=response.text.strip()[:300] or None)


def _typed(exc: LmsError) -> LmsError:
    """The typed Lära error for an error that carries a documented cycle code; else ``exc`` itself."""
    if isinstance(exc, LaraApiError) or exc.code not in LARA_ERRORS:
        return exc
    cls = LARA_ERRORS[int(exc.code)]
    return cls(
        cls.meaning,
        status=exc.status,
        code=exc.code,
        platform_message=exc.platform_message or cls.documented_message,
        platform="Lära",
        method=exc.method,
        path=exc.path,
    )


def _answer_parser(method: str, path: str) -> Any:
    def parse(response: httpx.Response) -> Any:
        body = response.json() if response.content.strip() else {}
        if isinstance(body, Mapping) and body.get("isSuccess") is False:
            found = _platform_error(body)
            code = found.code
            cls: type[LaraApiError] = LARA_ERRORS.get(code, LaraApiError) if isinstance(code, int) else LaraApiError
            meaning = getattr(cls, "meaning", "") or "Lära answered isSuccess: false"
            raise cls(
                meaning,
                status=response.status_code,
                code=code,
                platform_message=found.message or getattr(cls, "documented_message", None) or None,
                platform="Lära",
                method=method,
                path=path,
            )
        return body

    return parse


# -- input checks ------------------------------------------------------------------------------------------
def _problem(field: str, exc: ValidationError) -> LmsInputError:
    """The first pydantic error as an input error naming the nested field (``status.endDate``)."""
    err = exc.errors()[0]
    loc = [str(p) if bad_character(str(p)) is None else shown(str(p)) for p in err.get("loc", ())]
    text = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
    if not loc and text.startswith("end_date must be"):
        # The model's own order check has no field of its own: it is the end that is wrong.
        loc = ["endDate"]
    got = err.get("input")
    detail = "" if isinstance(got, dict) or not loc else f" (got {shown(got)})"
    return LmsInputError(".".join([field, *(_CAMEL.get(p, p) for p in loc)]), f"{text}{detail}")


# Errors name fields as Lära's document spells them (the DAG author's dicts use those names too).
_CAMEL = {
    "start_date": "startDate",
    "end_date": "endDate",
    "is_active_member": "isActiveMember",
    "user_id": "userId",
    "custom_field_api_name": "customFieldAPIName",
    "custom_field_value": "customFieldValue",
}


def as_member(field: str, value: Any) -> MemberRef:
    """A member reference from a user id string or a dict; raises :class:`LmsInputError` naming ``field``."""
    if isinstance(value, MemberRef):
        return value
    if isinstance(value, str):
        lara_id(field, value)
    elif not isinstance(value, Mapping):
        raise LmsInputError(field, f"must be a user id or a mapping, got {type(value).__name__} {shown(value)}")
    else:
        for key in value:
            if not isinstance(key, str):
                raise LmsInputError(field, f"has a key that is not text: {shown(key)}")
    try:
        return MemberRef.model_validate(value)
    except ValidationError as exc:
        raise _problem(field, exc) from None


def as_status(field: str, value: Any) -> LaraStatusInput:
    """A status to save from a dict (camelCase or snake_case keys); errors name ``field``."""
    if isinstance(value, LaraStatusInput):
        return value
    if not isinstance(value, Mapping):
        raise LmsInputError(field, f"must be a mapping with 'status', got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise LmsInputError(field, f"has a key that is not text: {shown(key)}")
    try:
        return LaraStatusInput.model_validate(dict(value))
    except ValidationError as exc:
        raise _problem(field, exc) from None


#: ``platform_options`` of the generic ``update_member_status`` on Lära.
_MEMBER_STATUS_OPTIONS = frozenset({"member_field", "mode"})
_MEMBER_STATUS_MODES = ("change_current", "replace")
_SNAKE = {camel: snake for snake, camel in _CAMEL.items()}


def lara_id(field: str, value: Any) -> str:
    """An opaque Lära id: clean text without blanks, passed on exactly as given (never re-encoded).

    ASSUMPTION: at most :data:`MAX_ID_LENGTH` characters (the document gives no limit).
    """
    if not isinstance(value, str):
        raise LmsInputError(field, f"must be a Lära id string, got {type(value).__name__} {shown(value)}")
    text = check_text(field, value, max_length=MAX_ID_LENGTH)
    if any(c.isspace() for c in text):
        raise LmsInputError(field, f"{shown(value)} is not a Lära id (ids contain no spaces)")
    return text


# -- the hook ----------------------------------------------------------------------------------------------
@register_platform
class LaraHook(LmsHook[LaraConnection]):
    """Lära: ``lmsapi`` JSON at ``<portal URL>/lmsapi/<module>/<method>``.

    The names of the credential values handed over at onboarding are not public, so the connection
    names the headers (Login) and their values (Password) (ASSUMPTION, see README). Dates without an offset are read in
    the connection's ``portal_timezone`` (default America/Toronto).

    Members are named by :class:`~airflow_provider_lms.models.lara.MemberRef`: a user id string, or
    ``{"customFieldAPIName": ..., "customFieldValue": ...}``.

    :param lms_conn_id: the Airflow connection id (type ``lara``).
    """

    conn_type = "lara"
    hook_name = "Lära"
    default_conn_name = "lara_default"
    platform: ClassVar[str] = "Lära"
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/json"}

    connection_model: ClassVar[type[LmsConnection]] = LaraConnection
    capabilities: ClassVar[frozenset[str]] = frozenset({"update_member_status"})

    # -- connection ---------------------------------------------------------------------------------------
    def auth_for(self, config: LaraConnection) -> httpx.Auth:
        return HeaderAuth(dict(config.credential_headers))

    def error_parser(self) -> ErrorParser:
        return parse_lara_error

    @property
    def tz(self) -> str:
        """The portal's time zone (parses the connection on first use, unless a client already did)."""
        return self.connection_config.portal_timezone

    def check_connection(self) -> str:
        cycles = self.list_cycles()
        return f"Connected to Lära: {len(cycles)} cycle(s) visible"

    # -- raw calls -----------------------------------------------------------------------------------------
    @staticmethod
    def path(method: str) -> str:
        """``cycle/getlist`` -> ``lmsapi/cycle/getlist``."""
        return "lmsapi/" + method.strip("/")

    def call(self, method: str, body: Mapping[str, Any] | None = None, *, idempotent: bool = True) -> Any:
        """``POST /lmsapi/<method>`` with ``body`` as sent (no checks); returns the JSON answer.

        Raises the typed Lära error on an error code or ``isSuccess: false``.

        :param method: ``<module>/<method>``, e.g. ``cycle/getlist``.
        :param idempotent: whether a lost answer may be resent (reads and absolute updates: yes).
        """
        path = self.path(method)
        url_path = self.client.url(path).path
        try:
            return self.client.request(
                "POST", path, json=dict(body or {}), idempotent=idempotent, parse=_answer_parser("POST", url_path)
            )
        except LmsError as exc:
            raise _typed(exc) from None

    async def acall(self, method: str, body: Mapping[str, Any] | None = None, *, idempotent: bool = True) -> Any:
        """The async twin of :meth:`call` (for triggers)."""
        client = await self.aget_conn()
        path = self.path(method)
        url_path = client.url(path).path
        try:
            return await client.arequest(
                "POST", path, json=dict(body or {}), idempotent=idempotent, parse=_answer_parser("POST", url_path)
            )
        except LmsError as exc:
            raise _typed(exc) from None

    # -- cycles and periods --------------------------------------------------------------------------------
    def list_cycles(self) -> list[LaraCycle]:
        """``cycle/getlist``: every cycle (règlement) of the portal."""
        return [LaraCycle.model_validate(r) for r in answer_records(self.call("cycle/getlist", {}), "cycles")]

    @staticmethod
    def _period_body(cycle_id: str, filter_date: datetime | str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": lara_id("cycle_id", cycle_id)}
        if filter_date not in (None, ""):
            # A filter date without an offset is UTC, as the document writes it (YYYY-MM-DDTHH:MM:SSZ).
            when = pendulum.instance(parse_moment("filter_date", filter_date, naive_tz="UTC"))
            # The document's format for the filter: YYYY-MM-DDTHH:MM:SSZ, i.e. UTC.
            body["filterDate"] = when.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        return body

    def list_periods(self, cycle_id: str, *, filter_date: datetime | str | None = None) -> list[LaraCyclePeriod]:
        """``cycle/getperiodlist``: the periods of a cycle; with ``filter_date``, those starting after it."""
        body = self.call("cycle/getperiodlist", self._period_body(cycle_id, filter_date))
        return [LaraCyclePeriod.model_validate(r) for r in answer_records(body, "periods", "cyclePeriods")]

    async def alist_periods(self, cycle_id: str, *, filter_date: datetime | str | None = None) -> list[LaraCyclePeriod]:
        """The async twin of :meth:`list_periods`."""
        body = await self.acall("cycle/getperiodlist", self._period_body(cycle_id, filter_date))
        return [LaraCyclePeriod.model_validate(r) for r in answer_records(body, "periods", "cyclePeriods")]

    def _pick_period(
        self, periods: list[LaraCyclePeriod], cycle_id: str, period_id: str | None, at: datetime | None
    ) -> LaraCyclePeriod:
        if period_id is not None:
            for p in periods:
                if p.cycle_period_id == period_id:
                    return p
            raise LmsNotFoundError(f"cycle {cycle_id} has no period {period_id}", platform=self.platform)
        moment = at or datetime.now(timezone.utc)
        live = [p for p in periods if p.is_active and not p.is_deleted and p.contains(moment, self.tz)]
        if not live:
            raise LmsNotFoundError(
                f"cycle {cycle_id} has no active period running at {parse_lara_datetime(moment, self.tz)}",
                platform=self.platform,
            )
        return max(live, key=lambda p: p.start(self.tz))

    def get_period(
        self, cycle_id: str, cycle_period_id: str | None = None, *, at: datetime | None = None
    ) -> LaraCyclePeriod:
        """One period of a cycle: ``cycle_period_id``, or else the active period running at ``at`` (now).

        ``at`` without an offset is a wall-clock time of the portal.
        """
        pid = None if cycle_period_id in (None, "") else lara_id("cycle_period_id", cycle_period_id)
        at = None if at is None else parse_moment("at", at, naive_tz=None)
        return self._pick_period(self.list_periods(cycle_id), cycle_id, pid, at)

    async def aget_period(
        self, cycle_id: str, cycle_period_id: str | None = None, *, at: datetime | None = None
    ) -> LaraCyclePeriod:
        """The async twin of :meth:`get_period` (for triggers)."""
        pid = None if cycle_period_id in (None, "") else lara_id("cycle_period_id", cycle_period_id)
        at = None if at is None else parse_moment("at", at, naive_tz=None)
        periods = await self.alist_periods(cycle_id)
        return self._pick_period(periods, cycle_id, pid, at)

    def period_end(self, period: LaraCyclePeriod) -> pendulum.DateTime:
        """The period's end in the portal's time zone."""
        return period.end(self.tz)

    # -- progress ------------------------------------------------------------------------------------------
    def get_user_progress(self, cycle_period_id: str, member: Any) -> LaraUserProgress:
        """``cycle/getuserprogress``: a member's credits in a period.

        ASSUMPTION: ``id`` is the cycle period's id (the answer is "the information about a user's
        period"); the error table calls it the cycle's id.
        """
        ref = as_member("member", member)
        body = {"id": lara_id("cycle_period_id", cycle_period_id), **ref.progress_body()}
        return LaraUserProgress.model_validate(self.call("cycle/getuserprogress", body))

    # -- member statuses -------------------------------------------------------------------------------------
    def get_member_statuses(self, member: Any) -> list[LaraMemberStatus]:
        """``cycle/getmemberstatuses``: every status range of a member."""
        ref = as_member("member", member)
        body = self.call("cycle/getmemberstatuses", ref.status_body())
        return [LaraMemberStatus.model_validate(r) for r in answer_records(body, "statuses")]

    def update_member_statuses(self, member: Any, statuses: Iterable[Any]) -> None:
        """``cycle/updatememberstatuses``: replace all of a member's statuses with ``statuses``."""
        ref = as_member("member", member)
        items = [as_status(f"statuses[{i}]", s) for i, s in enumerate(as_status_list(statuses))]
        if not items:
            raise LmsInputError("statuses", "give at least one status (Lära error 1006)")
        body = {**ref.status_body(), "statuses": [s.to_body(self.tz) for s in items]}
        # Sets the whole list: sending it twice leaves the same list.
        self.call("cycle/updatememberstatuses", body, idempotent=True)

    def update_member_status_entry(self, member: Any, entry_id: str, status: Any) -> None:
        """``cycle/updatememberstatus``: change one status entry (``entry_id``) of a member (no look first).

        Prefer :meth:`ensure_member_status_entry`, which leaves an entry that already says ``status`` alone.
        """
        ref = as_member("member", member)
        item = as_status("status", status)
        body = {**ref.status_body(), "entryId": lara_id("entry_id", entry_id), "status": item.to_body(self.tz)}
        self.call("cycle/updatememberstatus", body, idempotent=True)

    def change_current_member_status(self, member: Any, status: Any) -> None:
        """``cycle/changecurrentmemberstatus``: close the running range and add ``status``.

        Not idempotent (each call adds an entry): prefer :meth:`ensure_current_member_status`.
        """
        ref = as_member("member", member)
        item = as_status("status", status)
        body = {**ref.status_body(), "status": item.to_body(self.tz)}
        self.call("cycle/changecurrentmemberstatus", body, idempotent=False)

    # -- idempotent actions (operators) ------------------------------------------------------------------------
    def _status_result(self, ref: MemberRef, entries: list[LaraMemberStatus]) -> dict[str, Any]:
        current = current_status_entry(entries, self.tz)
        return {
            "member": ref.to_dict(),
            "current_status": current.status if current else None,
            "is_active_member": current.is_active if current else None,
            "entries": len(entries),
        }

    def ensure_member_statuses(self, member: Any, statuses: Iterable[Any]) -> ItemResult[Any]:
        """Make a member's status list exactly ``statuses``; a list that already matches is left alone."""
        ref = as_member("member", member)
        wanted = [as_status(f"statuses[{i}]", s) for i, s in enumerate(as_status_list(statuses))]
        entries = self.get_member_statuses(ref)
        unmatched = list(entries)
        for item in wanted:
            match = next((e for e in unmatched if item.same_as(e, self.tz)), None)
            if match is None:
                break
            unmatched.remove(match)
        else:
            if not unmatched:
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=self._status_result(ref, entries))
        self.update_member_statuses(ref, wanted)
        return ItemResult(result=self._status_result(ref, self.get_member_statuses(ref)))

    def ensure_member_status_entry(self, member: Any, entry_id: str, status: Any) -> ItemResult[Any]:
        """Make one status entry say ``status``; an entry that already does is left alone."""
        ref = as_member("member", member)
        item = as_status("status", status)
        eid = lara_id("entry_id", entry_id)
        entries = self.get_member_statuses(ref)
        entry = next((e for e in entries if e.entry_id == eid), None)
        if entry is not None and item.same_as(entry, self.tz):
            return ItemResult(
                status=ItemStatus.ALREADY_DONE, result={**self._status_result(ref, entries), "entryId": eid}
            )
        # An unknown entry id is left to Lära, which answers error 1008.
        self.update_member_status_entry(ref, eid, item)
        return ItemResult(result={**self._status_result(ref, self.get_member_statuses(ref)), "entryId": eid})

    def ensure_current_member_status(self, member: Any, status: Any) -> ItemResult[Any]:
        """Change a member's current status to ``status`` unless it already is.

        Already done when the running range has the same status name (compared without regard to case
        or accents) and the same active flag, or when an entry equal to ``status`` exists: a re-run then
        opens no second range.
        """
        ref = as_member("member", member)
        item = as_status("status", status)
        entries = self.get_member_statuses(ref)
        current = current_status_entry(entries, self.tz)
        same_current = (
            current is not None
            and normalize_status_name(current.status) == normalize_status_name(item.status)
            and current.is_active == item.is_active
        )
        if same_current or any(item.same_as(e, self.tz) for e in entries):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=self._status_result(ref, entries))
        self.change_current_member_status(ref, item)
        return ItemResult(result=self._status_result(ref, self.get_member_statuses(ref)))

    # -- the generic capability: update_member_status (LmsUpdateMemberStatusesOperator) ------------------------
    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        """Lära's ``platform_options`` of ``update_member_status``: ``member_field`` and ``mode``."""
        if capability != "update_member_status":
            return super().validate_options(capability, options)
        for name in options:
            if name not in _MEMBER_STATUS_OPTIONS:
                raise LmsInputError(
                    f"platform_options.{name}",
                    f"is not a Lära option of this operator ({sorted(_MEMBER_STATUS_OPTIONS)})",
                )
        checked = dict(options)
        if options.get("member_field") is not None:
            field_name = options["member_field"]
            if not isinstance(field_name, str):
                raise LmsInputError(
                    "platform_options.member_field", f"must be a custom field's API name, got {shown(field_name)}"
                )
            try:
                # Checked as a member reference checks it (the value is a placeholder).
                as_member("member_field", {"customFieldAPIName": field_name, "customFieldValue": "x"})
            except LmsInputError as exc:
                raise LmsInputError(
                    "platform_options.member_field", str(exc).removeprefix(f"invalid {exc.field}: ")
                ) from None
            checked["member_field"] = field_name.strip()
        mode = options.get("mode", "change_current")
        if mode not in _MEMBER_STATUS_MODES:
            raise LmsInputError(
                "platform_options.mode", f"must be one of {list(_MEMBER_STATUS_MODES)}, got {shown(mode)}"
            )
        checked["mode"] = mode
        return checked

    def _member_for(self, field: str, member_id: Any, member_field: str | None) -> MemberRef:
        if member_field:
            return as_member(field, {"customFieldAPIName": member_field, "customFieldValue": member_id})
        if isinstance(member_id, int) and not isinstance(member_id, bool):
            member_id = str(member_id)
        return as_member(field, lara_id(field, member_id))

    @staticmethod
    def _status_for(field: str, status: Any, is_active_member: Any, start_date: Any, end_date: Any) -> LaraStatusInput:
        # A date alone is the start of that day in the portal's time (Lära's ranges are date and time).
        start_date, end_date = (
            datetime.combine(d, time()) if isinstance(d, date) and not isinstance(d, datetime) else d
            for d in (start_date, end_date)
        )
        given = {"status": status, "is_active_member": is_active_member, "start_date": start_date, "end_date": end_date}
        try:
            return as_status(field, given)
        except LmsInputError as exc:
            # The generic rows are written in snake_case: name the field as the DAG author wrote it.
            name = exc.field.removeprefix(f"{field}.")
            if name in _SNAKE:
                raise LmsInputError(
                    f"{field}.{_SNAKE[name]}", str(exc).removeprefix(f"invalid {exc.field}: ")
                ) from None
            raise

    def check_member_status(
        self,
        field: str,
        member_id: Any,
        status: Any,
        *,
        is_active_member: bool | None = None,
        start_date: Any = None,
        end_date: Any = None,
        **options: Any,
    ) -> str:
        """Check a row of :class:`~airflow_provider_lms.operators.members.LmsUpdateMemberStatusesOperator`.

        :return: the member's id as sent (a user id, or the custom field's value with ``member_field``).
        """
        ref = self._member_for(f"{field}.member_id", member_id, options.get("member_field"))
        self._status_for(field, status, is_active_member, start_date, end_date)
        return ref.user_id if ref.user_id is not None else str(ref.custom_field_value)

    def update_member_status(
        self,
        member_id: Any,
        status: Any,
        *legacy: Any,
        is_active_member: bool | None = None,
        start_date: Any = None,
        end_date: Any = None,
        **options: Any,
    ) -> ItemResult[Any]:
        """Set one member's status unless it already is that status (the generic ``update_member_status``).

        Reads the member's statuses first, so a re-run is ``already_done`` and opens no second range.

        * ``mode="change_current"`` (the default): ``cycle/changecurrentmemberstatus`` closes the running range
          and opens ``status`` (see :meth:`ensure_current_member_status`); the history is kept.
        * ``mode="replace"``: ``cycle/updatememberstatuses`` makes ``status`` the member's only range (see
          :meth:`ensure_member_statuses`); earlier ranges are gone.

        :param member_id: the Lära user id, or with ``member_field`` the value of that custom field.
        :param status: the status name, e.g. ``"Retraité"``.
        :param is_active_member: Lära's ``isActiveMember`` (None: Lära decides by the name).
        :param start_date: the range's start (naive: the portal's wall-clock time).
        :param end_date: the range's end (None: it runs on).
        :param options: ``member_field`` (a custom field's API name, e.g. a member number field) and ``mode``.

        Still accepts the form of earlier releases, ``update_member_status(member, entry_id, status)``, which is
        :meth:`update_member_status_entry` (one entry, no look first); use that name instead.
        """
        if legacy:
            # The release before the generic capability had (member, entry_id, status) here: keep it working.
            if len(legacy) != 1:
                raise TypeError("update_member_status(member_id, status, **fields) takes two positional arguments")
            self.update_member_status_entry(member_id, status, legacy[0])
            return ItemResult(result={"member": as_member("member", member_id).to_dict(), "entryId": status})
        ref = self._member_for("member_id", member_id, options.get("member_field"))
        item = self._status_for("status", status, is_active_member, start_date, end_date)
        if options.get("mode", "change_current") == "replace":
            return self.ensure_member_statuses(ref, [item])
        return self.ensure_current_member_status(ref, item)

    def member_progress(self, cycle_period_id: str, member: Any, *, count_exempted: bool = True) -> ItemResult[Any]:
        """A member's progress in a period with the compliance verdict (a read: never changes anything)."""
        ref = as_member("member", member)
        if not isinstance(count_exempted, bool):
            raise LmsInputError("count_exempted", f"must be true or false, got {shown(count_exempted)}")
        progress = self.get_user_progress(cycle_period_id, ref)
        earned = progress.earned_credits(count_exempted=count_exempted)
        return ItemResult(
            status=ItemStatus.ALREADY_DONE,
            result={
                "member": ref.to_dict(),
                "memberId": progress.member_id,
                "requiredCredits": progress.required_credits,
                "completedCredits": progress.completed_credits,
                "exemptedCredits": progress.exempted_credits,
                "providerCredits": progress.provider_credits,
                "earnedCredits": earned,
                "shortfall": max(0.0, round(progress.required_credits - earned, 6)),
                "compliant": progress.is_compliant(count_exempted=count_exempted),
            },
        )
