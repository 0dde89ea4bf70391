"""A platform connection's settings, read from the Airflow ``Connection`` once and checked field by field.

Each platform hook names its model (a frozen dataclass deriving from :class:`LmsConnection`) in
``connection_model``; the hook parses the connection into it once and builds both its HTTP client and its
platform settings (Eduframe's order creator, Lära's portal time zone, Pynter's parameter names) from it.
Errors name the connection and the field (``connection 'x' base_url``); a secret is masked in the logs as
soon as it is read and is left out of the model's ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.http.auth import mask
from airflow_provider_lms.http.config import ClientSettings
from airflow_provider_lms.http.errors import LmsInputError

if TYPE_CHECKING:
    from typing import Self

    from airflow.sdk import Connection

__all__ = ["ApiKeyConnection", "ConnectionFields", "LmsConnection"]


class ConnectionFields:
    """Reads one Airflow connection's fields; every error names the connection and the field.

    :param conn: the Airflow connection.
    :param conn_id: its id, for error messages.
    """

    def __init__(self, conn: Connection, conn_id: str) -> None:
        self.conn = conn
        self.conn_id = conn_id
        extra = conn.extra_dejson
        #: The connection's extras (the form's custom fields live there).
        self.extras: dict[str, Any] = extra if isinstance(extra, dict) else {}

    def error(self, field: str, message: str) -> LmsInputError:
        """An input error naming ``field`` of this connection."""
        return LmsInputError(f"connection {self.conn_id!r} {field}", message)

    def base_url(self, default: str | None) -> str:
        """The API root: the form's ``base_url``, else the host field, else the platform default."""
        url = self.extras.get("base_url") or self.conn.host or default
        if not url:
            raise self.error("base_url", "is empty")
        return str(url)

    def client_settings(self, base_url: str, defaults: Mapping[str, Any]) -> ClientSettings:
        """Client settings from the extras over the platform defaults."""
        try:
            return ClientSettings.from_values(base_url, self.extras, dict(defaults))
        except LmsInputError as exc:
            raise self.error(exc.field, exc.message.split(": ", 1)[-1]) from None

    def secret(self, value: str | None, field: str) -> str:
        """A required secret, masked in logs from here on."""
        if not value:
            raise self.error(field, "is empty")
        mask(value)
        return value

    def required(self, value: str | None, field: str) -> str:
        """A required field that is not a secret (a login, a client id)."""
        if not value:
            raise self.error(field, "is empty")
        return value


@dataclass(frozen=True, kw_only=True)
class LmsConnection:
    """What every platform connection gives: where the API is and how to talk to it.

    :param conn_id: the Airflow connection id.
    :param base_url: the API root.
    :param settings: the HTTP core's settings (timeouts, retries, rate limit) for this connection.
    """

    conn_id: str
    base_url: str
    settings: ClientSettings

    @classmethod
    def from_connection(
        cls,
        conn: Connection,
        *,
        conn_id: str,
        default_base_url: str | None = None,
        default_client_settings: Mapping[str, Any] | None = None,
    ) -> Self:
        """Parse ``conn`` once: the platform's own options, the base URL and settings, then the credentials.

        :param conn: the Airflow connection.
        :param conn_id: its id, named in error messages.
        :param default_base_url: used when the connection gives no base URL.
        :param default_client_settings: the platform's defaults under the connection's own settings.
        """
        fields = ConnectionFields(conn, conn_id)
        # This order (options, then URL and settings, then secrets) is the order the hooks checked them in.
        options = cls.read_options(fields)
        base_url = fields.base_url(default_base_url)
        settings = fields.client_settings(base_url, default_client_settings or {})
        credentials = cls.read_credentials(fields, base_url)
        return cls(conn_id=conn_id, base_url=base_url, settings=settings, **options, **credentials)

    @classmethod
    def read_options(cls, fields: ConnectionFields) -> dict[str, Any]:
        """The platform's own settings, as keyword arguments of the model; platforms override this."""
        return {}

    @classmethod
    def read_credentials(cls, fields: ConnectionFields, base_url: str) -> dict[str, Any]:
        """The platform's credentials (masked as they are read); platforms override this."""
        return {}


@dataclass(frozen=True, kw_only=True)
class ApiKeyConnection(LmsConnection):
    """A connection whose credential is one API key, kept in the password field.

    :param api_key: the key; masked in logs, left out of ``repr``.
    """

    api_key: str = field(repr=False)

    @classmethod
    def read_credentials(cls, fields: ConnectionFields, base_url: str) -> dict[str, Any]:
        return {"api_key": fields.secret(fields.conn.password, "API key (password)")}
