"""The capability table: what each capability lets a DAG do, and which platforms have it.

Platform hooks register themselves here (:func:`register_platform`) when their module is imported, so
that :meth:`LmsHook.require <airflow_provider_lms.hooks.base.LmsHook.require>` can name the platforms
that can do what another cannot, without the base hook importing the platform hooks (which import it).
Asking the whole table (:func:`platforms_with`, :func:`registered_hooks`) imports every platform module
first, so it is complete whichever hook was imported first; :func:`platform_hook` imports one platform only.
Importing this module, or one hook, imports no other platform: a DAG file that names one operator must not
pay for five platforms' models, GraphQL and SOAP at parse time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from airflow_provider_lms.hooks.base import LmsHook

__all__ = [
    "CAPABILITIES",
    "PLATFORM_MODULES",
    "platform_hook",
    "platforms_with",
    "register_platform",
    "registered_hooks",
]

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

#: Every platform's connection type, which is also its module under ``airflow_provider_lms.hooks``. Not
#: sorted: this is the order in which error messages and the README's table name the platforms.
PLATFORM_MODULES = ("eduframe", "anewspring", "pluvo", "pynter", "lara")

# conn_type -> hook class, as registered (in whatever order a DAG imported them).
_PLATFORMS: dict[str, type[LmsHook]] = {}


def _all_platforms() -> list[type[LmsHook]]:
    """Every platform hook, in :data:`PLATFORM_MODULES` order, importing the modules not imported yet."""
    for name in PLATFORM_MODULES:
        if name not in _PLATFORMS:
            importlib.import_module(f"airflow_provider_lms.hooks.{name}")
    return [_PLATFORMS[name] for name in PLATFORM_MODULES] + [
        cls for name, cls in _PLATFORMS.items() if name not in PLATFORM_MODULES
    ]


def platform_hook(conn_type: str) -> type[LmsHook] | None:
    """The hook class of one connection type, importing that platform's module only (None: not ours)."""
    if conn_type not in _PLATFORMS and conn_type in PLATFORM_MODULES:
        importlib.import_module(f"airflow_provider_lms.hooks.{conn_type}")
    return _PLATFORMS.get(conn_type)


def register_platform(cls: H) -> H:
    """Class decorator: record a platform hook under its connection type."""
    _PLATFORMS[cls.conn_type] = cls
    return cls


def platforms_with(capability: str) -> list[str]:
    """Display names of the platforms that support ``capability``."""
    return [cls.platform for cls in _all_platforms() if cls.supports(capability)]


def registered_hooks() -> dict[str, type[LmsHook]]:
    """Every registered platform hook by connection type, in registration order."""
    return {cls.conn_type: cls for cls in _all_platforms()}
