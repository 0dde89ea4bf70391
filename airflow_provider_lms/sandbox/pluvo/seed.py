"""The Pluvo demo data (the seed table is in the package docstring), identical after every reset."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from airflow_provider_lms.sandbox.pluvo.records import (
    CertificateTemplate,
    Group,
    Offer,
    OfferEvent,
    OfferEventDate,
    Training,
    User,
)

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = ["PLUVO_SANDBOX_CLIENT_ID", "PLUVO_SANDBOX_CLIENT_SECRET", "PluvoSeed", "seed"]

#: The OAuth2 client the seeded double accepts (client-credentials grant).
PLUVO_SANDBOX_CLIENT_ID = "sandbox-pluvo-client"
PLUVO_SANDBOX_CLIENT_SECRET = "sandbox-pluvo-secret"  # noqa: S105 - a sandbox credential, public on purpose


class PluvoSeed:
    """Sizes and ids of the seeded demo data (see the package docstring)."""

    CLIENT_ID = PLUVO_SANDBOX_CLIENT_ID
    CLIENT_SECRET = PLUVO_SANDBOX_CLIENT_SECRET
    #: 120 users: three pages of 50, so that pagination is exercised.
    USERS = 120
    TRAININGS = 5
    #: group-1 "Marketing" (users 1, 3, 5, 7, 9), group-2 "Sales" (users 2, 4, 6, 8, 10), linked to training 5.
    GROUP_MEMBERS = {1: (1, 3, 5, 7, 9), 2: (2, 4, 6, 8, 10)}
    GROUP_TRAININGS = {2: (5,)}
    #: offer-event-1 gives access to training 4; the certificate template is issued on completing training 5.
    OFFER_EVENT_TRAINING = 4
    CERTIFIED_TRAINING = 5

    @staticmethod
    def user_id(number: int) -> str:
        """The UUID of seeded user ``number`` (1-based)."""
        return f"00000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def training_id(number: int) -> str:
        """The UUID of seeded training ``number`` (1-based)."""
        return f"10000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def group_id(number: int) -> str:
        """The UUID of seeded group ``number`` (1-based)."""
        return f"20000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def offer_id(number: int) -> str:
        """The UUID of seeded offer ``number`` (1-based)."""
        return f"30000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def offer_event_id(number: int) -> str:
        """The UUID of seeded offer event ``number`` (1-based)."""
        return f"40000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def certificate_id(number: int) -> str:
        """The UUID of seeded certificate template ``number`` (1-based)."""
        return f"50000000-0000-4000-8000-{number:012d}"


def _user(number: int) -> User:
    return User(
        id=PluvoSeed.user_id(number),
        ref=f"user-{number}",
        name=f"Learner {number}",
        email=f"learner{number}@example.org",
        archived=number % 10 == 0,
        extra_fields={"Afdeling": "Marketing" if number % 2 else "Sales"},
    )


def _training(number: int) -> Training:
    return Training(
        id=PluvoSeed.training_id(number),
        ref=f"training-{number}",
        title=f"Training {number}",
        start_date=date(2024, 2, 1),
        end_date=date(2025, 2, 1),
        extra_fields={"subject": "Development"},
        certificate_id=PluvoSeed.certificate_id(1) if number == PluvoSeed.CERTIFIED_TRAINING else None,
    )


def _group(number: int, name: str) -> Group:
    return Group(
        id=PluvoSeed.group_id(number),
        ref=f"group-{number}",
        name=name,
        user_ids=[PluvoSeed.user_id(n) for n in PluvoSeed.GROUP_MEMBERS[number]],
        training_ids=[PluvoSeed.training_id(n) for n in PluvoSeed.GROUP_TRAININGS.get(number, ())],
    )


def _offer_event() -> OfferEvent:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    return OfferEvent(
        id=PluvoSeed.offer_event_id(1),
        ref="offer-event-1",
        title="Onboarding, March",
        offer_id=PluvoSeed.offer_id(1),
        type="TRAINING",
        access_training_ids=[PluvoSeed.training_id(PluvoSeed.OFFER_EVENT_TRAINING)],
        dates=[OfferEventDate(id="41000000-0000-4000-8000-000000000001", start_date=start, end_date=start)],
        max_subscriptions=25,
        price=Decimal("0.00"),
    )


def seed(state: PluvoState) -> None:
    """Fill a freshly reset state with the demo client and records."""
    state.clients = {PluvoSeed.CLIENT_ID: PluvoSeed.CLIENT_SECRET}
    state.users = {user.id: user for user in (_user(n) for n in range(1, PluvoSeed.USERS + 1))}
    state.trainings = {t.id: t for t in (_training(n) for n in range(1, PluvoSeed.TRAININGS + 1))}
    state.groups = {g.id: g for g in (_group(1, "Marketing"), _group(2, "Sales"))}
    event = _offer_event()
    state.offer_events = {event.id: event}
    offer = Offer(id=PluvoSeed.offer_id(1), ref="offer-1", title="Onboarding", event_ids=[event.id])
    state.offers = {offer.id: offer}
    certificate = CertificateTemplate(
        id=PluvoSeed.certificate_id(1), name="certificate-1", title="Certificate of completion"
    )
    state.certificates = {certificate.id: certificate}
