"""The Pluvo hook's typed methods on Pluvo's published operations (users, groups, trainings, offers, progress,
certificates), each returning pydantic models.

:class:`PluvoApi` builds on the GraphQL transport (:class:`~airflow_provider_lms.hooks.pluvo_graphql.PluvoGraphQLHook`)
and is the base of :class:`~airflow_provider_lms.hooks.pluvo.PluvoHook`, which adds the generic capabilities.
The documents are in :mod:`~airflow_provider_lms.hooks.pluvo_documents`; every input is checked before any
request, errors naming the field.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_lms.hooks.pluvo_documents import DOCUMENTS
from airflow_provider_lms.hooks.pluvo_graphql import (
    MAX_PAGE_SIZE,
    PluvoConnection,
    PluvoGraphQLError,
    PluvoGraphQLHook,
    without_unset,
)
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import check_text, validate_id, validate_ids
from airflow_provider_lms.models.pluvo import (
    PluvoBulkAction,
    PluvoCertificate,
    PluvoEnrollment,
    PluvoGeneratedCertificates,
    PluvoGroup,
    PluvoGroupMembership,
    PluvoGroupRemoval,
    PluvoOffer,
    PluvoOfferEvent,
    PluvoOfferEventEnrollment,
    PluvoPortfolioItem,
    PluvoPortfolioReportItem,
    PluvoTraining,
    PluvoTrainingEnrollment,
    PluvoTrainingRemoval,
    PluvoUser,
    PluvoUserSync,
)

__all__ = ["MAX_PAGE_SIZE", "TRAINING_ROLES", "PluvoApi", "PluvoConnection", "pluvo_text", "pluvo_uuid", "pluvo_uuids"]

#: ``TrainingRole`` values for ``addUsersToTraining`` (training-participants).
TRAINING_ROLES = frozenset({"PARTICIPANT", "TRAINER"})
_USER_ROLES = frozenset({"PARTICIPANT", "MANAGER", "TRAINER", "PLANNER"})  # Role (users-2; PLANNER: users)


def pluvo_uuid(field: str, value: Any) -> str:
    """A Pluvo id (``id`` of a user, training, group, offer event, certificate): a UUID, in canonical form.

    :raises LmsInputError: naming ``field``, before any request.
    """
    text = validate_id(field, value)
    try:
        if isinstance(value, int):
            raise ValueError
        return str(uuid.UUID(text))
    except ValueError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise LmsInputError(field, f"must be a Pluvo id (a UUID), got {shown}") from None


def pluvo_uuids(field: str, values: Any) -> list[str]:
    """A non-empty, de-duplicated list of Pluvo ids; errors name ``field[i]``."""
    return list(dict.fromkeys(pluvo_uuid(f"{field}[{i}]", v) for i, v in enumerate(validate_ids(field, values))))


def pluvo_text(field: str, value: Any, *, max_length: int = 256) -> str:
    """Text sent as a GraphQL string (a name, a ref, a title): non-empty, one line, at most ``max_length``.

    Blanks are allowed (a name has them; a ref chosen by a customer may); control characters, separators,
    bidirectional overrides and lone surrogates are not (the shared input layer's rule).
    """
    return check_text(field, value, max_length=max_length)


def _id_or_ref(id_field: str, id_value: Any, ref_field: str, ref_value: Any) -> dict[str, str]:
    """Exactly one of an id (a UUID) and a ref, checked before any request."""
    if (id_value is None) == (ref_value is None):
        raise LmsInputError(id_field, f"give {id_field} or {ref_field} (one of them)")
    if id_value is not None:
        return {"id": pluvo_uuid(id_field, id_value)}
    return {"ref": pluvo_text(ref_field, ref_value)}


def _ids_or_refs(id_field: str, ids: Any, ref_field: str, refs: Any) -> dict[str, list[str]]:
    if (ids is None) == (refs is None):
        raise LmsInputError(id_field, f"give {id_field} or {ref_field} (one of them)")
    if ids is not None:
        return {"ids": pluvo_uuids(id_field, ids)}
    return {"refs": _refs(ref_field, refs)}


def _refs(field: str, values: Any) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise LmsInputError(field, "must be a non-empty list of refs")
    return list(dict.fromkeys(pluvo_text(f"{field}[{i}]", v) for i, v in enumerate(values)))


def _enum_list(field: str, values: Any, allowed: frozenset[str]) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    for i, value in enumerate(items):
        if value not in allowed:
            raise LmsInputError(f"{field}[{i}]", f"{value!r} is not one of {sorted(allowed)}")
    return items


def _flag(field: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise LmsInputError(field, f"must be true or false, got {value!r}")
    return value


def _iso(field: str, value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    try:
        return datetime.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise LmsInputError(field, f"{value!r} is not an ISO 8601 date and time") from None


class PluvoApi(PluvoGraphQLHook):
    """Typed methods on Pluvo's published operations, each returning pydantic models (paged lazily).

    :param lms_conn_id: the Airflow connection id (type ``pluvo``).
    """

    # -- users (users-2) --------------------------------------------------------------------------------------
    def get_user(self, user_id: str | None = None, *, ref: str | None = None) -> PluvoUser | None:
        """``user(id:)`` or ``user(ref:)``: the user, or None when there is none."""
        selector = _id_or_ref("user_id", user_id, "ref", ref)
        user = self.query(DOCUMENTS["PluvoUser"], selector).get("user")
        return None if user is None else PluvoUser.model_validate(user)

    async def aget_user(self, user_id: str) -> PluvoUser | None:
        """The async twin of :meth:`get_user` by id."""
        user = (await self.aquery(DOCUMENTS["PluvoUser"], {"id": pluvo_uuid("user_id", user_id)})).get("user")
        return None if user is None else PluvoUser.model_validate(user)

    def find_user_by_email(self, email: str) -> PluvoUser | None:
        """``user(email:)`` (the argument's name is an ASSUMPTION: users-2 names the lookup, not the argument)."""
        user = self.query(DOCUMENTS["PluvoUserByEmail"], {"email": validate_id("email", email)}).get("user")
        return None if user is None else PluvoUser.model_validate(user)

    @staticmethod
    def _user_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
        known = {"q", "archived", "roles", "group_ids", "training_ids", "last_login_after", "last_login_before"}
        for name in filters:
            if name not in known:
                raise LmsInputError(name, f"is not a paginatedUsers filter ({sorted(known)})")
        return without_unset(
            q=filters.get("q"),
            archived=_flag("archived", filters.get("archived")),
            userRoles=_enum_list("roles", filters.get("roles"), _USER_ROLES),
            groupIds=None if filters.get("group_ids") is None else pluvo_uuids("group_ids", filters["group_ids"]),
            trainingIds=None
            if filters.get("training_ids") is None
            else pluvo_uuids("training_ids", filters["training_ids"]),
            lastLoginGt=_iso("last_login_after", filters.get("last_login_after")),
            lastLoginLt=_iso("last_login_before", filters.get("last_login_before")),
        )

    def list_users(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[PluvoUser]:
        """``paginatedUsers`` with its filters, lazily across pages.

        :param filters: ``q`` (name or e-mail search), ``archived``, ``roles`` (``Role`` values), ``group_ids``,
            ``training_ids``, ``last_login_after``, ``last_login_before`` (``lastLogin_Gt``/``_Lt``).
        """
        variables = self._user_filters(filters)
        for node in self.paginate(DOCUMENTS["PluvoPaginatedUsers"], "paginatedUsers", variables, page_size=page_size):
            yield PluvoUser.model_validate(node)

    async def alist_users(self, **filters: Any) -> AsyncIterator[PluvoUser]:
        """The async twin of :meth:`list_users`."""
        variables = self._user_filters(filters)
        async for node in self.apaginate(DOCUMENTS["PluvoPaginatedUsers"], "paginatedUsers", variables):
            yield PluvoUser.model_validate(node)

    def update_or_create_user(
        self, email: str, name: str, *, ref: str | None = None, send_invite: bool = False
    ) -> PluvoUserSync:
        """``updateOrCreateUser`` by e-mail with role PARTICIPANT: creates the user when absent (``created``).

        :param ref: your own id for the user, kept as Pluvo's ``ref``.
        :param send_invite: send Pluvo's invitation mail (Pluvo's default would; this hook's does not).
        """
        variables = without_unset(
            email=validate_id("email", email),
            name=pluvo_text("name", name, max_length=400),
            ref=None if ref is None else pluvo_text("ref", ref),
            sendInvite=bool(_flag("send_invite", send_invite)),
        )
        answer = self.query(DOCUMENTS["PluvoUpdateOrCreateUser"], variables).get("updateOrCreateUser")
        if not answer or not answer.get("user"):
            raise PluvoGraphQLError("updateOrCreateUser answered without a user", errors=[], platform=self.platform)
        return PluvoUserSync.model_validate(answer)

    # -- groups (groups-2, group-user-manager-2) --------------------------------------------------------------
    def list_groups(self, *, q: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[PluvoGroup]:
        """``paginatedGroups``, lazily across pages."""
        variables = without_unset(q=q)
        for node in self.paginate(DOCUMENTS["PluvoPaginatedGroups"], "paginatedGroups", variables, page_size=page_size):
            yield PluvoGroup.model_validate(node)

    def list_group_members(
        self, group_id: str | None = None, *, ref: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[PluvoUser]:
        """A group's members, ``group(id:|ref:) { users(first, after) }``; a group that does not exist raises.

        Pluvo's older pages warn that membership changes may take minutes to show.
        """
        selector = _id_or_ref("group_id", group_id, "ref", ref)
        for node in self.paginate(DOCUMENTS["PluvoGroupMembers"], ("group", "users"), selector, page_size=page_size):
            yield PluvoUser.model_validate(node)

    def _membership(self, name: str, group: dict[str, str], users: dict[str, list[str]]) -> dict[str, Any]:
        variables = without_unset(
            groupId=group.get("id"), groupRef=group.get("ref"), userIds=users.get("ids"), userRefs=users.get("refs")
        )
        return self.query(DOCUMENTS[name], variables)

    def add_users_to_group(
        self,
        group_id: str | None = None,
        user_ids: Sequence[str] | None = None,
        *,
        group_ref: str | None = None,
        user_refs: Sequence[str] | None = None,
    ) -> PluvoGroupMembership:
        """``addUsersToGroup``; users already in the group come back in ``already_added_ids``."""
        group = _id_or_ref("group_id", group_id, "group_ref", group_ref)
        users = _ids_or_refs("user_ids", user_ids, "user_refs", user_refs)
        data = self._membership("PluvoAddUsersToGroup", group, users)
        return PluvoGroupMembership.model_validate(data.get("addUsersToGroup") or {})

    def remove_users_from_group(
        self,
        group_id: str | None = None,
        user_ids: Sequence[str] | None = None,
        *,
        group_ref: str | None = None,
        user_refs: Sequence[str] | None = None,
    ) -> PluvoGroupRemoval:
        """``removeUsersFromGroup``; users not in the group come back in ``already_removed_ids``."""
        group = _id_or_ref("group_id", group_id, "group_ref", group_ref)
        users = _ids_or_refs("user_ids", user_ids, "user_refs", user_refs)
        data = self._membership("PluvoRemoveUsersFromGroup", group, users)
        return PluvoGroupRemoval.model_validate(data.get("removeUsersFromGroup") or {})

    # -- trainings (learning-journeys-2, training-participants) -----------------------------------------------
    def list_trainings(
        self,
        *,
        q: str | None = None,
        active: bool | None = None,
        archived: bool | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[PluvoTraining]:
        """``paginatedTrainings``, lazily across pages."""
        variables = without_unset(q=q, active=_flag("active", active), archived=_flag("archived", archived))
        for node in self.paginate(
            DOCUMENTS["PluvoPaginatedTrainings"], "paginatedTrainings", variables, page_size=page_size
        ):
            yield PluvoTraining.model_validate(node)

    def get_training(self, training_id: str | None = None, *, ref: str | None = None) -> PluvoTraining | None:
        """``training(id:|ref:)``, or None."""
        training = self.query(DOCUMENTS["PluvoTraining"], _id_or_ref("training_id", training_id, "ref", ref))
        found = training.get("training")
        return None if found is None else PluvoTraining.model_validate(found)

    def _training_vars(self, training_id: Any, training_ref: Any, user_ids: Any, user_refs: Any) -> dict[str, Any]:
        training = _id_or_ref("training_id", training_id, "training_ref", training_ref)
        users = _ids_or_refs("user_ids", user_ids, "user_refs", user_refs)
        return without_unset(
            trainingId=training.get("id"),
            trainingRef=training.get("ref"),
            userIds=users.get("ids"),
            userRefs=users.get("refs"),
        )

    def add_users_to_training(
        self,
        training_id: str | None = None,
        user_ids: Sequence[str] | None = None,
        *,
        training_ref: str | None = None,
        user_refs: Sequence[str] | None = None,
        send_invites: bool = False,
        role: str = "PARTICIPANT",
    ) -> PluvoTrainingEnrollment:
        """``addUsersToTraining``: direct participants; users already in come back in ``already_added_*``.

        :param send_invites: send Pluvo's invitations (Pluvo's default would; this hook's does not).
        :param role: ``PARTICIPANT`` (default) or ``TRAINER``.
        """
        if role not in TRAINING_ROLES:
            raise LmsInputError("role", f"must be one of {sorted(TRAINING_ROLES)}, got {role!r}")
        variables = self._training_vars(training_id, training_ref, user_ids, user_refs)
        variables.update(sendInvites=bool(_flag("send_invites", send_invites)), role=role)
        data = self.query(DOCUMENTS["PluvoAddUsersToTraining"], variables)
        return PluvoTrainingEnrollment.model_validate(data.get("addUsersToTraining") or {})

    def remove_users_from_training(
        self,
        training_id: str | None = None,
        user_ids: Sequence[str] | None = None,
        *,
        training_ref: str | None = None,
        user_refs: Sequence[str] | None = None,
    ) -> PluvoTrainingRemoval:
        """``removeUsersFromTraining``; users who reach the training through a group or an offer-event enrollment
        cannot be removed here and come back in ``ids_linked_via_object`` / ``refs_linked_via_object``."""
        variables = self._training_vars(training_id, training_ref, user_ids, user_refs)
        data = self.query(DOCUMENTS["PluvoRemoveUsersFromTraining"], variables)
        return PluvoTrainingRemoval.model_validate(data.get("removeUsersFromTraining") or {})

    # -- offers and offer events (offer, offerevent-date-2, common-recipes) -----------------------------------
    def get_offer(self, offer_id: str | None = None, *, ref: str | None = None) -> PluvoOffer | None:
        """``offer(id:|ref:)`` with its events, or None (the offer's fields are from the older offer page)."""
        found = self.query(DOCUMENTS["PluvoOffer"], _id_or_ref("offer_id", offer_id, "ref", ref)).get("offer")
        return None if found is None else PluvoOffer.model_validate(found)

    def get_offer_event(self, offer_event_id: str) -> PluvoOfferEvent | None:
        """``offerEvent(id:)``, or None."""
        variables = {"id": pluvo_uuid("offer_event_id", offer_event_id)}
        found = self.query(DOCUMENTS["PluvoOfferEvent"], variables).get("offerEvent")
        return None if found is None else PluvoOfferEvent.model_validate(found)

    def create_offer_event_enrollments(
        self, offer_event_ref: str, user_refs: Sequence[str], *, send_mail: bool = False
    ) -> list[PluvoOfferEventEnrollment]:
        """``createOfferEventEnrollments`` by refs (the only form published); users already enrolled are not
        enrolled twice (common-recipes).

        :param send_mail: send Pluvo's enrollment mail (off unless asked).
        """
        variables = {
            "offerEventRef": pluvo_text("offer_event_ref", offer_event_ref),
            "userRefs": _refs("user_refs", user_refs),
            "sendMail": bool(_flag("send_mail", send_mail)),
        }
        made = self.query(DOCUMENTS["PluvoCreateOfferEventEnrollments"], variables).get("createOfferEventEnrollments")
        return [PluvoOfferEventEnrollment.model_validate(e) for e in made or [] if e]

    def list_enrollments(self, user_id: str) -> list[PluvoEnrollment]:
        """``enrollments(userId:)`` (an ASSUMPTION: on the older enrollments page only)."""
        found = self.query(DOCUMENTS["PluvoEnrollments"], {"userId": pluvo_uuid("user_id", user_id)})
        return [PluvoEnrollment.model_validate(e) for e in found.get("enrollments") or [] if e]

    # -- progress (concept-architecture-2, common-recipes) ---------------------------------------------------
    @staticmethod
    def _report_query(
        group_ids: Sequence[str] | None, user_ids: Sequence[str] | None, training_ids: Sequence[str] | None
    ) -> tuple[str, dict[str, Any]]:
        if group_ids is not None and user_ids is None and training_ids is None:
            # The published recipe, as published.
            return DOCUMENTS["PluvoGroupProgress"], {"groupIds": pluvo_uuids("group_ids", group_ids)}
        if group_ids is not None:
            raise LmsInputError("group_ids", "filter by groups, or by learners and trainings, not both")
        if user_ids is None and training_ids is None:
            raise LmsInputError("user_ids", "give group_ids, or user_ids and/or training_ids")
        return DOCUMENTS["PluvoPortfolioReport"], without_unset(
            userIds=None if user_ids is None else pluvo_uuids("user_ids", user_ids),
            trainingIds=None if training_ids is None else pluvo_uuids("training_ids", training_ids),
        )

    def portfolio_report(
        self,
        *,
        group_ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        training_ids: Sequence[str] | None = None,
    ) -> Iterator[PluvoPortfolioReportItem]:
        """``portfolioReport`` for trainings: progress, score, completion date, time spent, lazily across pages.

        By groups (``userGroupIds``, as published), or by learners and trainings (``userIds`` and
        ``relatedObjectIds``: ASSUMPTION, unpublished filters).
        """
        document, variables = self._report_query(group_ids, user_ids, training_ids)
        for node in self.paginate(document, "portfolioReport", variables):
            yield PluvoPortfolioReportItem.model_validate(node)

    async def aportfolio_report(
        self, *, user_ids: Sequence[str] | None = None, training_ids: Sequence[str] | None = None
    ) -> AsyncIterator[PluvoPortfolioReportItem]:
        """The async twin of :meth:`portfolio_report` by learners and trainings."""
        document, variables = self._report_query(None, user_ids, training_ids)
        async for node in self.apaginate(document, "portfolioReport", variables):
            yield PluvoPortfolioReportItem.model_validate(node)

    # -- certificates (certificate-2, portfolioitems) -----------------------------------------------------------
    def list_certificates(self, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[PluvoCertificate]:
        """``certificates``: the certificate templates (not awarded certificates), lazily across pages."""
        for node in self.paginate(DOCUMENTS["PluvoCertificates"], "certificates", page_size=page_size):
            yield PluvoCertificate.model_validate(node)

    def generate_certificate(
        self,
        certificate_id: str,
        user_ids: Sequence[str],
        *,
        training_id: str | None = None,
        title: str | None = None,
        issue_date: datetime | str | None = None,
    ) -> PluvoBulkAction:
        """``generateCertificate`` from a template for users (UUIDs only); not idempotent: see ``award_certificate``.

        :param training_id: links the certificate to a training in the portfolio.
        :param title: the certificate's title (default: the template's).
        :param issue_date: default now.
        """
        variables = without_unset(
            id=pluvo_uuid("certificate_id", certificate_id),
            userIds=pluvo_uuids("user_ids", user_ids),
            trainingId=None if training_id is None else pluvo_uuid("training_id", training_id),
            title=None if title is None else pluvo_text("title", title),
            issueDate=_iso("issue_date", issue_date),
        )
        data = self.query(DOCUMENTS["PluvoGenerateCertificate"], variables).get("generateCertificate")
        return PluvoGeneratedCertificates.model_validate(data or {}).bulk_generate

    def list_portfolio_items(self, user_id: str) -> list[PluvoPortfolioItem]:
        """``portfolioItems(userId:)``: a user's portfolio, where awarded certificates appear (older page only)."""
        found = self.query(DOCUMENTS["PluvoPortfolioItems"], {"userId": pluvo_uuid("user_id", user_id)})
        return [PluvoPortfolioItem.model_validate(i) for i in found.get("portfolioItems") or [] if i]
