"""Pynter: SOAP 1.2 (connection handling; API in issue 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.errors import LmsInputError

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = ["PynterHook"]


class PynterHook(LmsHook):
    """Pynter: SOAP 1.2 at ``<customer URL>/service/apiservice.asmx``; credentials travel in the body.

    Connection: ``base_url`` is the customer URL (``https://<customer>.pynter.nl``), with login and
    password.

    :param lms_conn_id: the Airflow connection id (type ``pynter``).
    """

    conn_type = "pynter"
    hook_name = "Pynter"
    default_conn_name = "pynter_default"
    platform: ClassVar[str] = "Pynter"
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/soap+xml"}

    def credentials(self, conn: Connection) -> tuple[str, str]:
        """The SOAP username and password (password masked)."""
        if not conn.login:
            raise LmsInputError(f"connection {self.lms_conn_id!r} username (login)", "is empty")
        return conn.login, self.secret(conn, conn.password, "password")
