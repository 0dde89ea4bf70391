"""The generic member-status operator: set members' (professional) statuses on any platform that can.

Lära is the platform that has member statuses today; every other platform refuses the operator at once,
before any request, naming the platforms that can (:meth:`LmsHook.require
<airflow_provider_lms.hooks.base.LmsHook.require>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from airflow_provider_lms.models.inputs import _row_id, _Strict, dedupe_rows, validate_models
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsUpdateMemberStatusesOperator", "MemberStatusRow"]


class MemberStatusRow(_Strict):
    """One member's new status, e.g. ``{"member_id": "u-17", "status": "Retired"}``.

    Keys in snake_case or camelCase (``isActiveMember``, ``startDate``), as Lära's documents write them.

    :param member_id: the member's id on the platform.
    :param status: the status name.
    :param is_active_member: whether the status counts as active membership (None: the platform decides).
    :param start_date: when the status starts (ISO 8601 text or a datetime; None: the platform's default).
    :param end_date: when it ends (None: it runs on).
    """

    member_id: str | int = Field(validation_alias=AliasChoices("member_id", "memberId"))
    status: str = Field(min_length=1, max_length=200)
    is_active_member: bool | None = Field(
        default=None, strict=True, validation_alias=AliasChoices("is_active_member", "isActiveMember")
    )
    start_date: datetime | date | str | None = Field(
        default=None, validation_alias=AliasChoices("start_date", "startDate")
    )
    end_date: datetime | date | str | None = Field(default=None, validation_alias=AliasChoices("end_date", "endDate"))

    @field_validator("member_id", mode="before")
    @classmethod
    def _member(cls, value: Any, info: ValidationInfo) -> Any:
        # Before pydantic's own coercion, which would turn True into 1.
        return _row_id(str(info.field_name), value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"must be a status name, not {type(value).__name__}")
        return value

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        # A number is not a date here (pydantic would read 1e9 as seconds since 1970).
        if isinstance(value, bool | int | float):
            raise ValueError(f"must be an ISO 8601 date and time, not {type(value).__name__}")
        return None if value == "" else value

    def fields(self) -> dict[str, Any]:
        """The status's keyword arguments for the hook (everything but the member and the name)."""
        return {"is_active_member": self.is_active_member, "start_date": self.start_date, "end_date": self.end_date}


class LmsUpdateMemberStatusesOperator(LmsBulkOperator):
    """Set members' statuses (generic capability ``update_member_status``); one item per member.

    Every row is checked before the first request (errors name ``statuses[3].start_date``); rows for the
    same member are merged when they are equal and refused when they differ. Each member's statuses are
    read before anything is written, so a member that already has the status is ``already_done`` and a
    re-run changes nothing.

    Lära: by default the member's running status range is closed and ``status`` opens a new one
    (``cycle/changecurrentmemberstatus``; the history stays). ``platform_options={"mode": "replace"}`` makes
    ``status`` the member's only range instead (``cycle/updatememberstatuses``).
    ``platform_options={"member_field": "<custom field API name>"}`` names members by that custom field's
    value (a licence or member number) instead of the Lära user id. The Lära operators in
    :mod:`airflow_provider_lms.operators.lara` remain for what only Lära has (a whole status list, one
    entry by id, members named by different fields in one run).

    :param lms_conn_id: the platform connection.
    :param statuses: rows of ``{"member_id", "status", "is_active_member", "start_date", "end_date"}``
        (``member_id`` and ``status`` required).
    :param platform_options: Lära: ``mode`` (``"change_current"`` or ``"replace"``), ``member_field``.
    :param concurrency: how many members are handled at once.
    :param fail_on_item_error: fail the task when any member failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "statuses", "platform_options")
    capability = "update_member_status"
    operation = "update_member_status"

    def __init__(self, *, statuses: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.statuses = statuses
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        rows = validate_models(MemberStatusRow, self.statuses, "statuses")
        options = self.checked_options(hook, self.platform_options)
        normalized = []
        for i, row in enumerate(rows):
            member = hook.check_member_status(f"statuses[{i}]", row.member_id, row.status, **row.fields(), **options)
            normalized.append(row.model_copy(update={"member_id": member}))
        distinct, merged = dedupe_rows("statuses", normalized, lambda r: str(r.member_id), what="member")
        self.merged.update(merged)
        summary = self.run_bulk(
            distinct,
            lambda row: hook.update_member_status(str(row.member_id), row.status, **row.fields(), **options),
            key=lambda row: str(row.member_id),
        )
        return self.finish(context, summary)
