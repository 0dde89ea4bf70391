"""Control routes under ``/_sandbox/pluvo``: revoke tokens, look at the state, send webhooks on demand."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel

from airflow_provider_lms.sandbox.pluvo.signing import WEBHOOK_SCHEME
from airflow_provider_lms.sandbox.pluvo.views import state_json, training_finished_json
from airflow_provider_lms.sandbox.routing import Route, build_router
from airflow_provider_lms.sandbox.webhook_delivery import WebhookSender

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["CONTROL_ROUTES", "FinishTrainingBody", "PluvoControl", "WebhookTargetBody", "create_control_router"]


class WebhookTargetBody(BaseModel):
    """``PUT /_sandbox/pluvo/webhook``: where events are sent, and the secret that signs them."""

    url: str
    secret: str


class FinishTrainingBody(BaseModel):
    """``POST /_sandbox/pluvo/finish_training``: a learner finishes a training.

    :param score: The score reported in the event (``null`` when omitted).
    """

    user_id: str
    training_id: str
    score: float | None = None


CONTROL_ROUTES: tuple[Route, ...] = (
    Route("POST", "/revoke_tokens", "revoke_tokens"),
    Route("GET", "/state", "summary"),
    Route("PUT", "/webhook", "set_webhook"),
    Route("POST", "/finish_training", "finish_training"),
)


class PluvoControl:
    """One thin action per control route.

    :param state: The Pluvo double's state.
    """

    def __init__(self, state: PluvoState) -> None:
        self.state = state

    async def revoke_tokens(self) -> dict[str, Any]:
        return {"revoked": self.state.revoke_tokens()}

    async def summary(self) -> dict[str, Any]:
        return state_json(self.state)

    async def set_webhook(self, target: WebhookTargetBody) -> dict[str, Any]:
        self.state.set_webhook(target.url, target.secret)
        return {"url": target.url}

    async def finish_training(self, body: FinishTrainingBody) -> dict[str, Any]:
        """Deliver a signed ``TRAINING_FINISHED`` (with retries) and tell how it went."""
        url, secret = self.state.webhook_target()
        event = training_finished_json(self.state.finish_training(body.user_id, body.training_id, body.score))

        def send() -> dict[str, Any]:
            with WebhookSender(WEBHOOK_SCHEME, secret, platform="pluvo") as sender:
                result = sender.send(url, event)
            return {"delivered": result.delivered, "statuses": result.statuses, "event": event}

        # Off the event loop: the receiver may be slow, and the sandbox keeps serving meanwhile.
        return await asyncio.to_thread(send)


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """The ``/pluvo`` control routes (the app mounts them under ``/_sandbox``)."""
    control = PluvoControl(sandbox_state.platform("pluvo"))
    return build_router(CONTROL_ROUTES, control, prefix="/pluvo", tags=["sandbox control"])
