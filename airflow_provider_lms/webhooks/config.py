"""Where the receiver's secrets and limits come from.

Secrets are Airflow connections, so they live wherever the deployment keeps connections (the metadata
database, a secrets backend such as Vault, or ``AIRFLOW_CONN_*`` variables), never in code or in
``airflow.cfg``; the secret is the connection's **password**:

- ``lms_webhook_pluvo``: the Pluvo webhook secret (``X-Signature`` / ``X-Signature-Salt``);
- ``lms_webhook_anewspring``: the aNewSpring webhook secret (``X-WebHook-Signature``);
- ``lms_webhook_eduframe``: a random token of our own, preferably added by a proxy as the
  ``X-LMS-Webhook-Token`` header (``/lms-webhooks/eduframe``), else carried in the Eduframe webhook URL
  (``/lms-webhooks/eduframe/<token>``, which proxies in front of Airflow may log).

A platform without its connection is switched off: its endpoint answers 404 and records nothing. Limits
come from ``airflow.cfg`` section ``[lms_webhooks]`` (or ``AIRFLOW__LMS_WEBHOOKS__*``): ``max_body_bytes``,
``max_json_depth`` and ``body_read_timeout`` (seconds), read when the API server starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = [
    "DEFAULT_BODY_READ_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_JSON_DEPTH",
    "PLATFORM_CONN_IDS",
    "AirflowConnectionSecrets",
    "SecretSource",
    "body_read_timeout",
    "max_body_bytes",
    "max_json_depth",
]

PLATFORM_CONN_IDS: dict[str, str] = {
    "pluvo": "lms_webhook_pluvo",
    "anewspring": "lms_webhook_anewspring",
    "eduframe": "lms_webhook_eduframe",
}
#: Webhook bodies are small JSON documents; 1 MiB leaves room for long extraFields and file lists.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# ASSUMPTION: no platform documents how deep its payloads nest; the documented ones nest 3 levels, so 64
# leaves ample room while keeping a hostile body far from Python's recursion limit.
DEFAULT_MAX_JSON_DEPTH = 64
# ASSUMPTION: Eduframe and aNewSpring give up on a delivery after 10 seconds (Pluvo documents no timeout),
# so a body that takes longer to arrive is not theirs; 10 s also bounds how long a dripping client holds a connection.
DEFAULT_BODY_READ_TIMEOUT = 10.0
#: Deliveries whose own timestamp is older than this are refused as replays (Pluvo's ``sentDate``). It stays
#: below the dedupe table's 7-day retention, so a delivery the table may have forgotten is never recorded again.
DEFAULT_MAX_DELIVERY_AGE = 6 * 24 * 3600.0

#: ``platform -> secret or None``.
SecretSource = Callable[[str], "str | None"]


def max_body_bytes() -> int:
    """``[lms_webhooks] max_body_bytes``, default 1 MiB."""
    try:
        from airflow.configuration import conf

        return conf.getint("lms_webhooks", "max_body_bytes", fallback=DEFAULT_MAX_BODY_BYTES)
    except Exception:  # outside an Airflow installation (unit tests of the app)
        return DEFAULT_MAX_BODY_BYTES


def max_json_depth() -> int:
    """``[lms_webhooks] max_json_depth``: the deepest nesting of arrays and objects accepted, default 64."""
    try:
        from airflow.configuration import conf

        return conf.getint("lms_webhooks", "max_json_depth", fallback=DEFAULT_MAX_JSON_DEPTH)
    except Exception:  # outside an Airflow installation (unit tests of the app)
        return DEFAULT_MAX_JSON_DEPTH


def body_read_timeout() -> float:
    """``[lms_webhooks] body_read_timeout``: seconds allowed for receiving a whole body, default 10."""
    try:
        from airflow.configuration import conf

        return conf.getfloat("lms_webhooks", "body_read_timeout", fallback=DEFAULT_BODY_READ_TIMEOUT)
    except Exception:  # outside an Airflow installation (unit tests of the app)
        return DEFAULT_BODY_READ_TIMEOUT


def max_delivery_age() -> float:
    """``[lms_webhooks] max_delivery_age``: seconds a timestamped delivery stays acceptable, default 6 days."""
    try:
        from airflow.configuration import conf

        return conf.getfloat("lms_webhooks", "max_delivery_age", fallback=DEFAULT_MAX_DELIVERY_AGE)
    except Exception:  # outside an Airflow installation (unit tests of the app)
        return DEFAULT_MAX_DELIVERY_AGE


class AirflowConnectionSecrets:
    """Reads each platform's webhook secret from its Airflow connection, cached for ``ttl`` seconds.

    The cache keeps a burst of deliveries from hitting the secrets backend once per request; a rotated
    secret is picked up within ``ttl``.

    :param ttl: seconds a looked-up secret (or its absence) is reused.
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, platform: str) -> str | None:
        conn_id = PLATFORM_CONN_IDS.get(platform)
        if conn_id is None:
            return None
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(platform)
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
        secret = self._lookup(conn_id)
        with self._lock:
            self._cache[platform] = (now, secret)
        return secret

    @staticmethod
    def _lookup(conn_id: str) -> str | None:
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection

        try:
            conn = Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            return None
        return conn.password or None
