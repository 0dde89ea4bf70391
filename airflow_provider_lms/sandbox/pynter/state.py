"""The Pynter double's data and rules: plain Python, no HTTP or XML.

A rule that refuses a well-formed call raises :class:`.errors.Failure` (answered ``Success=false``).
Times are naive Dutch local time, like Pynter's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pendulum

from airflow_provider_lms.sandbox.pynter.errors import Failure, Fault
from airflow_provider_lms.sandbox.pynter.records import AutoProgress, PendingCompletion, Row
from airflow_provider_lms.sandbox.pynter.seed import PYNTER_SANDBOX_PASSWORD, PYNTER_SANDBOX_USERNAME, seed_state
from airflow_provider_lms.sandbox.pynter.soap import TEMPURI_NS
from airflow_provider_lms.sandbox.pynter.wsdl import ACCOUNT_LEVELS, PERSON_RECORD_FIELDS

__all__ = ["PynterState"]

_TZ = "Europe/Amsterdam"
_PERSON_FIELDS = tuple(name for name, _ in PERSON_RECORD_FIELDS)
#: HelloID's field mapping marks these mandatory; its README says every update must carry them.
_PERSON_REQUIRED = ("ExternalIdentifier", "FirstName", "FamilyName", "Email")


@dataclass
class PynterState:
    """Everything the Pynter double remembers. Times are naive Dutch local time, like Pynter's.

    :param clock: The sandbox clock (UTC).
    """

    clock: Callable[[], datetime]
    username: str = PYNTER_SANDBOX_USERNAME
    password: str = PYNTER_SANDBOX_PASSWORD
    modules: dict[int, Row] = field(default_factory=dict)
    persons: dict[str, Row] = field(default_factory=dict)
    results: list[Row] = field(default_factory=list)
    started: list[Row] = field(default_factory=list)
    overview: list[Row] = field(default_factory=list)
    classes: dict[int, Row] = field(default_factory=dict)
    etickets: dict[str, Row] = field(default_factory=dict)
    certificates: dict[str, list[Row]] = field(default_factory=dict)
    trainings: dict[str, list[Row]] = field(default_factory=dict)
    #: Method names in arrival order (no parameters: the credentials stay out of it).
    calls: list[str] = field(default_factory=list)
    auto_progress: AutoProgress | None = None
    #: Completions scheduled by auto-progress.
    pending: list[PendingCompletion] = field(default_factory=list)
    #: The service namespace the method elements must be in (a tenant setting; the sources disagree).
    namespace: str = TEMPURI_NS
    #: Per method, the double's parameter name -> the name this "tenant" uses (in the WSDL and on the wire).
    param_names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Per external id, how many writes changed the person (create = 1): a doubled write shows as 2.
    person_revisions: dict[str, int] = field(default_factory=dict)
    #: Per external id, how many CreatePerson / UpdatePerson calls were carried out, a no-change one included:
    #: a write resent blindly after a lost answer shows here even when it changed nothing.
    person_writes: dict[str, int] = field(default_factory=dict)
    #: How often the WSDL was read (a client should read it once per hook, not once per call).
    wsdl_reads: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def now(self) -> datetime:
        """The sandbox clock in Pynter's local time, naive, whole seconds."""
        return pendulum.instance(self.clock()).in_timezone(_TZ).naive().replace(microsecond=0)

    def reset(self) -> None:
        """Back to the seeded data."""
        self.username, self.password = PYNTER_SANDBOX_USERNAME, PYNTER_SANDBOX_PASSWORD
        seed_state(self)
        self.calls = []
        self.auto_progress = None
        self.pending = []
        self.namespace = TEMPURI_NS
        self.param_names = {}
        self.person_revisions = {}
        self.person_writes = {}
        self.wsdl_reads = 0

    # -- the call itself --------------------------------------------------------------------------------------
    def record_call(self, method: str) -> None:
        """Remember that ``method`` was called (before any check, as a server log would)."""
        self.calls.append(method)

    def credentials_ok(self, username: str, password: str) -> bool:
        """Whether a call's credentials are the sandbox's."""
        return username == self.username and password == self.password

    def apply_time(self) -> None:
        """Let scheduled completions happen once their moment has come."""
        now = self.now()
        due = [p for p in self.pending if p.due <= now]
        self.pending = [p for p in self.pending if p.due > now]
        for ext, module, when in due:
            self.add_result(ext, module, when)

    # -- data helpers -----------------------------------------------------------------------------------------
    def person(self, external_id: str) -> Row:
        """The person with this external id (``Failure`` if there is none)."""
        if external_id not in self.persons:
            raise Failure("Person not found.")
        return self.persons[external_id]

    def add_result(self, external_id: str, module_id: int, when: datetime) -> Row:
        """A passed result of ``module_id`` for the person, finished at ``when``."""
        person = self.person(external_id)
        module = self.modules[module_id]
        result = {
            "Id": len(self.results) + 1, "PersonId": person["Id"], "ExternalId": external_id,
            "ModuleId": module_id, "ModuleCode": module["Code"], "ModuleName": module["Name"],
            "FinishDate": when, "Passed": True,
        }  # fmt: skip
        self.results.append(result)
        return result

    def results_of(self, external_id: str) -> list[Row]:
        """The person's results (``Failure`` for an unknown person)."""
        self.person(external_id)
        return [r for r in self.results if r["ExternalId"] == external_id]

    def _planning_row(self, module: Row, person: Row, now: datetime) -> Row:
        mine = [r for r in self.results if r["ExternalId"] == person["ExternalIdentifier"]
                and r["ModuleId"] == module["Id"]]  # fmt: skip
        last = max((r["FinishDate"] for r in mine), default=None)
        valid_until = (
            pendulum.instance(last).add(months=module["ValidityMonths"]).naive()
            if last is not None and module["ValidityMonths"]
            else None
        )
        status = "Niet behaald" if last is None else ("Verlopen" if valid_until and valid_until <= now else "Behaald")
        return {
            "PersonId": person["Id"], "ExternalId": person["ExternalIdentifier"], "ModuleId": module["Id"],
            "ModuleCode": module["Code"], "ModuleName": module["Name"],
            "ValidityMonths": module["ValidityMonths"], "LastFinishDate": last, "ValidUntil": valid_until,
            "Status": status,
        }  # fmt: skip

    def planning(self, module_id: int | None = None) -> list[Row]:
        """Every person x mandatory module, with the latest result and whether it is still valid."""
        now = self.now()
        return [
            self._planning_row(module, person, now)
            for module in self.modules.values()
            if module["Mandatory"] and module_id in (None, module["Id"])
            for person in self.persons.values()
        ]

    # -- what the methods read --------------------------------------------------------------------------------
    def results_between(self, start: datetime, end: datetime) -> list[Row]:
        """Results finished from ``start`` to ``end`` (both included)."""
        return [r for r in self.results if start <= r["FinishDate"] <= end]

    def results_since(self, since: datetime | None) -> list[Row]:
        """Results finished at or after ``since`` (all without it)."""
        return [r for r in self.results if since is None or r["FinishDate"] >= since]

    def results_by_codes(self, external_id: str, codes: list[str]) -> list[Row]:
        """The person's results of the modules with these codes."""
        return [r for r in self.results_of(external_id) if r["ModuleCode"] in codes]

    def started_courses(self, external_id: str | None) -> list[Row]:
        """Started e-learnings, of one person or of everyone."""
        if external_id:
            self.person(external_id)
        return [s for s in self.started if not external_id or s["ExternalId"] == external_id]

    def course_dates(self, start: datetime, end: datetime) -> list[Row]:
        """Each e-ticket of a class starting from ``start`` to ``end``, with attendance as its status."""
        rows: list[Row] = []
        for ticket in self.etickets.values():
            cls = self.classes[ticket["ClassId"]]
            if start <= cls["StartDate"] <= end:
                rows.append({
                    "Id": len(rows) + 1, "PersonId": self.persons[ticket["ExternalId"]]["Id"],
                    "ExternalId": ticket["ExternalId"], "ModuleId": cls["ModuleId"], "ClassId": cls["Id"],
                    "Date": cls["StartDate"], "Status": "Aanwezig" if ticket["Attended"] else "Ingeschreven",
                })  # fmt: skip
        return rows

    def courses_overview(self, external_id: str) -> list[Row]:
        """A person's enrolled, started and finished modules."""
        self.person(external_id)
        mine = [o for o in self.overview if o["ExternalId"] == external_id]
        rows = [dict(o, Status="Gestart" if o["Progress"] else "Ingeschreven") for o in mine]
        rows += [dict(s, Status="Gestart") for s in self.started if s["ExternalId"] == external_id]
        done = {r["ModuleId"] for r in self.results_of(external_id)}
        rows += [
            {"ExternalId": external_id, "ModuleId": m, "Progress": 100, "Status": "Afgerond"} for m in sorted(done)
        ]
        return rows

    def per_person(self, table: str, external_id: str) -> list[Row]:
        """A person's rows of a per-person table (``certificates``, ``trainings``)."""
        self.person(external_id)
        rows: dict[str, list[Row]] = getattr(self, table)
        return rows.get(external_id, [])

    def person_progress(self, external_id: str) -> list[Row]:
        """A person's tasks: started e-learnings and attended (finished) modules."""
        self.person(external_id)
        rows = [{"ModuleId": s["ModuleId"], "TaskId": 1, "TaskName": "E-learning", "Status": "Gestart"}
                for s in self.started if s["ExternalId"] == external_id]  # fmt: skip
        rows += [{"ModuleId": r["ModuleId"], "TaskId": 1, "TaskName": "Aanwezigheid", "Status": "Afgerond"}
                 for r in self.results_of(external_id)]  # fmt: skip
        return rows

    def classes_of(self, module_id: int) -> list[Row]:
        """The classes of a module (a "training")."""
        return [c for c in self.classes.values() if c["ModuleId"] == module_id]

    def eticket(self, ticket_hash: str) -> Row:
        """The e-ticket with this hash (``Failure`` if there is none)."""
        ticket = self.etickets.get(ticket_hash)
        if ticket is None:
            raise Failure("E-ticket not found.")
        return ticket

    def validate_eticket(self, ticket_hash: str) -> Row:
        """The e-ticket, marked valid, with its person's id."""
        ticket = self.eticket(ticket_hash)
        return dict(ticket, Valid=True, PersonId=self.persons[ticket["ExternalId"]]["Id"])

    # -- what the methods change ------------------------------------------------------------------------------
    def update_employee(self, record: dict[str, Any]) -> int:
        """Create or update the person a record names by ``ExternalIdentifier``; its id."""
        ext = record.get("ExternalIdentifier")
        if not ext:
            raise Failure("ExternalIdentifier is required.")
        for required in ("FirstName", "FamilyName", "Email"):
            if not record.get(required):
                raise Failure(f"{required} is required.")
        person = self.persons.get(ext)
        if person is None:
            person = {"Id": max((q["Id"] for q in self.persons.values()), default=0) + 1, "ExternalIdentifier": ext}
            self.persons[ext] = person
        person.update(record)
        return int(person["Id"])

    def insert_class(self, module_id: int, record: dict[str, Any]) -> int:
        """Add a class of ``module_id``; with auto-progress on, the module's overdue persons will pass it."""
        if module_id not in self.modules:
            raise Failure("Training not found.")
        if not record.get("Name"):
            raise Failure("Name is required.")
        if not isinstance(record.get("StartDate"), datetime):
            raise Fault('StartDate must be typed xsi:type="xsd:dateTime".')
        new_id = max(self.classes, default=0) + 1
        self.classes[new_id] = {
            "Id": new_id,
            "ModuleId": module_id,
            **{k: v for k, v in record.items() if k != "ModuleId"},
        }
        if self.auto_progress is not None:
            due = self.now() + timedelta(seconds=self.auto_progress.complete_after_seconds)
            for row in self.planning(module_id):
                if row["Status"] == "Verlopen":
                    self.pending.append(PendingCompletion(row["ExternalId"], module_id, due))
        return new_id

    # -- persons: CreatePerson / UpdatePerson replace whole records -------------------------------------------------
    def person_by_id(self, pynter_id: int) -> Row:
        """The person with this Pynter id (``Failure`` if there is none)."""
        for person in self.persons.values():
            if person["Id"] == pynter_id:
                return person
        raise Failure("Person not found.")

    @staticmethod
    def _person_record(record: dict[str, Any]) -> Row:
        """A ``personCreate`` / ``personUpdate`` as stored: the known fields only (others are ignored, as
        ASMX's serializer ignores unknown elements); ``AccountLevel`` defaults to ``USER``."""
        for required in _PERSON_REQUIRED:
            if record.get(required) in (None, ""):
                raise Failure(f"{required} is required.")
        level = record.get("AccountLevel") or "USER"
        if level not in ACCOUNT_LEVELS:
            raise Fault(f"Instance validation error: '{level}' is not a valid value for AccountLevel.")
        for flag in ("IsManager", "Blocked"):
            if record.get(flag) is not None and not isinstance(record[flag], bool):
                raise Fault(f'{flag} must be typed xsi:type="xsd:boolean".')
        for moment in ("ContractStartTime", "ContractEndTime"):
            if record.get(moment) is not None and not isinstance(record[moment], datetime):
                raise Fault(f'{moment} must be typed xsi:type="xsd:dateTime".')
        stored = {name: record.get(name) for name in _PERSON_FIELDS}
        stored["AccountLevel"] = level
        return stored

    def create_person(self, record: dict[str, Any]) -> int:
        """``CreatePerson``: a new person; an external id already in use is refused."""
        stored = self._person_record(record)
        ext = str(stored["ExternalIdentifier"])
        if ext in self.persons:
            # ASSUMPTION: the wording; the sources show only "Person not found.".
            raise Failure("A person with this ExternalIdentifier already exists.")
        new_id = max((q["Id"] for q in self.persons.values()), default=0) + 1
        self.persons[ext] = {"Id": new_id, **stored}
        self.person_revisions[ext] = self.person_revisions.get(ext, 0) + 1
        self.person_writes[ext] = self.person_writes.get(ext, 0) + 1
        return new_id

    def update_person(self, pynter_id: int, record: dict[str, Any]) -> None:
        """``UpdatePerson``: the whole record is replaced; a field left out is cleared (``AccountLevel``
        back to ``USER``), as pynter-params.md reads the HelloID connector."""
        person = self.person_by_id(pynter_id)
        stored = self._person_record(record)
        old_ext, new_ext = str(person["ExternalIdentifier"]), str(stored["ExternalIdentifier"])
        if new_ext != old_ext and new_ext in self.persons:
            raise Failure("A person with this ExternalIdentifier already exists.")
        replaced = {"Id": pynter_id, **stored}
        self.person_writes[new_ext] = self.person_writes.pop(old_ext, 0) + 1
        if replaced == person:
            return
        del self.persons[old_ext]
        self.persons[new_ext] = replaced
        self.person_revisions[new_ext] = self.person_revisions.pop(old_ext, 0) + 1

    def mark_attended(self, ticket_hash: str) -> None:
        """Record that the e-ticket's holder attended."""
        self.eticket(ticket_hash)["Attended"] = True

    def set_auto_progress(self, complete_after_seconds: float | None) -> None:
        """Switch auto-progress on (with this delay) or off (``None``)."""
        self.auto_progress = None if complete_after_seconds is None else AutoProgress(complete_after_seconds)
