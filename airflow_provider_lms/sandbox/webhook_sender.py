"""A webhook sender that signs deliveries the way the platforms document and retries failed ones.

The sandbox uses it to play Pluvo or aNewSpring towards a receiver (ours, in the tests); DAG authors can
use it to try their own receiver. Signing:

- Pluvo: ``X-Signature`` = base64url(HMAC-SHA1(SHA1(salt + secret), body)) without padding, and the
  random salt in ``X-Signature-Salt``. Failed deliveries (4xx except 410, 5xx, no answer) are retried with
  backoff; ``410 Gone`` ends the subscription (FACTS.md).
- aNewSpring: ``X-WebHook-Signature`` = Base64(HMAC-SHA1(body, secret)); every non-2xx is retried.

A :class:`Delivery` keeps the exact bytes and headers that were sent, so a test can replay it unchanged
(what a platform does when it never saw our answer).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from airflow_provider_lms.webhooks.signatures import anewspring_signature, pluvo_signature

__all__ = ["Delivery", "DeliveryResult", "WebhookSender", "encode_body"]

Platform = Literal["pluvo", "anewspring"]


def encode_body(payload: Any) -> bytes:
    """JSON as the platforms send it (UTF-8, no ASCII escaping)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Delivery:
    """One signed delivery: the exact body and headers, ready to be (re)sent."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class DeliveryResult:
    """What happened to a delivery.

    :param delivered: a 2xx answer was received.
    :param statuses: the status of each attempt (``None`` when no answer came).
    :param gone: the receiver answered 410 (Pluvo then disables the subscription).
    """

    delivery: Delivery
    delivered: bool = False
    statuses: list[int | None] = field(default_factory=list)
    gone: bool = False
    last_body: str = ""

    @property
    def attempts(self) -> int:
        return len(self.statuses)


class WebhookSender:
    """Sign and send webhook deliveries, retrying failed ones.

    :param platform: ``"pluvo"`` or ``"anewspring"``: which signature scheme and retry rule to use.
    :param secret: the webhook secret shared with the receiver (``None``: send unsigned, as an
        aNewSpring webhook without a secret does).
    :param max_attempts: attempts per delivery, the first included.
    :param backoff: seconds before the first retry; doubled after each failure.
    :param timeout: per-attempt timeout (the platforms give receivers 10 seconds).
    :param sleep: replaces ``time.sleep`` (tests).
    :param transport: an httpx transport (tests).
    """

    def __init__(
        self,
        platform: Platform,
        secret: str | None,
        *,
        max_attempts: int = 5,
        backoff: float = 0.2,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if platform not in ("pluvo", "anewspring"):
            raise ValueError(f"unknown platform {platform!r}")
        self.platform = platform
        self._secret = secret
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def sign(self, url: str, payload: Any = None, *, body: bytes | None = None, salt: str | None = None) -> Delivery:
        """A signed :class:`Delivery` of ``payload`` (or of raw ``body`` bytes) to ``url``."""
        raw = encode_body(payload) if body is None else body
        headers = {"Content-Type": "application/json", "User-Agent": f"lms-sandbox-{self.platform}-webhooks"}
        if self._secret is not None:
            if self.platform == "pluvo":
                salt = salt if salt is not None else secrets.token_hex(8)
                headers["X-Signature"] = pluvo_signature(raw, salt, self._secret)
                headers["X-Signature-Salt"] = salt
            else:
                headers["X-WebHook-Signature"] = anewspring_signature(raw, self._secret)
        return Delivery(url=url, body=raw, headers=headers)

    def _retryable(self, status: int | None) -> bool:
        if status is None:
            return True
        if self.platform == "pluvo":
            return status >= 400 and status != 410
        return not 200 <= status < 300

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Send ``delivery``, retrying with exponential backoff until accepted or out of attempts."""
        result = DeliveryResult(delivery)
        wait = self.backoff
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            except httpx.HTTPError:
                status: int | None = None
            else:
                status = response.status_code
                result.last_body = response.text[:500]
            result.statuses.append(status)
            if status is not None and 200 <= status < 300:
                result.delivered = True
                return result
            if status == 410 and self.platform == "pluvo":
                result.gone = True
                return result
            if not self._retryable(status) or attempt == self.max_attempts:
                return result
            self._sleep(wait)
            wait *= 2
        return result

    def send(self, url: str, payload: Any) -> DeliveryResult:
        """Sign ``payload`` and deliver it to ``url``."""
        return self.deliver(self.sign(url, payload))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
