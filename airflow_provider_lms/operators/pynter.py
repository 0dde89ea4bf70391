"""Pynter-only operators: upsert employees in bulk, block (disable) or unblock persons, record e-ticket
attendance, sync completions out.

Pynter's writes (``UpdateEmployee``, ``UpdateEticketAttendance``) go through look-then-write item actions
on :class:`~airflow_provider_lms.hooks.pynter.PynterHook`, so a re-run or a task retry changes only what is
not done yet. Completions leave Pynter as JSON rows (XCom) and, if asked, a CSV file; the rows have the
shape ``LmsScoreExternalActivityOperator`` takes, so another platform can record them.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import pendulum
from airflow.sdk import BaseOperator

from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsInputError
from airflow_provider_lms.models.inputs import (
    as_list,
    check_text,
    dedupe_rows,
    normalize_ids,
    parse_moment,
    validate_id,
    validate_models,
)
from airflow_provider_lms.models.pynter import PynterEmployee, latest_result
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = [
    "PynterBlockPersonsOperator",
    "PynterRecordEticketAttendanceOperator",
    "PynterSyncCompletionsOperator",
    "PynterUpsertEmployeesOperator",
]

CSV_COLUMNS = ("learner_id", "course_id", "course_code", "course_name", "completed_at", "grade", "result_id")


def _pynter_hook(conn_id: str) -> PynterHook:
    hook = get_lms_hook(conn_id)
    if not isinstance(hook, PynterHook):
        raise LmsCapabilityError(
            f"connection {conn_id!r} is a {hook.platform} connection; this operator works with Pynter only"
        )
    return hook


class _PynterBulkOperator(LmsBulkOperator):
    """A bulk operator that needs a Pynter connection rather than a generic capability."""

    def resolve_hook(self) -> PynterHook:
        return _pynter_hook(self.lms_conn_id)

    def prepare_hook(self) -> PynterHook:
        # The base class does the work (in the task's thread, before the bulk threads); this only narrows the type.
        return cast(PynterHook, super().prepare_hook())


class PynterUpsertEmployeesOperator(_PynterBulkOperator):
    """Create or update employees in Pynter (``UpdateEmployee``); employees that already match are left alone.

    Every record is validated before the first request. Returns the bulk summary; each item's result is
    ``{"external_id", "person_id", "action"}``.

    :param lms_conn_id: the Pynter connection.
    :param employees: a list of records with ``external_id``, ``first_name``, ``family_name``, ``email`` and
        optionally ``insertion``, ``phone_number``, ``function_name``, ``division_name``, ``cost_centre``,
        ``manager_external_id``, ``contract_start``, ``contract_end``, ``blocked``.
    :param concurrency: how many employees are handled at once.
    :param fail_on_item_error: fail the task when any employee failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "employees")
    operation = "upsert_employees"

    def __init__(self, *, employees: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.employees = employees

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        for i, row in enumerate(as_list("employees", self.employees)):
            _employee_text(f"employees[{i}]", row)
        records = validate_models(PynterEmployee, self.employees, "employees")
        for i, record in enumerate(records):
            validate_id(f"employees[{i}].external_id", record.external_id, max_length=100)
        # The same employee twice is one item; the same external id with different data is refused.
        records, merged = dedupe_rows("employees", records, lambda r: r.external_id, what="external_id")
        self.merged.update(merged)
        summary = self.run_bulk(records, hook.upsert_employee, key=lambda r: r.external_id)
        return self.finish(context, summary)


class PynterBlockPersonsOperator(_PynterBulkOperator):
    """Block (disable) or unblock persons, the way Pynter disables an account: ``UpdatePerson`` with
    ``Blocked``. Pynter has no delete; the person's whole record is read and written back, so nothing else
    changes. Persons already so count as done; an unknown person fails its item only.

    Returns the bulk summary; each item's result is ``{"learner_id", "person_id", "action"}``.

    :param lms_conn_id: the Pynter connection.
    :param external_ids: the persons' external ids (employee numbers).
    :param blocked: True to block (the default), False to unblock.
    :param concurrency: how many persons are handled at once.
    :param fail_on_item_error: fail the task when any person failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "external_ids")
    operation = "block_persons"

    def __init__(self, *, external_ids: Any, blocked: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.external_ids = external_ids
        self.blocked = blocked

    def execute(self, context: Context) -> dict[str, Any]:
        if not isinstance(self.blocked, bool):
            raise LmsInputError("blocked", f"must be true or false, got {self.blocked!r}")
        hook = self.prepare_hook()
        ids = self.parse_ids("external_ids", self.external_ids, hook.parse_learner_id)
        summary = self.run_bulk(ids, lambda ext: hook.set_person_blocked(ext, self.blocked), key=str)
        return self.finish(context, summary)


class PynterRecordEticketAttendanceOperator(_PynterBulkOperator):
    """Mark e-ticket holders present (``ValidateEticket`` then ``UpdateEticketAttendance``).

    Tickets already marked count as done; an unknown or invalid ticket fails its item only.

    :param lms_conn_id: the Pynter connection.
    :param ticket_hashes: the hashes printed on (or scanned from) the e-tickets.
    :param concurrency: how many tickets are handled at once.
    :param fail_on_item_error: fail the task when any ticket failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "ticket_hashes")
    operation = "record_eticket_attendance"

    def __init__(self, *, ticket_hashes: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ticket_hashes = ticket_hashes

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        hashes = self.parse_ids("ticket_hashes", self.ticket_hashes, validate_id)
        summary = self.run_bulk(hashes, hook.record_eticket_attendance, key=str)
        return self.finish(context, summary)


def _moment(field: str, value: Any) -> datetime:
    # ASSUMPTION: a moment without an offset (a naive datetime, a date, "2026-01-01") is UTC, as Airflow reads
    # naive times and as pendulum.parse read such text before; a date is the start of that day. Give an
    # offset (or an aware datetime) for another zone.
    return pendulum.instance(parse_moment(field, value, naive_tz="UTC"))


def _employee_text(field: str, value: Any) -> None:
    """Characters no wire carries, in any text of an employee record (the model checks only XML's rule)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, str):
                check_text(f"{field}.{key}", item, min_length=0, strip=False)
            elif isinstance(item, bytes | bytearray):
                raise LmsInputError(f"{field}.{key}", "must be text, not bytes")


class PynterSyncCompletionsOperator(BaseOperator):
    """Read results out of Pynter (``CompletedCourses``) and hand them on: XCom rows and, if asked, a CSV.

    Each row is ``{"learner_id", "course_id", "course_code", "course_name", "completed_at", "grade",
    "result_id"}``: ``learner_id`` is the person's external id, ``grade`` ``"passed"``/``"failed"``, so the
    rows can feed ``LmsScoreExternalActivityOperator`` of another platform (map the ids first).

    :param lms_conn_id: the Pynter connection.
    :param since: the earliest finish moment (ISO 8601 or datetime).
    :param until: the latest finish moment (default: now).
    :param course_ids: only these Pynter courses (module ids), if given.
    :param latest_only: keep only the latest result per person and course (the current status).
    :param csv_path: also write the rows to this CSV file (``"tmp"``: a new temporary file).
    """

    template_fields: Sequence[str] = ("lms_conn_id", "since", "until", "course_ids", "csv_path")
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        lms_conn_id: str,
        since: Any,
        until: Any = None,
        course_ids: Any = None,
        latest_only: bool = True,
        csv_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id
        self.since = since
        self.until = until
        self.course_ids = course_ids
        self.latest_only = latest_only
        self.csv_path = csv_path

    def execute(self, context: Context) -> dict[str, Any]:
        start = _moment("since", self.since)
        end = _moment("until", self.until) if self.until not in (None, "") else pendulum.now("UTC")
        if end < start:
            raise LmsInputError("until", f"{end.isoformat()} is before since {start.isoformat()}")
        if not isinstance(self.latest_only, bool):
            raise LmsInputError("latest_only", f"must be true or false, got {self.latest_only!r}")
        if self.csv_path is not None:
            check_text("csv_path", self.csv_path, max_length=4096)
        hook = _pynter_hook(self.lms_conn_id)
        wanted = (
            {int(c) for c in normalize_ids("course_ids", self.course_ids, hook.parse_course_id).ids}
            if self.course_ids not in (None, "", [])
            else None
        )
        try:
            results = hook.completed_courses(start, end)
        finally:
            hook.close()
        results = [r for r in results if wanted is None or r.ModuleId in wanted]
        if self.latest_only:
            groups: dict[tuple[Any, int], list[Any]] = {}
            for r in results:
                groups.setdefault((r.ExternalId or r.PersonId, r.ModuleId), []).append(r)
            results = [latest_result(g) for g in groups.values()]  # type: ignore[misc]
        rows = [
            {
                "learner_id": r.ExternalId or (str(r.PersonId) if r.PersonId is not None else None),
                "course_id": str(r.ModuleId),
                "course_code": r.ModuleCode,
                "course_name": r.ModuleName,
                "completed_at": r.finished_at,
                "grade": "failed" if r.Passed is False else "passed",
                "result_id": r.Id,
            }
            for r in sorted(results, key=lambda r: (r.FinishDate, r.Id or 0))
        ]
        path = self._write_csv(rows) if self.csv_path else None
        self.log.info(
            "synced %d Pynter results finished %s .. %s%s", len(rows), start, end, f" to {path}" if path else ""
        )
        return {"count": len(rows), "csv_path": path, "rows": rows}

    def _write_csv(self, rows: list[dict[str, Any]]) -> str:
        if self.csv_path == "tmp":
            fd, path = tempfile.mkstemp(prefix="pynter-completions-", suffix=".csv")
            os.close(fd)
        else:
            path = str(self.csv_path)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return path
