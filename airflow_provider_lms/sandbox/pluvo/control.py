"""Control routes under ``/_sandbox/pluvo``: the state, tokens, settings, seeding, progress and webhooks.

Tests and demos use them to put the double in the state a case needs (records, a shorter token lifetime,
the undocumented behaviours switched) and to move a learner through a training, which makes the double
send the signed webhooks Pluvo would send.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from airflow_provider_lms.sandbox.pluvo import rules
from airflow_provider_lms.sandbox.pluvo.delivery import deliver, deliver_later
from airflow_provider_lms.sandbox.pluvo.errors import ControlError
from airflow_provider_lms.sandbox.pluvo.records import (
    CertificateTemplate,
    Group,
    Offer,
    OfferEvent,
    Progress,
    Training,
    User,
)
from airflow_provider_lms.sandbox.pluvo.views import state_json, training_finished_json
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["CONTROL_ROUTES", "PluvoControl", "create_control_router"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookTargetBody(_Body):
    """``PUT /_sandbox/pluvo/webhook``: where events are sent, and the secret that signs them."""

    url: str
    secret: str


class LearnerTrainingBody(_Body):
    """A learner and a training, for ``finish_training`` and ``complete_training``.

    :param score: The learner's score, 0..1 (kept as it was when omitted).
    """

    user_id: str
    training_id: str
    score: float | None = Field(default=None, ge=0, le=1)


class ProgressBody(LearnerTrainingBody):
    """``POST /_sandbox/pluvo/progress``: move a learner forward; ``progress`` 1.0 completes the training."""

    progress: float = Field(ge=0, le=1)
    time_spent_seconds: int | None = Field(default=None, ge=0)


class TokenLifetimeBody(_Body):
    """``PUT /_sandbox/pluvo/token_lifetime``: the lifetime of tokens issued from now on."""

    seconds: int = Field(gt=0)


class SettingsBody(_Body):
    """``PUT /_sandbox/pluvo/settings``: switch the behaviours the pages leave open (omitted: unchanged)."""

    auth_failure: Literal["http_401", "graphql_error"] | None = None
    missing_slash: Literal["redirect", "404"] | None = None
    first_over_max: Literal["error", "cap"] | None = None
    validation_status: Literal[200, 400] | None = None


class AutoProgressBody(_Body):
    """``PUT /_sandbox/pluvo/auto_progress``; ``complete_after_seconds: null`` switches it off.

    :param score: The score the automatic completions report (``null``: none).
    """

    complete_after_seconds: float | None = Field(default=None, ge=0)
    score: float | None = Field(default=None, ge=0, le=1)


class UserBody(_Body):
    """``POST /_sandbox/pluvo/users``: a user (no invitation is recorded)."""

    id: str | None = None
    ref: str | None = None
    name: str
    email: str | None = None
    archived: bool = False
    roles: list[str] = Field(default_factory=lambda: ["PARTICIPANT"])


class GroupBody(_Body):
    """``POST /_sandbox/pluvo/groups``: a group with its members and the trainings it is linked to."""

    id: str | None = None
    ref: str | None = None
    name: str
    user_ids: list[str] = Field(default_factory=list)
    training_ids: list[str] = Field(default_factory=list)


class TrainingBody(_Body):
    """``POST /_sandbox/pluvo/trainings``; ``certificate_id``: the template issued on completion."""

    id: str | None = None
    ref: str | None = None
    title: str
    certificate_id: str | None = None


class OfferBody(_Body):
    """``POST /_sandbox/pluvo/offers``."""

    id: str | None = None
    ref: str | None = None
    title: str
    description: str | None = None


class OfferEventBody(_Body):
    """``POST /_sandbox/pluvo/offer_events``: an event of an offer, giving access to trainings."""

    id: str | None = None
    ref: str | None = None
    title: str
    offer_id: str
    access_training_ids: list[str] = Field(default_factory=list)
    type: Literal["MEETING", "WEBINAR", "TRAINING", "ELEARNING", "COURSE", "SCORM", "VIDEO"] = "TRAINING"
    max_subscriptions: int | None = Field(default=None, ge=0)
    waiting_list: bool = False


class CertificateBody(_Body):
    """``POST /_sandbox/pluvo/certificates``: a certificate template."""

    id: str | None = None
    name: str
    title: str


class GroupTrainingBody(_Body):
    """``POST /_sandbox/pluvo/group_trainings``: link a group to a training (its members become learners)."""

    group_id: str
    training_id: str


class TrainingCertificateBody(_Body):
    """``PUT /_sandbox/pluvo/training_certificate``: the template issued on completion (``null``: none)."""

    training_id: str
    certificate_id: str | None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


CONTROL_ROUTES: tuple[Route, ...] = (
    Route("GET", "/state", "summary"),
    Route("POST", "/revoke_tokens", "revoke_tokens"),
    Route("PUT", "/token_lifetime", "set_token_lifetime"),
    Route("PUT", "/settings", "set_settings"),
    Route("PUT", "/webhook", "set_webhook"),
    Route("POST", "/finish_training", "finish_training"),
    Route("POST", "/progress", "progress"),
    Route("POST", "/complete_training", "complete_training"),
    Route("PUT", "/auto_progress", "set_auto_progress"),
    Route("POST", "/users", "add_user", status_code=201),
    Route("POST", "/groups", "add_group", status_code=201),
    Route("POST", "/trainings", "add_training", status_code=201),
    Route("POST", "/offers", "add_offer", status_code=201),
    Route("POST", "/offer_events", "add_offer_event", status_code=201),
    Route("POST", "/certificates", "add_certificate", status_code=201),
    Route("POST", "/group_trainings", "link_group", status_code=201),
    Route("PUT", "/training_certificate", "set_training_certificate"),
)


class PluvoControl:
    """One thin action per control route.

    :param state: The Pluvo double's state.
    """

    def __init__(self, state: PluvoState) -> None:
        self.state = state

    # -- looking, tokens, settings ---------------------------------------------------------------------------
    async def summary(self) -> dict[str, Any]:
        deliver_later(self.state, rules.apply_time(self.state))
        return state_json(self.state)

    async def revoke_tokens(self) -> dict[str, Any]:
        return {"revoked": self.state.revoke_tokens()}

    async def set_token_lifetime(self, body: TokenLifetimeBody) -> dict[str, Any]:
        self.state.token_lifetime_seconds = body.seconds
        return {"seconds": body.seconds}

    async def set_settings(self, body: SettingsBody) -> dict[str, Any]:
        changes = body.model_dump(exclude_none=True)
        self.state.settings = dataclasses.replace(self.state.settings, **changes)
        return dataclasses.asdict(self.state.settings)

    async def set_webhook(self, target: WebhookTargetBody) -> dict[str, Any]:
        self.state.set_webhook(target.url, target.secret)
        return {"url": target.url}

    # -- progress and webhooks -------------------------------------------------------------------------------
    def _learner(self, body: LearnerTrainingBody, *, linked: bool) -> tuple[User, Training]:
        user, training = self.state.users.get(body.user_id), self.state.trainings.get(body.training_id)
        if user is None or training is None:
            raise ControlError(404, "unknown user or training")
        if linked and not self.state.link_kinds(user.id, training.id):
            raise ControlError(409, "the user does not reach this training (add them to it first)")
        return user, training

    async def finish_training(self, body: LearnerTrainingBody) -> dict[str, Any]:
        """Deliver a signed ``TRAINING_FINISHED`` (with retries), changing no progress; tell how it went."""
        user, training = self._learner(body, linked=False)
        if self.state.webhook_target() is None:
            raise ControlError(409, "no webhook configured: PUT /_sandbox/pluvo/webhook first")
        now = self.state.now()
        progress = Progress(progress=1.0, score=body.score, started_at=now - timedelta(days=7))
        event = training_finished_json(self.state.event_id(user.id, training.id), user, training, progress, now)
        [result] = await asyncio.to_thread(deliver, self.state, [event])
        return {"delivered": result["delivered"], "statuses": result["statuses"], "event": event}

    async def progress(self, body: ProgressBody) -> dict[str, Any]:
        user, training = self._learner(body, linked=True)
        events = rules.move_progress(self.state, user, training, body.progress, body.score, body.time_spent_seconds)
        return await self._answer(user, training, events)

    async def complete_training(self, body: LearnerTrainingBody) -> dict[str, Any]:
        """Complete now: progress 1.0, ``TRAINING_FINISHED``, and the certificate if the training has one."""
        user, training = self._learner(body, linked=True)
        events = rules.complete_training(self.state, user, training, body.score)
        return await self._answer(user, training, events)

    async def _answer(self, user: User, training: Training, events: list[dict[str, Any]]) -> dict[str, Any]:
        # Off the event loop: the receiver may be slow, and the sandbox keeps serving meanwhile.
        deliveries = await asyncio.to_thread(deliver, self.state, events) if events else []
        record = self.state.read_progress(user.id, training.id)
        return {
            "progress": record.progress,
            "score": record.score,
            "completion_date": record.completion_date.isoformat() if record.completion_date else None,
            "deliveries": deliveries,
        }

    async def set_auto_progress(self, body: AutoProgressBody) -> dict[str, Any]:
        self.state.set_auto_progress(body.complete_after_seconds, body.score)
        return body.model_dump()

    # -- seeding ---------------------------------------------------------------------------------------------
    def _fresh(self, records: dict[str, Any], kind: str, wanted: str | None, ref: str | None) -> str:
        if ref is not None and any(getattr(r, "ref", None) == ref for r in records.values()):
            raise ControlError(409, f"a {kind} with ref {ref!r} exists")
        if wanted is not None and wanted in records:
            raise ControlError(409, f"a {kind} with id {wanted!r} exists")
        if wanted is not None and not _is_uuid(wanted):
            raise ControlError(422, f"a {kind} id must be a UUID, got {wanted!r}")
        return wanted or self.state.new_id(kind)

    def _known(self, records: dict[str, Any], kind: str, ids: list[str]) -> None:
        unknown = [i for i in ids if i not in records]
        if unknown:
            raise ControlError(404, f"unknown {kind} ids: {unknown}")

    async def add_user(self, body: UserBody) -> dict[str, Any]:
        if body.email is not None and self.state.find_user(email=body.email) is not None:
            raise ControlError(409, f"a user with e-mail {body.email!r} exists")
        user_id = self._fresh(self.state.users, "user", body.id, body.ref)
        user = User(user_id, body.ref, body.name, body.email, archived=body.archived, roles=body.roles)
        self.state.users[user.id] = user
        return {"id": user.id, "ref": user.ref}

    async def add_group(self, body: GroupBody) -> dict[str, Any]:
        self._known(self.state.users, "user", body.user_ids)
        self._known(self.state.trainings, "training", body.training_ids)
        group_id = self._fresh(self.state.groups, "group", body.id, body.ref)
        with self.state.tracking_links():
            self.state.groups[group_id] = Group(
                group_id, body.ref, body.name, user_ids=list(body.user_ids), training_ids=list(body.training_ids)
            )
        return {"id": group_id, "ref": body.ref}

    async def add_training(self, body: TrainingBody) -> dict[str, Any]:
        self._known(self.state.certificates, "certificate", [body.certificate_id] if body.certificate_id else [])
        training_id = self._fresh(self.state.trainings, "training", body.id, body.ref)
        self.state.trainings[training_id] = Training(
            training_id, body.ref, body.title, certificate_id=body.certificate_id
        )
        return {"id": training_id, "ref": body.ref}

    async def add_offer(self, body: OfferBody) -> dict[str, Any]:
        offer_id = self._fresh(self.state.offers, "offer", body.id, body.ref)
        self.state.offers[offer_id] = Offer(offer_id, body.ref, body.title, description=body.description)
        return {"id": offer_id, "ref": body.ref}

    async def add_offer_event(self, body: OfferEventBody) -> dict[str, Any]:
        self._known(self.state.offers, "offer", [body.offer_id])
        self._known(self.state.trainings, "training", body.access_training_ids)
        event_id = self._fresh(self.state.offer_events, "offer_event", body.id, body.ref)
        self.state.offer_events[event_id] = OfferEvent(
            event_id,
            body.ref,
            body.title,
            body.offer_id,
            type=body.type,
            access_training_ids=list(body.access_training_ids),
            max_subscriptions=body.max_subscriptions,
            waiting_list=body.waiting_list,
        )
        self.state.offers[body.offer_id].event_ids.append(event_id)
        return {"id": event_id, "ref": body.ref}

    async def add_certificate(self, body: CertificateBody) -> dict[str, Any]:
        certificate_id = self._fresh(self.state.certificates, "certificate", body.id, None)
        self.state.certificates[certificate_id] = CertificateTemplate(certificate_id, body.name, body.title)
        return {"id": certificate_id}

    async def link_group(self, body: GroupTrainingBody) -> dict[str, Any]:
        self._known(self.state.groups, "group", [body.group_id])
        self._known(self.state.trainings, "training", [body.training_id])
        group = self.state.groups[body.group_id]
        with self.state.tracking_links():
            if body.training_id not in group.training_ids:
                group.training_ids.append(body.training_id)
        return {"group_id": group.id, "training_ids": list(group.training_ids)}

    async def set_training_certificate(self, body: TrainingCertificateBody) -> dict[str, Any]:
        self._known(self.state.trainings, "training", [body.training_id])
        self._known(self.state.certificates, "certificate", [body.certificate_id] if body.certificate_id else [])
        self.state.trainings[body.training_id].certificate_id = body.certificate_id
        return {"training_id": body.training_id, "certificate_id": body.certificate_id}


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """The ``/pluvo`` control routes (the app mounts them under ``/_sandbox``)."""
    control = PluvoControl(sandbox_state.platform("pluvo"))
    return build_router(CONTROL_ROUTES, control, prefix="/pluvo", tags=["sandbox control"])
