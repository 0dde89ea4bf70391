"""Pynter's person lifecycle under 30 % faults: every learner created or updated exactly once.

The machinery is ``test_fault_storms.py``'s (:func:`run_storm`: faults of every kind, every outcome
checked in the sandbox's own state, then a re-run with the faults off that redoes only what failed); this
file adds the Pynter storms to its table. Writes on Pynter are never resent blindly: after a lost answer
the hook reads the person again (``GetPersonByExternalId``) and counts the write as made once the record
shows it. "Done once" is the sandbox's count of CreatePerson / UpdatePerson calls it carried out for the
person, a no-change one included: a write resent blindly after a lost answer counts two even when it
changed nothing (and a doubled create is refused by the sandbox, failing the item).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.operators.pynter import PynterBlockPersonsOperator
from airflow_provider_lms.sandbox import SandboxServer
from tests.faults.test_fault_storms import STORMS, Storm, _op, _pynter_state, run_storm


def _ext(i: int) -> str:
    return f"S{i:04d}"


def _desired(i: int) -> dict[str, Any]:
    return {"FirstName": "Storm", "FamilyName": f"Test{i}", "Email": f"storm{i:04d}@sandbox.example"}


def _seed_person(sandbox: SandboxServer, i: int, **fields: Any) -> None:
    """A person already in Pynter, put straight into the in-process state (faults off)."""
    persons = sandbox.state.pynter.persons
    new_id = max((p["Id"] for p in persons.values()), default=0) + 1
    persons[_ext(i)] = {
        "Id": new_id, "ExternalIdentifier": _ext(i), "FirstName": "Old", "Insertion": None, "FamilyName": "Name",
        "Email": f"old{i:04d}@sandbox.example", "AccountLevel": "TRAINER", "FunctionName": "Docent",
        "Blocked": False, **fields,
    }  # fmt: skip


def _ensure_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    # Every other learner exists with other data (an update); the rest are new (a create).
    for i in range(0, n, 2):
        _seed_person(sandbox, i)
    learners = [
        {"external_id": _ext(i), "email": _desired(i)["Email"], "first_name": "Storm", "last_name": f"Test{i}"}
        for i in range(n)
    ]
    # The operator's item key is the e-mail address.
    return {"learners": learners}, [row["email"] for row in learners]


def _ensure_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    state = _pynter_state(sandbox)
    persons = {p["ExternalIdentifier"]: p for p in state["persons"]}
    writes = state["person_writes"]
    counts = {}
    for email in items:
        i = int(email.removeprefix("storm").split("@")[0])
        person = persons.get(_ext(i))
        matches = person is not None and all(person.get(k) == v for k, v in _desired(i).items())
        if matches and i % 2 == 0:
            # An update must keep what the HR row does not carry (UpdatePerson replaces the whole record).
            assert (person["AccountLevel"], person["FunctionName"]) == ("TRAINER", "Docent"), person  # type: ignore[index]
        counts[email] = writes.get(_ext(i), 0) if matches else 0
    return counts


def _block_setup(sandbox: SandboxServer, n: int) -> tuple[dict[str, Any], list[str]]:
    for i in range(n):
        _seed_person(sandbox, i)
    return {"external_ids": [_ext(i) for i in range(n)], "blocked": True}, [_ext(i) for i in range(n)]


def _block_count(sandbox: SandboxServer, items: list[str]) -> dict[str, int]:
    state = _pynter_state(sandbox)
    persons = {p["ExternalIdentifier"]: p for p in state["persons"]}
    counts = {}
    for ext in items:
        person = persons[ext]
        blocked_and_kept = person["Blocked"] is True and person["AccountLevel"] == "TRAINER"
        counts[ext] = state["person_writes"].get(ext, 0) if blocked_and_kept else 0
    return counts


PYNTER_STORMS: dict[str, Storm] = {
    "pynter-ensure-learners": Storm("pynter", _ensure_setup, _op(LmsEnsureLearnersOperator), _ensure_count),
    "pynter-block-persons": Storm("pynter", _block_setup, _op(PynterBlockPersonsOperator), _block_count),
}


@pytest.fixture
def pynter_storms(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_storm finds a storm by name in the shared table; ours join it for this test only.
    for name, storm in PYNTER_STORMS.items():
        monkeypatch.setitem(STORMS, name, storm)


@pytest.mark.usefixtures("pynter_storms")
@pytest.mark.parametrize("name", list(PYNTER_STORMS))
def test_pynter_person_writes_happen_exactly_once_under_30_percent_faults(
    name: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_storm(name, sandbox, monkeypatch, rate=0.3, n=24, seed=11)


@pytest.mark.soak
@pytest.mark.usefixtures("pynter_storms")
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("name", list(PYNTER_STORMS))
def test_soak_pynter_person_writes_at_every_rate(
    name: str, rate: float, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_storm(name, sandbox, monkeypatch, rate=rate, n=120, seed=int(rate * 100) + 5)
