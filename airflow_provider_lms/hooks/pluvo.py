"""Pluvo: GraphQL with OAuth2 client credentials (connection handling; API in issue 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.auth import OAuth2ClientCredentials
from airflow_provider_lms.http.errors import LmsInputError

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["PluvoHook"]


class PluvoHook(LmsHook):
    """Pluvo: GraphQL at ``<organisation URL>/graphql/`` with an OAuth2 client-credentials token.

    Connection: ``base_url`` is the organisation URL (``https://<organisation>.pluvo.com``), the
    client id is the login, the client secret the password, ``scopes`` space-separated.

    :param lms_conn_id: the Airflow connection id (type ``pluvo``).
    """

    conn_type = "pluvo"
    hook_name = "Pluvo"
    default_conn_name = "pluvo_default"
    platform: ClassVar[str] = "Pluvo"

    def auth_for(self, conn: Connection) -> httpx.Auth:
        if not conn.login:
            raise LmsInputError(f"connection {self.lms_conn_id!r} client id (login)", "is empty")
        scopes = self.extras(conn).get("scopes") or None
        return OAuth2ClientCredentials(
            self.base_url_for(conn).rstrip("/") + "/oauth/token/",
            conn.login,
            self.secret(conn, conn.password, "client secret (password)"),
            scope=str(scopes) if scopes else None,
        )
