"""What Pluvo's mutations do to the double's state, and how a learner progresses and completes.

Functions here take the state and plain values (the GraphQL layer in ``resolvers.py`` hands them the
coerced arguments) and raise graphql-core's ``GraphQLError`` for what Pluvo refuses; the error then comes
back in the answer's ``errors`` with the field's ``path``, as a graphene server reports a resolver's error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from graphql import GraphQLError

from airflow_provider_lms.sandbox.pluvo.records import Enrollment, PortfolioItem, Training, User
from airflow_provider_lms.sandbox.pluvo.state import PluvoState
from airflow_provider_lms.sandbox.pluvo.views import certificate_achieved_json, training_finished_json

__all__ = [
    "add_users_to_group",
    "add_users_to_training",
    "apply_time",
    "complete_training",
    "create_offer_event_enrollments",
    "create_user",
    "generate_certificate",
    "move_progress",
    "named_users",
    "remove_users_from_group",
    "remove_users_from_training",
    "require",
    "unenroll_user",
    "update_or_create_user",
    "update_user",
]

#: How long before completing a training a learner is said to have started it, when no progress came first.
_TRAINING_DURATION = timedelta(days=7)


def require(record: Any, kind: str) -> Any:
    """``record``, or the error Pluvo answers for a lookup that found nothing."""
    if record is None:
        # ASSUMPTION: the message is Django's ObjectDoesNotExist text, which a graphene server passes on.
        raise GraphQLError(f"{kind} matching query does not exist.")
    return record


def _one_of(kind: str, id_value: Any, ref_value: Any) -> None:
    if id_value is None and ref_value is None:
        raise GraphQLError(f"Provide the {kind}'s id or ref.")


# -- users -------------------------------------------------------------------------------------------------
def _set_unique(state: PluvoState, user: User, attribute: str, value: str | None) -> None:
    if value is None:
        return
    other = state.find_user(**{attribute: value})
    if other is not None and other.id != user.id:
        raise GraphQLError(f"User with this {attribute} already exists.")
    setattr(user, attribute, value)


def _apply_user_input(state: PluvoState, user: User, data: dict[str, Any]) -> None:
    """Write a ``UserInput`` onto ``user`` (uniqueness of e-mail and ref checked first)."""
    _set_unique(state, user, "email", data.get("email"))
    _set_unique(state, user, "ref", data.get("ref"))
    if data.get("name") is not None:
        user.name = data["name"]
    if data.get("roles") is not None:
        user.roles = list(data["roles"])
    if data.get("language") is not None:
        user.language = data["language"]
    if data.get("isActive") is not None:
        user.archived = not data["isActive"]
    if data.get("archived") is not None:
        user.archived = bool(data["archived"])
    if data.get("extraFields") is not None:
        if not isinstance(data["extraFields"], dict):
            raise GraphQLError("extraFields must be a JSON object.")
        user.extra_fields = {**user.extra_fields, **data["extraFields"]}
    for key, attribute in (("addParticipantGroups", "user_ids"), ("addManagerGroups", "manager_ids")):
        for group_id in data.get(key) or ():
            members = getattr(require(state.find_group(group_id), "Group"), attribute)
            if user.id not in members:
                members.append(user.id)
    for group_id in data.get("removeParticipantGroups") or ():
        group = require(state.find_group(group_id), "Group")
        if user.id in group.user_ids:
            group.user_ids.remove(user.id)


def create_user(
    state: PluvoState, data: dict[str, Any], send_invite: bool, *, email: str | None = None, ref: str | None = None
) -> User:
    """A new user from a ``UserInput``; an invitation is recorded unless ``send_invite`` is false.

    :raises GraphQLError: when the e-mail or ref is taken (users-2: ``createUser`` errors if the user
        exists) or the name is missing.
    """
    email = email if email is not None else data.get("email")
    ref = ref if ref is not None else data.get("ref")
    if not data.get("name"):
        # ASSUMPTION: User.name is non-null in the schema, so creating a user without one is refused.
        raise GraphQLError("A new user needs a name.")
    if email is not None and state.find_user(email=email) is not None:
        raise GraphQLError("User with this email already exists.")
    if ref is not None and state.find_user(ref=ref) is not None:
        raise GraphQLError("User with this ref already exists.")
    # Request-data (older docs): without a ref Pluvo generates a UUID4 as the ref.
    user = User(id=state.new_id("user"), ref=ref or str(uuid.uuid4()), name=data["name"], email=email)
    _apply_user_input(state, user, {k: v for k, v in data.items() if k not in ("email", "ref")})
    state.users[user.id] = user
    if send_invite:
        user.invited_on = state.now()
        state.record_mail("invitation", user)
    return user


def update_user(state: PluvoState, user_id: str | None, ref: str | None, data: dict[str, Any]) -> User:
    """``updateUser``: the user named by id or ref, changed by the ``UserInput``."""
    _one_of("user", user_id, ref)
    user: User = require(state.find_user(user_id=user_id, ref=ref), "User")
    _apply_user_input(state, user, data)
    return user


def update_or_create_user(
    state: PluvoState, email: str | None, ref: str | None, send_invite: bool, data: dict[str, Any]
) -> tuple[User, bool]:
    """``updateOrCreateUser``: look the user up by e-mail or ref, update it, or create it; ``(user, created)``."""
    # ASSUMPTION: without either selector the call is refused (the pages always pass one).
    _one_of("user", email, ref)
    # ASSUMPTION: when both are given the e-mail decides (the recipe looks up by e-mail and sets the ref in
    # the same call); an e-mail that matches no one falls back to the ref. Unconfirmed on Pluvo's pages.
    user = state.find_user(email=email) if email is not None else None
    if user is None and ref is not None:
        user = state.find_user(ref=ref)
    if user is None:
        return create_user(state, data, send_invite, email=email, ref=ref), True
    _apply_user_input(state, user, {**({"ref": ref} if ref is not None else {}), **data})
    return user, False


def named_users(state: PluvoState, ids: Iterable[str] | None, refs: Iterable[str] | None) -> list[tuple[str, str, Any]]:
    """``(form, key, user or None)`` for each user named by id (form ``"id"``) or by ref (``"ref"``)."""
    named = [("id", key, state.find_user(user_id=key)) for key in ids or ()]
    return named + [("ref", key, state.find_user(ref=key)) for key in refs or ()]


# -- groups ------------------------------------------------------------------------------------------------
def add_users_to_group(
    state: PluvoState,
    group_id: str | None,
    group_ref: str | None,
    ids: Sequence[str] | None,
    refs: Sequence[str] | None,
) -> dict[str, list[str]]:
    """``addUsersToGroup`` → ``addedIds``, ``alreadyAddedIds``, ``failedIds`` (group-user-manager-2)."""
    _one_of("group", group_id, group_ref)
    group = require(state.find_group(group_id, group_ref), "Group")
    result: dict[str, list[str]] = {"addedIds": [], "alreadyAddedIds": [], "failedIds": []}
    for form, key, user in named_users(state, ids, refs):
        if user is None:
            # ASSUMPTION: the payload has only *Ids lists; an unknown ref has no id to report, so it is left
            # out of every list (an unknown id goes to failedIds).
            if form == "id":
                result["failedIds"].append(key)
        elif user.id in group.user_ids:
            result["alreadyAddedIds"].append(user.id)
        else:
            group.user_ids.append(user.id)
            result["addedIds"].append(user.id)
    return result


def remove_users_from_group(
    state: PluvoState,
    group_id: str | None,
    group_ref: str | None,
    ids: Sequence[str] | None,
    refs: Sequence[str] | None,
) -> dict[str, list[str]]:
    """``removeUsersFromGroup`` → ``removedIds``, ``alreadyRemovedIds``, ``failedIds``."""
    _one_of("group", group_id, group_ref)
    group = require(state.find_group(group_id, group_ref), "Group")
    result: dict[str, list[str]] = {"removedIds": [], "alreadyRemovedIds": [], "failedIds": []}
    for form, key, user in named_users(state, ids, refs):
        if user is None:
            if form == "id":  # ASSUMPTION: as in add_users_to_group
                result["failedIds"].append(key)
        elif user.id in group.user_ids:
            group.user_ids.remove(user.id)
            result["removedIds"].append(user.id)
        else:
            result["alreadyRemovedIds"].append(user.id)
    return result


# -- trainings ---------------------------------------------------------------------------------------------
def _outcome(result: dict[str, list[str]], outcome: str, form: str, key: str) -> None:
    # ASSUMPTION: each user is reported in the form it was named in: by id in *Ids, by ref in *Refs.
    result[f"{outcome}{'Ids' if form == 'id' else 'Refs'}"].append(key)


def add_users_to_training(
    state: PluvoState,
    training: Training,
    named: list[tuple[str, str, Any]],
    *,
    send_invites: bool,
    role: str,
) -> dict[str, list[str]]:
    """``addUsersToTraining`` → ``added*``, ``alreadyAdded*``, ``failed*`` by id and by ref.

    Users already added directly come back as ``alreadyAdded*`` (training-participants); an invitation
    mail is recorded for each added user unless ``send_invites`` is false.
    """
    result: dict[str, list[str]] = {f"{o}{f}": [] for o in ("added", "alreadyAdded", "failed") for f in ("Ids", "Refs")}
    for form, key, user in named:
        if user is None:
            _outcome(result, "failed", form, key)
        # ASSUMPTION: only a direct link counts as "already added" (in any role, which is kept); a user who
        # reaches the training through a group or an enrollment is added directly as well.
        elif user.id in training.participants:
            _outcome(result, "alreadyAdded", form, key)
        else:
            training.participants[user.id] = role
            _outcome(result, "added", form, key)
            if send_invites:
                state.record_mail("training_invitation", user, training.id)
    return result


def remove_users_from_training(
    state: PluvoState, training: Training, named: list[tuple[str, str, Any]]
) -> dict[str, list[str]]:
    """``removeUsersFromTraining``: direct links are removed; links through a group or an enrollment stay.

    A user who still reaches the training through a group linked to it or an enrollment in an offer event
    that gives access to it is reported in ``idsLinkedViaObject``/``refsLinkedViaObject``.
    """
    outcomes = ("removed", "alreadyRemoved", "failed")
    result: dict[str, list[str]] = {f"{o}{f}": [] for o in outcomes for f in ("Ids", "Refs")}
    result |= {"idsLinkedViaObject": [], "refsLinkedViaObject": []}
    for form, key, user in named:
        if user is None:
            _outcome(result, "failed", form, key)
            continue
        direct = training.participants.pop(user.id, None) is not None
        # ASSUMPTION: a user linked both directly and through an object loses the direct link and is
        # reported only as linked via object, since the user still reaches the training.
        if state.link_kinds(user.id, training.id) - {"direct"}:
            result["idsLinkedViaObject" if form == "id" else "refsLinkedViaObject"].append(key)
        else:
            _outcome(result, "removed" if direct else "alreadyRemoved", form, key)
    return result


# -- offer events ------------------------------------------------------------------------------------------
def create_offer_event_enrollments(
    state: PluvoState, event_ref: str, user_refs: Sequence[str], send_mail: bool
) -> list[Enrollment]:
    """``createOfferEventEnrollments``: enroll each user; users already enrolled are not enrolled twice.

    Returns the enrollment of every known user asked for: a new one, or the existing one unchanged.
    """
    event = require(state.find_offer_event(ref=event_ref), "OfferEvent")
    enrollments = []
    for ref in user_refs:
        user = state.find_user(ref=ref)
        if user is None:
            # ASSUMPTION: an unknown user ref is left out of the returned list (no error for the others).
            continue
        existing = state.enrollment_of(user.id, event.id)
        if existing is not None and existing.status in ("ENROLLED", "WAITLISTED"):
            # common-recipes: already enrolled users are not enrolled a second time. ASSUMPTION: they come
            # back in the list with their existing enrollment.
            enrollments.append(existing)
            continue
        status = _status_for(state, event.id)
        if existing is not None:
            existing.status, existing.enrolled_at = status, state.now()
            enrollment = existing
        else:
            enrollment = Enrollment(state.new_id("enrollment"), user.id, event.id, status, state.now())
            state.enrollments[enrollment.id] = enrollment
        enrollments.append(enrollment)
        if send_mail:
            state.record_mail("enrollment", user, event.id)
    return enrollments


def _status_for(state: PluvoState, event_id: str) -> str:
    event = state.offer_events[event_id]
    enrolled = sum(1 for e in state.enrollments.values() if e.offer_event_id == event_id and e.status == "ENROLLED")
    if event.max_subscriptions is None or enrolled < event.max_subscriptions:
        return "ENROLLED"
    # Older enrollments page: WAITLISTED when the event is full and has a waiting list.
    if event.waiting_list:
        return "WAITLISTED"
    # ASSUMPTION: a full event without a waiting list refuses the enrollment (the message is the sandbox's).
    raise GraphQLError(f"Offer event {event.ref or event.id} is full.")


def unenroll_user(state: PluvoState, user_id: str, event_id: str) -> bool:
    """``unenrollUserFromOfferEvent``: the enrollment becomes ``CANCELLED``; ``False`` if there was none."""
    require(state.find_user(user_id=user_id), "User")
    require(state.find_offer_event(event_id), "OfferEvent")
    enrollment = state.enrollment_of(user_id, event_id)
    # ASSUMPTION: the older page says the enrollment is removed or set to CANCELLED; the sandbox keeps it as
    # CANCELLED, and answers success false when the user had no live enrollment.
    if enrollment is None or enrollment.status == "CANCELLED":
        return False
    enrollment.status = "CANCELLED"
    return True


# -- certificates ------------------------------------------------------------------------------------------
def _issue(
    state: PluvoState, template_id: str, user: User, title: str, when: datetime, training_id: str | None
) -> PortfolioItem:
    item_id = state.new_id("portfolio_item")
    item = PortfolioItem(
        id=item_id,
        user_id=user.id,
        title=title,
        start_date=when,
        created_at=state.now(),
        updated_at=state.now(),
        # ASSUMPTION: the document's URL is the sandbox's own; Pluvo's files live under files.pluvo.co.
        files=[f"https://files.pluvo.co/sandbox/certificates/{item_id}.pdf"],
        certificate_id=template_id,
        training_id=training_id,
    )
    state.portfolio_items[item.id] = item
    return item


def generate_certificate(
    state: PluvoState,
    template_id: str,
    user_ids: Sequence[str],
    *,
    title: str | None,
    training_id: str | None,
    issue_date: datetime | None,
) -> dict[str, list[str]]:
    """``generateCertificate`` → ``bulkGenerate { succeededIds failedIds }``: one portfolio item per user.

    Generating again issues again (Pluvo does not deduplicate); unknown users go to ``failedIds``.
    """
    # ASSUMPTION: certificate-2 names EVENT_CERTIFICATE_ACHIEVED for *automatic* issuance only, so a
    # certificate generated through the API sends no webhook (complete_training's does).
    template = require(state.certificates.get(template_id), "Certificate")
    if training_id is not None:
        require(state.find_training(training_id), "Training")
    result: dict[str, list[str]] = {"succeededIds": [], "failedIds": []}
    for user_id in user_ids:
        user = state.find_user(user_id=user_id)
        if user is None:
            result["failedIds"].append(user_id)
            continue
        _issue(state, template.id, user, title or template.title, issue_date or state.now(), training_id)
        result["succeededIds"].append(user_id)
    return result


# -- progress and completion -------------------------------------------------------------------------------
def move_progress(
    state: PluvoState, user: User, training: Training, progress: float, score: float | None, seconds: int | None
) -> list[dict[str, Any]]:
    """Move a learner's progress (and score, time spent) forward; at 1.0 the training is completed.

    Returns the webhook events to send (those of a completion, else none).
    """
    record = state.progress_of(user.id, training.id)
    if progress >= 1.0:
        return complete_training(state, user, training, score)
    record.progress = max(record.progress, progress)
    record.score = score if score is not None else record.score
    record.time_spent_seconds = seconds if seconds is not None else record.time_spent_seconds
    record.started_at = record.started_at or state.now()
    return []


def complete_training(
    state: PluvoState, user: User, training: Training, score: float | None, when: datetime | None = None
) -> list[dict[str, Any]]:
    """The learner completes the training (now, or at ``when``): progress 1.0, the completion date, events.

    ``TRAINING_FINISHED`` always; when the training has a certificate template configured, the certificate
    is issued as a portfolio item and ``EVENT_CERTIFICATE_ACHIEVED`` follows. Completing again does nothing.
    """
    record = state.progress_of(user.id, training.id)
    if record.completion_date is not None:
        return []
    now = when or state.now()
    record.progress, record.completion_date = 1.0, now
    record.score = score if score is not None else record.score
    record.started_at = record.started_at or now - _TRAINING_DURATION
    record.time_spent_seconds = record.time_spent_seconds or int((now - record.started_at).total_seconds())
    finished = training_finished_json(state.event_id(user.id, training.id), user, training, record, now)
    events = [finished]
    template = state.certificates.get(training.certificate_id or "")
    if template is not None:
        item = _issue(state, template.id, user, template.title, now, training.id)
        events.append(certificate_achieved_json(item, user, training, now))
    return events


def apply_time(state: PluvoState) -> list[dict[str, Any]]:
    """Let the completions auto-progress scheduled happen once their moment has come; their events."""
    events: list[dict[str, Any]] = []
    for pending in state.take_due():
        user, training = state.users.get(pending.user_id), state.trainings.get(pending.training_id)
        # A learner who left the training before the moment does not complete it.
        if user is not None and training is not None and state.link_kinds(user.id, training.id):
            # The moment it was due, so that dates do not depend on when someone looked.
            events += complete_training(state, user, training, state.auto_progress_score, pending.due)
    return events
