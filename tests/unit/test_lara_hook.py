"""LaraHook and the Lära models, with respx standing in for a portal."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.lara import (
    LARA_ERRORS,
    LaraApiError,
    LaraHook,
    LaraInvalidMemberIdError,
    LaraInvalidUserError,
    LaraStatusesRequiredError,
)
from airflow_provider_lms.http.errors import LmsInputError, LmsServerError, LmsValidationError
from airflow_provider_lms.models.lara import (
    LaraCycle,
    LaraCyclePeriod,
    LaraLanguage,
    LaraMemberStatus,
    LaraStatusInput,
    LaraUserProgress,
    RequirementType,
    is_active_status_name,
)

PORTAL = "https://ordre.lara.test"
API = f"{PORTAL}/lmsapi/cycle"
USER = "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d"
CYCLE = "vBW5xMw1VQ2A8DFaNy22zA"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> LaraHook:
    extra = {
        "base_url": PORTAL,
        "credential_1_header": "X-Onboarding-A",
        "credential_1_secret": "secret-a-91",
        "credential_2_header": "X-Onboarding-B",
        "credential_2_secret": "secret-b-27",
        "backoff_base": 0.001,
    }
    monkeypatch.setenv("AIRFLOW_CONN_LARA_UNIT", json.dumps({"conn_type": "lara", "extra": extra}))
    return LaraHook("lara_unit")


# The document's examples, repaired (missing commas, a stray "}]") as FACTS.md warns.
CYCLE_JSON = {
    "cycleId": CYCLE,
    "adminName": "Nom administratif du cycle",
    "name": {"texts": [{"text": "Mon règlement", "languageId": 1}, {"text": "My policy", "languageId": 2}]},
    "ruleId": CYCLE,
    "isActive": True,
    "isDeleted": False,
}
PERIOD_JSON = {
    "cyclePeriodId": CYCLE,
    "cycleId": CYCLE,
    "adminName": "Nom de la période",
    "startDate": "2018-02-08T15:02:45.73",
    "duration": 2,
    "durationUnit": 4,
    "isRequirementsShown": False,
    "ruleId": CYCLE,
    "isUserStatement": True,
    "isActive": True,
    "isDeleted": True,
    "requirements": [
        {
            "id": " vBW5xMw1VQ2A8DFaNy22zA",
            "cyclePeriodId": CYCLE,
            "type": 1,
            "targetValue": 80.0,
            "ruleId": CYCLE,
            "providerId": CYCLE,
        }
    ],
}
PROGRESS_JSON = {
    "id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d",
    "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d",
    "requiredCredits": 40.0,
    "completedCredits": 22.0,
    "exemptedCredits": 8.0,
    "providerCredits": 30.0,
    "customFieldAPIName": "custom_field",
}
STATUSES_JSON = {
    "statuses": [
        {
            "entryId": "uprlbtvuqNuwmncYPu1ljg%3d%3d",
            "userId": "CVYG8nO%2b51YLthTCoxBcYA%3d%3d",
            "status": "Membre",
            "isActiveMember": True,
            "startDate": "2020-01-01T00:00:00",
            "endDate": "2020-12-31T23:59:59",
        }
    ]
}


def test_models_read_the_documents_examples():
    cycle = LaraCycle.model_validate(CYCLE_JSON)
    assert cycle.name.get(LaraLanguage.ENGLISH) == "My policy" and cycle.name.get(4) == "Mon règlement"
    period = LaraCyclePeriod.model_validate(PERIOD_JSON)
    assert period.requirements[0].type is RequirementType.CREDITS
    assert period.requirements[0].id == CYCLE  # the example's stray leading blank is not part of the id
    assert period.required_credits == 80.0
    progress = LaraUserProgress.model_validate(PROGRESS_JSON)
    assert progress.custom_field_api_name == "custom_field"
    assert progress.earned_credits() == 30.0 and not progress.is_compliant()
    assert progress.earned_credits(count_exempted=False) == 22.0
    status = LaraMemberStatus.model_validate(STATUSES_JSON["statuses"][0])
    assert status.is_active and not status.is_open


@pytest.mark.parametrize("bad", [{"languageId": 5}, {"durationUnit": 7}, {"type": 4}])
def test_models_refuse_values_outside_the_documented_enums(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        if "languageId" in bad:
            LaraCycle.model_validate({**CYCLE_JSON, "name": {"texts": [{"text": "x", **bad}]}})
        elif "durationUnit" in bad:
            LaraCyclePeriod.model_validate({**PERIOD_JSON, **bad})
        else:
            LaraCyclePeriod.model_validate({**PERIOD_JSON, "requirements": [{"type": 4}]})


@pytest.mark.parametrize(
    "name",
    [
        "Membre",
        "MEMBER",
        "1ère inscription",
        "1ere inscription",
        "  Inscription ",
        "temporaire",
        "Limitation du droit d\u2019exercice",  # a typographic apostrophe
        "suspension  du droit d'exercice",
        "Autorisation speciale",
        "AUTORISATION SPÉCIALE",
    ],
)
def test_listed_status_names_count_as_active_however_they_are_typed(name: str):
    assert is_active_status_name(name)
    assert LaraMemberStatus(status=name).is_active


def test_an_explicit_flag_wins_over_the_name_and_unlisted_names_are_inactive():
    assert not LaraMemberStatus(status="Membre", is_active_member=False).is_active
    assert LaraMemberStatus(status="Retraité", is_active_member=True).is_active
    assert not LaraMemberStatus(status="Retraité").is_active
    assert not is_active_status_name("Membre restreint") and not is_active_status_name("")


def test_status_input_is_checked_before_sending():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="1010"):
        LaraStatusInput(status="Membre", start_date="2025-02-01T00:00:00", end_date="2025-01-01T00:00:00")
    with pytest.raises(ValidationError):
        LaraStatusInput(status="  ")
    body = LaraStatusInput(status="Membre", start_date="2025-02-01T05:00:00Z").to_body("America/Toronto")
    assert body == {"status": "Membre", "startDate": "2025-02-01T00:00:00", "endDate": None}


@respx.mock
def test_requests_are_json_posts_to_lmsapi_with_both_credential_headers(hook: LaraHook):
    route = respx.post(f"{API}/getlist").mock(return_value=httpx.Response(200, json=[CYCLE_JSON]))
    cycles = hook.list_cycles()
    assert cycles[0].cycle_id == CYCLE
    request = route.calls.last.request
    assert request.headers["X-Onboarding-A"] == "secret-a-91" and request.headers["X-Onboarding-B"] == "secret-b-27"
    assert json.loads(request.content) == {}
    assert request.headers["content-type"] == "application/json"


@respx.mock
def test_encoded_ids_are_passed_through_unchanged(hook: LaraHook):
    route = respx.post(f"{API}/getmemberstatuses").mock(return_value=httpx.Response(200, json=STATUSES_JSON))
    hook.get_member_statuses(USER)
    assert b"DTUvbcrKNN3szXg6aQY%2fSg%3d%3d" in route.calls.last.request.content
    assert json.loads(route.calls.last.request.content) == {"userId": USER}
    hook.get_member_statuses({"customFieldAPIName": "member_status", "customFieldValue": "12345"})
    assert json.loads(route.calls.last.request.content) == {
        "customFieldAPIName": "member_status",
        "customFieldValue": "12345",
    }


@respx.mock
def test_period_list_sends_the_filter_date_in_utc(hook: LaraHook):
    route = respx.post(f"{API}/getperiodlist").mock(return_value=httpx.Response(200, json=[PERIOD_JSON]))
    periods = hook.list_periods(CYCLE, filter_date="2020-01-01T00:00:00-05:00")
    assert periods[0].duration_unit == 4
    assert json.loads(route.calls.last.request.content) == {"id": CYCLE, "filterDate": "2020-01-01T05:00:00Z"}


@respx.mock
def test_is_success_false_under_http_200_is_a_typed_error(hook: LaraHook):
    respx.post(f"{API}/getuserprogress").mock(
        return_value=httpx.Response(200, json={"isSuccess": False, "ErrorID": 1003, "Message": "Invalid memberId"})
    )
    with pytest.raises(LaraInvalidMemberIdError) as info:
        hook.get_user_progress(CYCLE, USER)
    assert info.value.code == 1003 and info.value.platform_message == "Invalid memberId"
    assert isinstance(info.value, LmsValidationError)


@respx.mock
def test_is_success_false_without_a_code_is_still_an_error(hook: LaraHook):
    respx.post(f"{API}/updatememberstatuses").mock(return_value=httpx.Response(200, json={"isSuccess": False}))
    with pytest.raises(LaraApiError, match="isSuccess"):
        hook.update_member_statuses(USER, [{"status": "Membre"}])


@pytest.mark.parametrize("envelope", ["ErrorID", "errorId", "errorCode", "code"])
@respx.mock
def test_error_statuses_with_a_cycle_code_become_typed_errors(hook: LaraHook, envelope: str):
    respx.post(f"{API}/getmemberstatuses").mock(
        return_value=httpx.Response(400, json={envelope: "1009", "message": "Invalid user"})
    )
    with pytest.raises(LaraInvalidUserError) as info:
        hook.get_member_statuses(USER)
    assert info.value.code == 1009 and info.value.status == 400
    assert "Invalid user" in str(info.value)


def test_every_documented_code_has_its_own_class():
    assert sorted(LARA_ERRORS) == list(range(1000, 1011))
    assert len({cls.__name__ for cls in LARA_ERRORS.values()}) == 11
    assert LARA_ERRORS[1006] is LaraStatusesRequiredError


@respx.mock
def test_reads_are_retried_but_change_current_is_never_resent_blindly(hook: LaraHook):
    read = respx.post(f"{API}/getmemberstatuses").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=STATUSES_JSON)]
    )
    assert len(hook.get_member_statuses(USER)) == 1
    assert read.call_count == 2
    change = respx.post(f"{API}/changecurrentmemberstatus").mock(return_value=httpx.Response(503))
    with pytest.raises(LmsServerError):
        hook.change_current_member_status(USER, {"status": "Restreint"})
    assert change.call_count == 1


def test_bad_input_fails_before_any_request(hook: LaraHook):
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(url__startswith=PORTAL)
        with pytest.raises(LmsInputError, match="member"):
            hook.get_member_statuses({"customFieldAPIName": "x"})
        with pytest.raises(LmsInputError, match="statuses"):
            hook.update_member_statuses(USER, [])
        with pytest.raises(LmsInputError, match="cycle_id"):
            hook.list_periods(" ")
        with pytest.raises(LmsInputError, match="1010"):
            hook.change_current_member_status(
                USER, {"status": "X", "startDate": "2025-01-02T00:00:00", "endDate": "2025-01-01T00:00:00"}
            )
        assert route.call_count == 0


@respx.mock
def test_test_connection_reports_without_raising_or_leaking(hook: LaraHook):
    respx.post(f"{API}/getlist").mock(return_value=httpx.Response(200, json=[CYCLE_JSON, CYCLE_JSON]))
    assert hook.test_connection() == (True, "Connected to Lära: 2 cycle(s) visible")
    respx.post(f"{API}/getlist").mock(return_value=httpx.Response(401, json={"Message": "Unauthorized"}))
    ok, message = LaraHook("lara_unit").test_connection()
    assert not ok and "401" in message and "secret-a-91" not in message


@respx.mock
def test_ensure_current_status_is_idempotent(hook: LaraHook):
    statuses = {"statuses": [{**STATUSES_JSON["statuses"][0], "endDate": None}]}
    respx.post(f"{API}/getmemberstatuses").mock(side_effect=lambda r: httpx.Response(200, json=statuses))

    def change(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        statuses["statuses"][-1]["endDate"] = body["status"]["startDate"]
        statuses["statuses"].append({"entryId": "n%3d", **body["status"]})
        return httpx.Response(200, json={"isSuccess": True})

    route = respx.post(f"{API}/changecurrentmemberstatus").mock(side_effect=change)
    wanted = {"status": "Restreint", "isActiveMember": False, "startDate": "2026-01-01T00:00:00"}
    first = hook.ensure_current_member_status(USER, wanted)
    second = hook.ensure_current_member_status(USER, {**wanted, "status": "RESTREINT"})
    assert (first.status.value, second.status.value) == ("done", "already_done")
    assert route.call_count == 1
    assert first.result["is_active_member"] is False
