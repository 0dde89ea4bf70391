"""The smallest DAG: one task that returns a value (the plugin's own tests run it)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="hello_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def hello(**context) -> dict:
        return {"greeting": "hello", "conf": dict(context["dag_run"].conf or {})}

    hello()
