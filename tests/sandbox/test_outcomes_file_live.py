"""A large bulk run's outcomes go to a file the summary names; XCom keeps the counts and the failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.http.bulk import BulkSummary, ItemOutcome
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.models.results import ItemStatus
from airflow_provider_lms.operators import LmsEnsureLearnersOperator, LmsSubscribeOperator
from airflow_provider_lms.outcomes import item_outcomes
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY


class _TI:
    dag_id, run_id, task_id, map_index, try_number = "hr_sync", "manual__2026-12-02T06:00:00+00:00", "enroll", 3, 2

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = json.loads(json.dumps(value))  # what XCom would store


@pytest.fixture
def conn_id(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _registry.clear()
    httpx.put(f"{sandbox.control_url}/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    extra = {"base_url": sandbox.platform_url("eduframe"), "backoff_base": 0.02, "rate_limit_requests": 10**6}
    monkeypatch.setenv(
        "AIRFLOW_CONN_EDU_OUTCOMES",
        json.dumps({"conn_type": "eduframe", "password": EDUFRAME_SANDBOX_API_KEY, "extra": extra}),
    )
    yield "edu_outcomes"


def test_a_run_over_the_limit_writes_every_outcome_to_the_named_file(conn_id, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    learners = [{"email": f"oc{i}@sandbox.example", "first_name": "O", "last_name": str(i)} for i in range(12)]
    ensure = LmsEnsureLearnersOperator(task_id="ensure", lms_conn_id=conn_id, learners=learners)
    ids = ensure.execute({"ti": _TI()})  # type: ignore[arg-type]
    learner_ids = [o["result"]["learner_id"] for o in item_outcomes(ids)]
    # 12 learners plus one that does not exist: more than the limit of 5 outcomes in XCom.
    op = LmsSubscribeOperator(
        task_id="enroll",
        lms_conn_id=conn_id,
        course_id=1,
        learner_ids=[*learner_ids, 987654],
        xcom_items_limit=5,
        fail_on_item_error=False,
    )
    ti = _TI()
    summary = op.execute({"ti": ti})  # type: ignore[arg-type]

    path = Path(summary["outcomes_path"])
    # The default path is under AIRFLOW_HOME, named by DAG, run, task, map index and try; no ':' or '+'.
    assert path.is_relative_to(tmp_path / "lms_outcomes" / "hr_sync")
    assert path.name == "enroll.3.try2.jsonl" and ":" not in str(path.relative_to(tmp_path))
    # XCom keeps the counts and the one failure; the file keeps all 13 outcomes in input order.
    assert (summary["total"], summary["done"], summary["failed"]) == (13, 12, 1)
    assert [i["key"] for i in summary["items"]] == ["987654"]
    everything = list(item_outcomes(summary))
    assert [o["key"] for o in everything] == [*learner_ids, "987654"]
    assert [o["status"] for o in everything] == ["done"] * 12 + ["failed"]
    assert not list(path.parent.glob("*.partial"))
    # The pushed enrollment ids stay whole: downstream tasks still get every enrollment.
    assert len(ti.pushed["enrollment_ids"]) == 12


def test_an_object_store_url_is_used_as_given_and_the_failure_message_names_it(conn_id, tmp_path):
    target = f"file://{tmp_path}/runs/enroll.jsonl"
    op = LmsSubscribeOperator(
        task_id="enroll",
        lms_conn_id=conn_id,
        course_id=1,
        learner_ids=[987651, 987652],
        xcom_items_limit=1,
        outcomes_path=target,
    )
    ti = _TI()
    with pytest.raises(AirflowException, match=r"runs/enroll\.jsonl") as raised:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    assert "2 of 2 items failed" in str(raised.value)
    assert ti.pushed["summary"]["outcomes_path"] == target
    assert ti.pushed["summary"]["items_in_xcom"].endswith("truncated")  # 2 failures, room for 1
    assert len(list(item_outcomes(ti.pushed["summary"]))) == 2
    assert "outcomes_path" in LmsSubscribeOperator.template_fields


def test_a_5000_item_summary_stays_small_in_xcom(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    items = [
        ItemOutcome(key=str(n), status=ItemStatus.DONE, result={"enrollment_id": str(10_000 + n)}, retries={"429": 1})
        for n in range(5000)
    ]
    summary = BulkSummary(
        operation="subscribe",
        total=5000,
        done=5000,
        already_done=0,
        failed=0,
        retries={"429": 5000},
        duration_seconds=9.0,
        items=items,
    )
    op = LmsSubscribeOperator(task_id="enroll", lms_conn_id="unused", course_id=1, learner_ids=[1])
    inline = len(json.dumps(summary.to_xcom()))
    result = op.finish({"ti": _TI()}, summary)  # type: ignore[arg-type]
    assert inline > 300_000 and len(json.dumps(result)) < 2_000
    assert sum(1 for _ in item_outcomes(result)) == 5000


@pytest.mark.parametrize("bad", [True, -1, 1.5, "10"])
def test_a_bad_limit_is_refused_naming_the_field(bad):
    op = LmsSubscribeOperator(task_id="e", lms_conn_id="x", course_id=1, learner_ids=[1], xcom_items_limit=bad)
    with pytest.raises(LmsInputError, match="xcom_items_limit"):
        op.prepare_hook()
