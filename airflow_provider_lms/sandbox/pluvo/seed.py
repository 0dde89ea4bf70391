"""The Pluvo demo data (the seed table is in the package docstring), identical after every reset."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from airflow_provider_lms.sandbox.pluvo.records import Training, User

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

    @staticmethod
    def user_id(number: int) -> str:
        """The UUID of seeded user ``number`` (1-based)."""
        return f"00000000-0000-4000-8000-{number:012d}"

    @staticmethod
    def training_id(number: int) -> str:
        """The UUID of seeded training ``number`` (1-based)."""
        return f"10000000-0000-4000-8000-{number:012d}"


def _user(number: int) -> User:
    return User(
        id=PluvoSeed.user_id(number),
        ref=f"user-{number}",
        name=f"Learner {number}",
        email=f"learner{number}@example.org",
        is_active=number % 10 != 0,
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
    )


def seed(state: PluvoState) -> None:
    """Fill a freshly reset state with the demo client, users and trainings."""
    state.clients = {PluvoSeed.CLIENT_ID: PluvoSeed.CLIENT_SECRET}
    state.users = [_user(number) for number in range(1, PluvoSeed.USERS + 1)]
    state.trainings = [_training(number) for number in range(1, PluvoSeed.TRAININGS + 1)]
