"""Eduframe: one enrollment per learner and course, even when two attempts order at the same moment.

:class:`EduframeConvergeMixin` is one of :class:`~airflow_provider_lms.hooks.eduframe.EduframeHook`'s bases.

Eduframe enrolls by ordering (``POST /orders``), an order does not check for an existing enrollment, and the
API has no idempotency key (OpenAPI document; FACTS.md: "look before ordering, or you enroll twice"). Looking
first is not enough when two attempts overlap: Airflow itself produces that (a Celery worker whose main
process dies leaves its task processes running while the scheduler retries the task elsewhere), both look,
both see nothing, both order, and the learner is enrolled twice.

So subscribe converges after the fact. After its own order, and on every look, it reads all the learner's
enrollments in the planned course (program enrollments in the edition), keeps the oldest one that is not
canceled (lowest id) and cancels the others (``PUT /enrollments/{id}/cancel``, the call unsubscribe uses).

Why two racing attempts end with exactly one enrollment: an attempt reads back only after its own order was
answered, so its read sees its own enrollment; every enrollment ``e`` other than the lowest id ``m`` is then
canceled, because either ``e``'s creator read after ``m`` existed (and ``e`` is not the lowest), or ``m`` was
created after that read, and ``m``'s creator reads after ``e`` existed and cancels it. The rule is the same
pure function of the same records in every process, so no two attempts keep different enrollments.

ASSUMPTION: Eduframe's ids grow with creation (the document only says "unique identifier"). The state above
converges without it; with it, the lowest id is also the first enrollment made, every read-back sees it, and
exactly one of the racing attempts reports ``done`` (the other ``already_done``, naming the duplicate it
canceled). What converging cannot undo: a process killed between its order and its read-back, whose order
landed after the other attempt's read-back, leaves a second enrollment until the next subscribe of that
learner in that course looks (the look converges too).

With a shared store (the connection's ``shared_limit_url``, Redis) an attempt first claims the learner in the
course (``SET NX`` with an expiry, per credential, course and learner), so an overlapping attempt waits for the
claim instead of ordering at the same moment: no duplicate order is made at all, and with it none of what an
order may set off in Eduframe (an invoice, a confirmation mail) that canceling the enrollment does not undo.
The claim only narrows the window; converging stays what makes "never twice" hold (a claim expires, a store can
fail, and then the attempt goes on without one).

The sandbox agrees with the document here: its orders never check for an existing enrollment, lists include
canceled enrollments by default (``with_canceled=true``), and canceling twice is harmless.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.hooks.eduframe_withdrawal import EduframeWithdrawalMixin
from airflow_provider_lms.http.errors import LmsValidationError
from airflow_provider_lms.models.eduframe import EduframeEnrollment, EduframeProgramEnrollment
from airflow_provider_lms.models.results import ItemResult, ItemStatus

if TYPE_CHECKING:
    from airflow_provider_lms.models.connection import ApiKeyConnection

__all__ = ["CLAIM_TTL_S", "Converged", "EduframeConvergeMixin"]

logger = logging.getLogger(__name__)

Record = EduframeEnrollment | EduframeProgramEnrollment

#: Every claim key starts with this, so an operator can find them in the shared store.
CLAIM_PREFIX = "lms:claim:"
#: How long a claim lives. ASSUMPTION: a look, an order and a read-back take well under a minute, retries
#: included; an attempt that takes longer only loses the claim, not the guarantee (converging still holds).
#: It is also the longest an attempt waits for the claim of one that died holding it.
CLAIM_TTL_S = 60.0
_CLAIM_POLL_S = 0.05
#: Release only our own claim: one that expired and was taken by another attempt is theirs.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclass(frozen=True)
class Converged:
    """The learner's one enrollment after converging, and what converging did.

    :param kept: the enrollment kept (the oldest not canceled).
    :param canceled: ids of the duplicates this call canceled.
    :param ours: whether ``kept`` came from the order this call placed; None when no order id is known
        (only looked, or the order's answer was lost).
    """

    kept: Record
    canceled: tuple[int, ...] = ()
    ours: bool | None = None


def _is_canceled(record: Record) -> bool:
    return (record.status if isinstance(record, EduframeEnrollment) else record.state) == "canceled"


def _order_id(record: Record) -> int | None:
    # A program enrollment's order_id is in the document but not on the model: it comes in as an extra field.
    value = getattr(record, "order_id", None)
    return value if isinstance(value, int) else None


class EduframeConvergeMixin(EduframeWithdrawalMixin):
    """Converge a learner's enrollments in one course on the oldest; mixed into ``EduframeHook``."""

    if TYPE_CHECKING:

        def get_enrollment(self, enrollment_id: int | str) -> EduframeEnrollment: ...

        # The hook's EduframeConnection (an ApiKeyConnection); Any here, as LmsHook types it by its parameter.
        @property
        def connection_config(self) -> Any: ...

    # -- the claim (only with a shared store) ------------------------------------------------------------
    def _claim_key(self, variantable_type: str, target_id: int, student: int) -> str:
        # Per credential, not per conn id: two connections with one key reach one tenant and must share a claim.
        # The key is hashed (and cut short), so the store never holds it.
        config: ApiKeyConnection = self.connection_config
        seed = f"{self.client.settings.base_url}\0{config.api_key}".encode()
        tag = hashlib.sha256(seed).hexdigest()[:16]
        return f"{CLAIM_PREFIX}eduframe:{tag}:{variantable_type}:{target_id}:{student}"

    @contextmanager
    def _claimed(self, variantable_type: str, target_id: int, student: int) -> Iterator[None]:
        """Hold the claim on the learner in the course while ordering (no-op without a shared store)."""
        store = self.client.shared_store
        if store is None:
            yield
            return
        key, token = self._claim_key(variantable_type, target_id, student), uuid.uuid4().hex
        held = _take_claim(store.redis, key, token, store.where)
        try:
            yield
        finally:
            if held:
                _release_claim(store.redis, key, token, store.where)

    def _records(self, variantable_type: str, target_id: int, student: int) -> Iterator[Record]:
        if variantable_type == "program_edition":
            yield from self.list_program_enrollments(student_id=student, edition_id=target_id)
        else:
            yield from self.list_enrollments(student_id=student, planned_course_id=target_id)

    def _cancel_duplicate(self, variantable_type: str, record_id: int) -> None:
        cancel: Callable[[int], Record]
        read: Callable[[int], Record]
        if variantable_type == "program_edition":
            cancel, read = self.cancel_program_enrollment, self.get_program_enrollment
        else:
            cancel, read = self.cancel_enrollment, self.get_enrollment
        self._note_write()
        try:
            # A PUT: the client resends it after a lost answer, and canceling twice leaves it canceled.
            cancel(record_id)
        except LmsValidationError:
            # ASSUMPTION: a tenant may refuse to cancel what the racing attempt has just canceled (the sandbox
            # answers 200). Canceled is what we wanted; anything else (a completed duplicate) is the error.
            if not _is_canceled(read(record_id)):
                raise

    def _converge(
        self, variantable_type: str, target_id: int, student: int, *, order_id: int | None = None
    ) -> Converged | None:
        """Keep the learner's oldest live enrollment in the course, cancel the others; None when there is none.

        :param order_id: the order this call has just placed, to tell whether the kept enrollment is its own.
        """
        live = sorted(
            (r for r in self._records(variantable_type, target_id, student) if not _is_canceled(r)),
            key=lambda r: r.id,
        )
        if not live:
            return None
        kept, duplicates = live[0], live[1:]
        for record in duplicates:
            self._cancel_duplicate(variantable_type, record.id)
        # Unknown (no order placed, or the kept record names no order) is not "someone else's".
        kept_order = _order_id(kept)
        ours = None if order_id is None or kept_order is None else kept_order == order_id
        return Converged(kept=kept, canceled=tuple(r.id for r in duplicates), ours=ours)

    def _converged_result(self, outcome: Converged, created: bool, student: int) -> ItemResult[Any]:
        """The item's outcome: ``done`` only when the enrollment kept is this attempt's (or, unknown, its run's)."""
        kept = outcome.kept
        status = kept.status if isinstance(kept, EduframeEnrollment) else kept.state
        result: dict[str, Any] = {"enrollment_id": str(kept.id), "learner_id": str(student), "status": status}
        if outcome.canceled:
            result["canceled_duplicates"] = _ids(outcome.canceled)
        if outcome.ours is False:
            # This attempt ordered, but an overlapping one had enrolled the learner first: ours was the duplicate.
            result["note"] = (
                f"a concurrent attempt enrolled this learner first (enrollment {kept.id}); "
                f"this attempt's duplicate was canceled"
            )
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        if outcome.canceled:
            result["note"] = "duplicate enrollments (an overlapping attempt's order) were canceled; the oldest is kept"
        # An earlier pass of this item may have placed the order and then lost the read-back: still ours.
        return ItemResult(status=self._status(created), result=result)


def _ids(ids: Iterable[int]) -> list[str]:
    return [str(i) for i in ids]


def _take_claim(redis: Any, key: str, token: str, where: str) -> bool:
    """Take the claim, waiting while another attempt holds it; False: go on without one (it expired or failed)."""
    import redis as redis_module

    deadline = time.monotonic() + CLAIM_TTL_S
    try:
        while not redis.set(key, token, nx=True, px=int(CLAIM_TTL_S * 1000)):
            # Another attempt is ordering for this learner now: once it is done, our look finds its enrollment.
            if time.monotonic() > deadline:
                return False
            time.sleep(_CLAIM_POLL_S)
    except redis_module.RedisError as exc:
        # The claim only narrows the window; converging after the order still keeps the learner enrolled once.
        logger.warning("the shared store %s failed (%s); ordering without a claim", where, type(exc).__name__)
        return False
    return True


def _release_claim(redis: Any, key: str, token: str, where: str) -> None:
    import redis as redis_module

    try:
        redis.eval(_RELEASE, 1, key, token)
    except redis_module.RedisError as exc:
        # Left to expire: the next attempt waits at most CLAIM_TTL_S, then looks and finds the enrollment.
        logger.warning("the shared store %s failed (%s); the claim expires by itself", where, type(exc).__name__)
