"""HTTP clients for the sandbox tests: plain httpx against the session's ``SandboxServer``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
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
