"""The resolvers of ``schema.graphql``: one function per Query and Mutation field, and the object fields
that are computed from the state rather than read off a record.

Every resolver gets the ``PluvoState`` as ``info.context`` and the arguments graphql-core has already
validated and coerced (UUIDs checked, enums by name, input objects as dicts with the SDL's field names).
The rules behind the mutations are in ``rules.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from airflow_provider_lms.sandbox.pluvo import rules
from airflow_provider_lms.sandbox.pluvo.pagination import connection
from airflow_provider_lms.sandbox.pluvo.records import (
    Enrollment,
    Group,
    Offer,
    OfferEvent,
    PortfolioItem,
    Training,
    User,
)
from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = ["MUTATION", "OBJECT_FIELDS", "QUERY"]

Resolver = Callable[..., Any]


def _state(info: GraphQLResolveInfo) -> PluvoState:
    state: PluvoState = info.context
    return state


def _page(info: GraphQLResolveInfo, records: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    return connection(records, args, info.field_name, cap=_state(info).settings.first_over_max == "cap")


def _contains(text: str | None, query: str | None) -> bool:
    return not query or query.casefold() in (text or "").casefold()


# -- Query: users ------------------------------------------------------------------------------------------
def user(
    _: Any, info: GraphQLResolveInfo, id: str | None = None, ref: str | None = None, email: str | None = None
) -> Any:
    if id is None and ref is None and email is None:
        return None  # ASSUMPTION: a lookup without a selector finds no one (not an error)
    return _state(info).find_user(user_id=id, ref=ref, email=email)


def paginated_users(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    """``paginatedUsers`` with the filters users-2 lists; sorted by name, as Pluvo's default ``NAME ASC``."""
    state = _state(info)
    roles, group_ids, training_ids = args.get("userRoles"), args.get("groupIds"), args.get("trainingIds")
    links = state.learner_links() if training_ids is not None else set()
    after, before = args.get("lastLogin_Gt"), args.get("lastLogin_Lt")

    def keep(u: User) -> bool:
        return (
            (_contains(u.name, args.get("q")) or _contains(u.email, args.get("q")))
            and (args.get("archived") is None or u.archived == args["archived"])
            and (roles is None or bool(set(roles) & set(u.roles)))
            and (group_ids is None or any(g.id in group_ids for g in state.groups_of(u.id)))
            and (training_ids is None or any((u.id, t) in links for t in training_ids))
            and (after is None or (u.last_login is not None and u.last_login > after))
            and (before is None or (u.last_login is not None and u.last_login < before))
        )

    users = sorted((u for u in state.users.values() if keep(u)), key=lambda u: (u.name.casefold(), u.id))
    return _page(info, users, args)


# -- Query: groups, trainings, offers ----------------------------------------------------------------------
def group(_: Any, info: GraphQLResolveInfo, id: str | None = None, ref: str | None = None) -> Any:
    return _state(info).find_group(id, ref)


def paginated_groups(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    groups = [g for g in _state(info).groups.values() if _contains(g.name, args.get("q"))]
    return _page(info, groups, args)


def training(_: Any, info: GraphQLResolveInfo, id: str | None = None, ref: str | None = None) -> Any:
    return _state(info).find_training(id, ref)


def paginated_trainings(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    def keep(t: Training) -> bool:
        return (
            _contains(t.title, args.get("q"))
            and (args.get("active") is None or t.is_active == args["active"])
            and (args.get("archived") is None or t.archived == args["archived"])
        )

    return _page(info, [t for t in _state(info).trainings.values() if keep(t)], args)


def offer(_: Any, info: GraphQLResolveInfo, id: str | None = None, ref: str | None = None) -> Any:
    return _state(info).find_offer(id, ref)


def offers(_: Any, info: GraphQLResolveInfo) -> list[Offer]:
    return list(_state(info).offers.values())


def offer_event(_: Any, info: GraphQLResolveInfo, id: str | None = None, ref: str | None = None) -> Any:
    return _state(info).find_offer_event(id, ref)


def enrollments(_: Any, info: GraphQLResolveInfo, userId: str | None = None) -> list[Enrollment]:
    return [e for e in _state(info).enrollments.values() if userId is None or e.user_id == userId]


# -- Query: progress and certificates ----------------------------------------------------------------------
def _report_node(state: PluvoState, user_id: str, training_id: str) -> dict[str, Any]:
    record = state.read_progress(user_id, training_id)
    seconds = record.time_spent_seconds
    return {
        "user": state.users[user_id],
        "title": state.trainings[training_id].title,
        "progress": record.progress,
        "score": record.score,
        "completionDate": record.completion_date,
        "timeSpent": {"days": seconds // 86400, "seconds": seconds % 86400},
        "relatedObjectType": "TRAINING",
        "relatedObjectId": training_id,
    }


def portfolio_report(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    """One node per (user, training) where the user reaches the training: directly, by group or enrollment."""
    state = _state(info)
    group_ids, user_ids = args.get("userGroupIds"), args.get("userIds")
    types, training_ids = args.get("relatedObjectTypes"), args.get("relatedObjectIds")
    links = state.learner_links()
    members = {u for g in state.groups.values() if g.id in (group_ids or ()) for u in g.user_ids}
    order_u = {u: n for n, u in enumerate(state.users)}
    order_t = {t: n for n, t in enumerate(state.trainings)}
    pairs = sorted(
        (
            (u, t)
            for u, t in links
            if (group_ids is None or u in members)
            and (user_ids is None or u in user_ids)
            and (types is None or "TRAINING" in types)
            and (training_ids is None or t in training_ids)
        ),
        key=lambda pair: (order_u[pair[0]], order_t[pair[1]]),
    )
    return _page(info, [_report_node(state, u, t) for u, t in pairs], args)


def portfolio_items(_: Any, info: GraphQLResolveInfo, userId: str | None = None) -> list[PortfolioItem]:
    return [i for i in _state(info).portfolio_items.values() if userId is None or i.user_id == userId]


def portfolio_item(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _state(info).portfolio_items.get(id)


def certificates(_: Any, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    return _page(info, list(_state(info).certificates.values()), args)


QUERY: dict[str, Resolver] = {
    "user": user,
    "paginatedUsers": paginated_users,
    "group": group,
    "paginatedGroups": paginated_groups,
    "training": training,
    "paginatedTrainings": paginated_trainings,
    "offer": offer,
    "offers": offers,
    "offerEvent": offer_event,
    "enrollments": enrollments,
    "portfolioReport": portfolio_report,
    "portfolioItems": portfolio_items,
    "portfolioItem": portfolio_item,
    "certificates": certificates,
}


# -- Mutation ----------------------------------------------------------------------------------------------
def _default_true(value: bool | None) -> bool:
    # users-2 / training-participants: invitations go out unless the argument is false. ASSUMPTION: an
    # explicit null counts as not given (so it sends, as the default does).
    return value is not False


def create_user(_: Any, info: GraphQLResolveInfo, user: dict[str, Any], sendInvite: bool | None = None) -> Any:
    return {"user": rules.create_user(_state(info), user, _default_true(sendInvite)), "created": True}


def update_user(
    _: Any, info: GraphQLResolveInfo, user: dict[str, Any], id: str | None = None, ref: str | None = None
) -> Any:
    return {"user": rules.update_user(_state(info), id, ref, user)}


def update_or_create_user(_: Any, info: GraphQLResolveInfo, user: dict[str, Any], **args: Any) -> Any:
    record, created = rules.update_or_create_user(
        _state(info), args.get("email"), args.get("ref"), _default_true(args.get("sendInvite")), user
    )
    return {"user": record, "created": created}


def add_users_to_group(_: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    return rules.add_users_to_group(
        _state(info), args.get("groupId"), args.get("groupRef"), args.get("userIds"), args.get("userRefs")
    )


def remove_users_from_group(_: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    return rules.remove_users_from_group(
        _state(info), args.get("groupId"), args.get("groupRef"), args.get("userIds"), args.get("userRefs")
    )


def _training_and_users(state: PluvoState, args: dict[str, Any]) -> tuple[Training, list[tuple[str, str, Any]]]:
    if args.get("trainingId") is None and args.get("trainingRef") is None:
        raise GraphQLError("Provide the training's id or ref.")
    found = rules.require(state.find_training(args.get("trainingId"), args.get("trainingRef")), "Training")
    return found, rules.named_users(state, args.get("userIds"), args.get("userRefs"))


def add_users_to_training(_: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    state = _state(info)
    found, named = _training_and_users(state, args)
    role = args.get("role") or "PARTICIPANT"  # training-participants: PARTICIPANT by default
    return rules.add_users_to_training(
        state, found, named, send_invites=_default_true(args.get("sendInvites")), role=role
    )


def remove_users_from_training(_: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    state = _state(info)
    found, named = _training_and_users(state, args)
    return rules.remove_users_from_training(state, found, named)


def create_offer_event_enrollments(_: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    # ASSUMPTION (schema.graphql): sendMail defaults to true, like Pluvo's other mail switches.
    send_mail = _default_true(args.get("sendMail"))
    if args.get("offerEventRef") is None:
        raise GraphQLError("Provide the offer event's ref.")
    return rules.create_offer_event_enrollments(_state(info), args["offerEventRef"], args["userRefs"], send_mail)


def unenroll_user_from_offer_event(_: Any, info: GraphQLResolveInfo, userId: str, offerEventId: str) -> Any:
    return {"success": rules.unenroll_user(_state(info), userId, offerEventId)}


def generate_certificate(_: Any, info: GraphQLResolveInfo, id: str, userIds: list[str], **args: Any) -> Any:
    result = rules.generate_certificate(
        _state(info),
        id,
        userIds,
        title=args.get("title"),
        training_id=args.get("trainingId"),
        issue_date=args.get("issueDate"),
    )
    return {"bulkGenerate": result}


def _tracked(resolve: Resolver) -> Resolver:
    """A mutation resolver whose new learner links arm auto-progress (``PluvoState.tracking_links``)."""

    def tracked(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        with _state(info).tracking_links():
            return resolve(source, info, **args)

    return tracked


_MUTATION: dict[str, Resolver] = {
    "createUser": create_user,
    "updateUser": update_user,
    "updateOrCreateUser": update_or_create_user,
    "addUsersToGroup": add_users_to_group,
    "removeUsersFromGroup": remove_users_from_group,
    "addUsersToTraining": add_users_to_training,
    "removeUsersFromTraining": remove_users_from_training,
    "createOfferEventEnrollments": create_offer_event_enrollments,
    "unenrollUserFromOfferEvent": unenroll_user_from_offer_event,
    "generateCertificate": generate_certificate,
}
MUTATION: dict[str, Resolver] = {name: _tracked(resolve) for name, resolve in _MUTATION.items()}


# -- object fields computed from the state -----------------------------------------------------------------
def _user_groups(attribute: str) -> Resolver:
    def resolve(source: User, info: GraphQLResolveInfo) -> list[Group]:
        return [g for g in _state(info).groups.values() if source.id in getattr(g, attribute)]

    return resolve


def _group_users(attribute: str) -> Resolver:
    def resolve(source: Group, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        users = _state(info).users
        return _page(info, [users[u] for u in getattr(source, attribute) if u in users], args)

    return resolve


def _participants(source: Training, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    # ASSUMPTION: `participants` lists every learner who reaches the training (directly, by group or by
    # enrollment); the pages do not say whether linked users are included.
    return _page(info, _state(info).learners_of(source.id), args)


def _trainers(source: Training, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
    users = _state(info).users
    return _page(info, [users[u] for u, role in source.participants.items() if role == "TRAINER" and u in users], args)


def _enrolled_count(source: OfferEvent, info: GraphQLResolveInfo) -> int:
    return sum(1 for e in _state(info).enrollments.values() if e.offer_event_id == source.id and e.status == "ENROLLED")


def _spots_available(source: OfferEvent, info: GraphQLResolveInfo) -> int | None:
    if source.max_subscriptions is None:
        return None
    return max(0, source.max_subscriptions - _enrolled_count(source, info))


OBJECT_FIELDS: dict[tuple[str, str], Resolver] = {
    ("User", "participantGroups"): _user_groups("user_ids"),
    ("User", "managerGroups"): _user_groups("manager_ids"),
    ("User", "groupCount"): lambda source, info: len(_user_groups("user_ids")(source, info)),
    ("Group", "users"): _group_users("user_ids"),
    ("Group", "managers"): _group_users("manager_ids"),
    ("Group", "userCount"): lambda source, info: len(source.user_ids),
    ("Group", "managerCount"): lambda source, info: len(source.manager_ids),
    ("Training", "participants"): _participants,
    ("Training", "trainers"): _trainers,
    # ASSUMPTION: PortfolioItemListItem's fields are unpublished; the double links no item to a training here.
    ("Training", "portfolioItem"): lambda source, info: None,
    ("Offer", "offerEvents"): lambda source, info: [_state(info).offer_events[e] for e in source.event_ids],
    ("OfferEvent", "accessTrainings"): lambda source, info: [
        _state(info).trainings[t] for t in source.access_training_ids if t in _state(info).trainings
    ],
    ("OfferEvent", "enrolledCount"): _enrolled_count,
    ("OfferEvent", "spotsAvailable"): _spots_available,
    ("Enrollment", "offerEvent"): lambda source, info: _state(info).offer_events.get(source.offer_event_id),
    ("OfferEventEnrollment", "user"): lambda source, info: _state(info).users.get(source.user_id),
    ("PortfolioItem", "user"): lambda source, info: _state(info).users.get(source.user_id),
}
