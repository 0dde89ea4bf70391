"""aNewSpring, event-driven: react to an aNewSpring webhook as soon as it arrives.

aNewSpring support configures the webhook (JSON, with a secret): point it at
``https://<airflow>/lms-webhooks/anewspring`` and store the secret as the ``lms_webhook_anewspring``
connection's password. Each delivery becomes one asset event on ``lms://anewspring/<event>``, ``<event>``
being the body's ``event`` field.

aNewSpring's event names are not in the documents this provider is built from: ``RESULT_UPDATED`` below
is a placeholder. Use the names your environment's webhook sends.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

ANEWSPRING_EVENT = Asset("lms://anewspring/RESULT_UPDATED")

with DAG(
    dag_id="lms_events_anewspring_results",
    description="Log each aNewSpring result webhook as it arrives.",
    schedule=[ANEWSPRING_EVENT],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["lms", "anewspring", "events", "example"],
) as dag:

    @task
    def summarize(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        rows = [
            {"event": (e.extra or {}).get("event"), "payload": (e.extra or {}).get("payload")}
            for events in (triggering_asset_events or {}).values()
            for e in events
        ]
        print(f"{len(rows)} aNewSpring event(s)")
        return rows

    summarize()
