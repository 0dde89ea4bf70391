"""The capability table: what each capability lets a DAG do, and which platforms have it.

Platform hooks register themselves here (:func:`register_platform`) when their module is imported, so
that :meth:`LmsHook.require <airflow_provider_lms.hooks.base.LmsHook.require>` can name the platforms
that can do what another cannot, without the base hook importing the platform hooks (which import it).
The ``airflow_provider_lms.hooks`` package imports every platform module, so the table is complete
whichever hook is imported first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from airflow_provider_lms.hooks.base import LmsHook

__all__ = ["CAPABILITIES", "platforms_with", "register_platform", "registered_hooks"]

#: Capability name -> what it lets a DAG do, for error messages.
CAPABILITIES: dict[str, str] = {
    "ensure_learners": "find or create learners",
    "subscribe": "subscribe learners to a course",
    "score_external_activity": "record scores of external activities",
    "award_certificate": "award certificates",
    "enrollment_status": "report enrollment status (EnrollmentCompletedSensor)",
    "subscribe_groups": "subscribe learner groups to a course",
    "unsubscribe": "unsubscribe learners from a course",
    "update_subscription": "change a subscription's start date, expiry date or expired flag",
    "revoke_certificate": "revoke certificates",
    "update_member_status": "set members' professional statuses",
}

H = TypeVar("H", bound="type[LmsHook]")

# conn_type -> hook class, in registration order (the order error messages list the platforms in).
_PLATFORMS: dict[str, type[LmsHook]] = {}


def register_platform(cls: H) -> H:
    """Class decorator: record a platform hook under its connection type."""
    _PLATFORMS[cls.conn_type] = cls
    return cls


def platforms_with(capability: str) -> list[str]:
    """Display names of the platforms that support ``capability``."""
    return [cls.platform for cls in _PLATFORMS.values() if cls.supports(capability)]


def registered_hooks() -> dict[str, type[LmsHook]]:
    """Every registered platform hook by connection type, in registration order."""
    return dict(_PLATFORMS)
