"""Rendering the Pluvo double's records into Pluvo's JSON: GraphQL objects, webhook events, the token answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox._common import iso_date, iso_timestamp
from airflow_provider_lms.sandbox.pluvo.records import Training, TrainingFinished, User

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = ["state_json", "token_json", "training_finished_json", "training_json", "user_json"]


def user_json(user: User) -> dict[str, Any]:
    """A user as the GraphQL ``User`` type and the ``USER_*`` events name its fields."""
    return {
        "id": user.id,
        "ref": user.ref,
        "name": user.name,
        "email": user.email,
        "isActive": user.is_active,
        "extraFields": user.extra_fields,
    }


def training_json(training: Training) -> dict[str, Any]:
    """A training as the GraphQL ``Training`` type and the ``TRAINING_*`` events name its fields."""
    return {
        "id": training.id,
        "ref": training.ref,
        "title": training.title,
        "subtitle": training.subtitle,
        "introduction": training.introduction,
        "startDate": iso_date(training.start_date),
        "endDate": iso_date(training.end_date),
        "isActive": training.is_active,
        "showParticipants": training.show_participants,
        "showSharedFiles": training.show_shared_files,
        "enableChat": training.enable_chat,
        "extraFields": training.extra_fields,
    }


def training_finished_json(event: TrainingFinished) -> dict[str, Any]:
    """The ``TRAINING_FINISHED`` body, shaped like the document's example."""
    sent = iso_timestamp(event.sent_at)
    return {
        "id": event.id,
        "score": event.score,
        "start_date": event.started_at.isoformat(timespec="seconds"),
        "user": {**user_json(event.user), "event": "USER_UPDATED", "sentDate": sent},
        "training": {**training_json(event.training), "event": "TRAINING_UPDATED", "sentDate": sent},
        "sentDate": sent,
        "event": "TRAINING_FINISHED",
    }


def token_json(token: str, expires_in: int, scope: str) -> dict[str, Any]:
    """The token endpoint's answer (FACTS.md)."""
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}


def state_json(state: PluvoState) -> dict[str, Any]:
    """``GET /_sandbox/pluvo/state``: counts to assert on in tests."""
    return {
        "tokens_issued": state.tokens_issued,
        "live_tokens": state.live_tokens(),
        "users": len(state.users),
        "trainings": len(state.trainings),
        "webhook_url": state.webhook_url,
    }
