"""A platform connection's settings, read from the Airflow ``Connection`` once and checked field by field.

Each platform hook names its model (a frozen dataclass deriving from :class:`LmsConnection`) in
``connection_model``; the hook parses the connection into it once and builds both its HTTP client and its
platform settings (Eduframe's order creator, Lära's portal time zone, Pynter's parameter names) from it.
Errors name the connection and the field (``connection 'x' base_url``); a secret is masked in the logs as
soon as it is read and is left out of the model's ``repr``.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

from airflow_provider_lms.http.auth import mask
from airflow_provider_lms.http.config import ClientSettings
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import bad_character, shown

if TYPE_CHECKING:
    from typing import Self

    from airflow.sdk import Connection

__all__ = ["ApiKeyConnection", "ConnectionFields", "LmsConnection", "check_base_url"]


class ConnectionFields:
    """Reads one Airflow connection's fields; every error names the connection and the field.

    Checked here, once, when the hook parses its connection (before any request):

    * **Extras must be readable.** Airflow's ``Connection.extra_dejson`` logs and returns ``{}`` for extras
      that are not a JSON object (Airflow 3.2 and 3.3 alike); a hook would then fall back to the platform's
      production base URL while holding the key. The raw ``extra`` is parsed here instead, and a connection
      whose extras cannot be read fails, saying why.
    * **Base URLs** are http(s) with a host, and carry no user name or password (``user:pw@``; the error
      never shows them), no dot segments (``/./``, ``/../``, also percent-encoded), no backslash, query
      string or fragment, and no blank or control character.
    * **Secrets and header names** carry only what HTTP can: a secret sent in a header is printable ASCII
      without leading or trailing blanks (a trailing newline copied with the key fails here, once, instead of
      once per item in the transport); a secret sent in a body has no control characters; a header name is
      an RFC 9110 token and not one that frames the request (``Host``, ``Content-Length``...). Errors say
      what is wrong and where, never the secret.

    :param conn: the Airflow connection.
    :param conn_id: its id, for error messages.
    """

    def __init__(self, conn: Connection, conn_id: str) -> None:
        self.conn = conn
        self.conn_id = conn_id
        #: The connection's extras (the form's custom fields live there).
        self.extras: dict[str, Any] = self._read_extras(conn)

    def _read_extras(self, conn: Connection) -> dict[str, Any]:
        if not hasattr(conn, "extra"):
            # A stand-in connection with parsed extras only (tests): nothing raw to check.
            given = getattr(conn, "extra_dejson", None)
            return dict(given) if isinstance(given, dict) else {}
        raw = conn.extra
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return {}
        if isinstance(raw, dict):
            parsed: Any = raw
        else:
            try:
                parsed = json.loads(raw)
            except (TypeError, ValueError) as exc:
                where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
                raise self.error(
                    "extra",
                    f"is not valid JSON{where}. Airflow would read it as no extras at all: the hook would lose its "
                    "base URL and settings and could send the key to the platform's default (production) URL. "
                    "Fix the Extra field",
                ) from None
        if not isinstance(parsed, dict):
            raise self.error("extra", f"must be a JSON object, got {type(parsed).__name__}")
        # extra_dejson masks the sensitive values of the extras in the logs; keep that.
        with contextlib.suppress(Exception):
            conn.extra_dejson  # noqa: B018 - called for its masking side effect
        return parsed

    def error(self, field: str, message: str) -> LmsInputError:
        """An input error naming ``field`` of this connection."""
        return LmsInputError(f"connection {self.conn_id!r} {field}", message)

    def base_url(self, default: str | None) -> str:
        """The API root: the form's ``base_url``, else the host field, else the platform default."""
        given = self.extras.get("base_url")
        if given not in (None, "") and not isinstance(given, str):
            raise self.error("base_url", f"must be text, got {type(given).__name__}")
        url = given or self.conn.host or default
        if not url:
            raise self.error("base_url", "is empty")
        return check_base_url(self, "base_url" if given else "host", str(url))

    def web_url(self) -> str | None:
        """The platform's web app root for links from tasks (extra ``web_url``), checked like a base URL."""
        given = self.extras.get("web_url")
        if given in (None, ""):
            return None
        if not isinstance(given, str):
            raise self.error("web_url", f"must be text, got {type(given).__name__}")
        return check_base_url(self, "web_url", given.strip()).rstrip("/")

    def page_paths(self) -> dict[str, str]:
        """The extras ``course_page_path`` and ``enrollment_page_path``: paths under ``web_url``."""
        paths = {}
        for name in ("course_page_path", "enrollment_page_path"):
            value = self.extras.get(name)
            if value in (None, ""):
                continue
            if not isinstance(value, str) or not value.startswith("/") or len(value) > 500:
                raise self.error(name, "must be a path starting with '/' (at most 500 characters)")
            unknown = {m for m in _PAGE_PLACEHOLDER.findall(value)} - {"course_id", "enrollment_id"}
            if unknown or any(c.isspace() or ord(c) < 32 for c in value):
                raise self.error(name, "may hold only {course_id} and {enrollment_id} placeholders, and no blanks")
            paths[name] = value
        return paths

    def check_extras(self, known: frozenset[str] | None) -> None:
        """Unknown extras: an error when one looks like a misspelt known key, else a warning.

        The rule: a key that matches a known key up to case, ``-``/``_`` or a small typo (``timout``,
        ``Base_URL``, ``order_creator``) would have changed behaviour had it been spelt right, and is silently
        ignored otherwise, so it is an error naming the key it resembles. Any other unknown key (another
        tool's, a note) is only logged as a warning. ``known=None`` (a platform that has not declared its
        extras) skips the check.
        """
        if known is None:
            return
        allowed = known | _COMMON_EXTRAS | frozenset(ClientSettings.model_fields)
        folded = {_fold(k): k for k in allowed}
        for key in self.extras:
            if key in allowed:
                continue
            name = str(key)
            twin = folded.get(_fold(name)) or next(iter(difflib.get_close_matches(name, sorted(allowed), 1, 0.8)), None)
            if twin is not None:
                raise self.error(f"extra {name!r}", f"is not a setting; did you mean {twin!r}? (it would be ignored)")
            log.warning(
                "connection %r: extra %r is not a setting of this connection type; it is ignored", self.conn_id, name
            )

    def client_settings(self, base_url: str, defaults: Mapping[str, Any]) -> ClientSettings:
        """Client settings from the extras over the platform defaults."""
        for key, info in ClientSettings.model_fields.items():
            value = self.extras.get(key)
            # A bool is not a number: pydantic would read "timeout": true as 1 second.
            if isinstance(value, bool) and info.annotation is not bool:
                raise self.error(key, f"must be a number, got {value!r}")
        try:
            return ClientSettings.from_values(base_url, self.extras, dict(defaults))
        except LmsInputError as exc:
            raise self.error(exc.field, exc.message.split(": ", 1)[-1]) from None

    def secret(self, value: str | None, field: str, *, in_header: bool = True) -> str:
        """A required secret, masked in logs from here on, checked for what its carrier can hold.

        :param in_header: the secret travels in an HTTP header (printable ASCII only); False for one sent in
            a body (Pynter's SOAP password), where only control characters are refused.
        """
        if not value:
            raise self.error(field, "is empty")
        if not isinstance(value, str):
            raise self.error(field, f"must be text, got {type(value).__name__}")
        mask(value)
        problem = _secret_problem(value, in_header=in_header)
        if problem:
            raise self.error(field, problem)
        return value

    def required(self, value: str | None, field: str) -> str:
        """A required field that is not a secret (a login, a client id)."""
        if not value:
            raise self.error(field, "is empty")
        if not isinstance(value, str):
            raise self.error(field, f"must be text, got {type(value).__name__}")
        problem = _secret_problem(value, in_header=False)
        if problem:
            raise self.error(field, problem)
        return value

    def header_name(self, value: Any, field: str) -> str:
        """A header name given in the connection (Lära's credential headers): an RFC 9110 token."""
        if not isinstance(value, str) or not value:
            raise self.error(field, "is empty" if not value else f"must be text, got {type(value).__name__}")
        if not _TOKEN.fullmatch(value):
            raise self.error(field, f"{shown(value)} is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)")
        if value.lower() in _FRAMING_HEADERS:
            raise self.error(field, f"{value!r} is a header that frames the request; it cannot carry a credential")
        return value


log = logging.getLogger(__name__)

#: Extras every connection type may have besides its own and the HTTP core's settings.
_COMMON_EXTRAS = frozenset({"base_url", "max_response_bytes", "web_url", "course_page_path", "enrollment_page_path"})
_PAGE_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}")
_FRAMING_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "te", "upgrade", "trailer"}
)


def _fold(name: str) -> str:
    return name.lower().replace("-", "_").replace(" ", "_").strip("_")


def _secret_problem(value: str, *, in_header: bool) -> str | None:
    """What makes a secret unsendable, described by position only (never by its characters)."""
    if value[-1:].isspace() or value[:1].isspace():
        end = "end" if value[-1:].isspace() else "start"
        kind = "a line break" if (value[-1] if end == "end" else value[0]) in "\r\n" else "a blank"
        return f"has {kind} at its {end} (copied with the value?); remove it"
    for i, char in enumerate(value):
        if in_header and not " " <= char <= "~":
            what = "a control character" if char.isascii() else "a non-ASCII character"
            return f"has {what} at position {i + 1}; an HTTP header can carry printable ASCII only"
        if not in_header and bad_character(char):
            return f"has a control character at position {i + 1}, which cannot be sent"
    return None


def _redacted(url: str) -> str:
    """``url`` without its user name and password, for an error message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the URL)"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"***@{host}" if "@" in parts.netloc else host, parts.path, "", ""))


def check_base_url(fields: ConnectionFields, field: str, url: str) -> str:
    """A base URL fit to send a key to (see :class:`ConnectionFields`); errors never show userinfo."""
    text = url.strip()
    for i, char in enumerate(text):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cs", "Cf") or char == "\\":
            raise fields.error(field, f"has a blank, control or backslash character at position {i + 1}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise fields.error(field, f"{_redacted(text)} is not a URL") from None
    if "@" in parts.netloc:
        raise fields.error(
            field,
            f"{_redacted(text)} has a user name or password in it; put the key in the connection's password "
            "field, never in the URL (URLs are logged)",
        )
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise fields.error(field, f"{_redacted(text)} must have no query string or fragment")
    segments = [unquote(s) for s in parts.path.split("/")]
    if any(s in (".", "..") for s in segments):
        raise fields.error(field, f"{_redacted(text)} has '.' or '..' path segments; give the API root itself")
    if parts.scheme not in ("http", "https"):
        raise fields.error(field, f"{_redacted(text)} has no http:// or https:// scheme")
    if not parts.hostname:
        raise fields.error(field, f"{_redacted(text)} has no host name")
    return text


@dataclass(frozen=True, kw_only=True)
class LmsConnection:
    """What every platform connection gives: where the API is and how to talk to it.

    :param conn_id: the Airflow connection id.
    :param base_url: the API root.
    :param settings: the HTTP core's settings (timeouts, retries, rate limit) for this connection.
    :param web_url: the platform's web app root, for the tasks' links to course and enrollment pages.
    :param page_paths: ``course_page_path`` / ``enrollment_page_path`` overrides of those pages' paths.
    """

    conn_id: str
    base_url: str
    settings: ClientSettings
    web_url: str | None = None
    page_paths: Mapping[str, str] = field(default_factory=dict)

    #: The platform's own extras (besides ``base_url`` and the HTTP core's settings), for the unknown-extras
    #: check (see :meth:`ConnectionFields.check_extras`); None: not declared, not checked.
    extra_keys: ClassVar[frozenset[str] | None] = None

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
        fields.check_extras(cls.extra_keys)
        # This order (options, then URL and settings, then secrets) is the order the hooks checked them in.
        options = cls.read_options(fields)
        base_url = fields.base_url(default_base_url)
        settings = fields.client_settings(base_url, default_client_settings or {})
        credentials = cls.read_credentials(fields, base_url)
        web_url, page_paths = fields.web_url(), fields.page_paths()
        return cls(
            conn_id=conn_id,
            base_url=base_url,
            settings=settings,
            web_url=web_url,
            page_paths=page_paths,
            **options,
            **credentials,
        )

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
