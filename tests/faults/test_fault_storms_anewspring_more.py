"""Fault storms for aNewSpring's newer bulk runs: ensure learners, add and remove group members, and the
roster-reading subscribe, unsubscribe and update over many learners.

The machinery is ``test_fault_storms.py``'s (``Storm``, ``run_storm``): 30 % of the requests to the aNewSpring
double fail (429, 5xx, timeouts, dropped connections, truncated and non-JSON bodies); afterwards every item
the summary calls done must be done exactly once in the sandbox's own state, every failure must name an
injected fault, and a re-run with the faults off must redo only what failed. Each storm here is put into
``STORMS`` for its own test only (``monkeypatch.setitem``), so the other module's list is left as it is.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_lms.operators import (
    LmsEnsureLearnersOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)
from airflow_provider_lms.operators.anewspring import (
    AnewspringAddGroupMembersOperator,
    AnewspringRemoveGroupMembersOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from tests.faults.conftest import FIGURES, control
from tests.faults.test_fault_storms import (
    STORMS,
    Storm,
    _ans_subscribe_count,
    _ans_subscribe_setup,
    _ans_unsubscribe_count,
    _ans_unsubscribe_setup,
    _ans_update_count,
    _ans_update_setup,
    _ans_users,
    _op,
    run_storm,
)


def _ans_state(sandbox: SandboxServer) -> dict[str, Any]:
    return control(sandbox, "GET", "/anewspring/state").json()


# -- ensure learners -----------------------------------------------------------------------------------------------


def _ensure_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    learners = [
        {
            "email": f"storm{i}@sandbox.example",
            "first_name": "Storm",
            "last_name": f"Test {i}",
            "external_id": f"S-{i:04d}",
        }
        for i in range(n)
    ]
    # A quarter exist already with other data: their item is an update, not a create.
    control(
        sandbox,
        "POST",
        "/anewspring/users",
        json={"users": [{"id": spec["external_id"], "email": "old@sandbox.example"} for spec in learners[: n // 4]]},
    )
    return {"learners": learners}, [spec["email"] for spec in learners]


def _ensure_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    """Per e-mail: how many users hold it with the learner role and the storm's names (a done item is 1)."""
    records = _ans_state(sandbox)["user_records"]
    FIGURES["absolute writes re-sent after a lost answer (no change)"] += sum(
        max(0, r["writes"] - 1) for r in records if r["created_by_api"]
    )
    per: dict[str, int] = dict.fromkeys(items, 0)
    for r in records:
        email = r["fields"].get("email")
        if email in per and "student" in r["roles"] and r["fields"].get("firstName") == "Storm":
            per[email] += 1
    return per


# -- group membership ----------------------------------------------------------------------------------------------

GROUP = "STORM-GROUP"


def _add_members_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    users = _ans_users(sandbox, n, "member")
    # Some are members already: their item is already done.
    control(sandbox, "POST", "/anewspring/groups", json={"id": GROUP, "members": users[: n // 4]})
    return {"group_id": GROUP, "user_ids": users}, users


def _membership_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    members = _ans_state(sandbox)["groups"][GROUP]
    return {u: members.count(u) for u in items}


def _remove_members_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    users = _ans_users(sandbox, n, "leaver")
    stay = _ans_users(sandbox, 3, "stayer")
    control(sandbox, "POST", "/anewspring/groups", json={"id": GROUP, "members": users[n // 4 :] + stay})
    return {"group_id": GROUP, "user_ids": users}, users


def _removed_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    members = _ans_state(sandbox)["groups"][GROUP]
    assert all(m in members for m in ("stayer-0000", "stayer-0001", "stayer-0002")), "a member who stays was removed"
    return {u: int(u not in members) for u in items}


# -- the roster-reading runs over more learners than the generic storms use -------------------------------------------

STORMS_MORE: dict[str, Storm] = {
    "anewspring-ensure": Storm("anewspring", _ensure_setup, _op(LmsEnsureLearnersOperator), _ensure_count),
    "anewspring-add-group-members": Storm(
        "anewspring", _add_members_setup, _op(AnewspringAddGroupMembersOperator), _membership_count
    ),
    "anewspring-remove-group-members": Storm(
        "anewspring", _remove_members_setup, _op(AnewspringRemoveGroupMembersOperator), _removed_count
    ),
    "anewspring-subscribe-roster": Storm(
        "anewspring", _ans_subscribe_setup, _op(LmsSubscribeOperator), _ans_subscribe_count
    ),
    "anewspring-unsubscribe-roster": Storm(
        "anewspring", _ans_unsubscribe_setup, _op(LmsUnsubscribeOperator), _ans_unsubscribe_count
    ),
    "anewspring-update-roster": Storm(
        "anewspring", _ans_update_setup, _op(LmsUpdateSubscriptionOperator), _ans_update_count
    ),
}
#: Items per storm: the roster runs use more learners, so the shared roster read is hit by faults too.
SIZES = {"anewspring-subscribe-roster": 80, "anewspring-unsubscribe-roster": 80, "anewspring-update-roster": 80}


@pytest.mark.parametrize("name", list(STORMS_MORE))
def test_each_new_anewspring_bulk_run_does_each_item_exactly_once_under_30_percent_faults(
    name: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORMS, name, STORMS_MORE[name])
    run_storm(name, sandbox, monkeypatch, rate=0.3, n=SIZES.get(name, 24), seed=11)


@pytest.mark.soak
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("name", list(STORMS_MORE))
def test_soak_each_new_anewspring_bulk_run_at_every_rate(
    name: str, rate: float, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STORMS, name, STORMS_MORE[name])
    run_storm(name, sandbox, monkeypatch, rate=rate, n=120, seed=int(rate * 100) + 5)
