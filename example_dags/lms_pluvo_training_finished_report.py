"""Pluvo, event-driven: when a learner finishes a training, record the achievement in a report.

The event-driven form of the enrollment-to-certification flow: no polling. Pluvo sends
``TRAINING_FINISHED`` to the receiver the provider mounts in Airflow's API server
(``https://<airflow>/lms-webhooks/pluvo``; the webhook secret in the ``lms_webhook_pluvo`` connection's
password). The receiver checks the signature and records one asset event on
``lms://pluvo/TRAINING_FINISHED`` per delivery, with the body in the event's ``extra["payload"]``; the
scheduler then starts this DAG.

The report is a JSON-lines file, ``Variable lms_achievements_report`` (default
``$AIRFLOW_HOME/lms_achievements.jsonl``); a line per achievement, written once per delivery even when
the task is retried.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Variable, task

from airflow_provider_lms.models.pluvo import TrainingFinishedEvent

TRAINING_FINISHED = Asset("lms://pluvo/TRAINING_FINISHED")


def _report_path() -> Path:
    default = Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser() / "lms_achievements.jsonl"
    return Path(Variable.get("lms_achievements_report", default=str(default)))


with DAG(
    dag_id="lms_pluvo_training_finished_report",
    description="Record each Pluvo TRAINING_FINISHED in the achievements report, as it happens.",
    schedule=[TRAINING_FINISHED],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["lms", "pluvo", "events", "example"],
) as dag:

    @task
    def achievements(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """The finished trainings this run was started for (the scheduler may batch several events)."""
        rows = []
        for events in (triggering_asset_events or {}).values():
            for event in events:
                extra = event.extra or {}
                finished = TrainingFinishedEvent.model_validate(extra.get("payload") or {})
                rows.append(
                    {
                        "delivery_key": extra.get("delivery_key"),
                        "learner_email": finished.user.email,
                        "learner_pluvo_id": finished.user.id,
                        "training_id": finished.training.id,
                        "training_title": finished.training.title,
                        "score": finished.score,
                        "finished_at": finished.sent_date.isoformat() if finished.sent_date else None,
                    }
                )
        print(f"{len(rows)} finished training(s) to record")
        return rows

    @task
    def record_in_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Append the achievements to the report, skipping deliveries it already holds (task retries)."""
        path = _report_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        known = set()
        if path.exists():
            known = {json.loads(line).get("delivery_key") for line in path.read_text().splitlines() if line.strip()}
        new = [row for row in rows if row["delivery_key"] not in known]
        with path.open("a", encoding="utf-8") as report:
            for row in new:
                report.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"recorded {len(new)} achievement(s) in {path}; {len(rows) - len(new)} already there")
        return {"recorded": len(new), "already_recorded": len(rows) - len(new), "report": str(path)}

    record_in_report(achievements())
