"""Shared pieces of the fault, bad-input and secrets suite.

``figures`` collects what the README's reliability section reports (faults injected, items, lost,
duplicated, inputs tried); the totals are printed at the end of the run and, when
``LMS_RELIABILITY_REPORT`` names a file, written there as JSON.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import httpx
import pytest

from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.sandbox import SandboxServer

#: Totals across the run; each test adds to them.
FIGURES: Counter[str] = Counter()


class FakeTI:
    """Stands in for the task instance: keeps what the operator pushes to XCom, to be scanned for secrets."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def ctx() -> dict[str, Any]:
    return {"ti": FakeTI()}


def count_faults(snapshot: dict[str, Any]) -> None:
    """Add a ``GET /_sandbox/faults`` snapshot to the figures: the total and each kind."""
    FIGURES["faults injected"] += snapshot["injected_total"]
    for kind, n in snapshot["injected"].items():
        FIGURES[f"faults injected, {kind}"] += n


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


#: Client settings for storms: quick backoff so a run takes seconds, a read timeout the ``timeout`` fault
#: runs past, and no client-side limit (the sandbox's own limits are lifted per test).
STORM_EXTRAS: dict[str, Any] = {
    "backoff_base": 0.01,
    "backoff_max": 0.05,
    "timeout": 0.6,
    "max_retries": 6,
    "rate_limit_requests": 10**6,
}


def connect(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, platform: str, **extra: Any) -> str:
    """Point ``faults_<platform>`` at the sandbox with the platform's sandbox credentials; returns the conn id."""
    from airflow_provider_lms.sandbox.app import PLATFORMS

    mount = next(m for m in PLATFORMS if m.name == platform)
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    conn["extra"] = {**conn.get("extra", {}), **extra}
    conn_id = f"faults_{platform}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


@pytest.fixture(autouse=True)
def _fresh_client_limits() -> None:
    # Client-side rate-limit windows are shared per base URL across hooks; a storm must not inherit another's.
    _registry.clear()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.write_sep("-", "reliability figures (tests/faults)")
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key}: {FIGURES[key]}")
    target = os.environ.get("LMS_RELIABILITY_REPORT")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(dict(FIGURES), handle, indent=2, sort_keys=True)
