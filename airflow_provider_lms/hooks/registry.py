"""Which hook class serves which connection type, so that generic operators work with every platform."""

from __future__ import annotations

from airflow.sdk import BaseHook

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.capabilities import (
    CAPABILITIES,
    PLATFORM_MODULES,
    platform_hook,
    platforms_with,
    registered_hooks,
)
from airflow_provider_lms.http.errors import LmsInputError

__all__ = [
    "CAPABILITY_OPERATORS",
    "aget_lms_hook",
    "capability_matrix",
    "get_lms_hook",
    "hook_class_for",
    "platforms_with",
]


# No table of every platform is built here: that would import every platform's hook, and the operators and
# sensors import this module when a DAG file names them. hook_class_for imports the one platform a connection
# needs; each platform module registers itself (hooks/capabilities.py): a new platform is one line there.

#: Capability -> the generic operator (or sensor) that uses it, as ``module:Class``. Strings, not classes:
#: the operators import the hooks, so the hooks cannot import them. ``scripts/capability_matrix.py`` writes
#: the README's table from this, :data:`~airflow_provider_lms.hooks.capabilities.CAPABILITIES` and the
#: hooks' declared ``capabilities``; a unit test checks every entry names a class of that capability.
CAPABILITY_OPERATORS: dict[str, str] = {
    "ensure_learners": "airflow_provider_lms.operators.learners:LmsEnsureLearnersOperator",
    "subscribe": "airflow_provider_lms.operators.enrollment:LmsSubscribeOperator",
    "score_external_activity": "airflow_provider_lms.operators.enrollment:LmsScoreExternalActivityOperator",
    "award_certificate": "airflow_provider_lms.operators.enrollment:LmsAwardCertificateOperator",
    "enrollment_status": "airflow_provider_lms.sensors.enrollment:EnrollmentCompletedSensor",
    "subscribe_groups": "airflow_provider_lms.operators.subscriptions:LmsSubscribeGroupsOperator",
    "unsubscribe": "airflow_provider_lms.operators.subscriptions:LmsUnsubscribeOperator",
    "update_subscription": "airflow_provider_lms.operators.subscriptions:LmsUpdateSubscriptionOperator",
    "revoke_certificate": "airflow_provider_lms.operators.certificates:LmsRevokeCertificateOperator",
    "update_member_status": "airflow_provider_lms.operators.members:LmsUpdateMemberStatusesOperator",
}


def capability_matrix() -> dict[str, dict[str, bool]]:
    """Capability -> platform display name -> whether that platform's hook declares it.

    Every capability of :data:`~airflow_provider_lms.hooks.capabilities.CAPABILITIES`, in its order, and every
    registered platform, in registration order: what the README's table shows, asked of the code.
    """
    return {
        capability: {cls.platform: cls.supports(capability) for cls in registered_hooks().values()}
        for capability in CAPABILITIES
    }


def hook_class_for(conn_type: str | None, conn_id: str) -> type[LmsHook]:
    """The hook class for a connection type (importing that platform only); a readable error for a foreign one."""
    cls = platform_hook((conn_type or "").lower())
    if cls is None:
        known = ", ".join(sorted(PLATFORM_MODULES))
        raise LmsInputError(
            "lms_conn_id",
            f"connection {conn_id!r} has type {conn_type!r}, which is not an LMS connection (types: {known})",
        )
    return cls


def get_lms_hook(conn_id: str) -> LmsHook:
    """The platform hook for a connection, chosen by the connection's type (the connection is read once)."""
    conn = BaseHook.get_connection(conn_id)
    return hook_class_for(conn.conn_type, conn_id)(conn_id, connection=conn)


async def aget_lms_hook(conn_id: str) -> LmsHook:
    """The async-safe twin of :func:`get_lms_hook` (for triggers)."""
    conn = await BaseHook.aget_connection(conn_id)
    return hook_class_for(conn.conn_type, conn_id)(conn_id, connection=conn)
