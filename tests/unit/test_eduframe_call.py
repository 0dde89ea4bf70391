"""EduframeHook.call() and the admin methods against respx: checked before sending, paged, not resent blindly."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.hooks.eduframe_admin import EduframeAdminMixin
from airflow_provider_lms.hooks.eduframe_openapi import eduframe_operations
from airflow_provider_lms.http import ItemStatus, LmsInputError, LmsValidationError
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsTransportError
from airflow_provider_lms.operators.call import LmsCallOperator

from .conftest import EDUFRAME_URL

U = EDUFRAME_URL

#: (operation, arguments, the field the error must name, a word the message must hold)
BAD_CALLS: list[tuple[str, dict[str, Any], str, str]] = [
    ("get_userz", {}, "operation", "get_users"),
    ("approve_order", {"path": {"id": 1}}, "operation", "approve_order_by_id"),
    ("get_user_by_id", {}, "path.id", "required"),
    ("get_user_by_id", {"path": {"id": "abc"}}, "path.id", "integer"),
    ("get_user_by_id", {"path": {"id": True}}, "path.id", "integer"),
    ("get_user_by_id", {"path": {"id": 1.5}}, "path.id", "integer"),
    ("get_user_by_id", {"path": {"id": "\uff11\uff12"}}, "path.id", "integer"),  # full-width digits
    ("get_user_by_id", {"path": {"id": 1, "user_id": 2}}, "path.user_id", "known: id"),
    ("get_enrollments", {"query": {"status": ["done"]}}, "query.status[0]", "confirmed"),
    ("get_enrollments", {"query": {"student_id": "x"}}, "query.student_id", "integer"),
    ("get_enrollments", {"query": {"with_canceled": "maybe"}}, "query.with_canceled", "true or false"),
    ("get_users", {"query": {"emial": "a@b.nl"}}, "query.emial", "did you mean email?"),
    ("get_users", {"query": {"email": "not-an-address"}}, "query.email", "e-mail"),
    ("get_users", {"query": {"per_page": 500}}, "query.per_page", "at most 100"),
    ("get_planned_courses", {"query": {"type": "Fixed"}}, "query.type", "FixedPlannedCourse"),
    ("get_meetings", {"query": {"start": "tomorrow"}}, "query.start", "date-time"),
    ("create_user", {}, "body", "required"),
    ("create_user", {"body": {"first_name": "A", "last_name": "B"}}, "body.email", "required"),
    ("create_user", {"body": {"email": "a@b.nl", "first_name": 3, "last_name": "B"}}, "body.first_name", "string"),
    ("create_user", {"body": ["not", "an", "object"]}, "body", "object"),
    (
        "create_order",
        {"body": {"catalog_variant_id": 1, "creator_id": 1, "student_ids": ["2"]}},
        "body.student_ids[0]",
        "integer",
    ),
    ("set_attendance", {"body": {"meeting_id": 1, "enrollment_id": 2, "state": "present"}}, "body.state", "attended"),
    (
        "update_webhook_by_id",
        {"path": {"id": "w"}, "body": {"events": ["nope.nothing"]}},
        "body.events[0]",
        "not one of",
    ),
    ("deny_order_by_id", {"path": {"id": 1}, "body": {"reason": "x"}}, "body", "takes no body"),
    ("get_user_by_id", {"path": {"id": "1/../../admin"}}, "path.id", "integer"),
]


@pytest.fixture
def anything():
    """A mock that answers every request, to show that none was sent."""
    with respx.mock(assert_all_called=False) as router:
        yield router.route().mock(return_value=httpx.Response(200, json={}))


@pytest.mark.parametrize(("operation", "kwargs", "field", "word"), BAD_CALLS)
def test_bad_calls_are_refused_by_name_before_anything_is_sent(eduframe_conn, anything, operation, kwargs, field, word):
    hook = EduframeHook(eduframe_conn)
    with pytest.raises(LmsInputError) as info:
        hook.call(operation, **kwargs)
    assert info.value.field == field
    assert word in str(info.value)
    assert anything.call_count == 0


def test_the_operator_refuses_a_bad_call_before_sending_too(eduframe_conn, anything):
    op = LmsCallOperator(task_id="c", lms_conn_id=eduframe_conn, operation="get_users", query={"role": ["a", "b"]})
    with pytest.raises(LmsInputError, match=r"query\.role"):
        op.execute({"ti": None})
    op = LmsCallOperator(task_id="c", lms_conn_id=eduframe_conn, operation="get_users", variables={"a": 1})
    with pytest.raises(LmsInputError, match=r"variables.*Eduframe's generic call"):
        op.execute({"ti": None})
    assert anything.call_count == 0


def test_every_documented_operation_is_known_and_lists_are_recognised():
    ops = eduframe_operations().operations
    assert len(ops) == 183
    assert ops["get_users"].returns_list and ops["get_users"].paged
    assert ops["get_webhook_notifications_by_webhook_id"].returns_list
    assert not ops["get_user_by_id"].returns_list
    assert (ops["approve_order_by_id"].method, ops["approve_order_by_id"].path) == ("PUT", "/orders/{id}/approve")


@respx.mock
def test_a_list_follows_link_pages_with_per_page_100_and_returns_every_item(eduframe_conn):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "c2":
            return httpx.Response(200, json=[{"id": 3}])
        link = f'<{U}/users?role=student&per_page=100&cursor=c2>; rel="next"'
        return httpx.Response(200, json=[{"id": 1}, {"id": 2}], headers={"Link": link})

    route = respx.get(f"{U}/users").mock(side_effect=answer)
    users = EduframeHook(eduframe_conn).call("get_users", query={"role": "student"})
    assert [u["id"] for u in users] == [1, 2, 3]
    sent = route.calls[0].request.url.params
    assert sent["per_page"] == "100" and sent["role"] == "student"
    assert route.call_count == 2


@respx.mock
def test_array_query_parameters_repeat_and_text_ids_from_templates_are_accepted(eduframe_conn):
    route = respx.get(f"{U}/enrollments").mock(return_value=httpx.Response(200, json=[]))
    EduframeHook(eduframe_conn).call("get_enrollments", query={"status": ["active", "confirmed"], "student_id": "7"})
    params = route.calls[0].request.url.params
    assert params.get_list("status") == ["active", "confirmed"] and params["student_id"] == "7"


@respx.mock
def test_a_post_is_not_resent_after_a_dropped_connection_but_a_put_is(eduframe_conn):
    post = respx.post(f"{U}/users").mock(side_effect=httpx.ReadError("connection reset"))
    hook = EduframeHook(eduframe_conn)
    with pytest.raises(LmsTransportError):
        hook.call("create_user", body={"email": "a@b.nl", "first_name": "A", "last_name": "B"})
    assert post.call_count == 1
    put = respx.put(f"{U}/orders/5/approve").mock(
        side_effect=[httpx.ReadError("reset"), httpx.Response(200, json={"id": 5, "status": "active"})]
    )
    assert hook.call("approve_order_by_id", path={"id": 5})["status"] == "active"
    assert put.call_count == 2


@respx.mock
def test_a_path_value_is_escaped_whole(eduframe_conn):
    route = respx.get(url__regex=r".*/webhooks/.*").mock(return_value=httpx.Response(200, json={"id": "x"}))
    EduframeHook(eduframe_conn).call("get_webhook_by_id", path={"id": "a/b?c"})
    assert route.calls[0].request.url.raw_path.decode().endswith("/webhooks/a%2Fb%3Fc")


@respx.mock
def test_approve_looks_first_and_leaves_an_active_order_alone(eduframe_conn):
    respx.get(f"{U}/orders/5").mock(return_value=httpx.Response(200, json={"id": 5, "status": "active"}))
    approve = respx.put(f"{U}/orders/5/approve").mock(return_value=httpx.Response(200, json={}))
    result = EduframeHook(eduframe_conn).approve_order(5)
    assert result.status is ItemStatus.ALREADY_DONE and approve.call_count == 0


@respx.mock
def test_deny_refuses_an_approved_order_without_sending_the_deny(eduframe_conn):
    respx.get(f"{U}/orders/5").mock(return_value=httpx.Response(200, json={"id": 5, "status": "active"}))
    deny = respx.put(f"{U}/orders/5/deny").mock(return_value=httpx.Response(204))
    with pytest.raises(LmsValidationError, match="only a requested order"):
        EduframeHook(eduframe_conn).deny_order(5)
    assert deny.call_count == 0


def test_typed_methods_name_their_own_arguments(eduframe_conn, anything):
    hook = EduframeHook(eduframe_conn)
    with pytest.raises(LmsInputError) as info:
        hook.approve_order("twelve")
    assert info.value.field == "order_id"
    with pytest.raises(LmsInputError) as info:
        hook.set_attendance(1, 2, "present")  # type: ignore[arg-type]
    assert info.value.field == "state"
    with pytest.raises(LmsInputError) as info:
        hook.update_webhook("w", events=["x.y"])
    assert info.value.field == "events[0]"
    assert anything.call_count == 0


@respx.mock
def test_update_webhook_sends_only_what_differs_and_nothing_when_all_match(eduframe_conn):
    current = {"id": "w1", "url": "https://a.example/h", "active": True, "events": ["order.created", "user.updated"]}
    respx.get(f"{U}/webhooks/w1").mock(return_value=httpx.Response(200, json=current))
    patch = respx.patch(f"{U}/webhooks/w1").mock(return_value=httpx.Response(200, json={**current, "active": False}))
    hook = EduframeHook(eduframe_conn)
    same = hook.update_webhook("w1", active=True, events=["user.updated", "order.created"])
    assert same.status is ItemStatus.ALREADY_DONE and patch.call_count == 0
    hook.update_webhook("w1", url="https://a.example/h", active=False)
    assert json.loads(patch.calls[0].request.content) == {"active": False}


def test_the_admin_methods_are_not_shadowed_by_the_hook():
    # EduframeHook's own methods win over its mixin's: a same-named method added there would silently
    # replace one of these.
    for name, member in vars(EduframeAdminMixin).items():
        if callable(member) and not name.startswith("_"):
            assert getattr(EduframeHook, name) is getattr(EduframeAdminMixin, name), name


def test_anewspring_has_no_generic_call_and_says_so(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANS_X",
        json.dumps({"conn_type": "anewspring", "password": "k", "extra": {"base_url": "https://a.test/api"}}),
    )
    op = LmsCallOperator(task_id="c", lms_conn_id="ans_x", operation="getUser")
    with pytest.raises(LmsCapabilityError, match="aNewSpring has no generic call"):
        op.execute({"ti": None})
