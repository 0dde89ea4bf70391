"""Lära-only operators: member statuses (three forms) and cycle-period compliance.

Setting members' statuses is also the generic capability ``update_member_status``:
:class:`~airflow_provider_lms.operators.members.LmsUpdateMemberStatusesOperator` is the one to use in a flow
meant for any platform. The three status operators here stay, as thin Lära-specific forms over the same
hook methods (each only checks its inputs and runs the bulk): the whole status list
(``updatememberstatuses``), one entry by its id (``updatememberstatus``), and one new status for many
members named in mixed ways (``changecurrentmemberstatus``, what the generic operator does by default).

Members are given as user id strings or as ``{"customFieldAPIName": ..., "customFieldValue": ...}``;
statuses as ``{"status", "isActiveMember", "startDate", "endDate"}`` (snake_case keys work too). Every
input is checked before the first request, and every write looks first, so a re-run changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_lms.hooks.lara import LaraHook, as_member, as_status, lara_id
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.lara import LaraStatusInput, MemberRef
from airflow_provider_lms.operators.base import LmsBulkOperator
from airflow_provider_lms.sensors.lara import lara_hook

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = [
    "LaraChangeCurrentMemberStatusOperator",
    "LaraCycleComplianceOperator",
    "LaraUpdateMemberStatusOperator",
    "LaraUpdateMemberStatusesOperator",
]


def _members(value: Any, field: str = "members", merged: dict[str, str] | None = None) -> list[MemberRef]:
    """One member or a list of them, checked; duplicates (same member after stripping) are merged."""
    if value is None:
        raise LmsInputError(field, "give one member or a list of members")
    if isinstance(value, bytes | bytearray):
        raise LmsInputError(field, "must be a user id, a member mapping or a list of them, not bytes")
    items = value if isinstance(value, list | tuple) else [value]
    seen: dict[str, MemberRef] = {}
    for i, item in enumerate(items):
        ref = as_member(f"{field}[{i}]", item)
        if ref.key in seen:
            if merged is not None:
                merged[f"{field}[{i}]"] = ref.key
            continue
        seen[ref.key] = ref
    return list(seen.values())


_OVERRIDE_KEYS = {"start_date": "startDate", "end_date": "endDate"}


def _status(value: Any, field: str, **overrides: Any) -> LaraStatusInput:
    if isinstance(value, str):
        value = {"status": value}
    if not isinstance(value, dict):
        raise LmsInputError(field, f"must be a status name or a mapping with 'status', got {type(value).__name__}")
    merged = dict(value)
    given = {key: o for key, o in overrides.items() if o not in (None, "")}
    for key, override in given.items():
        merged.pop(key, None)
        merged.pop(_OVERRIDE_KEYS[key], None)
        merged[key] = override
    try:
        return as_status(field, merged)
    except LmsInputError as exc:
        # A bad override is the DAG author's status_start_date / status_end_date: name that parameter, by the
        # field the error is about (an end before the start is the end's error when the end was given).
        for key in given:
            if exc.field == f"{field}.{_OVERRIDE_KEYS[key]}":
                raise LmsInputError(f"status_{key}", str(exc).removeprefix(f"invalid {exc.field}: ")) from None
        if exc.field == f"{field}.endDate" and "start_date" in given:
            raise LmsInputError("status_start_date", str(exc).removeprefix(f"invalid {exc.field}: ")) from None
        raise


class _LaraBulkOperator(LmsBulkOperator):
    """Resolves the Lära hook (failing at once for another platform's connection)."""

    def __init__(self, *, lms_conn_id: str = "lara_default", **kwargs: Any) -> None:
        super().__init__(lms_conn_id=lms_conn_id, **kwargs)

    def resolve_hook(self) -> LaraHook:
        return lara_hook(self.lms_conn_id)

    def prepare_hook(self) -> LaraHook:
        # The base class does the work (in the task's thread, before the bulk threads); this only narrows the type.
        return cast(LaraHook, super().prepare_hook())


class LaraUpdateMemberStatusesOperator(_LaraBulkOperator):
    """Set the whole status list of members (``cycle/updatememberstatuses``).

    A member whose list already equals ``statuses`` is left alone (``already_done``). A thin Lära form over
    :meth:`LaraHook.ensure_member_statuses`; for one status per member on any platform that can, use
    :class:`~airflow_provider_lms.operators.members.LmsUpdateMemberStatusesOperator`
    (``platform_options={"mode": "replace"}`` is this with a one-range list).

    :param lms_conn_id: the Lära connection.
    :param members: one member or a list (user id, or custom field name and value).
    :param statuses: the complete list of status ranges each member gets.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "members", "statuses")
    operation = "update_member_statuses"

    def __init__(self, *, members: Any, statuses: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.members = members
        self.statuses = statuses

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        refs = _members(self.members, merged=self.merged)
        if not isinstance(self.statuses, list | tuple) or not self.statuses:
            raise LmsInputError("statuses", "give a non-empty list of statuses (Lära error 1006)")
        wanted = [_status(s, f"statuses[{i}]") for i, s in enumerate(self.statuses)]
        summary = self.run_bulk(refs, lambda ref: hook.ensure_member_statuses(ref, wanted), key=lambda r: r.key)
        return self.finish(context, summary)


class LaraUpdateMemberStatusOperator(_LaraBulkOperator):
    """Change one status entry of a member (``cycle/updatememberstatus``); an equal entry is left alone.

    Lära only (entries have ids nowhere else); a thin form over :meth:`LaraHook.ensure_member_status_entry`.

    :param lms_conn_id: the Lära connection.
    :param member: the member (user id, or custom field name and value).
    :param entry_id: the status entry's ``entryId`` (from ``getmemberstatuses``).
    :param status: what the entry becomes.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "member", "entry_id", "status")
    operation = "update_member_status"

    def __init__(self, *, member: Any, entry_id: str, status: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.member = member
        self.entry_id = entry_id
        self.status = status

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        ref = as_member("member", self.member)
        entry = lara_id("entry_id", self.entry_id)
        status = _status(self.status, "status")
        summary = self.run_bulk([ref], lambda r: hook.ensure_member_status_entry(r, entry, status), key=lambda r: r.key)
        return self.finish(context, summary)


class LaraChangeCurrentMemberStatusOperator(_LaraBulkOperator):
    """Close each member's running status range and open ``status`` (``cycle/changecurrentmemberstatus``).

    A member whose running range already has this status (name compared without regard to case or
    accents, same active flag) is left alone, so a re-run opens no second range.

    What :class:`~airflow_provider_lms.operators.members.LmsUpdateMemberStatusesOperator` does on Lära by
    default, kept as a thin Lära form over :meth:`LaraHook.ensure_current_member_status` for one status
    given to many members (by user id or by custom field, mixed in one list).

    :param lms_conn_id: the Lära connection.
    :param members: one member or a list (user id, or custom field name and value); may be empty.
    :param status: the new status: a name or ``{"status", "isActiveMember", "startDate", "endDate"}``.
    :param status_start_date: overrides the status's ``startDate`` (e.g. the period end from XCom).
    :param status_end_date: overrides the status's ``endDate``.
    """

    # Not start_date/end_date: those are BaseOperator's own (the task's schedule bounds).
    template_fields: Sequence[str] = ("lms_conn_id", "members", "status", "status_start_date", "status_end_date")
    operation = "change_current_member_status"

    def __init__(
        self,
        *,
        members: Any,
        status: Any,
        status_start_date: Any = None,
        status_end_date: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.members = members
        self.status = status
        self.status_start_date = status_start_date
        self.status_end_date = status_end_date

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        refs = [] if self.members in ([], ()) else _members(self.members, merged=self.merged)
        status = _status(self.status, "status", start_date=self.status_start_date, end_date=self.status_end_date)
        summary = self.run_bulk(refs, lambda ref: hook.ensure_current_member_status(ref, status), key=lambda r: r.key)
        return self.finish(context, summary)


class LaraCycleComplianceOperator(_LaraBulkOperator):
    """Sort members into compliant and non-compliant by their credits in one cycle period.

    Reads every member's progress (``cycle/getuserprogress``); a member is compliant when completed
    credits (plus exempted ones, unless ``count_exempted=False``) reach the required credits. Nothing
    is changed: the DAG decides what status each group gets. A member whose progress cannot be read
    fails the task (after all were tried), rather than being left out of both lists.

    Returns ``{"cycle_id", "cycle_period_id", "period_end", "compliant": [...], "non_compliant": [...],
    "members": [per-member credits], "summary": {...}}``; ``compliant``, ``non_compliant`` and
    ``period_end`` are also pushed as XCom keys of their own, for ``task.output["non_compliant"]``.

    :param lms_conn_id: the Lära connection.
    :param cycle_id: the cycle (règlement).
    :param cycle_period_id: the period whose credits count.
    :param members: the members to check (user ids, or custom field name and value).
    :param count_exempted: whether exempted credits count towards the requirement (default True).
    """

    template_fields: Sequence[str] = ("lms_conn_id", "cycle_id", "cycle_period_id", "members")
    operation = "cycle_compliance"

    def __init__(
        self, *, cycle_id: str, cycle_period_id: str, members: Any, count_exempted: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cycle_id = cycle_id
        self.cycle_period_id = cycle_period_id
        self.members = members
        self.count_exempted = count_exempted

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        cycle = lara_id("cycle_id", self.cycle_id)
        period_id = lara_id("cycle_period_id", self.cycle_period_id)
        if not isinstance(self.count_exempted, bool):
            raise LmsInputError("count_exempted", f"must be true or false, got {self.count_exempted!r}")
        refs = _members(self.members, merged=self.merged)
        period = hook.get_period(cycle, period_id)
        end = hook.period_end(period)
        summary = self.run_bulk(
            refs,
            lambda ref: hook.member_progress(period_id, ref, count_exempted=self.count_exempted),
            key=lambda r: r.key,
        )
        rows = [item.result for item in summary.items if item.result]
        compliant = [r["member"] for r in rows if r["compliant"]]
        non_compliant = [r["member"] for r in rows if not r["compliant"]]
        self.log.info(
            "period %s (%s, ended %s): %d compliant, %d non-compliant, %d unreadable",
            period_id,
            period.admin_name,
            end,
            len(compliant),
            len(non_compliant),
            summary.failed,
        )
        result = {
            "cycle_id": cycle,
            "cycle_period_id": period_id,
            "period_name": period.admin_name,
            "period_end": end.isoformat(),
            "required_credits": period.required_credits,
            "count_exempted": self.count_exempted,
            "compliant": compliant,
            "non_compliant": non_compliant,
            "members": rows,
            "summary": summary.to_xcom() | {"items": None},
            "merged": dict(self.merged),
        }
        extra = {"compliant": compliant, "non_compliant": non_compliant, "period_end": end.isoformat()}
        self.finish(context, summary, **extra)
        return result
