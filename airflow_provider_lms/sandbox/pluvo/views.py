"""Rendering the Pluvo double's records into Pluvo's JSON: webhook events, the token answer, the state.

The GraphQL answers are rendered by graphql-core from the records themselves (``schema.py``); this module
holds the bodies that are not GraphQL: the webhook events (``pluvo-webhooks.txt``), the token endpoint's
answer and the control API's view of the state.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox._common import iso_date, iso_timestamp
from airflow_provider_lms.sandbox.pluvo.records import PortfolioItem, Progress, Training, User

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = [
    "certificate_achieved_json",
    "state_json",
    "token_json",
    "training_finished_json",
    "training_json",
    "user_json",
]


def user_json(user: User) -> dict[str, Any]:
    """A user as the ``USER_*`` webhook bodies name its fields."""
    return {
        "id": user.id,
        "ref": user.ref,
        "name": user.name,
        "email": user.email,
        "isActive": user.is_active,
        "afas_person_id": None,
        "afas_employee_id": None,
        "extraFields": user.extra_fields,
    }


def training_json(training: Training) -> dict[str, Any]:
    """A training as the ``TRAINING_*`` webhook bodies name its fields."""
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


def training_finished_json(
    event_id: str, user: User, training: Training, progress: Progress, sent_at: datetime
) -> dict[str, Any]:
    """The ``TRAINING_FINISHED`` body, shaped like the document's example."""
    sent = iso_timestamp(sent_at)
    started = progress.started_at or sent_at
    return {
        "id": event_id,
        "score": progress.score,
        "start_date": started.isoformat(timespec="seconds"),
        "user": {**user_json(user), "event": "USER_UPDATED", "sentDate": sent},
        "training": {**training_json(training), "event": "TRAINING_UPDATED", "sentDate": sent},
        "sentDate": sent,
        "event": "TRAINING_FINISHED",
    }


def certificate_achieved_json(item: PortfolioItem, user: User, training: Training, sent_at: datetime) -> dict[str, Any]:
    """The ``EVENT_CERTIFICATE_ACHIEVED`` body.

    Pluvo names the event (certificate-2, webhooks-2) but shows no body.
    """
    sent = iso_timestamp(sent_at)
    # ASSUMPTION: shaped like the other module-group (EVENT_*) events of pluvo-webhooks.txt: the user, the
    # training and the certificate's file; `id` is the portfolio item's id, `title` its title.
    return {
        "id": item.id,
        "title": item.title,
        "user": {**user_json(user), "event": "USER_UPDATED", "sentDate": sent},
        "training": {**training_json(training), "event": "TRAINING_UPDATED", "sentDate": sent},
        "file": item.files[0] if item.files else None,
        "sentDate": sent,
        "event": "EVENT_CERTIFICATE_ACHIEVED",
    }


def token_json(token: str, expires_in: int, scope: str) -> dict[str, Any]:
    """The token endpoint's answer (getting-started-2)."""
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}


def _progress_rows(state: PluvoState) -> list[dict[str, Any]]:
    return [
        {
            "user_id": user_id,
            "training_id": training_id,
            "progress": record.progress,
            "score": record.score,
            "completion_date": record.completion_date.isoformat() if record.completion_date else None,
        }
        for (user_id, training_id), record in state.progress.items()
    ]


def state_json(state: PluvoState) -> dict[str, Any]:
    """``GET /_sandbox/pluvo/state``: what tests assert on."""
    return {
        "tokens_issued": state.tokens_issued,
        "live_tokens": state.live_tokens(),
        "token_lifetime_seconds": state.token_lifetime_seconds,
        "settings": dataclasses.asdict(state.settings),
        "users": len(state.users),
        "groups": {
            g.id: {"ref": g.ref, "user_ids": g.user_ids, "training_ids": g.training_ids} for g in state.groups.values()
        },
        "trainings": len(state.trainings),
        "participants": {t.id: dict(t.participants) for t in state.trainings.values() if t.participants},
        "enrollments": [
            {"id": e.id, "user_id": e.user_id, "offer_event_id": e.offer_event_id, "status": e.status}
            for e in state.enrollments.values()
        ],
        "progress": _progress_rows(state),
        "portfolio_items": [
            {
                "id": i.id,
                "user_id": i.user_id,
                "title": i.title,
                "certificate_id": i.certificate_id,
                "training_id": i.training_id,
            }
            for i in state.portfolio_items.values()
        ],
        "mails": [
            {"kind": m.kind, "user_id": m.user_id, "to": m.to, "about": m.about, "sent_at": m.sent_at.isoformat()}
            for m in state.mails
        ],
        "auto_progress_seconds": state.auto_progress_seconds,
        "pending": [
            {"user_id": p.user_id, "training_id": p.training_id, "due": p.due.isoformat()} for p in state.pending
        ],
        "webhook_url": state.webhook_url,
        "deliveries": list(state.deliveries),
    }
