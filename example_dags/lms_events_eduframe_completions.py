"""Eduframe, event-driven without a public endpoint: an AssetWatcher polls for new completions.

For Airflow installations the platform cannot reach. The triggerer runs
:class:`~airflow_provider_lms.triggers.events.EduframeCompletedEnrollmentsTrigger`, which polls
``GET /enrollments?status=completed`` and yields one event per newly completed enrollment (a watermark
and the ids it has emitted keep it from emitting one twice); each becomes an asset event on
``lms://eduframe/enrollment.completed`` and starts this DAG.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_lms.triggers.events import EduframeCompletedEnrollmentsTrigger

COMPLETIONS = Asset(
    "lms://eduframe/enrollment.completed",
    watchers=[
        AssetWatcher(
            name="eduframe_completed_enrollments",
            trigger=EduframeCompletedEnrollmentsTrigger(lms_conn_id="eduframe_default", poll_interval=60),
        )
    ],
)

with DAG(
    dag_id="lms_events_eduframe_completions",
    description="React to each Eduframe enrollment completion, found by polling.",
    schedule=[COMPLETIONS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["lms", "eduframe", "events", "example"],
) as dag:

    @task
    def completed(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        rows = [
            (e.extra or {}).get("payload", e.extra)
            for events in (triggering_asset_events or {}).values()
            for e in events
        ]
        for row in rows:
            print(f"enrollment {row.get('enrollment_id')} completed: {row.get('graduation_state')}")
        return rows

    completed()
