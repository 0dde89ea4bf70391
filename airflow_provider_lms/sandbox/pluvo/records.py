"""The records the Pluvo double stores: tokens, users, trainings, and a finished training."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["Token", "Training", "TrainingFinished", "User"]


@dataclass
class Token:
    """An access token the token endpoint issued.

    :param client_id: The client it was issued to.
    :param scope: The scope asked for (not checked by the GraphQL endpoint).
    :param expires_at: When it stops being accepted, on the sandbox clock.
    """

    client_id: str
    scope: str
    expires_at: datetime


@dataclass
class User:
    """A Pluvo user (the fields of the ``USER_*`` event example in the webhook document).

    :param id: UUID.
    :param ref: The organisation's own reference.
    :param extra_fields: Custom profile fields by name.
    """

    id: str
    ref: str
    name: str
    email: str
    is_active: bool
    extra_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Training:
    """A Pluvo training (the fields of the ``TRAINING_*`` event example).

    :param id: UUID.
    :param ref: The organisation's own reference.
    :param extra_fields: Custom fields by name.
    """

    id: str
    ref: str
    title: str
    start_date: date
    end_date: date
    subtitle: str | None = None
    introduction: str | None = None
    is_active: bool = True
    show_participants: bool = True
    show_shared_files: bool = True
    enable_chat: bool = False
    extra_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingFinished:
    """A learner finished a training: what a ``TRAINING_FINISHED`` webhook reports.

    :param id: The event's id (a UUID derived from the user, the training and the moment).
    :param score: The learner's score, if the training has one.
    :param started_at: When the learner started the training.
    :param sent_at: When the event is sent (the sandbox clock).
    """

    id: str
    user: User
    training: Training
    score: float | None
    started_at: datetime
    sent_at: datetime
