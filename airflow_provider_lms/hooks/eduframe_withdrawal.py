"""Eduframe's withdrawal and HR-sync capabilities: unsubscribe, revoke a certificate, update learners.

:class:`EduframeWithdrawalMixin` is one of :class:`~airflow_provider_lms.hooks.eduframe.EduframeHook`'s
bases. It holds the typed methods of ``PUT /enrollments/{id}/cancel``, ``PUT /program/enrollments/{id}/cancel``,
``POST /program/enrollments/{id}/delete_certificate`` and ``PATCH /users/{id}``, the generic capabilities
built on them (``unsubscribe``, ``revoke_certificate``, and the ``update_existing`` part of
``ensure_learners``), and the hook's memory of which bulk items wrote in this run (so that an item whose
read-back failed is still reported ``done`` on its second pass).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_lms.http.client import RetryRecorder, _recorder
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.models.eduframe import (
    EduframeEnrollment,
    EduframeProgramEnrollment,
    EduframeUser,
)
from airflow_provider_lms.models.eduframe import eduframe_id as _eduframe_id
from airflow_provider_lms.models.inputs import LearnerSpec, check_text
from airflow_provider_lms.models.results import ItemResult, ItemStatus

if TYPE_CHECKING:
    from airflow_provider_lms.http.client import LmsHttpClient

__all__ = ["EduframeWithdrawalMixin"]


def _json(response: httpx.Response) -> Any:
    return response.json()


#: The request body properties of ``PATCH /users/{id}`` in the OpenAPI document.
_USER_PATCH_FIELDS = frozenset(
    {
        "first_name",
        "middle_name",
        "last_name",
        "email",
        "locale",
        "wants_newsletter",
        "with_authentication",
        "custom",
        "address_attributes",
        "invoice_address_attributes",
        "label_ids",
    }
)
#: LearnerSpec fields that ``update_existing`` keeps in line with the HR data, and the user fields they set.
# ASSUMPTION: only the names. The e-mail address is how the learner is found, so it never changes here (a
# case-only difference is the same address), and ``external_id`` has no writable user field: the document
# shows ``employee_number`` on a user but neither POST nor PATCH /users accepts it.
_LEARNER_UPDATE_FIELDS = ("first_name", "last_name")


class EduframeWithdrawalMixin:
    """Cancel enrollments, delete certificates, update users; mixed into ``EduframeHook``."""

    #: The bulk items (their per-item retry recorder) that have sent a write in this run.
    _wrote: weakref.WeakSet[RetryRecorder]
    _wrote_lock: threading.Lock

    if TYPE_CHECKING:

        @property
        def client(self) -> LmsHttpClient: ...

        def list_enrollments(
            self,
            *,
            student_id: int | str | None = None,
            planned_course_id: int | str | None = None,
            status: list[str] | None = None,
            with_canceled: bool | None = None,
        ) -> Iterator[EduframeEnrollment]: ...

        def list_program_enrollments(
            self, *, student_id: int | str | None = None, edition_id: int | str | None = None
        ) -> Iterator[EduframeProgramEnrollment]: ...

    # -- plain API methods -----------------------------------------------------------------------------------
    def update_user(self, user_id: int | str, **fields: Any) -> EduframeUser:
        """``PATCH /users/{id}``: only the fields given change (the document's ``first_name``, ``last_name``...)."""
        uid = _eduframe_id("user_id", user_id)
        if not fields:
            raise LmsInputError("fields", "give at least one field to change")
        for name, value in fields.items():
            check_text("user field", name, max_length=100)
            if name not in _USER_PATCH_FIELDS:
                raise LmsInputError(
                    f"user.{name}", f"is not a field of PATCH /users (known: {sorted(_USER_PATCH_FIELDS)})"
                )
            if isinstance(value, str):
                check_text(f"user.{name}", value, max_length=5000, min_length=0)
        # Safe to resend: a PATCH sets absolute values, so doing it twice leaves the same user.
        return EduframeUser.model_validate(
            self.client.request("PATCH", f"/users/{uid}", json=fields, parse=_json, idempotent=True)
        )

    def cancel_enrollment(self, enrollment_id: int | str) -> EduframeEnrollment:
        """``PUT /enrollments/{id}/cancel`` (a PUT: safe to resend). Prefer :meth:`unsubscribe_learner`."""
        eid = _eduframe_id("enrollment_id", enrollment_id)
        return EduframeEnrollment.model_validate(self.client.request("PUT", f"/enrollments/{eid}/cancel", parse=_json))

    def get_program_enrollment(self, program_enrollment_id: int | str) -> EduframeProgramEnrollment:
        """``GET /program/enrollments/{id}``."""
        pid = _eduframe_id("program_enrollment_id", program_enrollment_id)
        return EduframeProgramEnrollment.model_validate(
            self.client.request("GET", f"/program/enrollments/{pid}", parse=_json)
        )

    def cancel_program_enrollment(self, program_enrollment_id: int | str) -> EduframeProgramEnrollment:
        """``PUT /program/enrollments/{id}/cancel`` (a PUT: safe to resend)."""
        pid = _eduframe_id("program_enrollment_id", program_enrollment_id)
        return EduframeProgramEnrollment.model_validate(
            self.client.request("PUT", f"/program/enrollments/{pid}/cancel", parse=_json)
        )

    def delete_program_certificate(self, program_enrollment_id: int | str) -> EduframeProgramEnrollment:
        """``POST /program/enrollments/{id}/delete_certificate``. A POST, so not resent blindly by the client:
        prefer :meth:`revoke_certificate`, which looks before and after an ambiguous failure."""
        pid = _eduframe_id("program_enrollment_id", program_enrollment_id)
        return EduframeProgramEnrollment.model_validate(
            self.client.request("POST", f"/program/enrollments/{pid}/delete_certificate", parse=_json)
        )

    # -- what this run wrote ----------------------------------------------------------------------------------
    def _note_write(self) -> None:
        """Remember that the current bulk item sends a write (no-op outside a bulk run)."""
        recorder = _recorder.get()
        if recorder is not None:
            with self._wrote_lock:
                self._wrote.add(recorder)

    def _item_wrote(self) -> bool:
        """Whether the current bulk item sent a write in an earlier pass of this run."""
        recorder = _recorder.get()
        if recorder is None:
            return False
        with self._wrote_lock:
            return recorder in self._wrote

    def _status(self, created: bool) -> ItemStatus:
        """Done when this call or an earlier pass of the same item in this run wrote; else already done."""
        return ItemStatus.DONE if created or self._item_wrote() else ItemStatus.ALREADY_DONE

    # -- capabilities ----------------------------------------------------------------------------------------
    @staticmethod
    def _learner_changes(user: EduframeUser, learner: LearnerSpec) -> dict[str, str]:
        """The user fields whose value differs from the HR data (surrounding spaces do not count)."""
        changes: dict[str, str] = {}
        for name in _LEARNER_UPDATE_FIELDS:
            wanted = " ".join(getattr(learner, name).split())
            middle = " ".join((user.middle_name or "").split())
            if name == "last_name" and middle and wanted.startswith(f"{middle} "):
                # ASSUMPTION: an HR export writes Dutch family names whole ("de Vries"), Eduframe keeps the
                # particle as the middle name ("de" + "Vries"). The particle is not sent again as part of the
                # last name, or the learner would be shown as "Anna de de Vries".
                wanted = wanted[len(middle) + 1 :]
            if " ".join((getattr(user, name) or "").split()) != wanted:
                changes[name] = wanted
        return changes

    def unsubscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Cancel the learner's enrollment in a planned course (``PUT /enrollments/{id}/cancel``).

        A learner with no enrollment, or only canceled ones, counts as already done; every enrollment that
        is not canceled is canceled (a learner enrolled twice by mistake ends with none).

        :param course_id: the planned course id.
        :param learner_id: the user id.
        :param options: ``target``: ``"planned_course"`` (default) or ``"program_edition"``, in which case
            ``course_id`` is a program edition id and the program enrollment is canceled
            (``PUT /program/enrollments/{id}/cancel``).
        """
        student = _eduframe_id("learner_id", learner_id)
        target_id = _eduframe_id("course_id", course_id)
        result: dict[str, Any] = {"learner_id": str(student)}
        open_ids: list[int]
        seen: list[int]
        if options.get("target", "planned_course") == "program_edition":
            found_pe = list(self.list_program_enrollments(student_id=student, edition_id=target_id))
            seen = [pe.id for pe in found_pe]
            open_ids = [pe.id for pe in found_pe if pe.state != "canceled"]
            cancel: Callable[[int], Any] = self.cancel_program_enrollment
        else:
            found = list(self.list_enrollments(student_id=student, planned_course_id=target_id))
            seen = [e.id for e in found]
            open_ids = [e.id for e in found if e.status != "canceled"]
            cancel = self.cancel_enrollment
        if not open_ids:
            result["enrollment_ids"] = [str(i) for i in seen]
            result["status"] = "canceled" if seen else "not_enrolled"
            return ItemResult(status=self._status(False), result=result)
        for enrollment_id in open_ids:
            self._note_write()
            # A PUT: the client resends it after a lost answer, and canceling twice leaves it canceled.
            cancel(enrollment_id)
        result["enrollment_ids"] = [str(i) for i in open_ids]
        result["status"] = "canceled"
        return ItemResult(result=result)

    def revoke_certificate(self, learner_id: str, program_id: str, **options: Any) -> ItemResult[Any]:
        """Delete the certificate of program edition ``program_id`` from the learner's program enrollment.

        ``POST /program/enrollments/{id}/delete_certificate`` on each of the learner's program enrollments in
        the edition that holds one (canceled ones too: canceling keeps the certificate). A learner with none,
        or not enrolled at all, counts as already done. The POST is not resent blindly: after an ambiguous
        failure the program enrollment is read again, and the certificate is deleted again only if it is
        still there.

        :param learner_id: the user id.
        :param program_id: the program edition id.
        """
        student = _eduframe_id("learner_id", learner_id)
        edition = _eduframe_id("program_id", program_id)
        enrollments = list(self.list_program_enrollments(student_id=student, edition_id=edition))
        held = [pe for pe in enrollments if pe.certified]
        result: dict[str, Any] = {
            "learner_id": str(student),
            "program_enrollment_ids": [str(pe.id) for pe in (held or enrollments)],
        }
        if not held:
            return ItemResult(status=self._status(False), result=result)
        for pe in held:

            def gone(pe_id: int = pe.id) -> EduframeProgramEnrollment | None:
                again = self.get_program_enrollment(pe_id)
                return None if again.certified else again

            def delete(pe_id: int = pe.id) -> EduframeProgramEnrollment:
                self._note_write()
                return self.delete_program_certificate(pe_id)

            create_once(gone, delete, already_looked=True)
        return ItemResult(result=result)
