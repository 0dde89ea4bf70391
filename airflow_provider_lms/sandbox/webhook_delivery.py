"""Sign webhook deliveries with a platform's :class:`~airflow_provider_lms.sandbox._common.WebhookScheme`
and send them, retrying failed ones.

This is the core of the sandbox's webhook sender: it knows a scheme, never a platform name, and imports
only ``_common``, so a platform package can send its own webhooks (from a control route) with its own
scheme without importing the platform discovery that imports it (``platforms`` imports every platform
package). ``webhook_sender.WebhookSender`` is the same sender looked up by platform name, for tests and
DAG authors.

A :class:`Delivery` keeps the exact bytes and headers that were sent, so a test can replay it unchanged
(what a platform does when it never saw our answer).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from airflow_provider_lms.sandbox._common import WebhookScheme

__all__ = ["Delivery", "DeliveryResult", "WebhookSender", "encode_body"]


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
    :param gone: the receiver answered the status that ends the platform's subscription (e.g. 410).
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
    """Sign and send webhook deliveries with a given scheme, retrying failed ones.

    :param scheme: how the platform signs, which answers it retries and which status ends a subscription.
    :param secret: the webhook secret shared with the receiver (``None``: send unsigned, as a platform
        does for a webhook configured without a secret).
    :param platform: the platform's name, for the ``User-Agent`` header only.
    :param max_attempts: attempts per delivery, the first included.
    :param backoff: seconds before the first retry; doubled after each failure.
    :param timeout: per-attempt timeout (the platforms give receivers 10 seconds).
    :param sleep: replaces ``time.sleep`` (tests).
    :param transport: an httpx transport (tests).
    """

    def __init__(
        self,
        scheme: WebhookScheme,
        secret: str | None,
        *,
        platform: str = "sandbox",
        max_attempts: int = 5,
        backoff: float = 0.2,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self._scheme = scheme
        self._secret = secret
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def sign(self, url: str, payload: Any = None, *, body: bytes | None = None) -> Delivery:
        """A signed :class:`Delivery` of ``payload`` (or of raw ``body`` bytes) to ``url``."""
        raw = encode_body(payload) if body is None else body
        headers = {"Content-Type": "application/json", "User-Agent": f"lms-sandbox-{self.platform}-webhooks"}
        if self._secret is not None:
            headers.update(self._scheme.sign(raw, self._secret))
        return Delivery(url=url, body=raw, headers=headers)

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
            if status is not None and status == self._scheme.gone_status:
                result.gone = True
                return result
            if not self._scheme.retryable(status) or attempt == self.max_attempts:
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
