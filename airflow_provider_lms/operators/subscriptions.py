"""Generic subscription operators: subscribe groups, unsubscribe, update a subscription's dates.

Like the other generic operators they work with every platform that has the capability (aNewSpring in
this release) and fail at once, before any request, on a platform that has not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsSubscribeGroupsOperator", "LmsUnsubscribeOperator", "LmsUpdateSubscriptionOperator"]


class LmsSubscribeGroupsOperator(LmsBulkOperator):
    """Subscribe whole learner groups to a course (aNewSpring: ``subscribeGroups``).

    One item per group; members already subscribed are left as they are, so a re-run subscribes nobody
    twice.

    :param lms_conn_id: the platform connection.
    :param course_id: the course (aNewSpring: external id, or UID with ``platform_options={"address_by": "uid"}``).
    :param group_ids: the groups' external ids.
    :param platform_options: aNewSpring: ``address_by``, ``fields`` (extra form fields).
    :param concurrency: how many groups are handled at once.
    :param fail_on_item_error: fail the task when any group failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "course_id", "group_ids", "platform_options")
    capability = "subscribe_groups"
    operation = "subscribe_groups"

    def __init__(
        self, *, course_id: Any, group_ids: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.course_id = course_id
        self.group_ids = group_ids
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        course = hook.parse_course_id("course_id", self.course_id)
        groups = self.parse_ids("group_ids", self.group_ids, hook.parse_group_id)
        options = self.checked_options(hook, self.platform_options)
        summary = self.run_bulk(groups, lambda g: hook.subscribe_group(course, g, **options), key=str)
        return self.finish(context, summary)


class LmsUnsubscribeOperator(LmsBulkOperator):
    """Unsubscribe learners from a course; a learner who is not subscribed counts as already done.

    :param lms_conn_id: the platform connection.
    :param course_id: the course.
    :param learner_ids: the learners.
    :param platform_options: aNewSpring: ``address_by``.
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "course_id", "learner_ids", "platform_options")
    capability = "unsubscribe"
    operation = "unsubscribe"

    def __init__(
        self, *, course_id: Any, learner_ids: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any
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
        summary = self.run_bulk(learners, lambda learner: hook.unsubscribe_learner(course, learner, **options), key=str)
        return self.finish(context, summary)


class LmsUpdateSubscriptionOperator(LmsBulkOperator):
    """Set the start date, the expiry date and/or the expired flag of learners' subscriptions.

    Give at least one of ``start_date``, ``expiry_date``, ``expired``; they apply to every learner.
    Subscriptions that already show the wanted values are left alone (aNewSpring shows the start date and
    the expired flag; an expiry date is always sent, which is harmless: it sets an absolute value).

    :param lms_conn_id: the platform connection.
    :param course_id: the course.
    :param learner_ids: the learners whose subscriptions change.
    :param start_date: the new start date (``YYYY-MM-DD`` or a date).
    :param expiry_date: the new expiry date.
    :param expired: set (True) or clear (False) the expired flag.
    :param platform_options: aNewSpring: ``address_by``, ``field_names`` (override the ASSUMED form field
        names ``startDate``, ``expireDate``, ``expired``: keys ``start_date``, ``expiry_date``, ``expired``),
        ``fields`` (extra form fields).
    :param concurrency: how many learners are handled at once.
    :param fail_on_item_error: fail the task when any learner failed.
    """

    template_fields: Sequence[str] = (
        "lms_conn_id",
        "course_id",
        "learner_ids",
        "start_date",
        "expiry_date",
        "expired",
        "platform_options",
    )
    capability = "update_subscription"
    operation = "update_subscription"

    def __init__(
        self,
        *,
        course_id: Any,
        learner_ids: Any,
        start_date: Any = None,
        expiry_date: Any = None,
        expired: Any = None,
        platform_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.course_id = course_id
        self.learner_ids = learner_ids
        self.start_date = start_date
        self.expiry_date = expiry_date
        self.expired = expired
        self.platform_options = platform_options

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        course = hook.parse_course_id("course_id", self.course_id)
        learners = self.parse_learners(hook, self.learner_ids)
        if all(v in (None, "") for v in (self.start_date, self.expiry_date, self.expired)):
            raise LmsInputError("start_date", "give start_date, expiry_date or expired")
        if self.expired not in (None, "") and not isinstance(self.expired, bool):
            raise LmsInputError("expired", f"must be true or false, got {self.expired!r}")
        options = self.checked_options(hook, self.platform_options)
        values: dict[str, Any] = {
            "start_date": self.start_date or None,
            "expiry_date": self.expiry_date or None,
            "expired": None if self.expired in (None, "") else self.expired,
        }
        # Check the values once, before the first request (the same check runs per item again).
        hook.check_subscription_update(values["start_date"], values["expiry_date"], values["expired"], **options)
        summary = self.run_bulk(
            learners,
            lambda learner: hook.update_learner_subscription(course, learner, **values, **options),
            key=str,
        )
        return self.finish(context, summary)
