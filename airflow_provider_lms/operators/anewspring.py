"""aNewSpring-only operators: learner group membership in bulk (``addGroupUsers``, ``deleteGroupUsers``).

Group membership is not a generic capability (anewspring-more.md section 3: no other platform in this
provider has aNewSpring's user groups), so these operators take an aNewSpring connection and refuse any
other at once. Each run reads the group's members once (``getGroupUsers``) and sends a write only for the
users whose membership must change: a re-run sends nothing, and every user's outcome is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsInputError
from airflow_provider_lms.models.inputs import check_text, shown
from airflow_provider_lms.operators.base import LmsBulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AnewspringAddGroupMembersOperator", "AnewspringRemoveGroupMembersOperator"]


def _anewspring_hook(conn_id: str) -> ANewSpringHook:
    hook = get_lms_hook(conn_id)
    if not isinstance(hook, ANewSpringHook):
        raise LmsCapabilityError(
            f"connection {conn_id!r} is a {hook.platform} connection; this operator works with aNewSpring only"
        )
    return hook


class _AnewspringGroupOperator(LmsBulkOperator):
    """A bulk operator over the members of one aNewSpring user group.

    :param lms_conn_id: the aNewSpring connection.
    :param group_id: the group's external id.
    :param user_ids: the users' external ids.
    :param platform_options: see the subclasses.
    :param concurrency: how many users are handled at once.
    :param fail_on_item_error: fail the task when any user failed.
    """

    template_fields: Sequence[str] = ("lms_conn_id", "group_id", "user_ids", "platform_options")

    def __init__(
        self, *, group_id: Any, user_ids: Any, platform_options: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.group_id = group_id
        self.user_ids = user_ids
        self.platform_options = platform_options

    def resolve_hook(self) -> ANewSpringHook:
        return _anewspring_hook(self.lms_conn_id)

    def prepare_hook(self) -> ANewSpringHook:
        # The base class does the work (in the task's thread, before the bulk threads); this only narrows the type.
        return cast(ANewSpringHook, super().prepare_hook())

    def _options(self, hook: ANewSpringHook) -> dict[str, Any]:
        # Checked under this operator's operation: the base class would use the (empty) capability name.
        if self.platform_options is None:
            return {}
        if not isinstance(self.platform_options, dict):
            raise LmsInputError("platform_options", f"must be a mapping, got {shown(self.platform_options)}")
        for key in self.platform_options:
            check_text("platform_options key", key, max_length=100)
        return hook.validate_options(self.operation, dict(self.platform_options))

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.prepare_hook()
        group = hook.parse_group_id("group_id", self.group_id)
        users = self.parse_learners(hook, self.user_ids, field="user_ids")
        options = self._options(hook)
        summary = self.run_bulk(users, lambda user: self.change(hook, group, user, options), key=str)
        return self.finish(context, summary)

    def change(self, hook: ANewSpringHook, group: str, user: str, options: dict[str, Any]) -> Any:
        """One user's change (subclasses)."""
        raise NotImplementedError


class AnewspringAddGroupMembersOperator(_AnewspringGroupOperator):
    """Add users to an aNewSpring user group (``addGroupUsers``); members already in count as already done.

    The group's members are read once per run (``getGroupUsers``); each missing user is added with
    ``ignoreDuplicates=true``, so a user added meanwhile is no error. A user needs the role of the group's
    type (a learner group: ``student``), else aNewSpring answers 409 and that user's item fails with it.
    Returns the bulk summary; each item's result is ``{"group_id", "user_id"}``.

    :param lms_conn_id: the aNewSpring connection.
    :param group_id: the group's external id.
    :param user_ids: the users' external ids.
    :param platform_options: ``notify`` (default False: no mail about the subscriptions the group gives),
        ``add_to_teacher_students`` (default False), ``use_roster`` (default True: read the members once per
        run; False: ``groupUserExists`` per user).
    :param concurrency: how many users are handled at once.
    :param fail_on_item_error: fail the task when any user failed.
    """

    operation = "add_group_members"

    def change(self, hook: ANewSpringHook, group: str, user: str, options: dict[str, Any]) -> Any:
        return hook.add_group_member(group, user, **options)


class AnewspringRemoveGroupMembersOperator(_AnewspringGroupOperator):
    """Remove users from an aNewSpring user group (``deleteGroupUsers``); users not in it count as already done.

    The group's members are read once per run (``getGroupUsers``); each member is removed with
    ``ignoreMissing=true``, so a user removed meanwhile is no error. A user id that names nobody is not a
    member, so it is already done too.

    :param lms_conn_id: the aNewSpring connection.
    :param group_id: the group's external id.
    :param user_ids: the users' external ids.
    :param platform_options: ``use_roster`` (default True: read the members once per run).
    :param concurrency: how many users are handled at once.
    :param fail_on_item_error: fail the task when any user failed.
    """

    operation = "remove_group_members"

    def change(self, hook: ANewSpringHook, group: str, user: str, options: dict[str, Any]) -> Any:
        return hook.remove_group_member(group, user, **options)
