"""The Lära double: the ``lmsapi`` cycle methods under ``/lara/lmsapi/cycle/<method>``.

Behaviour follows ``lara-cycles-api.fr.txt``: every method is ``POST`` with a JSON body and answers
JSON; dates are the portal's wall-clock time without an offset (``2018-02-08T15:02:45.73``), the
portal's zone being America/Toronto; ``getperiodlist``'s ``filterDate`` is UTC (``...Z``). Status
updates really change the data, and the documented bad inputs get the documented codes 1000-1010.
What the document leaves open is marked ``# ASSUMPTION:``:

- credentials: two headers, ``X-Lara-Api-Key`` and ``X-Lara-Api-Secret`` (the real names are handed over
  at onboarding and not public); missing or wrong ones get ``401``.
- error envelope: ``400 {"isSuccess": false, "ErrorID": <code>, "Message": "<documented message>"}``.
- ``getuserprogress``'s ``id`` is the cycle period's id; addressed by a custom field, ``memberId``
  carries the field's value.

Seeded demo data (identical ids after every reset; dates relative to the reset moment):

======================  ==============================================================================
record                  details
======================  ==============================================================================
cycle ``CYCLE_ID``      "Règlement de formation continue" (fr-CA, en, fr-FR, es names), active
 period ``PREVIOUS``    1 year (unit 4), ended one year before the demo period ended
 period ``DEMO``        1 year (unit 4), ends ``DEMO_PERIOD_SECONDS`` (10 s) after reset; 20 credits
                        required (type 1), plus a type-3 requirement (2 categories) and a type-2 child
 period ``NEXT``        1 year (unit 4), starts when the demo period ends
cycle ``OLD_CYCLE_ID``  "Ancien règlement", inactive; periods of 36 months, 6 weeks (deleted), 90
                        days and 48 hours, starting 2015-2016
members 1-6             custom field ``numero_permis`` 10001-10006; each has an open "Membre" range
                        since 2020-01-01 (member 6 also a closed "1ère inscription" range in 2019)
progress (demo period)  10001: 22 completed; 10002: 15 + 5 exempted; 10003: 30 (compliant)
                        10004: 12; 10005: 19.5; 10006: 0 (non-compliant)
======================  ==============================================================================

Control API (``/_sandbox/lara/...``): ``GET state``; ``POST period_end`` ``{"cyclePeriodId", "seconds"}``
moves a period so it ends that many seconds from the sandbox clock (negative: already ended);
``PUT progress`` sets a member's credits in a period.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.models.lara import is_active_status_name, period_end
from airflow_provider_lms.sandbox._common import PlatformMount, SandboxHTTPError, utc_now

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = [
    "DEMO_PERIOD_SECONDS",
    "LARA_CREDENTIALS",
    "LARA_PORTAL_TIMEZONE",
    "LARA_PREFIX",
    "MOUNT",
    "LaraSeed",
    "LaraState",
]

LARA_PREFIX = "/lara"
LARA_PORTAL_TIMEZONE = "America/Toronto"
# ASSUMPTION: the real header names are given at onboarding; these two stand in for them.
LARA_CREDENTIALS: dict[str, str] = {
    "X-Lara-Api-Key": "sandbox-lara-key",
    "X-Lara-Api-Secret": "sandbox-lara-secret",
}
#: The demo period ends this many seconds after a reset.
DEMO_PERIOD_SECONDS = 10.0
CUSTOM_FIELD = "numero_permis"

# The table "Description des codes d'erreurs de cycle".
ERROR_MESSAGES: dict[int, str] = {
    1000: "Required id",
    1001: "Invalid id",
    1002: "Required memberId",
    1003: "Invalid memberId",
    1004: "Required customFieldAPIName",
    1005: "Invalid customFieldAPIName",
    1006: "A list of statuses must be provided",
    1007: "A status must be provided",
    1008: "Invalid status id",
    1009: "Invalid user",
    1010: "Invalid date",
}


def lara_id(seed: str) -> str:
    """A deterministic id in Lära's shape: base64, URL-encoded the .NET way (``%2f``, ``%2b``, ``%3d``)."""
    raw = base64.b64encode(hashlib.sha256(seed.encode()).digest()[:16]).decode()
    return raw.replace("%", "%25").replace("+", "%2b").replace("/", "%2f").replace("=", "%3d")


class LaraSeed:
    """Ids of the seeded demo data (see the module docstring)."""

    CYCLE_ID = lara_id("cycle-formation-continue")
    OLD_CYCLE_ID = lara_id("cycle-ancien")
    RULE_ID = lara_id("rule-membres")
    PREVIOUS_PERIOD_ID = lara_id("period-previous")
    DEMO_PERIOD_ID = lara_id("period-demo")
    NEXT_PERIOD_ID = lara_id("period-next")
    OLD_PERIOD_IDS = tuple(lara_id(f"period-old-{n}") for n in range(4))
    MEMBER_IDS = tuple(lara_id(f"member-{n}") for n in range(1, 7))
    LICENSE_NUMBERS = ("10001", "10002", "10003", "10004", "10005", "10006")
    MEMBER_NAMES = (
        "Amélie Tremblay",
        "Benoît Gagnon",
        "Chloé Roy",
        "Denis Côté",
        "Élise Bouchard",
        "François Gauthier",
    )
    CUSTOM_FIELD = CUSTOM_FIELD
    REQUIRED_CREDITS = 20.0
    COMPLIANT_IDS = MEMBER_IDS[:3]
    NON_COMPLIANT_IDS = MEMBER_IDS[3:]


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def render_error(status: int, message: str, code: int | None = None) -> JSONResponse:
    """Lära's error body (ASSUMPTION: ``{"isSuccess": false, "ErrorID", "Message"}``)."""
    body: dict[str, Any] = {"isSuccess": False}
    if code is not None:
        body["ErrorID"] = code
    body["Message"] = message
    return JSONResponse(body, status_code=status)


class LaraError(SandboxHTTPError):
    """A Lära error answer; ``code`` is one of the documented 1000-1010 (or None for HTTP-level errors)."""

    def __init__(self, code: int | None, status: int = 400, message: str | None = None) -> None:
        super().__init__(status, message or ERROR_MESSAGES.get(code or 0, "Error"))
        self.code = code

    def to_response(self) -> Response:
        return render_error(self.status, self.message, self.code)


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


def _format(moment: datetime | None) -> str | None:
    """Portal wall-clock time without offset, fractions like the document (``15:02:45.73``)."""
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text


@dataclass
class Period:
    id: str
    cycle_id: str
    admin_name: str
    start: datetime  # naive, portal wall-clock time
    duration: float
    unit: int
    requirements: list[dict[str, Any]] = field(default_factory=list)
    is_active: bool = True
    is_deleted: bool = False
    is_requirements_shown: bool = True
    is_user_statement: bool = False

    def end(self) -> datetime:
        return period_end(self.start, self.duration, self.unit, LARA_PORTAL_TIMEZONE)

    def required_credits(self) -> float:
        for req in self.requirements:
            if req["type"] == 1 and not req.get("parentId"):
                return float(req["targetValue"])
        return 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "cyclePeriodId": self.id,
            "cycleId": self.cycle_id,
            "adminName": self.admin_name,
            "startDate": _format(self.start),
            "duration": self.duration,
            "durationUnit": self.unit,
            "isRequirementsShown": self.is_requirements_shown,
            "ruleId": LaraSeed.RULE_ID,
            "isUserStatement": self.is_user_statement,
            "isActive": self.is_active,
            "isDeleted": self.is_deleted,
            "requirements": [{"cyclePeriodId": self.id, **r} for r in self.requirements],
        }


@dataclass
class StatusEntry:
    entry_id: str
    status: str
    is_active_member: bool | None
    start: datetime | None
    end: datetime | None

    def to_json(self, user_id: str) -> dict[str, Any]:
        return {
            "entryId": self.entry_id,
            "userId": user_id,
            "status": self.status,
            "isActiveMember": self.is_active_member,
            "startDate": _format(self.start),
            "endDate": _format(self.end),
        }


@dataclass
class Member:
    user_id: str
    name: str
    custom_fields: dict[str, str]
    statuses: list[StatusEntry] = field(default_factory=list)


def _is_active(entry: StatusEntry) -> bool:
    """The document's rule: an explicit ``isActiveMember`` wins, else the listed names count as active."""
    if entry.is_active_member is not None:
        return entry.is_active_member
    return is_active_status_name(entry.status)


class LaraState:
    """All Lära data of one sandbox, in memory.

    :param clock: the sandbox clock (UTC); periods are seeded relative to it at every reset.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.reset()

    # -- time ---------------------------------------------------------------------------------------------
    def local_now(self) -> datetime:
        """The sandbox clock as the portal's naive wall-clock time."""
        return pendulum.instance(self.clock()).in_timezone(LARA_PORTAL_TIMEZONE).naive()

    @staticmethod
    def _to_local(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return moment
        return pendulum.instance(moment).in_timezone(LARA_PORTAL_TIMEZONE).naive()

    @staticmethod
    def _start_for_end(end: datetime, duration: float, unit: int) -> datetime:
        """The naive local start that makes a period end at ``end`` (aware)."""
        when = pendulum.instance(end).in_timezone(LARA_PORTAL_TIMEZONE)
        n = int(duration)
        shifted = {
            0: lambda: when.subtract(seconds=int(duration * 3600)),
            1: lambda: when.subtract(days=n),
            2: lambda: when.subtract(weeks=n),
            3: lambda: when.subtract(months=n),
            4: lambda: when.subtract(years=n),
        }[unit]()
        return shifted.naive()

    # -- seed ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Drop everything and reseed the demo data relative to the clock."""
        self._entry_counter = 0
        self.cycles: dict[str, dict[str, Any]] = {
            LaraSeed.CYCLE_ID: {
                "cycleId": LaraSeed.CYCLE_ID,
                "adminName": "FC - règlement général des membres",
                "name": {
                    "texts": [
                        {"text": "Règlement de formation continue", "languageId": 1},
                        {"text": "Continuing education policy", "languageId": 2},
                        {"text": "Règlement de formation continue obligatoire", "languageId": 3},
                        {"text": "Reglamento de formación continua", "languageId": 4},
                    ]
                },
                "ruleId": LaraSeed.RULE_ID,
                "isActive": True,
                "isDeleted": False,
            },
            LaraSeed.OLD_CYCLE_ID: {
                "cycleId": LaraSeed.OLD_CYCLE_ID,
                "adminName": "Ancien règlement 2015",
                "name": {"texts": [{"text": "Ancien règlement", "languageId": 1}]},
                "ruleId": LaraSeed.RULE_ID,
                "isActive": False,
                "isDeleted": False,
            },
        }
        demo_end = pendulum.instance(self.clock()) + timedelta(seconds=DEMO_PERIOD_SECONDS)
        demo_start = self._start_for_end(demo_end, 1, 4)
        previous_start = self._start_for_end(pendulum.instance(demo_start, tz=LARA_PORTAL_TIMEZONE), 1, 4)
        credits = {"id": lara_id("req-credits"), "type": 1, "targetValue": LaraSeed.REQUIRED_CREDITS}
        self.periods: dict[str, Period] = {}
        for period in (
            Period(
                LaraSeed.PREVIOUS_PERIOD_ID,
                LaraSeed.CYCLE_ID,
                "Période précédente",
                previous_start,
                1,
                4,
                [dict(credits, id=lara_id("req-prev"))],
            ),
            Period(
                LaraSeed.DEMO_PERIOD_ID,
                LaraSeed.CYCLE_ID,
                "Période annuelle en cours",
                demo_start,
                1,
                4,
                [
                    credits,
                    {"id": lara_id("req-categories"), "type": 3, "targetValue": 2.0},
                    {
                        "id": lara_id("req-ethics"),
                        "type": 2,
                        "targetValue": 3.0,
                        "parentId": credits["id"],
                        "providerId": lara_id("provider-ordre"),
                    },
                ],
            ),
            Period(
                LaraSeed.NEXT_PERIOD_ID,
                LaraSeed.CYCLE_ID,
                "Période suivante",
                self._to_local(period_end(demo_start, 1, 4, LARA_PORTAL_TIMEZONE)),
                1,
                4,
                [dict(credits, id=lara_id("req-next"))],
            ),
            Period(LaraSeed.OLD_PERIOD_IDS[0], LaraSeed.OLD_CYCLE_ID, "36 mois", datetime(2015, 4, 1), 36, 3),
            Period(
                LaraSeed.OLD_PERIOD_IDS[1],
                LaraSeed.OLD_CYCLE_ID,
                "6 semaines",
                datetime(2015, 9, 7, 8, 30),
                6,
                2,
                is_deleted=True,
                is_active=False,
            ),
            Period(LaraSeed.OLD_PERIOD_IDS[2], LaraSeed.OLD_CYCLE_ID, "90 jours", datetime(2016, 1, 31), 90, 1),
            Period(
                LaraSeed.OLD_PERIOD_IDS[3],
                LaraSeed.OLD_CYCLE_ID,
                "48 heures",
                datetime(2016, 3, 12, 12, 0, 0, 730000),
                48,
                0,
            ),
        ):
            self.periods[period.id] = period

        self.members: dict[str, Member] = {}
        for user_id, number, name in zip(
            LaraSeed.MEMBER_IDS, LaraSeed.LICENSE_NUMBERS, LaraSeed.MEMBER_NAMES, strict=True
        ):
            member = Member(user_id, name, {CUSTOM_FIELD: number})
            if number == "10006":
                member.statuses.append(
                    StatusEntry(
                        self._new_entry_id(),
                        "1ère inscription",
                        None,
                        datetime(2019, 6, 1),
                        datetime(2019, 12, 31, 23, 59, 59),
                    )
                )
            member.statuses.append(StatusEntry(self._new_entry_id(), "Membre", True, datetime(2020, 1, 1), None))
            self.members[user_id] = member

        # (period id, user id) -> credits; members without a row have none.
        self.progress: dict[tuple[str, str], dict[str, float]] = {}
        demo = {
            "10001": (22, 0, 5),
            "10002": (15, 5, 0),
            "10003": (30, 0, 12),
            "10004": (12, 0, 0),
            "10005": (19.5, 0, 0),
            "10006": (0, 0, 0),
        }
        for user_id, number in zip(LaraSeed.MEMBER_IDS, LaraSeed.LICENSE_NUMBERS, strict=True):
            completed, exempted, provider = demo[number]
            self.progress[(LaraSeed.DEMO_PERIOD_ID, user_id)] = {
                "completedCredits": float(completed),
                "exemptedCredits": float(exempted),
                "providerCredits": float(provider),
            }
            self.progress[(LaraSeed.PREVIOUS_PERIOD_ID, user_id)] = {
                "completedCredits": 21.0,
                "exemptedCredits": 0.0,
                "providerCredits": 10.0,
            }

    def _new_entry_id(self) -> str:
        self._entry_counter += 1
        return lara_id(f"status-entry-{self._entry_counter}")

    # -- lookups ------------------------------------------------------------------------------------------
    def member_by_field(self, name: str, value: str) -> Member | None:
        return next((m for m in self.members.values() if m.custom_fields.get(name) == value), None)

    def resolve_user(self, body: dict[str, Any]) -> Member:
        """The member a status request names: ``userId``, else ``customFieldAPIName`` + ``customFieldValue``."""
        user_id = body.get("userId")
        if user_id not in (None, ""):
            member = self.members.get(str(user_id))
            if member is None:
                raise LaraError(1009)
            return member
        name, value = body.get("customFieldAPIName"), body.get("customFieldValue")
        if name in (None, ""):
            # ASSUMPTION: without userId the custom field is the only way left, so its name is required.
            raise LaraError(1004)
        if name != CUSTOM_FIELD:
            raise LaraError(1005)
        member = None if value in (None, "") else self.member_by_field(str(name), str(value))
        if member is None:
            raise LaraError(1009)
        return member

    @staticmethod
    def parse_date(value: Any) -> datetime | None:
        """A request date as naive portal time; anything unparsable is error 1010."""
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise LaraError(1010)
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LaraError(1010) from None
        return LaraState._to_local(parsed)

    def parse_status(self, value: Any) -> StatusEntry:
        if not isinstance(value, dict) or not str(value.get("status") or "").strip():
            raise LaraError(1007)
        start, end = self.parse_date(value.get("startDate")), self.parse_date(value.get("endDate"))
        if start is not None and end is not None and end < start:
            raise LaraError(1010)
        flag = value.get("isActiveMember")
        return StatusEntry("", str(value["status"]).strip(), flag if isinstance(flag, bool) else None, start, end)

    # -- API ----------------------------------------------------------------------------------------------
    def get_period_list(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        cycle_id = body.get("id")
        if cycle_id in (None, ""):
            raise LaraError(1000)
        if cycle_id not in self.cycles:
            raise LaraError(1001)
        periods = [p for p in self.periods.values() if p.cycle_id == cycle_id]
        if body.get("filterDate") not in (None, ""):
            # ASSUMPTION: an unparsable filter date is answered like the other bad dates (1010).
            text = str(body["filterDate"])
            try:
                limit = pendulum.instance(datetime.fromisoformat(text.replace("Z", "+00:00")), tz="UTC")
            except ValueError:
                raise LaraError(1010) from None
            periods = [p for p in periods if pendulum.instance(p.start, tz=LARA_PORTAL_TIMEZONE) > limit]
        return [p.to_json() for p in sorted(periods, key=lambda p: p.start)]

    def get_user_progress(self, body: dict[str, Any]) -> dict[str, Any]:
        period_id = body.get("id")
        if period_id in (None, ""):
            raise LaraError(1000)
        period = self.periods.get(str(period_id))
        if period is None:
            raise LaraError(1001)
        member_id = body.get("memberId")
        if member_id in (None, ""):
            raise LaraError(1002)
        field_name = body.get("customFieldAPIName")
        if field_name not in (None, ""):
            if field_name != CUSTOM_FIELD:
                raise LaraError(1005)
            member = self.member_by_field(str(field_name), str(member_id))
        else:
            member = self.members.get(str(member_id))
        if member is None:
            raise LaraError(1003)
        credits = self.progress.get(
            (period.id, member.user_id), {"completedCredits": 0.0, "exemptedCredits": 0.0, "providerCredits": 0.0}
        )
        answer: dict[str, Any] = {
            "id": period.id,
            "memberId": member.user_id,
            "requiredCredits": period.required_credits(),
            **credits,
        }
        if field_name not in (None, ""):
            answer["customFieldAPIName"] = field_name
        return answer

    def get_member_statuses(self, body: dict[str, Any]) -> dict[str, Any]:
        member = self.resolve_user(body)
        return {"statuses": [s.to_json(member.user_id) for s in member.statuses]}

    def update_member_statuses(self, body: dict[str, Any]) -> None:
        member = self.resolve_user(body)
        statuses = body.get("statuses")
        # ASSUMPTION: an empty list is refused like a missing one (it would wipe the member's history).
        if not isinstance(statuses, list) or not statuses:
            raise LaraError(1006)
        entries = [self.parse_status(s) for s in statuses]
        for entry in entries:
            entry.entry_id = self._new_entry_id()
        member.statuses = entries

    def update_member_status(self, body: dict[str, Any]) -> None:
        member = self.resolve_user(body)
        entry = next((s for s in member.statuses if s.entry_id == body.get("entryId")), None)
        if entry is None:
            raise LaraError(1008)
        value = body.get("status")
        if not isinstance(value, dict) or not str(value.get("status") or "").strip():
            raise LaraError(1007)
        # Only the fields sent are updated (the document's "ATTENTION" note).
        start = self.parse_date(value["startDate"]) if "startDate" in value else entry.start
        end = self.parse_date(value["endDate"]) if "endDate" in value else entry.end
        if start is not None and end is not None and end < start:
            raise LaraError(1010)
        entry.status = str(value["status"]).strip()
        if "isActiveMember" in value:
            flag = value["isActiveMember"]
            entry.is_active_member = flag if isinstance(flag, bool) else None
        entry.start, entry.end = start, end

    def change_current_member_status(self, body: dict[str, Any]) -> None:
        member = self.resolve_user(body)
        new = self.parse_status(body.get("status"))
        new.start = new.start or self.local_now().replace(microsecond=0)
        open_entries = [s for s in member.statuses if s.end is None]
        current = max(open_entries, key=lambda s: s.start or datetime.min) if open_entries else None
        if current is not None:
            # ASSUMPTION: the running range closes where the new one starts.
            if current.start is not None and new.start < current.start:
                raise LaraError(1010)
            current.end = new.start
        new.entry_id = self._new_entry_id()
        member.statuses.append(new)

    # -- control ------------------------------------------------------------------------------------------
    def move_period_end(self, period_id: str, seconds: float) -> Period:
        period = self.periods.get(period_id)
        if period is None:
            raise LaraError(1001, 404)
        old_end = self._to_local(period.end())
        end = pendulum.instance(self.clock()) + timedelta(seconds=seconds)
        period.start = self._start_for_end(end, period.duration, period.unit)
        # The period that followed on keeps following on (no gap, no overlap), as a portal's would.
        for other in self.periods.values():
            if other.cycle_id == period.cycle_id and other is not period and other.start == old_end:
                other.start = self._to_local(period.end())
        return period

    def summary(self) -> dict[str, Any]:
        members = []
        for m in self.members.values():
            open_entries = [s for s in m.statuses if s.end is None]
            current = max(open_entries, key=lambda s: s.start or datetime.min) if open_entries else None
            members.append(
                {
                    "userId": m.user_id,
                    "name": m.name,
                    CUSTOM_FIELD: m.custom_fields.get(CUSTOM_FIELD),
                    "currentStatus": current.status if current else None,
                    "isActiveMember": _is_active(current) if current else False,
                    "statuses": [s.to_json(m.user_id) for s in m.statuses],
                }
            )
        return {
            "now": _format(self.local_now()),
            "timezone": LARA_PORTAL_TIMEZONE,
            "periods": [{**p.to_json(), "endDate": _format(self._to_local(p.end()))} for p in self.periods.values()],
            "members": members,
        }


# --------------------------------------------------------------------------------------------------
# Routers
# --------------------------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise LaraError(None, 400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise LaraError(None, 400, "The body must be a JSON object")
    return body


def create_lara_router(state: SandboxState) -> APIRouter:
    """The ``lmsapi`` router over ``state.lara``."""
    lara: LaraState = state.lara

    async def guard(request: Request) -> None:
        for name, value in LARA_CREDENTIALS.items():
            if request.headers.get(name) != value:
                raise LaraError(None, 401, "Unauthorized: missing or invalid API credentials")

    router = APIRouter(prefix=f"{LARA_PREFIX}/lmsapi/cycle", dependencies=[Depends(guard)], tags=["lara"])
    ok = {"isSuccess": True}

    @router.post("/getlist")
    async def getlist(request: Request) -> JSONResponse:
        await _json_body(request)
        return JSONResponse(list(lara.cycles.values()))

    @router.post("/getperiodlist")
    async def getperiodlist(request: Request) -> JSONResponse:
        return JSONResponse(lara.get_period_list(await _json_body(request)))

    @router.post("/getuserprogress")
    async def getuserprogress(request: Request) -> JSONResponse:
        return JSONResponse(lara.get_user_progress(await _json_body(request)))

    @router.post("/getmemberstatuses")
    async def getmemberstatuses(request: Request) -> JSONResponse:
        return JSONResponse(lara.get_member_statuses(await _json_body(request)))

    @router.post("/updatememberstatuses")
    async def updatememberstatuses(request: Request) -> JSONResponse:
        lara.update_member_statuses(await _json_body(request))
        return JSONResponse(ok)

    @router.post("/updatememberstatus")
    async def updatememberstatus(request: Request) -> JSONResponse:
        lara.update_member_status(await _json_body(request))
        return JSONResponse(ok)

    @router.post("/changecurrentmemberstatus")
    async def changecurrentmemberstatus(request: Request) -> JSONResponse:
        lara.change_current_member_status(await _json_body(request))
        return JSONResponse(ok)

    return router


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


def create_lara_control_router(state: SandboxState) -> APIRouter:
    """Control routes under ``/_sandbox/lara``."""
    router = APIRouter(tags=["sandbox control"])

    @router.get("/lara/state")
    async def lara_state() -> dict[str, Any]:
        return state.lara.summary()

    @router.post("/lara/period_end")
    async def lara_period_end(body: PeriodEndBody) -> dict[str, Any]:
        period = state.lara.move_period_end(body.cyclePeriodId, body.seconds)
        return {**period.to_json(), "endDate": _format(LaraState._to_local(period.end()))}

    @router.put("/lara/progress")
    async def lara_progress(body: ProgressBody) -> dict[str, Any]:
        lara: LaraState = state.lara
        if body.cyclePeriodId not in lara.periods or body.userId not in lara.members:
            raise LaraError(None, 404, "unknown period or member")
        lara.progress[(body.cyclePeriodId, body.userId)] = {
            "completedCredits": body.completedCredits,
            "exemptedCredits": body.exemptedCredits,
            "providerCredits": body.providerCredits,
        }
        return body.model_dump()

    return router


def lara_error_renderer(status: int, message: str) -> Response:
    """``ErrorRenderer`` for unknown paths and injected faults."""
    return render_error(status, message)


def _lara_connection(sandbox_url: str) -> dict[str, Any]:
    (h1, s1), (h2, s2) = LARA_CREDENTIALS.items()
    return {
        "conn_type": "lara",
        "extra": {
            "base_url": f"{sandbox_url.rstrip('/')}{LARA_PREFIX}",
            "credential_1_header": h1,
            "credential_1_secret": s1,
            "credential_2_header": h2,
            "credential_2_secret": s2,
            "portal_timezone": LARA_PORTAL_TIMEZONE,
        },
    }


MOUNT = PlatformMount(
    name="lara",
    prefix=LARA_PREFIX,
    router_factory=create_lara_router,
    render_error=lara_error_renderer,
    render_validation_error=lambda exc: render_error(400, "Bad Request"),
    state_factory=lambda clock: LaraState(clock),
    control_router_factory=create_lara_control_router,
    connection_factory=_lara_connection,
    conn_id="lara_default",
)
