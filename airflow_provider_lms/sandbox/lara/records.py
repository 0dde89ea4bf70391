"""The records a Lära portal keeps for the ``cycle`` methods: cycles, periods, members and their status ranges.

Times are naive portal wall-clock times (see :mod:`.periods`); no HTTP here.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_lms.sandbox.lara.periods import period_end

__all__ = ["Credits", "Cycle", "Member", "Period", "Progress", "StatusEntry", "lara_id"]


def lara_id(seed: str) -> str:
    """A deterministic id in Lära's shape: base64, URL-encoded the .NET way (``%2f``, ``%2b``, ``%3d``)."""
    raw = base64.b64encode(hashlib.sha256(seed.encode()).digest()[:16]).decode()
    return raw.replace("%", "%25").replace("+", "%2b").replace("/", "%2f").replace("=", "%3d")


@dataclass
class Cycle:
    """A cycle (règlement) as ``cycle/getlist`` lists it.

    :param id: ``cycleId``.
    :param admin_name: ``adminName``, the name administrators see.
    :param names: ``(text, languageId)`` pairs of the multilingual ``name`` (1 fr-CA, 2 en, 3 fr-FR, 4 es).
    :param rule_id: ``ruleId``, the assignment rule.
    :param is_active: ``isActive``.
    :param is_deleted: ``isDeleted``.
    """

    id: str
    admin_name: str
    names: list[tuple[str, int]]
    rule_id: str
    is_active: bool = True
    is_deleted: bool = False


@dataclass
class Period:
    """A period of a cycle.

    :param id: ``cyclePeriodId``.
    :param cycle_id: The cycle it belongs to.
    :param admin_name: ``adminName``.
    :param start: ``startDate``, naive portal wall-clock time.
    :param duration: ``duration``, counted in ``unit``.
    :param unit: ``durationUnit`` (0 hours, 1 days, 2 weeks, 3 months, 4 years).
    :param rule_id: ``ruleId``.
    :param requirements: The requirement objects (``id``, ``type``, ``targetValue``, optional ``parentId``...).
    """

    id: str
    cycle_id: str
    admin_name: str
    start: datetime
    duration: float
    unit: int
    rule_id: str
    requirements: list[dict[str, Any]] = field(default_factory=list)
    is_active: bool = True
    is_deleted: bool = False
    is_requirements_shown: bool = True
    is_user_statement: bool = False

    def end(self) -> datetime:
        """When the period ends (aware, in the portal's zone)."""
        return period_end(self.start, self.duration, self.unit)

    def required_credits(self) -> float:
        """The target of the top-level credits requirement (type 1), 0 without one."""
        for req in self.requirements:
            if req["type"] == 1 and not req.get("parentId"):
                return float(req["targetValue"])
        return 0.0


@dataclass
class StatusEntry:
    """One status range of a member (``entryId``, ``status``, ``isActiveMember``, ``startDate``, ``endDate``).

    :param entry_id: ``entryId``.
    :param status: The status name.
    :param is_active_member: The explicit flag, or ``None`` (the name then decides).
    :param start: Start of the range (naive portal time) or ``None``.
    :param end: End of the range, ``None`` while it runs.
    """

    entry_id: str
    status: str
    is_active_member: bool | None
    start: datetime | None
    end: datetime | None


@dataclass
class Member:
    """A portal user with custom fields and a status history.

    :param user_id: ``userId``.
    :param name: Display name (shown by the control API only).
    :param custom_fields: Custom field API name -> value.
    :param statuses: The member's status ranges.
    """

    user_id: str
    name: str
    custom_fields: dict[str, str]
    statuses: list[StatusEntry] = field(default_factory=list)

    def current_status(self) -> StatusEntry | None:
        """The open range that started last, if any."""
        open_entries = [s for s in self.statuses if s.end is None]
        return max(open_entries, key=lambda s: s.start or datetime.min) if open_entries else None


@dataclass
class Credits:
    """A member's credits in one period, as ``cycle/getuserprogress`` reports them.

    :param completed: ``completedCredits``.
    :param exempted: ``exemptedCredits``.
    :param provider: ``providerCredits``.
    """

    completed: float = 0.0
    exempted: float = 0.0
    provider: float = 0.0


@dataclass
class Progress:
    """The answer of ``cycle/getuserprogress``: a member's credits against a period's requirement.

    :param period: The period asked about.
    :param member: The member asked about.
    :param credits: The member's credits in it.
    :param custom_field: The custom field the member was addressed by, if any (echoed back).
    """

    period: Period
    member: Member
    credits: Credits
    custom_field: str | None = None
