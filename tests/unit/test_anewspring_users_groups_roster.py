"""The aNewSpring user, group and roster calls against respx mocks: what is sent, and the roster's fallbacks."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.http.bulk import BulkRunner
from airflow_provider_lms.models.anewspring import ANewSpringStudentSubscription, ANewSpringUser

from .conftest import conn_json

BASE = "https://academy.test/api"


@pytest.fixture
def ans(monkeypatch: pytest.MonkeyPatch) -> ANewSpringHook:
    monkeypatch.setenv("AIRFLOW_CONN_ANS", conn_json("anewspring", base_url=BASE, backoff_base=0.001, max_retries=1))
    return ANewSpringHook("ans")


def _form(route: respx.Route) -> dict[str, list[str]]:
    return parse_qs(route.calls.last.request.content.decode())


@respx.mock
def test_group_writes_repeat_the_user_field_and_send_the_idempotent_flags(ans: ANewSpringHook):
    add = respx.post(f"{BASE}/addGroupUsers/TEAM%2F1").mock(return_value=httpx.Response(200))
    delete = respx.post(f"{BASE}/deleteGroupUsers/TEAM%2F1").mock(return_value=httpx.Response(200))
    ans.add_group_users("TEAM/1", ["u1", "u2", "u1"], notify=True)
    assert _form(add) == {
        "user": ["u1", "u2"],
        "ignoreDuplicates": ["true"],
        "notify": ["true"],
        "addToTeacherStudents": ["false"],
    }
    assert add.calls.last.request.headers["content-type"] == "application/x-www-form-urlencoded"
    ans.delete_group_users("TEAM/1", ["u3"])
    assert _form(delete) == {"user": ["u3"], "ignoreMissing": ["true"]}


@respx.mock
def test_the_roster_is_read_with_skipstats_in_the_query_and_both_objective_spellings_parse(ans: ANewSpringHook):
    route = respx.get(f"{BASE}/getStudentSubscriptions/C%201").mock(
        return_value=httpx.Response(
            200,
            json={"students": [{"id": "u1", "finished": True, "expired": False, "objectiveProgress": 0.5}]},
        )
    )
    (entry,) = ans.get_student_subscriptions("C 1")
    assert route.calls.last.request.url.params["skipStats"] == "true"
    assert entry.objectives_progress == 0.5 and entry.unsubscribed and not entry.live
    assert ANewSpringStudentSubscription.model_validate({"objectivesProgress": 0.25}).objectives_progress == 0.25


def test_user_records_read_roles_and_a_split_family_name():
    user = ANewSpringUser.model_validate(
        {"id": "u", "firstName": "Anna", "middleName": "de", "lastName": "Vries", "roles": ["student", "teacher"]}
    )
    assert user.family_name == "de Vries" and user.roles == ["student", "teacher"]
    assert ANewSpringUser.model_validate({"id": "u", "roles": None}).roles == []


@respx.mock
def test_a_roster_that_answers_503_falls_back_to_per_learner_reads_once_per_run(ans: ANewSpringHook):
    roster = respx.get(f"{BASE}/getStudentSubscriptions/C").mock(return_value=httpx.Response(503))
    looks = respx.get(url__regex=rf"{BASE}/isSubscribed/u\d/C").mock(
        return_value=httpx.Response(200, json={"result": True})
    )
    summary = BulkRunner(concurrency=4).run(
        "subscribe", [f"u{i}" for i in range(6)], lambda u: ans.subscribe_learner("C", u), key=str
    )
    assert summary.already_done == 6
    assert looks.call_count == 6
    assert roster.call_count == 2  # one request and its one retry, for the whole run


@respx.mock
def test_an_unknown_course_fails_each_item_instead_of_being_read_as_an_empty_roster(ans: ANewSpringHook):
    respx.get(f"{BASE}/getStudentSubscriptions/NOPE").mock(return_value=httpx.Response(404, text="Not Found: course"))
    summary = BulkRunner(concurrency=2).run(
        "subscribe", ["u1", "u2"], lambda u: ans.subscribe_learner("NOPE", u), key=str
    )
    assert summary.failed == 2 and all("Not Found" in (i.error or "") for i in summary.items)


@respx.mock
def test_outside_a_bulk_run_no_roster_is_read(ans: ANewSpringHook):
    roster = respx.get(f"{BASE}/getStudentSubscriptions/C").mock(
        return_value=httpx.Response(200, json={"students": []})
    )
    respx.get(f"{BASE}/isSubscribed/u1/C").mock(return_value=httpx.Response(200, json={"result": True}))
    assert ans.subscribe_learner("C", "u1").status.value == "already_done"
    assert not roster.called
