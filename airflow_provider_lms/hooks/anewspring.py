"""aNewSpring: REST with form-encoded bodies and X-API-Key (connection handling; API in issue 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.auth import HeaderAuth

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["ANewSpringHook"]


class ANewSpringHook(LmsHook):
    """aNewSpring: REST with form-encoded POST bodies; the API key goes in ``X-API-Key``.

    Connection: ``base_url`` is the environment's API root (``https://<environment>/api``), the API key
    is the password.

    :param lms_conn_id: the Airflow connection id (type ``anewspring``).
    """

    conn_type = "anewspring"
    hook_name = "aNewSpring"
    default_conn_name = "anewspring_default"
    platform: ClassVar[str] = "aNewSpring"

    def auth_for(self, conn: Connection) -> httpx.Auth:
        return HeaderAuth({"X-API-Key": self.secret(conn, conn.password, "API key (password)")})
