"""Lära, the yearly continuing-education compliance flow.

1. wait (deferred: the trigger sleeps until the computed end) until the cycle period has ended;
2. read every member's credits in that period and sort them into compliant and non-compliant;
3. give the non-compliant members a restricted, inactive status with ``changecurrentmemberstatus``,
   starting at the period's end (their running "Membre" range is closed there);
4. write a report (JSON) a person can read.

Re-running changes nothing: members already restricted are left alone. The defaults point at the
sandbox's seeded data (cycle "Règlement de formation continue", its demo period, members 10001-10006);
set the ``lara_default`` connection and the params for your own portal.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators.lara import LaraChangeCurrentMemberStatusOperator, LaraCycleComplianceOperator
from airflow_provider_lms.sensors.lara import LaraCyclePeriodEndedSensor

CONN_ID = "lara_default"

# The sandbox's seeded ids (airflow_provider_lms.sandbox.lara.LaraSeed). Lära ids arrive URL-encoded:
# keep them exactly as Lära gives them.
DEMO_CYCLE_ID = "JJN9NAAVBf%2bYg6o%2bKWjjuQ%3d%3d"
DEMO_PERIOD_ID = "EWkzD4Y8i%2f1CS56GYZy57w%3d%3d"
DEMO_MEMBERS = [
    "mBH7Gzr6Wglq5v6VQbH6YQ%3d%3d",
    "JGQex5%2bOkz5PGWL2PS5lZA%3d%3d",
    "dVxtWzMRyUside7YP6RHiA%3d%3d",
    "v77dIr3R%2bNAKtyOMMg6WxA%3d%3d",
    "Haugb7EQ1UkIYBzaWywp%2fg%3d%3d",
    "zj%2bWy5r5YsfHBSRwuzMwHQ%3d%3d",
]
RESTRICTED_STATUS = "Restreint - formation continue incomplète"

with DAG(
    dag_id="lms_lara_cycle_compliance",
    description="When a Lära cycle period ends, restrict the members who fall short of their credits.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,  # lists from params stay lists
    params={
        "cycle_id": Param(DEMO_CYCLE_ID, type="string", description="Lära cycle (règlement) id"),
        "cycle_period_id": Param(DEMO_PERIOD_ID, type="string", description="The period to close"),
        "members": Param(DEMO_MEMBERS, type="array", description="Member user ids (or custom field pairs)"),
        "restricted_status": Param(RESTRICTED_STATUS, type="string", description="Status for non-compliant members"),
    },
    tags=["lms", "lara", "example"],
) as dag:
    wait = LaraCyclePeriodEndedSensor(
        task_id="wait_for_period_end",
        lms_conn_id=CONN_ID,
        cycle_id="{{ params.cycle_id }}",
        cycle_period_id="{{ params.cycle_period_id }}",
        deferrable=True,
        poke_interval=60,
        timeout=400 * 24 * 3600,  # a yearly period may be a year away
    )

    compliance = LaraCycleComplianceOperator(
        task_id="check_compliance",
        lms_conn_id=CONN_ID,
        cycle_id="{{ params.cycle_id }}",
        cycle_period_id="{{ params.cycle_period_id }}",
        members="{{ params.members }}",
    )

    restrict = LaraChangeCurrentMemberStatusOperator(
        task_id="restrict_non_compliant",
        lms_conn_id=CONN_ID,
        members=compliance.output["non_compliant"],
        # Inactive by an explicit flag: the name alone would not tell Lära.
        status={"status": "{{ params.restricted_status }}", "isActiveMember": False},
        status_start_date=compliance.output["period_end"],
    )

    @task
    def write_report(result: dict[str, Any], changes: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
        """Write the compliance report (JSON) and return where it is, with the counts (one file per run)."""
        changed = {i["key"]: i["status"] for i in changes["items"]}
        lines = []
        for row in result["members"]:
            member = row["member"].get("userId") or json.dumps(row["member"])
            lines.append(
                {
                    "member": member,
                    "earned_credits": row["earnedCredits"],
                    "required_credits": row["requiredCredits"],
                    "shortfall": row["shortfall"],
                    "compliant": row["compliant"],
                    "status_change": changed.get(member, "none"),
                }
            )
        report = {
            "cycle_id": result["cycle_id"],
            "cycle_period_id": result["cycle_period_id"],
            "period_name": result["period_name"],
            "period_end": result["period_end"],
            "compliant": len(result["compliant"]),
            "non_compliant": len(result["non_compliant"]),
            "restricted_now": changes["done"],
            "already_restricted": changes["already_done"],
            "members": lines,
        }
        folder = Path(os.environ.get("LARA_REPORT_DIR", tempfile.gettempdir()))
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", f"{result['cycle_period_id']}_{run_id or 'run'}")
        path = folder / f"lara_compliance_{safe}.json"
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print(
            f"Period {report['period_name']} (ended {report['period_end']}): {report['compliant']} compliant, "
            f"{report['non_compliant']} non-compliant, {report['restricted_now']} restricted now, "
            f"{report['already_restricted']} already restricted. Report: {path}"
        )
        return {"path": str(path), **{k: v for k, v in report.items() if k != "members"}}

    wait >> compliance
    write_report(compliance.output, restrict.output)
