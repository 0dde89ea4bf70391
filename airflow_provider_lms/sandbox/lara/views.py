"""Lära's JSON bodies: records rendered with the document's field names, dates as portal wall-clock time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox.lara.periods import PORTAL_TIMEZONE
from airflow_provider_lms.sandbox.lara.records import Cycle, Member, Period, Progress, StatusEntry
from airflow_provider_lms.sandbox.lara.seed import CUSTOM_FIELD
from airflow_provider_lms.sandbox.lara.state import is_active

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.lara.state import LaraState

__all__ = [
    "OK",
    "cycle_json",
    "format_portal_time",
    "period_json",
    "period_with_end_json",
    "progress_json",
    "state_summary",
    "status_json",
    "statuses_json",
]

#: The answer of the methods that change data.
OK: dict[str, Any] = {"isSuccess": True}


def format_portal_time(moment: datetime | None) -> str | None:
    """Portal wall-clock time without offset, fractions like the document (``15:02:45.73``)."""
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text


def cycle_json(cycle: Cycle) -> dict[str, Any]:
    """A cycle as ``cycle/getlist`` lists it (the team document's shape)."""
    return {
        "cycleId": cycle.id,
        "adminName": cycle.admin_name,
        "name": {"texts": [{"text": text, "languageId": language} for text, language in cycle.names]},
        "ruleId": cycle.rule_id,
        "isActive": cycle.is_active,
        "isDeleted": cycle.is_deleted,
    }


def period_json(period: Period) -> dict[str, Any]:
    """A period as ``cycle/getperiodlist`` lists it."""
    return {
        "cyclePeriodId": period.id,
        "cycleId": period.cycle_id,
        "adminName": period.admin_name,
        "startDate": format_portal_time(period.start),
        "duration": period.duration,
        "durationUnit": period.unit,
        "isRequirementsShown": period.is_requirements_shown,
        "ruleId": period.rule_id,
        "isUserStatement": period.is_user_statement,
        "isActive": period.is_active,
        "isDeleted": period.is_deleted,
        "requirements": [{"cyclePeriodId": period.id, **r} for r in period.requirements],
    }


def period_with_end_json(state: LaraState, period: Period) -> dict[str, Any]:
    """A period plus its computed ``endDate`` (control API only: Lära itself does not send it)."""
    return {**period_json(period), "endDate": format_portal_time(state.period_end_local(period))}


def progress_json(progress: Progress) -> dict[str, Any]:
    """The answer of ``cycle/getuserprogress``."""
    answer: dict[str, Any] = {
        "id": progress.period.id,
        "memberId": progress.member.user_id,
        "requiredCredits": progress.period.required_credits(),
        "completedCredits": progress.credits.completed,
        "exemptedCredits": progress.credits.exempted,
        "providerCredits": progress.credits.provider,
    }
    if progress.custom_field is not None:
        answer["customFieldAPIName"] = progress.custom_field
    return answer


def status_json(entry: StatusEntry, user_id: str) -> dict[str, Any]:
    """One status range of a member."""
    return {
        "entryId": entry.entry_id,
        "userId": user_id,
        "status": entry.status,
        "isActiveMember": entry.is_active_member,
        "startDate": format_portal_time(entry.start),
        "endDate": format_portal_time(entry.end),
    }


def statuses_json(member: Member) -> dict[str, Any]:
    """The answer of ``cycle/getmemberstatuses``."""
    return {"statuses": [status_json(s, member.user_id) for s in member.statuses]}


def _member_summary(member: Member) -> dict[str, Any]:
    current = member.current_status()
    return {
        "userId": member.user_id,
        "name": member.name,
        CUSTOM_FIELD: member.custom_fields.get(CUSTOM_FIELD),
        "currentStatus": current.status if current else None,
        "isActiveMember": is_active(current) if current else False,
        "statuses": [status_json(s, member.user_id) for s in member.statuses],
    }


def state_summary(state: LaraState) -> dict[str, Any]:
    """``GET /_sandbox/lara/state``: the clock, every period with its end, every member with its status."""
    return {
        "now": format_portal_time(state.local_now()),
        "timezone": PORTAL_TIMEZONE,
        "periods": [period_with_end_json(state, p) for p in state.periods.values()],
        "members": [_member_summary(m) for m in state.members.values()],
    }
