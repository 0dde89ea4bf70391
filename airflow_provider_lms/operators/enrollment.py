"""Generic enrollment operators: subscribe, score external activity, award certificate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.models.inputs import ScoreRow, dedupe_rows, validate_models
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsAwardCertificateOperator", "LmsScoreExternalActivityOperator", "LmsSubscribeOperator"]


class LmsSubscribeOperator(LmsBulkOperator):
    """Enroll learners in a course; learners already enrolled count as done, never twice.

    Returns the bulk summary; each item's result holds the ``enrollment_id``. The enrollment ids are
    also pushed as XCom ``enrollment_ids`` (input order, failed items left out).

    :param lms_conn_id: the platform connection (Eduframe: the course is a planned course id).
    :param course_id: the course to enroll in.
    :param learner_ids: the learners' ids on the platform.
    :param platform_options: platform-specific options (Eduframe: ``creator_id``, ``approve``).
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "course_id", "learner_ids", "platform_options")
    capability = "subscribe"
    operation = "subscribe"

    def __init__(
        self,
        *,
        course_id: Any,
        learner_ids: Any,
        platform_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.course_id = course_id
        self.learner_ids = learner_ids
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        course = hook.parse_course_id("course_id", self.course_id)
        learners = self.parse_learners(hook, self.learner_ids)
        options = self.checked_options(hook, self.platform_options)
        summary = self.run_bulk(learners, lambda learner: hook.subscribe_learner(course, learner, **options), key=str)
        ids = [item.result["enrollment_id"] for item in summary.items if item.result]
        return self.finish(context, summary, enrollment_ids=ids)


class LmsScoreExternalActivityOperator(LmsBulkOperator):
    """Record results from outside the platform (an exam system's export) in one bulk run.

    Each row is created, or updated when it differs; identical rows count as already done, so a
    re-run changes nothing.

    :param lms_conn_id: the platform connection.
    :param scores: rows of ``{"learner_id", "course_id", "score", "grade", "activity_id", "comment"}``;
        ``score`` (a number from 0) or ``grade`` is required. Eduframe: ``course_id`` is the planned
        course, and the result becomes the enrollment's grade.
    :param platform_options: platform-specific options.
    :param concurrency: how many rows are handled at once.
    :param fail_on_item_error: fail the task when any row failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "scores", "platform_options")
    capability = "score_external_activity"
    operation = "score_external_activity"

    def __init__(self, *, scores: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scores = scores
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        rows = validate_models(ScoreRow, self.scores, "scores")
        options = self.checked_options(hook, self.platform_options)
        # Platform rules a row must meet (aNewSpring: an activity id, a percentage), checked before the run;
        # the ids in their platform form, so that "06" and 6 are seen as the same learner below.
        normalized = []
        for i, row in enumerate(rows):
            learner = hook.parse_learner_id(f"scores[{i}].learner_id", row.learner_id)
            course = hook.parse_course_id(f"scores[{i}].course_id", row.course_id)
            hook.check_score_row(f"scores[{i}]", row, **options)
            normalized.append(row.model_copy(update={"learner_id": learner, "course_id": course}))
        # Two identical rows are one result (sent once); two different results for one target are refused.
        rows, merged = dedupe_rows("scores", normalized, ScoreRow.target, what="learner, course and activity")
        self.merged.update(merged)
        summary = self.run_bulk(
            rows,
            lambda row: hook.score_activity(row, **options),
            key=lambda r: f"{r.learner_id}/{r.course_id}" + (f"/{r.activity_id}" if r.activity_id else ""),
        )
        return self.finish(context, summary)


class LmsAwardCertificateOperator(LmsBulkOperator):
    """Award learners the certificate of a program; learners already certified count as done.

    :param lms_conn_id: the platform connection.
    :param program_id: the program the certificate is for (Eduframe: the program edition id).
    :param learner_ids: the learners' ids.
    :param certificate_template_id: the certificate template, where the platform needs one (Eduframe).
    :param platform_options: further platform-specific options.
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = (
        "lms_conn_id",
        "program_id",
        "learner_ids",
        "certificate_template_id",
        "platform_options",
    )
    capability = "award_certificate"
    operation = "award_certificate"

    def __init__(
        self,
        *,
        program_id: Any,
        learner_ids: Any,
        certificate_template_id: Any = None,
        platform_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.program_id = program_id
        self.learner_ids = learner_ids
        self.certificate_template_id = certificate_template_id
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        program = hook.parse_program_id("program_id", self.program_id)
        learners = self.parse_learners(hook, self.learner_ids)
        options = self.checked_options(
            hook, self.platform_options, certificate_template_id=self.certificate_template_id
        )
        summary = self.run_bulk(learners, lambda learner: hook.award_certificate(learner, program, **options), key=str)
        return self.finish(context, summary)
