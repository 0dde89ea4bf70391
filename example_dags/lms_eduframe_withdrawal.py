"""Eduframe, a withdrawal: learners who left take no seat in the course and keep no certificate.

1. read the HR system's list of withdrawn people (``data/eduframe_withdrawals.csv``: e-mail, last day,
   reason);
2. look each one up in Eduframe by e-mail (``GET /users?email=``); people Eduframe does not know are
   reported, not created;
3. cancel their enrollment in the planned course (``PUT /enrollments/{id}/cancel``); learners without one
   count as done;
4. delete the program edition's certificate from their program enrollment
   (``POST /program/enrollments/{id}/delete_certificate``); learners without one count as done;
5. write a CSV report, one line per person: what happened to the enrollment and to the certificate.

Every step looks before it writes: a re-run cancels and revokes nothing again and reports everyone as
already done. The defaults point at the sandbox's seeded data (planned course 1 in program edition 1); set
the ``eduframe_default`` connection and the params for your own Eduframe.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import LmsRevokeCertificateOperator, LmsUnsubscribeOperator

CONN_ID = "eduframe_default"
WITHDRAWALS = Path(__file__).resolve().parent / "data" / "eduframe_withdrawals.csv"

with DAG(
    dag_id="lms_eduframe_withdrawal",
    description="Cancel withdrawn learners' Eduframe enrollments, revoke their program certificate, report.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,  # ids from params stay ints
    params={
        "planned_course_id": Param(1, type="integer", minimum=1, description="Eduframe planned course"),
        "program_edition_id": Param(1, type="integer", minimum=1, description="Program edition (certificate)"),
        "withdrawals": Param(str(WITHDRAWALS), type="string", description="CSV of withdrawn people (email, ...)"),
        "report_dir": Param("", type="string", description="Where the report goes (default $AIRFLOW_HOME/reports)"),
    },
    tags=["lms", "eduframe", "example"],
) as dag:

    @task
    def read_withdrawals(path: str) -> list[dict[str, str]]:
        """The withdrawn people of the HR list, one row each (e-mail addresses compared lower-cased)."""
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]
        people: dict[str, dict[str, str]] = {}
        for row in rows:
            if row.get("email"):
                people.setdefault(row["email"].lower(), {**row, "email": row["email"].lower()})
        print(f"read {len(people)} withdrawn people from {path}")
        return list(people.values())

    @task
    def look_up_learners(people: list[dict[str, str]]) -> dict[str, Any]:
        """Each person's Eduframe user id; the ones Eduframe does not know are listed, never created."""
        from airflow_provider_lms.hooks.eduframe import EduframeHook

        hook = EduframeHook(CONN_ID)
        found: dict[str, str] = {}
        unknown: list[str] = []
        try:
            for person in people:
                user = hook.find_user_by_email(person["email"])
                if user is None:
                    unknown.append(person["email"])
                else:
                    found[person["email"]] = str(user.id)
        finally:
            hook.close()
        print(f"{len(found)} found in Eduframe, {len(unknown)} unknown: {unknown}")
        if not found:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException("nobody on the list is known to Eduframe")
        return {"learner_ids": list(found.values()), "by_email": found, "unknown": unknown}

    withdrawn = read_withdrawals("{{ params.withdrawals }}")
    learners = look_up_learners(withdrawn)

    unsubscribe = LmsUnsubscribeOperator(
        task_id="cancel_enrollments",
        lms_conn_id=CONN_ID,
        course_id="{{ params.planned_course_id }}",
        learner_ids=learners["learner_ids"],
    )

    revoke = LmsRevokeCertificateOperator(
        task_id="revoke_certificates",
        lms_conn_id=CONN_ID,
        program_id="{{ params.program_edition_id }}",
        learner_ids=learners["learner_ids"],
    )

    @task
    def report(
        people: list[dict[str, str]],
        learners: dict[str, Any],
        enrollments: dict[str, Any],
        certificates: dict[str, Any],
        report_dir: str,
        run_label: str | None = None,
    ) -> dict[str, Any]:
        """One line per withdrawn person: what happened to the enrollment and the certificate."""
        canceled = {item["key"]: item for item in enrollments["items"]}
        revoked = {item["key"]: item for item in certificates["items"]}

        def outcome(item: dict[str, Any] | None, done: str, nothing: str) -> str:
            if item is None:
                return ""
            if item["status"] == "failed":
                return f"failed: {item['error']}"
            if item["status"] == "done":
                return done
            # Already done: this run changed nothing (an earlier run did, or there was nothing to change).
            return nothing

        rows = []
        for person in people:
            learner = learners["by_email"].get(person["email"])
            enrollment = canceled.get(learner or "")
            certificate = revoked.get(learner or "")
            rows.append(
                {
                    "email": person["email"],
                    "last_day": person.get("last_day", ""),
                    "reason": person.get("reason", ""),
                    "eduframe_user_id": learner or "",
                    "enrollment": outcome(enrollment, "canceled", "none open (already canceled or never enrolled)")
                    if learner
                    else "not in Eduframe",
                    "certificate": outcome(certificate, "revoked", "none held") if learner else "not in Eduframe",
                }
            )
        folder = Path(report_dir or Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / "reports")
        folder.mkdir(parents=True, exist_ok=True)
        safe_run = "".join(c if c.isalnum() or c in "-_" else "_" for c in (run_label or "manual"))
        path = folder / f"eduframe_withdrawal_{safe_run}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"report written to {path}: {len(rows)} people")
        return {"path": str(path), "people": len(rows)}

    report(withdrawn, learners, unsubscribe.output, revoke.output, "{{ params.report_dir }}", "{{ run_id }}")

    # The seat goes first, then the certificate: a learner still in the course would earn it again.
    unsubscribe >> revoke
