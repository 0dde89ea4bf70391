"""The records the Pluvo double stores: tokens, users, groups, trainings, offers, enrollments, progress,
certificate templates, portfolio items, the mails it would have sent and the completions it has scheduled.

Attribute names are the schema's field names in snake case, so that the schema's default resolver
(``schema.py``) reads most fields straight off a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = [
    "CertificateTemplate",
    "Enrollment",
    "Group",
    "Mail",
    "Offer",
    "OfferEvent",
    "OfferEventDate",
    "PendingCompletion",
    "PortfolioItem",
    "Progress",
    "Token",
    "Training",
    "User",
]


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
    """A Pluvo user (the ``User`` type of ``schema.graphql``; the ``USER_*`` webhook bodies).

    :param id: UUID.
    :param ref: The organisation's own reference (unique among users).
    :param email: Unique in the organisation.
    :param archived: Archived users stay, but are not active.
    :param extra_fields: Custom profile fields by name.
    """

    id: str
    ref: str | None
    name: str
    email: str | None
    archived: bool = False
    roles: list[str] = field(default_factory=lambda: ["PARTICIPANT"])
    language: str | None = "NL"
    extra_fields: dict[str, Any] = field(default_factory=dict)
    invited_on: datetime | None = None
    last_login: datetime | None = None

    @property
    def is_active(self) -> bool:
        """The older pages' flag: an archived user is not active."""
        return not self.archived


@dataclass
class Group:
    """A group of users (``Group``), optionally linked to trainings whose participants its members become.

    :param user_ids: Members, in the order they were added.
    :param manager_ids: Group managers.
    :param training_ids: Trainings the group is linked to (set through the control API).
    """

    id: str
    ref: str | None
    name: str
    max_users: int = 0
    enable_chat: bool = False
    is_editable: bool = True
    user_ids: list[str] = field(default_factory=list)
    manager_ids: list[str] = field(default_factory=list)
    training_ids: list[str] = field(default_factory=list)


@dataclass
class Training:
    """A training, a "learning journey" in Pluvo's interface (``Training``; the ``TRAINING_*`` bodies).

    :param participants: Users added directly (``addUsersToTraining``), with their ``TrainingRole``.
    :param certificate_id: A certificate template issued when a learner completes it (control API).
    """

    id: str
    ref: str | None
    title: str
    start_date: date | None = None
    end_date: date | None = None
    subtitle: str | None = None
    introduction: str | None = None
    is_active: bool = True
    archived: bool = False
    show_participants: bool = True
    show_shared_files: bool = True
    enable_chat: bool = False
    extra_fields: dict[str, Any] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=dict)
    certificate_id: str | None = None


@dataclass
class Offer:
    """An offer in the catalogue: it groups offer events (``Offer``)."""

    id: str
    ref: str | None
    title: str
    description: str | None = None
    is_active: bool = True
    event_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OfferEventDate:
    """One session of an offer event."""

    id: str
    start_date: datetime
    end_date: datetime


@dataclass
class OfferEvent:
    """An offer event (``OfferEvent``): learners enrol in it and so reach its ``accessTrainings``."""

    id: str
    ref: str | None
    title: str
    offer_id: str
    type: str = "TRAINING"
    access_training_ids: list[str] = field(default_factory=list)
    dates: list[OfferEventDate] = field(default_factory=list)
    max_subscriptions: int | None = None
    min_subscriptions: int | None = None
    waiting_list: bool = False
    closing_date: datetime | None = None
    price: Decimal | None = None
    cancelled: bool = False
    publish: bool = True
    certificate_id: str | None = None
    score_threshold: float | None = None


@dataclass
class Enrollment:
    """A user's enrollment in an offer event (``Enrollment`` / the recipe's enrollment object)."""

    id: str
    user_id: str
    offer_event_id: str
    status: str
    enrolled_at: datetime


@dataclass
class Progress:
    """How far one learner is in one training (what ``portfolioReport`` reports).

    :param progress: 0..1.
    :param score: 0..1, ``None`` while the training has not scored the learner.
    :param completion_date: Set when the learner completed the training.
    :param time_spent_seconds: Time spent in the training.
    :param started_at: When the learner first made progress.
    """

    progress: float = 0.0
    score: float | None = None
    completion_date: datetime | None = None
    time_spent_seconds: int = 0
    started_at: datetime | None = None


@dataclass(frozen=True)
class CertificateTemplate:
    """A certificate template (``Certificate``)."""

    id: str
    name: str
    title: str


@dataclass
class PortfolioItem:
    """An entry in a user's portfolio; an issued certificate is one (``PortfolioItem``).

    :param certificate_id: The template it was generated from (the sandbox's own bookkeeping).
    :param training_id: The training it was issued for, if any.
    """

    id: str
    user_id: str
    title: str
    start_date: datetime
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    end_date: datetime | None = None
    files: list[str] = field(default_factory=list)
    certificate_id: str | None = None
    training_id: str | None = None


@dataclass(frozen=True)
class Mail:
    """A mail Pluvo would have sent: an invitation to the platform, to a training, or for an enrollment.

    :param kind: ``"invitation"``, ``"training_invitation"`` or ``"enrollment"``.
    :param about: The id of the training or offer event the mail is about (``None`` for an invitation).
    """

    kind: str
    user_id: str
    to: str | None
    about: str | None
    sent_at: datetime


class PendingCompletion(NamedTuple):
    """A completion scheduled by auto-progress: ``user_id`` completes ``training_id`` at ``due``."""

    user_id: str
    training_id: str
    due: datetime
