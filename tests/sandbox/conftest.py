"""HTTP clients for the sandbox tests: plain httpx against the session's ``SandboxServer``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY

AUTH = {"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"}


@pytest.fixture
def eduframe(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """An authenticated client on the Eduframe base URL (no retries: tests must see every answer)."""
    with httpx.Client(base_url=sandbox.platform_url("eduframe"), headers=AUTH, timeout=10.0) as client:
        yield client


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client on the ``/_sandbox`` control API."""
    with httpx.Client(base_url=sandbox.control_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def anewspring_conn(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The id of an aNewSpring connection on the sandbox (quick retries: the tests inject faults)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANS",
        json.dumps(
            {
                "conn_type": "anewspring",
                "password": ANEWSPRING_SANDBOX_API_KEY,
                "extra": {"base_url": f"{sandbox.url}/anewspring/api", "backoff_base": 0.01},
            }
        ),
    )
    return "ans"


@pytest.fixture
def anewspring_hook(anewspring_conn: str) -> Iterator[ANewSpringHook]:
    """A hook on :func:`anewspring_conn`, closed after the test."""
    hook = ANewSpringHook(anewspring_conn)
    yield hook
    hook.close()
