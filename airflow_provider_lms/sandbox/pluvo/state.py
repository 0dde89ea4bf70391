"""The Pluvo double's state and its rules: tokens, the seeded users and trainings, the webhook target."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from airflow_provider_lms.sandbox.pluvo.errors import ControlError, OAuthError, PluvoError
from airflow_provider_lms.sandbox.pluvo.records import Token, Training, TrainingFinished, User
from airflow_provider_lms.sandbox.pluvo.seed import seed

__all__ = ["TOKEN_LIFETIME_SECONDS", "PluvoState"]

#: ``expires_in`` of every token (FACTS.md: a day).
TOKEN_LIFETIME_SECONDS = 86400
#: How long before finishing a training the learner started it, in the ``TRAINING_FINISHED`` event.
_TRAINING_DURATION = timedelta(days=7)


class PluvoState:
    """Clients, tokens, users and trainings of the Pluvo double.

    :param clock: the sandbox clock (token expiry follows it).
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.clients: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.users: list[User] = []
        self.trainings: list[Training] = []
        self.tokens_issued = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.reset()

    def reset(self) -> None:
        """Drop every token and the webhook target, and reseed the demo data."""
        self.tokens = {}
        self.tokens_issued = 0
        self.webhook_url = None
        self.webhook_secret = None
        seed(self)

    # -- OAuth2 --------------------------------------------------------------------------------------------
    def grant_token(self, grant_type: str, client_id: str, client_secret: str, scope: str) -> str:
        """The client-credentials grant: a new token for a known client with its secret.

        :raises OAuthError: 400 ``unsupported_grant_type``, 401 ``invalid_client``.
        """
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type")
        expected = self.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, client_secret):
            raise OAuthError(401, "invalid_client")
        return self.issue_token(client_id, scope)

    def issue_token(self, client_id: str, scope: str) -> str:
        """Issue a token valid for :data:`TOKEN_LIFETIME_SECONDS` on the sandbox clock."""
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Token(client_id, scope, self.clock() + timedelta(seconds=TOKEN_LIFETIME_SECONDS))
        self.tokens_issued += 1
        return token

    def token_valid(self, token: str) -> bool:
        known = self.tokens.get(token)
        return known is not None and self.clock() < known.expires_at

    def authenticate(self, authorization: str) -> None:
        """Check an ``Authorization`` header: a Bearer token issued here, not revoked, not expired.

        :raises PluvoError: 401 otherwise.
        """
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not self.token_valid(presented.strip()):
            raise PluvoError(401, "Unauthorized: send a valid Bearer token from /oauth/token/")

    def revoke_tokens(self) -> int:
        """Revoke every token early; how many there were."""
        revoked = len(self.tokens)
        self.tokens.clear()
        return revoked

    def live_tokens(self) -> int:
        return sum(1 for token in self.tokens if self.token_valid(token))

    # -- records -------------------------------------------------------------------------------------------
    def find_user(self, user_id: str) -> User | None:
        return next((user for user in self.users if user.id == user_id), None)

    def find_training(self, training_id: str) -> Training | None:
        return next((training for training in self.trainings if training.id == training_id), None)

    # -- webhooks ------------------------------------------------------------------------------------------
    def set_webhook(self, url: str, secret: str) -> None:
        """Where events are sent, and the secret they are signed with."""
        self.webhook_url, self.webhook_secret = url, secret

    def webhook_target(self) -> tuple[str, str]:
        """The configured ``(url, secret)``.

        :raises ControlError: 409 when no webhook is configured.
        """
        if self.webhook_url is None or self.webhook_secret is None:
            raise ControlError(409, "no webhook configured: PUT /_sandbox/pluvo/webhook first")
        return self.webhook_url, self.webhook_secret

    def finish_training(self, user_id: str, training_id: str, score: float | None = None) -> TrainingFinished:
        """A learner finishes a training now (on the sandbox clock).

        :raises ControlError: 404 for an unknown user or training.
        """
        user, training = self.find_user(user_id), self.find_training(training_id)
        if user is None or training is None:
            raise ControlError(404, "unknown user or training")
        now = self.clock()
        return TrainingFinished(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, user_id + training_id + now.isoformat())),
            user=user,
            training=training,
            score=score,
            started_at=now - _TRAINING_DURATION,
            sent_at=now,
        )
