"""The provider's seams: one connection read per hook, one prepare_hook, typed connection models, async paging."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk import BaseHook

from airflow_provider_lms.hooks.eduframe import EduframeConnection, EduframeHook
from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.hooks.registry import aget_lms_hook, get_lms_hook
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.operators.lara import LaraUpdateMemberStatusesOperator
from airflow_provider_lms.operators.pynter import PynterRecordEticketAttendanceOperator
from tests.unit.conftest import EDUFRAME_URL, SECRET, conn_json

LARA_EXTRA = {
    "base_url": "https://portal.lara.test",
    "credential_1_header": "X-Onboarding-A",
    "credential_1_secret": "secret-a-91",
    "portal_timezone": "Europe/Paris",
}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every connection read, sync or async, by connection id."""
    seen: list[str] = []
    sync_read = BaseHook.get_connection
    async_read = BaseHook.aget_connection

    def get_connection(cls: type, conn_id: str) -> Any:
        seen.append(conn_id)
        return sync_read(conn_id)

    async def aget_connection(cls: type, conn_id: str) -> Any:
        seen.append(conn_id)
        return await async_read(conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(get_connection))
    monkeypatch.setattr(BaseHook, "aget_connection", classmethod(aget_connection))
    return seen


def test_get_lms_hook_reads_the_connection_once_for_class_and_client(eduframe_conn: str, reads: list[str]):
    hook = get_lms_hook(eduframe_conn)
    assert isinstance(hook, EduframeHook)
    hook.get_conn()
    assert hook.connection_config.base_url == EDUFRAME_URL
    assert reads == [eduframe_conn]


async def test_aget_lms_hook_reads_the_connection_once_for_class_and_client(eduframe_conn: str, reads: list[str]):
    hook = await aget_lms_hook(eduframe_conn)
    await hook.aget_conn()
    assert reads == [eduframe_conn]


def test_the_connection_model_is_parsed_once_and_hides_its_secret(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU_C", conn_json("eduframe", base_url=EDUFRAME_URL, order_creator_id="42"))
    hook = EduframeHook("edu_c")
    config = hook.connection_config
    assert isinstance(config, EduframeConnection)
    assert (config.order_creator_id, config.api_key, config.settings.base_url) == (42, SECRET, EDUFRAME_URL)
    assert hook.connection_config is config
    assert SECRET not in repr(config)


def test_a_bad_connection_field_is_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU_BAD", conn_json("eduframe", base_url=EDUFRAME_URL, order_creator_id="x"))
    with pytest.raises(LmsInputError, match="connection 'edu_bad' order_creator_id"):
        EduframeHook("edu_bad").get_conn()


def _record_builds(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[str]:
    built_in: list[str] = []
    original = cls.build_client

    def build_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        built_in.append(threading.current_thread().name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "build_client", build_client)
    return built_in


def test_lara_bulk_operators_build_their_client_before_the_bulk_threads(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_LARA_SEAM", json.dumps({"conn_type": "lara", "extra": LARA_EXTRA}))
    built_in = _record_builds(monkeypatch, LaraHook)
    op = LaraUpdateMemberStatusesOperator(task_id="t", lms_conn_id="lara_seam", members=["u1"], statuses=["Actif"])
    hook = op.prepare_hook()
    assert isinstance(hook, LaraHook) and hook is op.hook
    assert built_in == [threading.current_thread().name]
    assert hook.tz == "Europe/Paris"


def test_pynter_bulk_operators_build_their_client_before_the_bulk_threads(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PYN_SEAM", conn_json("pynter", login="api-user", base_url="https://acme.acc.pynter.test")
    )
    built_in = _record_builds(monkeypatch, PynterHook)
    op = PynterRecordEticketAttendanceOperator(task_id="t", lms_conn_id="pyn_seam", ticket_hashes=["h1"])
    hook = op.prepare_hook()
    assert isinstance(hook, PynterHook)
    assert built_in == [threading.current_thread().name]


def test_platform_operators_still_check_concurrency_first(monkeypatch: pytest.MonkeyPatch):
    op = LaraUpdateMemberStatusesOperator(
        task_id="t", lms_conn_id="lara_missing", members=["u1"], statuses=["Actif"], concurrency=0
    )
    with pytest.raises(LmsInputError, match="concurrency"):
        op.prepare_hook()


def _enrollment(enrollment_id: int) -> dict[str, Any]:
    return {"id": enrollment_id, "student_id": 3, "planned_course_id": 7, "status": "completed"}


async def test_aiter_enrollments_pages_through_link_headers(eduframe_conn: str):
    page_2 = f"{EDUFRAME_URL}/enrollments?cursor=2"
    with respx.mock:
        route = respx.get(f"{EDUFRAME_URL}/enrollments").mock(
            side_effect=[
                httpx.Response(200, json=[_enrollment(1)], headers={"Link": f'<{page_2}>; rel="next"'}),
                httpx.Response(200, json=[_enrollment(2)]),
            ]
        )
        hook = EduframeHook(eduframe_conn)
        found = [e.id async for e in hook.aiter_enrollments(status="completed", planned_course_id="7")]
        await hook.aclose()
    assert found == [1, 2]
    first = route.calls[0].request.url.params
    assert first.get_list("status") == ["completed"] and first["planned_course_id"] == "7"


async def test_aiter_enrollments_checks_its_filters_before_any_request(eduframe_conn: str):
    hook = EduframeHook(eduframe_conn)
    with pytest.raises(LmsInputError, match="status"):
        [e async for e in hook.aiter_enrollments(status="done")]
