"""A sandbox webhook sender whose receiver answers from a script, for the platforms' retry-rule tests."""

from __future__ import annotations

import httpx

from airflow_provider_lms.sandbox.webhook_sender import WebhookSender


def scripted_sender(platform: str, answers: list[int | None]) -> tuple[WebhookSender, list[float]]:
    """A sender for ``platform`` whose receiver answers each attempt with the next status (``None``: no answer).

    Returns the sender and the list its back-off sleeps are recorded in (nothing really sleeps).
    """
    pending = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status = pending.pop(0)
        if status is None:
            raise httpx.ConnectError("no answer", request=request)
        return httpx.Response(status)

    sleeps: list[float] = []
    sender = WebhookSender(platform, "s", sleep=sleeps.append, transport=httpx.MockTransport(handler))
    return sender, sleeps
