"""The demo data every reset brings back (see the package docstring's table), as data and one fill function."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pendulum

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pynter.state import PynterState

__all__ = ["PYNTER_SANDBOX_PASSWORD", "PYNTER_SANDBOX_USERNAME", "PynterSeed", "seed_state"]

PYNTER_SANDBOX_USERNAME = "sandbox-pynter-user"
PYNTER_SANDBOX_PASSWORD = "sandbox-pynter-pass"  # noqa: S105 - a sandbox credential, public on purpose


class PynterSeed:
    """The seed tables; times are offsets before the reset moment (``pendulum`` ``subtract`` arguments)."""

    MODULES: tuple[dict[str, Any], ...] = (
        {"Id": 1, "Code": "BHV", "Name": "Bedrijfshulpverlening", "ValidityMonths": 12, "Mandatory": True},
        {"Id": 2, "Code": "VCA", "Name": "VCA Basisveiligheid", "ValidityMonths": 120, "Mandatory": True},
        {"Id": 3, "Code": "AVG", "Name": "Privacy en AVG (e-learning)", "ValidityMonths": None, "Mandatory": False},
    )
    #: (external id, first name, insertion, family name); person ids are 1, 2, ... in this order.
    PEOPLE: tuple[tuple[str, str, str | None, str], ...] = (
        ("E1001", "Anna", "de", "Vries"),
        ("E1002", "Farah", None, "El Amrani"),
        ("E1003", "Gijs", None, "Mulder"),
        ("E1004", "Sanne", None, "Bakker"),
    )
    #: Fields beyond the name some persons have: a merge must keep them (UpdatePerson replaces the record).
    PERSON_DETAILS: dict[str, dict[str, Any]] = {
        "E1002": {
            "AccountLevel": "MANAGER", "IsManager": True, "FunctionName": "Teamleider verpleging",
            "DivisionName": "Zorg Utrecht", "CostCentre": "KP-410", "PhoneNumber": "+31 30 123 4567",
            "ContractStartTime": datetime(2019, 9, 1),
        },
    }  # fmt: skip
    #: (external id, module id, how long ago it was finished); result ids follow this order.
    RESULTS: tuple[tuple[str, int, dict[str, int]], ...] = (
        ("E1001", 1, {"months": 26}), ("E1001", 1, {"months": 14}), ("E1001", 2, {"years": 2}),
        ("E1002", 1, {"months": 3}), ("E1002", 2, {"years": 5}),
        ("E1003", 1, {"months": 13}), ("E1003", 2, {"years": 11}),
        ("E1004", 1, {"months": 1}),
    )  # fmt: skip
    CLASS_ID = 1
    #: E-ticket hash -> the person it is for (class 1, not attended).
    ETICKETS: tuple[tuple[str, str], ...] = (("ET-7F3A-0001", "E1002"), ("ET-7F3A-0002", "E1004"))


def seed_state(state: PynterState) -> None:
    """Fill ``state`` with the demo data, dated relative to its clock."""
    now = state.now()

    def ago(**offset: int) -> datetime:
        return pendulum.instance(now).subtract(**offset).naive()

    state.modules = {m["Id"]: dict(m) for m in PynterSeed.MODULES}
    state.persons = {}
    for pid, (ext, first, insertion, family) in enumerate(PynterSeed.PEOPLE, start=1):
        state.persons[ext] = {
            "Id": pid, "ExternalIdentifier": ext, "FirstName": first, "Insertion": insertion,
            "FamilyName": family, "Email": f"{first.lower()}.{family.lower().replace(' ', '')}@sandbox.example",
            "AccountLevel": "USER", "Blocked": False, **PynterSeed.PERSON_DETAILS.get(ext, {}),
        }  # fmt: skip
    state.results = []
    for ext, module, offset in PynterSeed.RESULTS:
        state.add_result(ext, module, ago(**offset))
    state.started = [{"ExternalId": "E1003", "ModuleId": 3, "StartDate": ago(days=10), "Progress": 40}]
    state.overview = [{"ExternalId": "E1004", "ModuleId": 3, "Progress": 0}]
    state.classes = {
        PynterSeed.CLASS_ID: {
            "Id": PynterSeed.CLASS_ID, "ModuleId": 1, "Name": "BHV herhaling voorjaar", "StartDate": ago(days=-30),
            "EndDate": ago(days=-30), "Location": "Utrecht", "MaxParticipants": 12,
        }
    }  # fmt: skip
    state.etickets = {
        h: {"Hash": h, "ExternalId": ext, "ClassId": 1, "ModuleId": 1, "Date": ago(days=-30), "Attended": False}
        for h, ext in PynterSeed.ETICKETS
    }
    state.certificates = {"E1001": [{"Id": 1, "Name": "EHBO-diploma", "IssueDate": ago(years=1),
                                     "ExpirationDate": ago(years=-1)}]}  # fmt: skip
    state.trainings = {"E1002": [{"Id": 1, "Name": "HBO Verpleegkunde", "Institution": "Hogeschool Utrecht",
                                  "Date": ago(years=8), "ExpirationDate": None}]}  # fmt: skip
