"""The generic ``LmsUpdateMemberStatusesOperator`` over real HTTP against the sandbox.

On Lära the statuses really change, a re-run changes nothing (checked in the sandbox's state), bad rows are
refused before any request; every other platform refuses the operator before any request.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsInputError
from airflow_provider_lms.operators import LmsUpdateMemberStatusesOperator
from airflow_provider_lms.operators.lara import LaraChangeCurrentMemberStatusOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.lara import LaraSeed
from airflow_provider_lms.testing import sandbox_connection_env
from tests.task_context import ctx

S = LaraSeed
CONN = "lara_members_live"


@pytest.fixture
def sandbox_conns(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """Every platform's sandbox connection (``<platform>_default``) plus ``lara_members_live``."""
    for name, value in sandbox_connection_env(sandbox.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", sandbox_connection_env(sandbox.url)["AIRFLOW_CONN_LARA_DEFAULT"])
    return sandbox


def members(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    return {m["userId"]: m for m in httpx.get(f"{sandbox.control_url}/lara/state").json()["members"]}


def requests_to(sandbox: SandboxServer, prefix: str) -> list[dict[str, Any]]:
    return [r for r in httpx.get(f"{sandbox.control_url}/requests").json() if r["path"].startswith(prefix)]


def op(statuses: Any, conn: str = CONN, **kwargs: Any) -> LmsUpdateMemberStatusesOperator:
    return LmsUpdateMemberStatusesOperator(task_id="statuses", lms_conn_id=conn, statuses=statuses, **kwargs)


def test_statuses_change_and_a_rerun_changes_nothing(sandbox_conns: SandboxServer):
    rows = [
        {"member_id": S.MEMBER_IDS[3], "status": "Suspendu", "is_active_member": False, "start_date": "2026-11-22"},
        {"member_id": S.MEMBER_IDS[4], "status": "Retraité", "isActiveMember": False},
    ]
    first = op(rows).execute(ctx())
    json.dumps(first)  # the summary is the task's XCom return value
    assert (first["total"], first["done"], first["already_done"], first["failed"]) == (2, 2, 0, 0)
    after = members(sandbox_conns)
    suspended, retired = after[S.MEMBER_IDS[3]], after[S.MEMBER_IDS[4]]
    assert (suspended["currentStatus"], suspended["isActiveMember"]) == ("Suspendu", False)
    assert (retired["currentStatus"], retired["isActiveMember"]) == ("Retraité", False)
    # The history stays: the "Membre" range is closed where the new one starts, not removed.
    membre = next(s for s in suspended["statuses"] if s["status"] == "Membre")
    assert membre["endDate"] == "2026-11-22T00:00:00"
    assert {i["key"]: i["result"]["current_status"] for i in first["items"]} == {
        S.MEMBER_IDS[3]: "Suspendu",
        S.MEMBER_IDS[4]: "Retraité",
    }
    untouched = [m for uid, m in after.items() if uid not in (S.MEMBER_IDS[3], S.MEMBER_IDS[4])]
    assert all(m["currentStatus"] == "Membre" and len(m["statuses"]) >= 1 for m in untouched)

    writes_before = len(requests_to(sandbox_conns, "/lara/lmsapi/cycle/changecurrentmemberstatus"))
    again = op(rows).execute(ctx())
    assert (again["done"], again["already_done"], again["failed"]) == (0, 2, 0)
    assert members(sandbox_conns) == after  # not one entry more, none changed
    assert len(requests_to(sandbox_conns, "/lara/lmsapi/cycle/changecurrentmemberstatus")) == writes_before


def test_replace_mode_leaves_one_range_and_members_can_be_named_by_a_custom_field(sandbox_conns: SandboxServer):
    rows = [
        {"member_id": S.LICENSE_NUMBERS[0], "status": "Membre", "is_active_member": True, "start_date": "2021-01-01"},
        {"member_id": int(S.LICENSE_NUMBERS[1]), "status": "Membre", "start_date": "2021-01-01T00:00:00"},
    ]
    options = {"mode": "replace", "member_field": S.CUSTOM_FIELD}
    first = op(rows, platform_options=options).execute(ctx())
    assert (first["done"], first["failed"]) == (2, 0)
    assert [i["key"] for i in first["items"]] == list(S.LICENSE_NUMBERS[:2])
    after = members(sandbox_conns)
    for uid in S.MEMBER_IDS[:2]:
        assert [(s["status"], s["startDate"], s["endDate"]) for s in after[uid]["statuses"]] == [
            ("Membre", "2021-01-01T00:00:00", None)
        ]
    again = op(rows, platform_options=options).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 2)
    assert members(sandbox_conns) == after


def test_equal_rows_for_one_member_are_merged_and_the_lara_operator_agrees(sandbox_conns: SandboxServer):
    row = {"member_id": S.MEMBER_IDS[5], "status": "Restreint", "is_active_member": False}
    result = op([row, dict(row)]).execute(ctx())
    assert (result["total"], result["done"], result["merged"]) == (1, 1, {"statuses[1]": "statuses[0]"})
    # The Lära operator for the same change sees it done: both look at the same running range.
    lara = LaraChangeCurrentMemberStatusOperator(
        task_id="lara",
        lms_conn_id=CONN,
        members=[S.MEMBER_IDS[5]],
        status={"status": "restreint", "isActiveMember": False},
    ).execute(ctx())
    assert lara["already_done"] == 1


BAD_ROWS: dict[str, tuple[Any, str]] = {
    "not-a-list": ({"member_id": "a", "status": "X"}, "statuses"),
    "empty": ([], "statuses"),
    "no-member": ([{"status": "X"}], "statuses[0].member_id"),
    "no-status": ([{"member_id": "a"}], "statuses[0].status"),
    "blank-status": ([{"member_id": "a", "status": "  "}], "statuses[0].status"),
    "status-number": ([{"member_id": "a", "status": 3}], "statuses[0].status"),
    "status-too-long": ([{"member_id": "a", "status": "S" * 101}], "statuses[0].status"),
    "member-with-blank": ([{"member_id": "a b", "status": "X"}], "statuses[0].member_id"),
    "member-bool": ([{"member_id": True, "status": "X"}], "statuses[0].member_id"),
    "active-text": ([{"member_id": "a", "status": "X", "is_active_member": "yes"}], "statuses[0].is_active_member"),
    "start-number": ([{"member_id": "a", "status": "X", "start_date": 1e9}], "statuses[0].start_date"),
    "start-text": ([{"member_id": "a", "status": "X", "start_date": "tomorrow"}], "statuses[0].start_date"),
    "end-before-start": (
        [{"member_id": "a", "status": "X", "start_date": "2026-02-01", "end_date": "2026-01-01"}],
        "statuses[0].end_date",
    ),
    "unknown-key": ([{"member_id": "a", "status": "X", "colour": "red"}], "statuses[0].colour"),
    "same-member-differs": (
        [{"member_id": "a", "status": "X"}, {"member_id": "b", "status": "X"}, {"member_id": "a", "status": "Y"}],
        "statuses[2]",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_rows_are_refused_before_any_request(sandbox_conns: SandboxServer, case: str):
    statuses, field = BAD_ROWS[case]
    before = members(sandbox_conns)
    httpx.delete(f"{sandbox_conns.control_url}/requests").raise_for_status()
    with pytest.raises(LmsInputError) as info:
        op(statuses).execute(ctx())
    assert info.value.field == field, str(info.value)
    assert requests_to(sandbox_conns, "/lara") == []
    assert members(sandbox_conns) == before


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"mode": "overwrite"}, "platform_options.mode"),
        ({"member_field": "numero\x00permis"}, "platform_options.member_field"),
        ({"member_field": 7}, "platform_options.member_field"),
        ({"send_mail": True}, "platform_options.send_mail"),
        ("replace", "platform_options"),
    ],
)
def test_bad_platform_options_are_refused_before_any_request(sandbox_conns: SandboxServer, options: Any, field: str):
    httpx.delete(f"{sandbox_conns.control_url}/requests").raise_for_status()
    with pytest.raises(LmsInputError) as info:
        op([{"member_id": S.MEMBER_IDS[0], "status": "X"}], platform_options=options).execute(ctx())
    assert info.value.field == field
    assert requests_to(sandbox_conns, "/lara") == []


@pytest.mark.parametrize("platform", ["eduframe", "anewspring", "pluvo", "pynter"])
def test_every_other_platform_refuses_before_any_request(sandbox_conns: SandboxServer, platform: str):
    httpx.delete(f"{sandbox_conns.control_url}/requests").raise_for_status()
    task = op([{"member_id": "17", "status": "Retired"}], conn=f"{platform}_default")
    with pytest.raises(LmsCapabilityError) as info:
        task.execute(ctx())
    message = str(info.value)
    assert "set members' professional statuses" in message and f"{platform}_default" in message
    assert message.endswith("platforms that can: Lära"), message
    assert httpx.get(f"{sandbox_conns.control_url}/requests").json() == []
    # The hook refuses the same way when called directly.
    hook = task.hook
    with pytest.raises(LmsCapabilityError):
        hook.update_member_status("17", "Retired")
    assert not hook.supports("update_member_status")


def test_the_hook_keeps_the_earlier_entry_form_working(sandbox_conns: SandboxServer):
    hook = LaraHook(CONN)
    entry = members(sandbox_conns)[S.MEMBER_IDS[0]]["statuses"][-1]
    status = {"status": "Temporaire", "startDate": entry["startDate"], "endDate": None}
    hook.update_member_status(S.MEMBER_IDS[0], entry["entryId"], status)  # (member, entry_id, status), as before
    assert members(sandbox_conns)[S.MEMBER_IDS[0]]["statuses"][-1]["status"] == "Temporaire"
    assert hook.ensure_member_status_entry(S.MEMBER_IDS[0], entry["entryId"], status).status == "already_done"
