"""Connection handling for the platforms whose API methods come in later releases.

Each class already reads and validates its connection form (URL, credentials, HTTP settings) and
builds the shared HTTP client with the right authentication, so that connections can be created and
stored today. They declare no capabilities yet: the generic operators refuse them with a message that
names the platforms that can do the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.http.auth import HeaderAuth, OAuth2ClientCredentials
from airflow_provider_lms.http.errors import LmsInputError

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

__all__ = ["ANewSpringHook", "LaraHook", "PluvoHook", "PynterHook"]


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
