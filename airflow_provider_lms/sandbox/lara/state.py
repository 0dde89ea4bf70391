"""The Lära portal's data and the rules of the ``cycle`` methods: plain Python, no HTTP objects.

Each API method takes the request's JSON object (a ``dict``) and either returns records for
:mod:`.views` to render or changes the data; a bad input raises :class:`.errors.LaraError` with the
document's code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_lms.sandbox._common import utc_now
from airflow_provider_lms.sandbox.lara.errors import LaraError
from airflow_provider_lms.sandbox.lara.periods import (
    parse_request_date,
    portal_moment,
    start_for_end,
    to_portal,
)
from airflow_provider_lms.sandbox.lara.records import (
    Credits,
    Cycle,
    Member,
    Period,
    Progress,
    StatusEntry,
    lara_id,
)
from airflow_provider_lms.sandbox.lara.seed import CUSTOM_FIELD, seed_state

__all__ = ["ACTIVE_STATUS_NAMES", "LaraState", "is_active"]

#: The status names the document lists as active when ``isActiveMember`` is null.
ACTIVE_STATUS_NAMES = (
    "membre",
    "member",
    "1ère inscription",
    "inscription",
    "temporaire",
    "limitation du droit d'exercice",
    "suspension du droit d'exercice",
    "autorisation spéciale",
)


def _fold(name: str) -> str:
    """A status name compared as a person means it: case, accents, typographic apostrophes and spacing ignored."""
    text = unicodedata.normalize("NFKD", name.replace("\u2019", "'").replace("\u2018", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.split()).casefold()


_ACTIVE_FOLDED = frozenset(_fold(name) for name in ACTIVE_STATUS_NAMES)


def is_active(entry: StatusEntry) -> bool:
    """The document's rule: an explicit ``isActiveMember`` wins, else the listed names count as active."""
    if entry.is_active_member is not None:
        return entry.is_active_member
    return _fold(entry.status) in _ACTIVE_FOLDED


def _blank(value: Any) -> bool:
    return value in (None, "")


class LaraState:
    """All Lära data of one sandbox, in memory.

    :param clock: the sandbox clock (UTC); periods are seeded relative to it at every reset.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.cycles: dict[str, Cycle] = {}
        self.periods: dict[str, Period] = {}
        self.members: dict[str, Member] = {}
        self.progress: dict[tuple[str, str], Credits] = {}
        self.reset()

    def reset(self) -> None:
        """Drop everything and reseed the demo data relative to the clock."""
        self._entry_counter = 0
        seed_state(self)

    def local_now(self) -> datetime:
        """The sandbox clock as the portal's naive wall-clock time."""
        return to_portal(self.clock())

    def new_entry_id(self) -> str:
        """The next status entry id (deterministic: numbered since the last reset)."""
        self._entry_counter += 1
        return lara_id(f"status-entry-{self._entry_counter}")

    # -- lookups and input rules ----------------------------------------------------------------------------
    def member_by_field(self, name: str, value: str) -> Member | None:
        """The member whose custom field ``name`` holds ``value``."""
        return next((m for m in self.members.values() if m.custom_fields.get(name) == value), None)

    def resolve_user(self, body: dict[str, Any]) -> Member:
        """The member a status request names: ``userId``, else ``customFieldAPIName`` + ``customFieldValue``."""
        user_id = body.get("userId")
        if not _blank(user_id):
            member = self.members.get(str(user_id))
            if member is None:
                raise LaraError(1009)
            return member
        name, value = body.get("customFieldAPIName"), body.get("customFieldValue")
        if _blank(name):
            # ASSUMPTION: without userId the custom field is the only way left, so its name is required.
            raise LaraError(1004)
        if name != CUSTOM_FIELD:
            raise LaraError(1005)
        member = None if _blank(value) else self.member_by_field(str(name), str(value))
        if member is None:
            raise LaraError(1009)
        return member

    @staticmethod
    def parse_date(value: Any) -> datetime | None:
        """A request date as naive portal time; anything unparsable is error 1010."""
        if _blank(value):
            return None
        if not isinstance(value, str):
            raise LaraError(1010)
        try:
            parsed = parse_request_date(value.strip())
        except ValueError:
            raise LaraError(1010) from None
        return to_portal(parsed)

    def parse_status(self, value: Any) -> StatusEntry:
        """A status object of a request (``status`` required; ``endDate`` not before ``startDate``)."""
        if not isinstance(value, dict) or not str(value.get("status") or "").strip():
            raise LaraError(1007)
        start, end = self.parse_date(value.get("startDate")), self.parse_date(value.get("endDate"))
        if start is not None and end is not None and end < start:
            raise LaraError(1010)
        flag = value.get("isActiveMember")
        return StatusEntry("", str(value["status"]).strip(), flag if isinstance(flag, bool) else None, start, end)

    def _period(self, body: dict[str, Any]) -> Period:
        period_id = body.get("id")
        if _blank(period_id):
            raise LaraError(1000)
        period = self.periods.get(str(period_id))
        if period is None:
            raise LaraError(1001)
        return period

    # -- API ------------------------------------------------------------------------------------------------
    def list_cycles(self) -> list[Cycle]:
        """``cycle/getlist``: every cycle."""
        return list(self.cycles.values())

    def get_period_list(self, body: dict[str, Any]) -> list[Period]:
        """``cycle/getperiodlist``: the cycle's periods by start, those starting after ``filterDate`` if given."""
        cycle_id = body.get("id")
        if _blank(cycle_id):
            raise LaraError(1000)
        if cycle_id not in self.cycles:
            raise LaraError(1001)
        periods = [p for p in self.periods.values() if p.cycle_id == cycle_id]
        if not _blank(body.get("filterDate")):
            # ASSUMPTION: an unparsable filter date is answered like the other bad dates (1010).
            try:
                limit = parse_request_date(str(body["filterDate"]))
            except ValueError:
                raise LaraError(1010) from None
            # The document gives filterDate in UTC (``...Z``); one without an offset is read as UTC too.
            limit = limit if limit.tzinfo is not None else limit.replace(tzinfo=timezone.utc)
            periods = [p for p in periods if portal_moment(p.start) > limit]
        return sorted(periods, key=lambda p: p.start)

    def get_user_progress(self, body: dict[str, Any]) -> Progress:
        """``cycle/getuserprogress``: a member's credits in a period (the member by id or by custom field)."""
        period = self._period(body)
        member_id = body.get("memberId")
        if _blank(member_id):
            raise LaraError(1002)
        field_name = body.get("customFieldAPIName")
        if not _blank(field_name):
            if field_name != CUSTOM_FIELD:
                raise LaraError(1005)
            member = self.member_by_field(str(field_name), str(member_id))
        else:
            member = self.members.get(str(member_id))
        if member is None:
            raise LaraError(1003)
        credits = self.progress.get((period.id, member.user_id), Credits())
        return Progress(period, member, credits, None if _blank(field_name) else str(field_name))

    def get_member_statuses(self, body: dict[str, Any]) -> Member:
        """``cycle/getmemberstatuses``: the member whose status ranges are asked for."""
        return self.resolve_user(body)

    def update_member_statuses(self, body: dict[str, Any]) -> None:
        """``cycle/updatememberstatuses``: replace a member's whole status history."""
        member = self.resolve_user(body)
        statuses = body.get("statuses")
        # ASSUMPTION: an empty list is refused like a missing one (it would wipe the member's history).
        if not isinstance(statuses, list) or not statuses:
            raise LaraError(1006)
        entries = [self.parse_status(s) for s in statuses]
        for entry in entries:
            entry.entry_id = self.new_entry_id()
        member.statuses = entries

    def update_member_status(self, body: dict[str, Any]) -> None:
        """``cycle/updatememberstatus``: change one status range, identified by ``entryId``."""
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
        """``cycle/changecurrentmemberstatus``: close the running range and open a new one."""
        member = self.resolve_user(body)
        new = self.parse_status(body.get("status"))
        new.start = new.start or self.local_now().replace(microsecond=0)
        current = member.current_status()
        if current is not None:
            # ASSUMPTION: the running range closes where the new one starts.
            if current.start is not None and new.start < current.start:
                raise LaraError(1010)
            current.end = new.start
        new.entry_id = self.new_entry_id()
        member.statuses.append(new)

    # -- control --------------------------------------------------------------------------------------------
    def period_end_local(self, period: Period) -> datetime:
        """A period's end as naive portal time."""
        return to_portal(period.end())

    def move_period_end(self, period_id: str, seconds: float) -> Period:
        """Move a period so that it ends ``seconds`` after the sandbox clock (negative: already ended)."""
        period = self.periods.get(period_id)
        if period is None:
            raise LaraError(1001, 404)
        old_end = self.period_end_local(period)
        end = self.clock() + timedelta(seconds=seconds)
        period.start = start_for_end(end, period.duration, period.unit)
        # The period that followed on keeps following on (no gap, no overlap), as a portal's would.
        for other in self.periods.values():
            if other.cycle_id == period.cycle_id and other is not period and other.start == old_end:
                other.start = self.period_end_local(period)
        return period

    def set_progress(self, period_id: str, user_id: str, credits: Credits) -> None:
        """Set a member's credits in a period (404 for an unknown period or member)."""
        if period_id not in self.periods or user_id not in self.members:
            raise LaraError(None, 404, "unknown period or member")
        self.progress[(period_id, user_id)] = credits
