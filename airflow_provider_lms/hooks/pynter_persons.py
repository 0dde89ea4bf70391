"""Pynter's persons: ``GetPersonByExternalId``, then ``CreatePerson`` or a read-merge-write ``UpdatePerson``.

``UpdatePerson`` replaces the whole record (pynter-params.md), so every change starts from a fresh read and
writes back every field the read returned (never blanking one the caller does not give); identical data sends
nothing. Writes are never resent blindly: after a lost answer the person is read again and the write counts
as made once the record shows it. Blocking (``Blocked``) is how Pynter disables an account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_lms.hooks.pynter_soap import (
    _METHOD_NAME,
    PynterSoapHook,
    _check_value,
    _external_id,
    _maybe_id,
    _pynter_id,
)
from airflow_provider_lms.http.errors import (
    LmsConflictError,
    LmsError,
    LmsInputError,
    LmsNotFoundError,
)
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.models.inputs import (
    LearnerSpec,
    recheck,
    shown,
)
from airflow_provider_lms.models.pynter import (
    PynterPerson,
    person_differs,
    person_for_write,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus

__all__ = ["PynterPersonsHook"]

#: The platform options of each capability (anything else is a typo that would be silently ignored).
_OPTIONS: dict[str, frozenset[str]] = {"ensure_learners": frozenset({"blocked"})}
#: ASSUMPTION: a person ``ensure_learners`` creates can log in (``Blocked`` false), unless the option
#: ``blocked`` says otherwise; the HelloID connector creates accounts blocked because it enables them later.
_CREATE_BLOCKED = False


class PynterPersonsHook(PynterSoapHook):
    """The person lifecycle of :class:`~airflow_provider_lms.hooks.pynter.PynterHook` and its ``ensure_learners``.

    :param lms_conn_id: the Airflow connection id (type ``pynter``).
    """

    # -- reads -----------------------------------------------------------------------------------------------------
    def get_person(self, external_id: str) -> PynterPerson:
        """``GetPersonByExternalId``; raises :class:`LmsNotFoundError` for ``Person not found.``."""
        contents = self.call("GetPersonByExternalId", externalId=_external_id("external_id", external_id))
        return PynterPerson.model_validate(contents if isinstance(contents, dict) else {})

    def find_person(self, external_id: str) -> PynterPerson | None:
        """The person with this external id, or None."""
        try:
            return self.get_person(external_id)
        except LmsNotFoundError:
            return None

    def get_person_record(self, external_id: str) -> dict[str, Any] | None:
        """The person's whole record as ``GetPersonByExternalId`` answers it (every field, as text), or None.

        This is what a merge starts from: ``UpdatePerson`` replaces the whole record.
        """
        try:
            contents = self.call("GetPersonByExternalId", externalId=_external_id("external_id", external_id))
        except LmsNotFoundError:
            return None
        if not isinstance(contents, dict):
            # A person we cannot read must not look missing: that would create a second one.
            raise LmsError(
                f"GetPersonByExternalId answered no person record for {external_id!r}", platform=self.platform
            )
        return contents

    def get_person_by_pynter_id(self, pynter_id: int | str) -> PynterPerson:
        """``GetPersonByPynterId``: the person with this Pynter id (``Person not found.`` -> not found)."""
        contents = self.call("GetPersonByPynterId", pynterPersonId=_pynter_id("pynter_id", pynter_id))
        return PynterPerson.model_validate(contents if isinstance(contents, dict) else {})

    # -- writes: whole records, read-merge-write ----------------------------------------------------------------
    def _person_fields(self, method: str) -> tuple[str, ...] | None:
        """The fields the tenant's WSDL gives the person record of ``method``; None without the WSDL."""
        if self.connection_config.param_source != "wsdl":
            return None
        wsdl = self.wsdl()
        param = "personCreate" if method == "CreatePerson" else "personUpdate"
        return wsdl.record_fields(method, self.wire_names(method, wsdl).get(param, param))

    @staticmethod
    def _check_person(record: Mapping[str, Any], field: str) -> None:
        for name in ("ExternalIdentifier", "FirstName", "FamilyName", "Email"):
            # HelloID's field mapping marks these four mandatory, and every update must carry them.
            if record.get(name) in (None, ""):
                raise LmsInputError(f"{field}.{name}", "is required (Pynter needs it on every create and update)")

    def create_person(self, record: Mapping[str, Any]) -> int:
        """``CreatePerson``: a new person from ``record`` (Pynter's field names); returns the new Pynter id.

        A write, never resent blindly: prefer :meth:`ensure_person`, which looks first and after a lost
        answer. ``Contents`` carries the new id (pynter-params.md: the HelloID connector reads it so).
        """
        self._check_person(record, "person")
        contents = self.call("CreatePerson", personCreate=dict(record))
        value = contents.get("Id") if isinstance(contents, dict) else contents
        return _pynter_id("CreatePerson answer", value)

    def update_person(self, pynter_id: int | str, record: Mapping[str, Any]) -> Any:
        """``UpdatePerson``: replace the person's **whole** record with ``record``.

        A field left out may be reset (``AccountLevel`` falls back to "User"): send what
        :func:`~airflow_provider_lms.models.pynter.person_for_write` builds from a fresh read, or use
        :meth:`ensure_person` / :meth:`set_person_blocked`, which do.
        """
        self._check_person(record, "person")
        return self.call("UpdatePerson", pynterPersonId=_pynter_id("pynter_id", pynter_id), personUpdate=dict(record))

    def ensure_person(
        self,
        external_id: str,
        changes: Mapping[str, Any] | Callable[[dict[str, Any] | None], Mapping[str, Any]],
        *,
        on_create: Mapping[str, Any] | None = None,
    ) -> ItemResult[Any]:
        """The person with this external id holds ``changes`` (Pynter's field names): created, or updated by
        read-merge-write; a person who already matches is left alone (``already_done``, nothing sent).

        :param external_id: the person's ``ExternalIdentifier``.
        :param changes: the fields to set, or a function of the current record (None: no person yet).
        :param on_create: further fields for a new person only (e.g. ``Blocked``).
        """
        ext = _external_id("external_id", external_id)
        current = self.get_person_record(ext)
        wanted = dict(changes(current) if callable(changes) else changes)
        wanted["ExternalIdentifier"] = ext
        self._check_changes(wanted)
        if current is None:
            record = person_for_write({}, {**(on_create or {}), **wanted}, allowed=self._person_fields("CreatePerson"))
            self._check_person(record, "person")
            try:
                person, _ = create_once(
                    lambda: self.get_person_record(ext), lambda: {"Id": self.create_person(record)}, already_looked=True
                )
            except LmsConflictError:
                # Someone created this external id between our look and our create: that person is ours.
                again = self.get_person_record(ext)
                if again is None:
                    raise
                return self._update_existing(ext, again, wanted)
            return ItemResult(result={"learner_id": ext, "person_id": _maybe_id(person), "action": "created"})
        return self._update_existing(ext, current, wanted)

    @staticmethod
    def _check_changes(changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            if not _METHOD_NAME.fullmatch(name):
                raise LmsInputError("person", f"{shown(name)} is not a field name")
            _check_value(f"person.{name}", value)

    def _update_existing(self, ext: str, current: dict[str, Any], wanted: dict[str, Any]) -> ItemResult[Any]:
        result = {"learner_id": ext, "person_id": _maybe_id(current)}
        if not person_differs(current, wanted):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={**result, "action": "none"})
        pid = _pynter_id("GetPersonByExternalId answer Id", current.get("Id"))
        record = person_for_write(current, wanted, allowed=self._person_fields("UpdatePerson"))

        def applied() -> dict[str, Any] | None:
            # After a lost answer: read again; the update counts as made once the record shows it.
            again = self.get_person_record(ext)
            return again if again is not None and not person_differs(again, wanted) else None

        def write() -> dict[str, Any]:
            self.update_person(pid, record)
            return {**current, **wanted}

        create_once(applied, write, already_looked=True)
        return ItemResult(result={**result, "action": "updated"})

    def set_person_blocked(self, external_id: str, blocked: bool = True) -> ItemResult[Any]:
        """Block (disable) or unblock a person: ``UpdatePerson`` with ``Blocked``, the whole record read and
        written back; a person already so is left alone. Pynter has no delete: blocking is how the HelloID
        connector disables (and "deletes") an account. An unknown person fails (``Person not found.``)."""
        if not isinstance(blocked, bool):
            raise LmsInputError("blocked", f"must be true or false, got {shown(blocked)}")
        ext = _external_id("external_id", external_id)
        current = self.get_person_record(ext)
        if current is None:
            raise LmsNotFoundError(
                f"person {ext!r} not found", platform=self.platform, platform_message="Person not found."
            )
        return self._update_existing(ext, current, {"ExternalIdentifier": ext, "Blocked": blocked})

    def block_person(self, external_id: str) -> ItemResult[Any]:
        """Block (disable) the person: see :meth:`set_person_blocked`."""
        return self.set_person_blocked(external_id, True)

    def unblock_person(self, external_id: str) -> ItemResult[Any]:
        """Unblock (enable) the person: see :meth:`set_person_blocked`."""
        return self.set_person_blocked(external_id, False)

    # -- ensure_learners ------------------------------------------------------------------------------------------
    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        known = _OPTIONS.get(capability, frozenset())
        for name in options:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise LmsInputError(f"platform_options.{name}", f"is not a Pynter option here (known: {listed})")
        if "blocked" in options and not isinstance(options["blocked"], bool):
            raise LmsInputError("platform_options.blocked", f"must be true or false, got {shown(options['blocked'])}")
        return dict(options)

    def check_learner(self, field: str, learner: LearnerSpec, **options: Any) -> None:
        """Refuse a learner :meth:`ensure_learner` would refuse: Pynter finds a person by external id.

        :param field: where the learner is, e.g. ``learners[3]``; errors name ``learners[3].external_id``.
        :param learner: the validated learner.
        """
        if learner.external_id is None:
            raise LmsInputError(
                f"{field}.external_id",
                "is required on Pynter: a person is found and updated by it (ExternalIdentifier)",
            )
        _external_id(f"{field}.external_id", learner.external_id)

    def learner_key(self, learner: LearnerSpec) -> str:
        """A person is the external id: two rows with one external id are one person, whatever their e-mail."""
        return str(learner.external_id) if learner.external_id is not None else learner.email

    def ensure_learner(self, learner: LearnerSpec, **options: Any) -> ItemResult[Any]:
        """The person with the learner's ``external_id``, created or brought up to date (first name, family
        name, e-mail; ``blocked`` if the option is given). Every other field Pynter holds is kept.

        A family name given with the prefix Pynter keeps apart (``last_name="de Vries"`` for Insertion "de",
        FamilyName "Vries") counts as the same name. Result ``{"learner_id": <external id>, "person_id",
        "email", "action"}``.

        :param options: ``blocked`` (true/false): block or unblock the person; a new person is created
            unblocked unless it says true.
        """
        learner = recheck(learner, "learner")
        opts = self.validate_options("ensure_learners", options)
        self.check_learner("learner", learner)
        ext = _external_id("learner.external_id", learner.external_id)

        def changes(current: dict[str, Any] | None) -> dict[str, Any]:
            family = learner.last_name
            insertion = str((current or {}).get("Insertion") or "").strip()
            if insertion and family.lower().startswith(insertion.lower() + " "):
                family = family[len(insertion) + 1 :].strip()
            wanted: dict[str, Any] = {"FirstName": learner.first_name, "FamilyName": family, "Email": learner.email}
            if "blocked" in opts:
                wanted["Blocked"] = opts["blocked"]
            return wanted

        outcome = self.ensure_person(ext, changes, on_create={"Blocked": _CREATE_BLOCKED})
        return ItemResult(status=outcome.status, result={**outcome.result, "email": learner.email})
