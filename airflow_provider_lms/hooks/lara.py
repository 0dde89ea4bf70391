"""Lära: lmsapi JSON (connection handling; API in issue 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.auth import HeaderAuth
from airflow_provider_lms.http.errors import LmsInputError

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["LaraHook"]


class LaraHook(LmsHook):
    """Lära: ``lmsapi`` JSON at ``<portal URL>/lmsapi/<module>/<method>``.

    The names of the credential values handed over at onboarding are not public, so the connection
    names both headers and their values (ASSUMPTION, see README).

    :param lms_conn_id: the Airflow connection id (type ``lara``).
    """

    conn_type = "lara"
    hook_name = "Lära"
    default_conn_name = "lara_default"
    platform: ClassVar[str] = "Lära"

    def auth_for(self, conn: Connection) -> httpx.Auth:
        extras = self.extras(conn)
        headers: dict[str, str] = {}
        for n in (1, 2):
            name = extras.get(f"credential_{n}_header")
            value = extras.get(f"credential_{n}_secret")
            if name and value:
                headers[str(name)] = self.secret(conn, str(value), f"credential_{n}_secret")
        if not headers:
            raise LmsInputError(
                f"connection {self.lms_conn_id!r} credential_1_header",
                "give at least one credential header and value",
            )
        return HeaderAuth(headers)

    def portal_timezone(self, conn: Connection) -> str:
        """The portal's time zone (IANA name), default America/Toronto."""
        return str(self.extras(conn).get("portal_timezone") or "America/Toronto")
