"""A webhook sender that signs deliveries the way a platform documents and retries failed ones.

The sandbox uses it to play a platform towards a receiver (ours, in the tests); DAG authors can use it to
try their own receiver. How a platform signs, which answers it retries and which status ends a
subscription come from its mount's :class:`~airflow_provider_lms.sandbox._common.WebhookScheme`, written
in the platform's package from the platform's own documents.

This module only adds the look-up by platform name (``WebhookSender("<name>", secret)``) to the core in
``webhook_delivery``. It imports the platform discovery, so platform packages never import it: they send
through ``webhook_delivery.WebhookSender`` with their own scheme.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import WebhookScheme
from airflow_provider_lms.sandbox.platforms import mount_named
from airflow_provider_lms.sandbox.webhook_delivery import Delivery, DeliveryResult, encode_body
from airflow_provider_lms.sandbox.webhook_delivery import WebhookSender as _SchemeSender

__all__ = ["Delivery", "DeliveryResult", "WebhookSender", "encode_body"]


class WebhookSender(_SchemeSender):
    """Sign and send webhook deliveries as a sandbox platform does, retrying failed ones.

    :param platform: the name of a sandbox platform that sends webhooks (its mount's scheme is used), or a
        :class:`~airflow_provider_lms.sandbox._common.WebhookScheme` of your own.
    :param secret: the webhook secret shared with the receiver (``None``: send unsigned).

    :param options: ``max_attempts``, ``backoff``, ``timeout``, ``sleep``, ``transport``: those of
        :class:`~airflow_provider_lms.sandbox.webhook_delivery.WebhookSender`.
    """

    def __init__(self, platform: str | WebhookScheme, secret: str | None, **options: Any) -> None:
        if isinstance(platform, WebhookScheme):
            scheme, name = platform, "sandbox"
        else:
            found = mount_named(platform).webhook_scheme
            if found is None:
                raise ValueError(f"the sandbox's {platform} sends no webhooks")
            scheme, name = found, platform
        super().__init__(scheme, secret, platform=name, **options)
