"""Fault storms for the generic ``LmsUpdateMemberStatusesOperator`` on Lära, with the storm machinery of
``test_fault_storms.py`` (imported, not copied): under 30 % faults of every kind each member's status is
changed exactly once, every failure names its fault, and the retry redoes only what was not done.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_lms.operators.members import LmsUpdateMemberStatusesOperator
from airflow_provider_lms.sandbox import SandboxServer
from tests.faults.test_fault_storms import STORMS, Storm, _lara_members, _op, run_storm


def _change_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    ids = [m["userId"] for m in _lara_members(sandbox)][:n]
    rows = [{"member_id": i, "status": "Retraité", "is_active_member": False} for i in ids]
    return {"statuses": rows}, ids


def _change_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    # A doubled change (changecurrentmemberstatus is not idempotent) would open a second "Retraité" range.
    per = {m["userId"]: sum(1 for s in m["statuses"] if s["status"] == "Retraité") for m in _lara_members(sandbox)}
    return {i: per.get(i, 0) for i in items}


def _replace_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    ids = [m["userId"] for m in _lara_members(sandbox)][:n]
    rows = [{"member_id": i, "status": "Membre", "is_active_member": True, "start_date": "2021-01-01"} for i in ids]
    return {"statuses": rows, "platform_options": {"mode": "replace"}}, ids


def _replace_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    # Done once: the member's list is exactly the one range (an absolute write; a resend leaves the same list).
    per = {
        m["userId"]: int([(s["status"], s["startDate"][:10]) for s in m["statuses"]] == [("Membre", "2021-01-01")])
        for m in _lara_members(sandbox)
    }
    return {i: per.get(i, 0) for i in items}


MORE: dict[str, Storm] = {
    "lara-generic-change-current": Storm("lara", _change_setup, _op(LmsUpdateMemberStatusesOperator), _change_count),
    "lara-generic-replace": Storm("lara", _replace_setup, _op(LmsUpdateMemberStatusesOperator), _replace_count),
}


@pytest.mark.parametrize("name", list(MORE))
def test_the_generic_member_status_operator_does_each_member_exactly_once_under_30_percent_faults(
    name: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run_storm looks the storm up by name; added for this test only.
    monkeypatch.setitem(STORMS, name, MORE[name])
    run_storm(name, sandbox, monkeypatch, rate=0.3, n=6, seed=11)


@pytest.mark.soak
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("name", list(MORE))
def test_soak_the_generic_member_status_operator_at_every_rate(
    name: str, rate: float, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORMS, name, MORE[name])
    run_storm(name, sandbox, monkeypatch, rate=rate, n=6, seed=int(rate * 100) + 5)
