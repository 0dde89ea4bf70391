"""Sending the double's webhook events to the configured receiver, signed the way Pluvo signs them.

Control routes send and wait (a test asserts on the answer); completions that auto-progress makes happen
while serving an API request are sent from a background thread, so that the API answer is not held up by
a slow receiver. Every attempt's outcome is kept in ``PluvoState.deliveries`` (``GET /_sandbox/pluvo/state``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox.pluvo.signing import WEBHOOK_SCHEME
from airflow_provider_lms.sandbox.webhook_delivery import WebhookSender

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = ["deliver", "deliver_later"]


def deliver(state: PluvoState, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send each event (with retries) and return what happened to each; nothing is sent without a target."""
    target = state.webhook_target()
    results: list[dict[str, Any]] = []
    if target is None:
        results = [
            {"event": e["event"], "id": e["id"], "url": None, "delivered": False, "statuses": []} for e in events
        ]
    else:
        url, secret = target
        with WebhookSender(WEBHOOK_SCHEME, secret, platform="pluvo") as sender:
            for event in events:
                result = sender.send(url, event)
                results.append(
                    {
                        "event": event["event"],
                        "id": event["id"],
                        "url": url,
                        "delivered": result.delivered,
                        "statuses": result.statuses,
                    }
                )
    state.deliveries.extend(results)
    return results


def deliver_later(state: PluvoState, events: list[dict[str, Any]]) -> None:
    """Send the events from a background thread (nothing happens for an empty list)."""
    if events:
        threading.Thread(target=deliver, args=(state, list(events)), name="pluvo-webhooks", daemon=True).start()
