"""Find or create learners on any platform that can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.models.inputs import LearnerSpec, dedupe_rows, validate_models
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsEnsureLearnersOperator"]


class LmsEnsureLearnersOperator(LmsBulkOperator):
    """Find each learner by e-mail, creating the ones that do not exist yet.

    Returns the bulk summary; each item's result is ``{"learner_id", "email"}``. The learner ids, in
    input order, are also pushed as XCom ``learner_ids`` (use ``task.output["learner_ids"]``).

    :param lms_conn_id: the platform connection.
    :param learners: a list of ``{"email", "first_name", "last_name"}``, optionally with ``external_id`` (your
        own id for the learner, e.g. an HR employee number; Pluvo keeps it as the user's ``ref``).
    :param platform_options: platform-specific options (Pluvo: ``send_invite``, default false, because Pluvo
        mails an invitation by default).
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "learners", "platform_options")
    capability = "ensure_learners"
    operation = "ensure_learners"

    def __init__(self, *, learners: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.learners = learners
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        specs = validate_models(LearnerSpec, self.learners, "learners")
        options = self.checked_options(hook, self.platform_options)
        # Every row passes the platform's rules (e.g. Pynter and aNewSpring need an external id) before any request.
        for i, spec in enumerate(specs):
            hook.check_learner(f"learners[{i}]", spec, **options)
        # Rows are merged by what identifies a learner on the platform (the lower-cased e-mail, or the external
        # id where the platform finds people by it): the same learner twice is one item; two rows for one
        # learner that differ are refused (which name would the learner get?).
        what = "e-mail address" if type(hook).learner_key is LmsHook.learner_key else "learner"
        specs, merged = dedupe_rows("learners", specs, hook.learner_key, what=what)
        self.merged.update(merged)
        summary = self.run_bulk(specs, lambda spec: hook.ensure_learner(spec, **options), key=lambda s: s.email)
        ids = [item.result["learner_id"] for item in summary.items if item.result]
        return self.finish(context, summary, learner_ids=ids)
