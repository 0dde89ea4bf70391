"""The Pluvo double's state: tokens, records, links between users and trainings, mails, timers, settings.

This module holds data and answers questions about it (who reaches which training, and how); the rules
that change it through the API live in ``rules.py``. Nothing here knows HTTP or GraphQL.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from airflow_provider_lms.sandbox.pluvo.errors import OAuthError
from airflow_provider_lms.sandbox.pluvo.records import (
    CertificateTemplate,
    Enrollment,
    Group,
    Mail,
    Offer,
    OfferEvent,
    PendingCompletion,
    PortfolioItem,
    Progress,
    Token,
    Training,
    User,
)
from airflow_provider_lms.sandbox.pluvo.seed import seed

__all__ = ["TOKEN_LIFETIME_SECONDS", "LinkKind", "PluvoSettings", "PluvoState"]

#: ``expires_in`` of every token unless the control API shortens it (getting-started-2: a day).
TOKEN_LIFETIME_SECONDS = 86400
#: How a user reaches a training: added directly, as a member of a linked group, or by an enrollment.
LinkKind = Literal["direct", "group", "enrollment"]
#: Id prefixes of records the API creates (seeded records use variant ``8000``, created ones ``9000``).
_ID_PREFIX = {
    "user": "00000000",
    "training": "10000000",
    "group": "20000000",
    "offer": "30000000",
    "offer_event": "40000000",
    "certificate": "50000000",
    "enrollment": "60000000",
    "portfolio_item": "70000000",
}


@dataclass
class PluvoSettings:
    """Behaviours the published pages leave open, switchable through ``PUT /_sandbox/pluvo/settings``.

    :param auth_failure: How an expired, revoked or missing token is answered: ``"http_401"`` or
        ``"graphql_error"`` (HTTP 200, ``extensions.code`` ``AuthenticationError``).
    :param missing_slash: ``POST /graphql`` without the trailing slash: ``"redirect"`` (301) or ``"404"``.
    :param first_over_max: ``first`` over 50: ``"error"`` or ``"cap"`` (silently 50).
    :param validation_status: HTTP status of an answer whose errors are all request errors (syntax,
        validation, variables), with no ``data``.
    """

    # ASSUMPTION: getting-started-2 says to fetch a new token on HTTP 401, the reference client reads an
    # `Auth...` code from `errors`; which one Pluvo answers is unconfirmed. Default: HTTP 401.
    auth_failure: Literal["http_401", "graphql_error"] = "http_401"
    # ASSUMPTION: the pages say a request without the trailing slash "fails or is redirected"; Pluvo runs
    # on Django, whose APPEND_SLASH answers 301 to the slash URL. Default: 301.
    missing_slash: Literal["redirect", "404"] = "redirect"
    first_over_max: Literal["error", "cap"] = "error"
    # ASSUMPTION: the HTTP status that accompanies GraphQL errors is unpublished. Default 200 (the GraphQL
    # errors are in the body); graphene-django's own view answers 400 when no field was executed.
    validation_status: int = 200


class PluvoState:
    """Clients, tokens and records of the Pluvo double, and the settings and timers around them.

    :param clock: The sandbox clock (token expiry, completion dates and auto-progress follow it).
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.clients: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {}
        self.trainings: dict[str, Training] = {}
        self.offers: dict[str, Offer] = {}
        self.offer_events: dict[str, OfferEvent] = {}
        self.enrollments: dict[str, Enrollment] = {}
        self.certificates: dict[str, CertificateTemplate] = {}
        self.portfolio_items: dict[str, PortfolioItem] = {}
        self.progress: dict[tuple[str, str], Progress] = {}
        self.mails: list[Mail] = []
        self.pending: list[PendingCompletion] = []
        self.auto_progress_seconds: float | None = None
        self.auto_progress_score: float | None = None
        #: Webhook events waiting to be sent, and what happened to the ones sent.
        self.outbox: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.settings = PluvoSettings()
        self.token_lifetime_seconds = TOKEN_LIFETIME_SECONDS
        self.tokens_issued = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._counters: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Drop every token, record, mail, timer, setting and the webhook target; reseed the demo data."""
        self.tokens, self.tokens_issued = {}, 0
        self.enrollments, self.portfolio_items, self.progress = {}, {}, {}
        self.mails, self.pending, self.outbox, self.deliveries = [], [], [], []
        self.auto_progress_seconds = self.auto_progress_score = None
        self.settings = PluvoSettings()
        self.token_lifetime_seconds = TOKEN_LIFETIME_SECONDS
        self.webhook_url = self.webhook_secret = None
        self._counters = {}
        seed(self)

    def now(self) -> datetime:
        """The sandbox clock."""
        return self.clock()

    def new_id(self, kind: str) -> str:
        """A fresh, deterministic UUID for a record of ``kind`` (``"user"``, ``"enrollment"``, ...)."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return f"{_ID_PREFIX[kind]}-0000-4000-9000-{self._counters[kind]:012d}"

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
        """Issue a token valid for ``token_lifetime_seconds`` on the sandbox clock."""
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Token(client_id, scope, self.clock() + timedelta(seconds=self.token_lifetime_seconds))
        self.tokens_issued += 1
        return token

    def token_valid(self, token: str) -> bool:
        known = self.tokens.get(token)
        return known is not None and self.clock() < known.expires_at

    def authenticated(self, authorization: str) -> bool:
        """Whether an ``Authorization`` header carries a Bearer token issued here, not revoked, not expired."""
        scheme, _, presented = authorization.partition(" ")
        return scheme.lower() == "bearer" and self.token_valid(presented.strip())

    def revoke_tokens(self) -> int:
        """Revoke every token early; how many there were."""
        revoked = len(self.tokens)
        self.tokens.clear()
        return revoked

    def live_tokens(self) -> int:
        return sum(1 for token in self.tokens if self.token_valid(token))

    # -- finding records -----------------------------------------------------------------------------------
    def find_user(self, user_id: str | None = None, ref: str | None = None, email: str | None = None) -> User | None:
        """The user with this id, ref or e-mail (the first selector given decides)."""
        if user_id is not None:
            return self.users.get(user_id)
        if ref is not None:
            return next((u for u in self.users.values() if u.ref == ref), None)
        if email is not None:
            # ASSUMPTION: e-mail addresses match case-insensitively (they are unique per organisation).
            wanted = email.casefold()
            return next((u for u in self.users.values() if (u.email or "").casefold() == wanted), None)
        return None

    def find_group(self, group_id: str | None = None, ref: str | None = None) -> Group | None:
        if group_id is not None:
            return self.groups.get(group_id)
        return next((g for g in self.groups.values() if ref is not None and g.ref == ref), None)

    def find_training(self, training_id: str | None = None, ref: str | None = None) -> Training | None:
        if training_id is not None:
            return self.trainings.get(training_id)
        return next((t for t in self.trainings.values() if ref is not None and t.ref == ref), None)

    def find_offer(self, offer_id: str | None = None, ref: str | None = None) -> Offer | None:
        if offer_id is not None:
            return self.offers.get(offer_id)
        return next((o for o in self.offers.values() if ref is not None and o.ref == ref), None)

    def find_offer_event(self, event_id: str | None = None, ref: str | None = None) -> OfferEvent | None:
        if event_id is not None:
            return self.offer_events.get(event_id)
        return next((e for e in self.offer_events.values() if ref is not None and e.ref == ref), None)

    def enrollment_of(self, user_id: str, event_id: str) -> Enrollment | None:
        return next(
            (e for e in self.enrollments.values() if e.user_id == user_id and e.offer_event_id == event_id), None
        )

    # -- who reaches which training ------------------------------------------------------------------------
    def groups_of(self, user_id: str) -> list[Group]:
        """The groups the user is a member of."""
        return [g for g in self.groups.values() if user_id in g.user_ids]

    def link_kinds(self, user_id: str, training_id: str) -> set[LinkKind]:
        """How the user reaches the training as a learner (empty: not at all)."""
        kinds: set[LinkKind] = set()
        training = self.trainings.get(training_id)
        if training is not None and training.participants.get(user_id) == "PARTICIPANT":
            kinds.add("direct")
        if any(training_id in g.training_ids for g in self.groups_of(user_id)):
            kinds.add("group")
        for enrollment in self.enrollments.values():
            if enrollment.user_id == user_id and enrollment.status == "ENROLLED":
                event = self.offer_events.get(enrollment.offer_event_id)
                if event is not None and training_id in event.access_training_ids:
                    kinds.add("enrollment")
        return kinds

    def learner_links(self) -> set[tuple[str, str]]:
        """Every ``(user_id, training_id)`` where the user reaches the training as a learner."""
        links = {
            (u, t.id) for t in self.trainings.values() for u, role in t.participants.items() if role == "PARTICIPANT"
        }
        links |= {(u, t) for g in self.groups.values() for u in g.user_ids for t in g.training_ids}
        for enrollment in self.enrollments.values():
            event = self.offer_events.get(enrollment.offer_event_id)
            if enrollment.status == "ENROLLED" and event is not None:
                links |= {(enrollment.user_id, t) for t in event.access_training_ids}
        return {(u, t) for u, t in links if u in self.users and t in self.trainings}

    def learners_of(self, training_id: str) -> list[User]:
        """The users who reach the training as learners, in the users' order."""
        linked = {u for u, t in self.learner_links() if t == training_id}
        return [user for user in self.users.values() if user.id in linked]

    def progress_of(self, user_id: str, training_id: str) -> Progress:
        """The learner's progress record in the training, to change (created at zero on first use)."""
        return self.progress.setdefault((user_id, training_id), Progress())

    def read_progress(self, user_id: str, training_id: str) -> Progress:
        """The learner's progress in the training, to read (zero when nothing happened yet)."""
        return self.progress.get((user_id, training_id)) or Progress()

    # -- mails and timers ----------------------------------------------------------------------------------
    def record_mail(self, kind: str, user: User, about: str | None = None) -> None:
        """Remember a mail Pluvo would have sent now."""
        self.mails.append(Mail(kind=kind, user_id=user.id, to=user.email, about=about, sent_at=self.clock()))

    def set_auto_progress(self, seconds: float | None, score: float | None = None) -> None:
        """From now on, every learner who newly reaches a training completes it ``seconds`` later."""
        self.auto_progress_seconds, self.auto_progress_score = seconds, score

    @contextmanager
    def tracking_links(self) -> Iterator[None]:
        """Schedule auto-progress completions for every learner link made inside the ``with`` block."""
        before = self.learner_links() if self.auto_progress_seconds is not None else set()
        yield
        if self.auto_progress_seconds is None:
            return
        due = self.clock() + timedelta(seconds=self.auto_progress_seconds)
        scheduled = {(p.user_id, p.training_id) for p in self.pending}
        for user_id, training_id in sorted(self.learner_links() - before - scheduled):
            if self.read_progress(user_id, training_id).completion_date is None:
                self.pending.append(PendingCompletion(user_id, training_id, due))

    def take_due(self) -> list[PendingCompletion]:
        """The scheduled completions whose moment has come (removed from the schedule)."""
        now = self.clock()
        due = [p for p in self.pending if p.due <= now]
        self.pending = [p for p in self.pending if p.due > now]
        return due

    # -- webhooks ------------------------------------------------------------------------------------------
    def set_webhook(self, url: str, secret: str) -> None:
        """Where events are sent, and the secret they are signed with."""
        self.webhook_url, self.webhook_secret = url, secret

    def webhook_target(self) -> tuple[str, str] | None:
        """The configured ``(url, secret)``, if any."""
        if self.webhook_url is None or self.webhook_secret is None:
            return None
        return self.webhook_url, self.webhook_secret

    def event_id(self, *parts: str) -> str:
        """A webhook event's id: a UUID derived from what it is about and the moment."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join((*parts, self.clock().isoformat()))))
