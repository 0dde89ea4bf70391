"""A stand-in for the task instance in the tests that call an operator's ``execute`` outside Airflow."""

from __future__ import annotations

import json
from typing import Any


class FakeTI:
    """Keeps what an operator pushes to XCom, and fails as Airflow would on a value that is not JSON."""

    task_id = "call"
    dag_id = "call_dag"
    run_id = "manual__2026-12-02T06:00:00+00:00"
    try_number = 1
    map_index = -1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom must be JSON-serialisable
        self.pushed[key] = value


def ctx() -> dict[str, Any]:
    """A fresh task context with only ``ti``: what the bulk operators read."""
    return {"ti": FakeTI()}
