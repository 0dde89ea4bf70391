"""The flagship flow: from enrollment to certification across three platforms.

A training company administers its courses in **Eduframe**, runs the e-learning in **aNewSpring**, and its
learners are members of a professional order whose continuing-education register is **Lära**:

1. Eduframe: find or create each learner of the roster, enroll them in the planned course and in the
   program edition whose certificate they work towards;
2. aNewSpring: subscribe them to the e-learning course, where the learning happens;
3. aNewSpring: push the external practical exam's scores (the exam system's CSV export);
4. wait, deferred in the triggerer, until each learner has completed the aNewSpring course. A deferred
   sensor holds no worker slot while it waits, however long the learners take;
5. Eduframe: record each learner's exam result as their grade, and award the program certificate to those
   aNewSpring certified;
6. Lära: read each member's continuing-education credits in the cycle period and give members who fall
   short a restricted, inactive status. Lära's ``lmsapi`` has no call that records credits (it reads
   progress and writes member statuses), so the order's own register keeps the credits and this flow keeps
   the professional status in line with them;
7. write one report (JSON) that joins all of it per learner.

Every step is idempotent: a re-run enrolls, subscribes, grades, certifies and restricts nobody twice. The
roster maps each learner to their ids on each platform. The defaults point at the sandbox's seeded data; set
the ``eduframe_default``, ``anewspring_default`` and ``lara_default`` connections and the params for your own.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeOperator,
)
from airflow_provider_lms.operators.lara import LaraChangeCurrentMemberStatusOperator, LaraCycleComplianceOperator
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

EDUFRAME = "eduframe_default"
ANEWSPRING = "anewspring_default"
LARA = "lara_default"
SCORES_CSV = Path(__file__).resolve().parent / "data" / "anewspring_exam_scores.csv"

# The sandbox's seeded people, as one organisation's roster: the same person on each platform.
DEMO_ROSTER = [
    {"email": f"{user}@sandbox.example", "first_name": first, "last_name": last, "anewspring_id": a, "lara_permit": p}
    for user, first, last, a, p in [
        ("anna.devries", "Anna", "de Vries", "learner-001", "10001"),
        ("bram.jansen", "Bram", "Jansen", "learner-002", "10002"),
        ("chloe.bakker", "Chloé", "Bakker", "learner-003", "10003"),
        ("daan.visser", "Daan", "Visser", "learner-004", "10004"),
    ]
]
# The sandbox's Lära cycle and its demo period (airflow_provider_lms.sandbox.lara), ids as Lära gives them.
DEMO_CYCLE_ID = "JJN9NAAVBf%2bYg6o%2bKWjjuQ%3d%3d"
DEMO_PERIOD_ID = "EWkzD4Y8i%2f1CS56GYZy57w%3d%3d"

with DAG(
    dag_id="lms_flagship_enrollment_to_certification",
    description="Eduframe enrollment, aNewSpring learning and exam, Eduframe certificate, Lära member status.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,  # ids and lists from params stay ints and lists
    params={
        "roster": Param(
            DEMO_ROSTER,
            type="array",
            description="Learners: email, first_name, last_name, anewspring_id, lara_permit",
        ),
        "planned_course_id": Param(1, type="integer", minimum=1, description="Eduframe planned course"),
        "program_edition_id": Param(1, type="integer", minimum=1, description="Eduframe program edition"),
        "certificate_template_id": Param(1, type="integer", minimum=1, description="Eduframe certificate template"),
        "anewspring_course_id": Param("VEILIG-2026", type="string", description="aNewSpring course (external id)"),
        "scores_csv": Param(str(SCORES_CSV), type="string", description="The exam system's export"),
        "lara_cycle_id": Param(DEMO_CYCLE_ID, type="string", description="Lära cycle (règlement)"),
        "lara_cycle_period_id": Param(DEMO_PERIOD_ID, type="string", description="Lära cycle period"),
        "lara_permit_field": Param("numero_permis", type="string", description="Lära custom field of the roster"),
        "restricted_status": Param("Restreint - formation continue incomplète", type="string"),
        "report_dir": Param("", type="string", description="Where the report goes (default $AIRFLOW_HOME/reports)"),
    },
    tags=["lms", "eduframe", "anewspring", "lara", "example", "flagship"],
) as dag:

    @task(multiple_outputs=True)
    def read_roster(roster: list[dict[str, Any]], permit_field: str) -> dict[str, Any]:
        """Split the roster into what each platform needs; a row missing an id fails here, before any request."""
        needed = ("email", "first_name", "last_name", "anewspring_id", "lara_permit")
        for i, row in enumerate(roster):
            missing = [k for k in needed if not str(row.get(k) or "").strip()]
            if missing:
                raise ValueError(f"roster[{i}] lacks {', '.join(missing)}")
        print(f"roster: {len(roster)} learners")
        return {
            "learners": [{k: row[k] for k in ("email", "first_name", "last_name")} for row in roster],
            "lara_members": [
                {"customFieldAPIName": permit_field, "customFieldValue": str(row["lara_permit"])} for row in roster
            ],
        }

    @task
    def read_exam_scores(path: str, course_id: str, anewspring_ids: list[str]) -> list[dict[str, Any]]:
        """The exam export's rows for this course and the roster's learners."""
        wanted = set(anewspring_ids)
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [
                {k: (v.strip() or None) for k, v in row.items() if k}
                for row in csv.DictReader(handle)
                if row.get("course_id", "").strip() == course_id and row.get("learner_id", "").strip() in wanted
            ]
        print(f"read {len(rows)} exam scores for {len(wanted)} learners from {path}")
        return rows

    @task
    def anewspring_learners(roster: list[dict[str, Any]]) -> list[str]:
        """The roster's aNewSpring ids (a task's return value, so that the sensor can map over it)."""
        return [str(row["anewspring_id"]) for row in roster]

    roster = read_roster("{{ params.roster }}", "{{ params.lara_permit_field }}")
    anewspring_ids = anewspring_learners("{{ params.roster }}")
    roster >> anewspring_ids

    # 1. Eduframe: the administration.
    learners = LmsEnsureLearnersOperator(
        task_id="eduframe_find_or_create_learners", lms_conn_id=EDUFRAME, learners=roster["learners"]
    )
    enroll_course = LmsSubscribeOperator(
        task_id="eduframe_enroll_in_course",
        lms_conn_id=EDUFRAME,
        course_id="{{ params.planned_course_id }}",
        learner_ids=learners.output["learner_ids"],
    )
    enroll_program = LmsSubscribeOperator(
        task_id="eduframe_enroll_in_program",
        lms_conn_id=EDUFRAME,
        course_id="{{ params.program_edition_id }}",
        learner_ids=learners.output["learner_ids"],
        platform_options={"target": "program_edition"},
    )

    # 2-3. aNewSpring: the learning, and the external exam's scores.
    subscribe = LmsSubscribeOperator(
        task_id="anewspring_subscribe",
        lms_conn_id=ANEWSPRING,
        course_id="{{ params.anewspring_course_id }}",
        learner_ids=anewspring_ids,
    )
    exam = read_exam_scores("{{ params.scores_csv }}", "{{ params.anewspring_course_id }}", anewspring_ids)
    push_scores = LmsScoreExternalActivityOperator(
        task_id="anewspring_push_exam_scores", lms_conn_id=ANEWSPRING, scores=exam
    )

    # 4. Waiting costs no worker slot: each learner's wait is a trigger in the triggerer's event loop.
    completed = EnrollmentCompletedSensor.partial(
        task_id="anewspring_wait_for_completion",
        lms_conn_id=ANEWSPRING,
        course_id="{{ params.anewspring_course_id }}",
        deferrable=True,
        poke_interval=5,
        timeout=30 * 24 * 3600,  # learners may take weeks
    ).expand(learner_id=anewspring_ids)

    @task(multiple_outputs=True)
    def certification_decisions(
        roster: list[dict[str, Any]],
        eduframe_learners: dict[str, Any],
        completions: list[dict[str, Any]],
        exam_rows: list[dict[str, Any]],
        planned_course_id: int,
    ) -> dict[str, Any]:
        """Join the platforms per learner: the Eduframe grade to record, and who earned the certificate."""
        found = [item["result"] for item in eduframe_learners["items"] if item["result"]]
        eduframe_id = {r["email"]: r["learner_id"] for r in found}
        by_anewspring = {str(r["anewspring_id"]): str(r["email"]).lower() for r in roster}
        exam_score = {r["learner_id"]: float(r["score"]) for r in exam_rows if r.get("score") is not None}
        grades, certified, people = [], [], []
        for done in completions:
            learner = str(done["learner_id"])
            email = by_anewspring[learner]
            edu = eduframe_id[email]
            score = exam_score.get(learner)
            if score is not None:
                # aNewSpring scores in percent; Eduframe keeps the Dutch 1-10 grade.
                grades.append(
                    {
                        "learner_id": edu,
                        "course_id": planned_course_id,
                        "score": round(score / 10, 1),
                        "comment": f"Practical exam {score:g}% (aNewSpring {done['course_id']})",
                    }
                )
            if done.get("certified"):
                certified.append(edu)
            people.append(
                {
                    "email": email,
                    "eduframe_id": edu,
                    "anewspring_id": learner,
                    "completed_at": done.get("completed_at"),
                    "exam_score": score,
                    "certified": bool(done.get("certified")),
                }
            )
        print(f"{len(completions)} completed, {len(grades)} grades to record, {len(certified)} to certify")
        return {"grades": grades, "certified": certified, "people": people}

    decisions = certification_decisions(
        "{{ params.roster }}", learners.output, completed.output, exam, "{{ params.planned_course_id }}"
    )

    # 5. Eduframe: grade and certificate.
    grades = LmsScoreExternalActivityOperator(
        task_id="eduframe_record_grades", lms_conn_id=EDUFRAME, scores=decisions["grades"]
    )
    certify = LmsAwardCertificateOperator(
        task_id="eduframe_award_certificates",
        lms_conn_id=EDUFRAME,
        program_id="{{ params.program_edition_id }}",
        certificate_template_id="{{ params.certificate_template_id }}",
        learner_ids=decisions["certified"],
    )

    # 6. Lära: credits in the cycle period, and the professional status that follows from them.
    credits = LaraCycleComplianceOperator(
        task_id="lara_check_credits",
        lms_conn_id=LARA,
        cycle_id="{{ params.lara_cycle_id }}",
        cycle_period_id="{{ params.lara_cycle_period_id }}",
        members=roster["lara_members"],
    )
    restrict = LaraChangeCurrentMemberStatusOperator(
        task_id="lara_restrict_non_compliant",
        lms_conn_id=LARA,
        members=credits.output["non_compliant"],
        status={"status": "{{ params.restricted_status }}", "isActiveMember": False},
        status_start_date=credits.output["period_end"],
    )

    @task
    def write_report(
        people: list[dict[str, Any]],
        graded: dict[str, Any],
        certificates: dict[str, Any],
        compliance: dict[str, Any],
        roster: list[dict[str, Any]],
        report_dir: str,
        run_label: str | None = None,
    ) -> dict[str, Any]:
        """One JSON report per run, one line per learner across the three platforms."""
        permit = {str(r["email"]).lower(): str(r["lara_permit"]) for r in roster}
        credits_by_permit = {
            str(m["member"].get("customFieldValue")): m for m in compliance["members"] if isinstance(m["member"], dict)
        }
        lines = []
        for person in people:
            lara = credits_by_permit.get(permit[person["email"]], {})
            lines.append(
                {
                    **person,
                    "lara_permit": permit[person["email"]],
                    "earned_credits": lara.get("earnedCredits"),
                    "required_credits": lara.get("requiredCredits"),
                    "compliant": lara.get("compliant"),
                }
            )
        report = {
            "run_id": run_label,
            "learners": len(lines),
            "graded": graded["done"] + graded["already_done"],
            "certified": certificates["done"] + certificates["already_done"],
            "non_compliant": len(compliance["non_compliant"]),
            "people": lines,
        }
        folder = Path(report_dir or Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / "reports")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"lms_flagship_{re.sub(r'[^A-Za-z0-9_-]', '_', run_label or 'run')}.json"
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print(
            f"{report['learners']} learners: {report['graded']} graded, {report['certified']} certified, "
            f"{report['non_compliant']} short of credits. Report: {path}"
        )
        return {"path": str(path), **{k: v for k, v in report.items() if k != "people"}}

    # Course first: ordering the program edition would otherwise enroll them in its courses itself.
    enroll_course >> enroll_program >> subscribe >> push_scores >> completed
    grades >> certify
    certify >> credits
    (
        write_report(
            decisions["people"],
            grades.output,
            certify.output,
            credits.output,
            "{{ params.roster }}",
            "{{ params.report_dir }}",
            "{{ run_id }}",
        )
        << restrict
    )
