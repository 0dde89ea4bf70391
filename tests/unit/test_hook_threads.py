"""A hook shared by a bulk operator's threads reads its connection once, from one thread at a time."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.operators import LmsSubscribeOperator


def _slow_connection_reader(calls: list[int], concurrent: list[int]) -> object:
    busy = threading.Lock()

    def get_connection(conn_id: str) -> Connection:
        # A second thread arriving while one is inside means the supervisor channel would be shared.
        if not busy.acquire(blocking=False):
            concurrent.append(1)
            busy.acquire()
        try:
            calls.append(1)
            time.sleep(0.05)
            return Connection(
                conn_id=conn_id, conn_type="eduframe", password="k-123456", extra='{"base_url": "http://x/api/v1"}'
            )
        finally:
            busy.release()

    return get_connection


def test_eight_threads_asking_for_the_client_read_the_connection_once(monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    concurrent: list[int] = []
    hook = EduframeHook("eduframe_default")
    monkeypatch.setattr(hook, "get_connection", _slow_connection_reader(calls, concurrent))
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: hook.client, range(8)))
    assert len(calls) == 1 and not concurrent
    assert all(c is clients[0] for c in clients)


def test_a_bulk_operator_builds_its_client_before_its_threads_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_EDUFRAME_DEFAULT",
        json.dumps({"conn_type": "eduframe", "password": "k-123456", "extra": {"base_url": "http://x/api/v1"}}),
    )
    built_in: list[str] = []
    original = EduframeHook.build_client

    def build_client(self: EduframeHook, *args: Any, **kwargs: Any) -> Any:
        built_in.append(threading.current_thread().name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EduframeHook, "build_client", build_client)
    op = LmsSubscribeOperator(task_id="t", lms_conn_id="eduframe_default", course_id=1, learner_ids=[2, 3])
    hook = op.prepare_hook()
    assert built_in == [threading.current_thread().name]
    hook.client  # noqa: B018 - what a bulk thread does: the client is already there
    assert len(built_in) == 1
