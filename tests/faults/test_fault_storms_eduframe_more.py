"""Fault storms for Eduframe's withdrawal and HR-sync cells: unsubscribe, revoke certificate, ensure with updates.

The machinery is ``test_fault_storms.py``'s (:func:`run_storm`): set up the data with faults off, run the
operator at 30 % faults of every kind, check in the sandbox state that every item the summary calls done
is done exactly once and every failed item names an injected fault, then re-run with faults off and check
that only the failed items are redone. Here each storm counts what the platform really did, from the
sandbox's own records: ``times_canceled`` of an enrollment, ``certificates_deleted`` of a program
enrollment, the user's stored name (and ``times_updated``: a PATCH resent after a lost answer changes nothing
and is reported, not failed on).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsRevokeCertificateOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from tests.faults.conftest import FIGURES, ctx
from tests.faults.test_fault_storms import STORMS, Storm, _edu_conn_id, _edu_learners, _op, run_storm

COURSE = 1
EDITION = 1


def _unsubscribe_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    learners = _edu_learners(sandbox, n, "unsub")
    LmsSubscribeOperator(task_id="pre", lms_conn_id=_edu_conn_id, course_id=COURSE, learner_ids=learners).execute(ctx())
    return {"course_id": COURSE, "learner_ids": learners}, learners


def _unsubscribe_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    # Done once: the learner's one enrollment is canceled, by exactly one change (nothing re-created).
    per: dict[str, list[Any]] = {}
    for e in sandbox.state.eduframe.enrollments.values():
        if e.planned_course_id == COURSE:
            per.setdefault(str(e.student_id), []).append(e)
    counts = {}
    for learner in items:
        enrollments = per.get(learner, [])
        if len(enrollments) != 1:
            counts[learner] = 2 if enrollments else 0
        else:
            counts[learner] = enrollments[0].times_canceled if enrollments[0].status == "canceled" else 0
    return counts


def _revoke_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    learners = _edu_learners(sandbox, n, "revoke")
    LmsSubscribeOperator(
        task_id="pre",
        lms_conn_id=_edu_conn_id,
        course_id=EDITION,
        learner_ids=learners,
        platform_options={"target": "program_edition"},
    ).execute(ctx())
    LmsAwardCertificateOperator(
        task_id="pre", lms_conn_id=_edu_conn_id, program_id=EDITION, learner_ids=learners, certificate_template_id=1
    ).execute(ctx())
    return {"program_id": EDITION, "learner_ids": learners}, learners


def _revoke_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    # The sandbox counts each certificate it removed; a second delete of the same certificate would be a 422.
    per: Counter[str] = Counter()
    for pe in sandbox.state.eduframe.program_enrollments.values():
        if pe.edition_id == EDITION and not pe.certificate_awarded:
            per[str(pe.student_id)] += pe.certificates_deleted
    return {i: per[i] for i in items}


def _update_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    _edu_learners(sandbox, n, "upd")  # users "S <i>", made through the hook with faults off
    learners = [{"email": f"upd{i}@sandbox.example", "first_name": "S", "last_name": f"Renamed {i}"} for i in range(n)]
    return {"learners": learners, "platform_options": {"update_existing": True}}, [x["email"] for x in learners]


def _update_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    users: dict[str, list[Any]] = {}
    for u in sandbox.state.eduframe.users.values():
        users.setdefault(u.email, []).append(u)
    counts = {}
    for email in items:
        found = users.get(email, [])
        if len(found) != 1:
            counts[email] = 2 if found else 0
            continue
        user = found[0]
        wanted = f"Renamed {email.removeprefix('upd').split('@')[0]}"
        counts[email] = int(user.last_name == wanted)
        FIGURES["absolute writes re-sent after a lost answer (no change)"] += max(0, user.times_updated - 1)
    return counts


MORE_STORMS: dict[str, Storm] = {
    "eduframe-unsubscribe": Storm("eduframe", _unsubscribe_setup, _op(LmsUnsubscribeOperator), _unsubscribe_count),
    "eduframe-revoke": Storm("eduframe", _revoke_setup, _op(LmsRevokeCertificateOperator), _revoke_count),
    "eduframe-ensure-update": Storm("eduframe", _update_setup, _op(LmsEnsureLearnersOperator), _update_count),
}


@pytest.mark.parametrize("name", list(MORE_STORMS))
def test_each_eduframe_withdrawal_and_update_item_is_done_once_under_30_percent_faults(
    name: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORMS, name, MORE_STORMS[name])
    run_storm(name, sandbox, monkeypatch, rate=0.3, n=24, seed=11)


@pytest.mark.soak
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("name", list(MORE_STORMS))
def test_soak_eduframe_withdrawal_and_update_at_every_rate(
    name: str, rate: float, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORMS, name, MORE_STORMS[name])
    run_storm(name, sandbox, monkeypatch, rate=rate, n=120, seed=int(rate * 100) + 5)
