"""Fixtures shared by every test folder: the bundled sandbox on a loopback port.

``sandbox_server`` starts one ``SandboxServer`` per test session (real HTTP, a background thread);
``sandbox`` hands it to a test freshly reset: seeded demo data, no faults, empty request log, default
rate limit, real clock.

Every run also loads the secrets guard (``tests/faults/secrets_guard.py``): the session fails when any
secret the suite uses shows up in a test's output, a failure, an Airflow command's output, or the task logs
and metadata databases the tests left under pytest's temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_lms.sandbox import SandboxServer

pytest_plugins = ["tests.faults.secrets_guard"]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the whole session (starting uvicorn per test would cost more than the tests)."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox, reset before the test so tests cannot see each other's data or faults."""
    sandbox_server.reset()
    return sandbox_server
