"""Every documented cycle error code 1000-1010, provoked in the sandbox through the hook.

The hook's typed methods check input before sending, so the bad bodies go through ``LaraHook.call``,
which sends a body as given: this is what the portal answers to a client that did not check.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.lara import (
    LaraApiError,
    LaraCustomFieldRequiredError,
    LaraCycleError,
    LaraHook,
    LaraIdRequiredError,
    LaraInvalidCustomFieldError,
    LaraInvalidDateError,
    LaraInvalidIdError,
    LaraInvalidMemberIdError,
    LaraInvalidStatusIdError,
    LaraInvalidUserError,
    LaraMemberIdRequiredError,
    LaraStatusesRequiredError,
    LaraStatusRequiredError,
)
from airflow_provider_lms.http.errors import LmsAuthenticationError
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.lara import LaraSeed, _lara_connection

USER = LaraSeed.MEMBER_IDS[0]
PERIOD = LaraSeed.DEMO_PERIOD_ID
STATUS = {"status": "Membre", "isActiveMember": True, "startDate": "2026-01-01T00:00:00"}


@pytest.fixture
def hook(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> LaraHook:
    monkeypatch.setenv("AIRFLOW_CONN_LARA_ERR", json.dumps(_lara_connection(sandbox.url)))
    return LaraHook("lara_err")


CASES: list[tuple[int, type[LaraCycleError], str, dict[str, Any]]] = [
    (1000, LaraIdRequiredError, "cycle/getperiodlist", {}),
    (1001, LaraInvalidIdError, "cycle/getperiodlist", {"id": "nope%3d%3d"}),
    (1000, LaraIdRequiredError, "cycle/getuserprogress", {"memberId": USER}),
    (1001, LaraInvalidIdError, "cycle/getuserprogress", {"id": "nope%3d%3d", "memberId": USER}),
    (1002, LaraMemberIdRequiredError, "cycle/getuserprogress", {"id": PERIOD}),
    (1003, LaraInvalidMemberIdError, "cycle/getuserprogress", {"id": PERIOD, "memberId": "unknown%3d%3d"}),
    (1004, LaraCustomFieldRequiredError, "cycle/getmemberstatuses", {"customFieldValue": "10001"}),
    (
        1005,
        LaraInvalidCustomFieldError,
        "cycle/getmemberstatuses",
        {"customFieldAPIName": "no_such_field", "customFieldValue": "10001"},
    ),
    (
        1005,
        LaraInvalidCustomFieldError,
        "cycle/getuserprogress",
        {"id": PERIOD, "memberId": "10001", "customFieldAPIName": "no_such_field"},
    ),
    (1006, LaraStatusesRequiredError, "cycle/updatememberstatuses", {"userId": USER}),
    (1006, LaraStatusesRequiredError, "cycle/updatememberstatuses", {"userId": USER, "statuses": []}),
    (1007, LaraStatusRequiredError, "cycle/updatememberstatuses", {"userId": USER, "statuses": [{"status": ""}]}),
    (1007, LaraStatusRequiredError, "cycle/changecurrentmemberstatus", {"userId": USER}),
    (1008, LaraInvalidStatusIdError, "cycle/updatememberstatus", {"userId": USER, "entryId": "x%3d", "status": STATUS}),
    (1009, LaraInvalidUserError, "cycle/getmemberstatuses", {"userId": "nobody%3d%3d"}),
    (
        1009,
        LaraInvalidUserError,
        "cycle/changecurrentmemberstatus",
        {"customFieldAPIName": "numero_permis", "customFieldValue": "99999", "status": STATUS},
    ),
    (
        1010,
        LaraInvalidDateError,
        "cycle/updatememberstatuses",
        {"userId": USER, "statuses": [{**STATUS, "endDate": "2025-12-31T23:59:59"}]},
    ),
    (
        1010,
        LaraInvalidDateError,
        "cycle/changecurrentmemberstatus",
        {"userId": USER, "status": {"status": "Restreint", "startDate": "2019-01-01T00:00:00"}},
    ),
]


@pytest.mark.parametrize(("code", "cls", "method", "body"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_documented_error_code_is_raised_as_its_typed_error(
    hook: LaraHook, code: int, cls: type[LaraCycleError], method: str, body: dict[str, Any]
):
    with pytest.raises(cls) as info:
        hook.call(method, body)
    err = info.value
    assert isinstance(err, LaraApiError)
    assert err.code == code == cls.lara_code
    assert err.platform_message == cls.documented_message  # Lära's own message is kept
    assert f"code {code}" in str(err) and cls.documented_message in str(err)
    assert err.status == 400 and err.path == f"/lara/lmsapi/{method}"


def test_every_code_from_1000_to_1010_is_covered_above():
    assert {c[0] for c in CASES} == set(range(1000, 1011))


def test_1008_for_an_entry_of_another_member(hook: LaraHook):
    other = hook.get_member_statuses(LaraSeed.MEMBER_IDS[1])[0].entry_id
    with pytest.raises(LaraInvalidStatusIdError):
        hook.update_member_status(USER, other, STATUS)


def test_a_failed_update_changes_nothing(hook: LaraHook, sandbox: SandboxServer):
    before = httpx.get(f"{sandbox.control_url}/lara/state").json()
    with pytest.raises(LaraInvalidDateError):
        hook.call("cycle/updatememberstatuses", CASES[16][3])
    assert httpx.get(f"{sandbox.control_url}/lara/state").json()["members"] == before["members"]


def test_wrong_credentials_are_refused(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    conn = _lara_connection(sandbox.url)
    conn["extra"]["credential_2_secret"] = "wrong"
    monkeypatch.setenv("AIRFLOW_CONN_LARA_BAD", json.dumps(conn))
    with pytest.raises(LmsAuthenticationError):
        LaraHook("lara_bad").list_cycles()
    ok, message = LaraHook("lara_bad").test_connection()
    assert not ok and "wrong" not in message
