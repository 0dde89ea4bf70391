"""Generic certificate operators: revoke a program's certificate (awarding is in ``enrollment.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsRevokeCertificateOperator"]


class LmsRevokeCertificateOperator(LmsBulkOperator):
    """Revoke learners' certificates of a program; learners who hold none count as already done.

    One item per learner, so a re-run revokes nothing twice and a learner who never had the certificate is
    not an error (a withdrawal list often names learners who never finished).

    :param lms_conn_id: the platform connection.
    :param program_id: the program the certificate is for (Eduframe: the program edition id).
    :param learner_ids: the learners' ids.
    :param platform_options: platform-specific options (Eduframe: none).
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "program_id", "learner_ids", "platform_options")
    capability = "revoke_certificate"
    operation = "revoke_certificate"

    def __init__(
        self,
        *,
        program_id: Any,
        learner_ids: Any,
        platform_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.program_id = program_id
        self.learner_ids = learner_ids
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        program = hook.parse_program_id("program_id", self.program_id)
        learners = self.parse_learners(hook, self.learner_ids)
        options = self.checked_options(hook, self.platform_options)
        summary = self.run_bulk(learners, lambda learner: hook.revoke_certificate(learner, program, **options), key=str)
        return self.finish(context, summary)
