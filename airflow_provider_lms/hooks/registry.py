"""Which hook class serves which connection type, so that generic operators work with every platform."""

from __future__ import annotations

from airflow.sdk import BaseHook

# The package imports every platform's hook module, each of which registers itself: a new platform is one
# line there, none here.
import airflow_provider_lms.hooks  # noqa: F401
from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.capabilities import platforms_with, registered_hooks
from airflow_provider_lms.http.errors import LmsInputError

__all__ = ["HOOKS", "aget_lms_hook", "get_lms_hook", "hook_class_for", "platforms_with"]

HOOKS: dict[str, type[LmsHook]] = registered_hooks()


def hook_class_for(conn_type: str | None, conn_id: str) -> type[LmsHook]:
    """The hook class for a connection type; raises a readable error for a foreign connection."""
    cls = HOOKS.get((conn_type or "").lower())
    if cls is None:
        known = ", ".join(sorted(HOOKS))
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
