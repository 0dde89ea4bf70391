"""Pluvo: GraphQL at ``<organisation URL>/graphql/`` with an OAuth2 client-credentials token.

The hook speaks Pluvo's published operations (the project's Pluvo facts, from Pluvo's developer pages):
users (``user``, ``paginatedUsers``, ``updateOrCreateUser``), groups (``paginatedGroups``, ``group { users }``,
``addUsersToGroup``, ``removeUsersFromGroup``), trainings (``paginatedTrainings``, ``training``,
``addUsersToTraining``, ``removeUsersFromTraining``), offers (``offer``, ``offerEvent``,
``createOfferEventEnrollments``), progress (``portfolioReport``) and certificates (``certificates``,
``generateCertificate``, ``portfolioItems``). Every document it sends is in
:mod:`~airflow_provider_lms.hooks.pluvo_documents`, with each unpublished name it relies on marked
``ASSUMPTION``; :meth:`PluvoHook.query` and :meth:`PluvoHook.paginate` run any other document.

- Relay connections are paged with ``first`` at most 50 and stop when ``hasNextPage`` is false.
- Documents are parsed with graphql-core (:mod:`~airflow_provider_lms.hooks.pluvo_graphql`): only a query
  is sent again after a dropped connection, never a mutation; a syntax error fails before any request.
- GraphQL ``errors`` become typed errors. A refused token (HTTP 401, or an ``extensions.code`` containing
  ``Auth``) gets one fresh token and one more try, then fails with :class:`LmsAuthenticationError`.
- Invitations and mails go out only when a parameter asks (Pluvo's own defaults send them).

The generic capabilities below address learners, trainings, offer events, groups and certificate templates by
Pluvo's ``id`` (a UUID); the typed methods are in :mod:`~airflow_provider_lms.hooks.pluvo_api`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.hooks.pluvo_api import TRAINING_ROLES, PluvoApi, pluvo_text, pluvo_uuid
from airflow_provider_lms.hooks.pluvo_graphql import (
    MAX_PAGE_SIZE,
    PluvoAuthError,
    PluvoConnection,
    PluvoGraphQLError,
    PluvoNotFoundError,
    PluvoValidationError,
)
from airflow_provider_lms.hooks.rosters import PluvoRosterMixin
from airflow_provider_lms.http.errors import LmsConflictError, LmsError, LmsInputError, LmsNotFoundError
from airflow_provider_lms.models.inputs import LearnerSpec
from airflow_provider_lms.models.pluvo import PluvoEnrollment, PluvoPortfolioReportItem, PluvoTrainingEnrollment
from airflow_provider_lms.models.results import ItemResult, ItemStatus
from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

__all__ = [
    "MAX_PAGE_SIZE",
    "SUBSCRIBE_TARGETS",
    "PluvoAuthError",
    "PluvoConnection",
    "PluvoGraphQLError",
    "PluvoHook",
    "PluvoNotFoundError",
    "PluvoValidationError",
]

#: What ``LmsSubscribeOperator`` enrolls in on Pluvo (``platform_options={"target": ...}``).
SUBSCRIBE_TARGETS = frozenset({"training", "offer_event"})
#: The platform options each capability takes (anything else is a typo, refused before any request).
_OPTIONS: dict[str, frozenset[str]] = {
    "ensure_learners": frozenset({"send_invite"}),
    "subscribe": frozenset({"target", "send_invites", "send_mail", "role"}),
    "subscribe_groups": frozenset({"send_invites", "role"}),
    "unsubscribe": frozenset({"target"}),
    "award_certificate": frozenset({"certificate_template_id", "title"}),
}
# ASSUMPTION: the EnrollmentStatus values are from the older enrollments page (only ENROLLED is confirmed live);
# these two no longer hold a place, so such an enrollment is made again.
_ENDED = frozenset({"CANCELLED", "DECLINED"})
# ASSUMPTION: Pluvo publishes no limit on userIds per addUsersToTraining; 50, the page size, keeps calls modest.
_MEMBERS_PER_CALL = 50


def _has(ids: Iterable[str], wanted: str) -> bool:
    return wanted in {i.lower() for i in ids}


@register_platform
class PluvoHook(PluvoRosterMixin, PluvoApi):
    """Pluvo: GraphQL at ``<organisation URL>/graphql/`` with an OAuth2 client-credentials token.

    Connection: ``base_url`` is the organisation URL (``https://<organisation>.pluvo.com``), the client id
    is the login, the client secret the password, ``scopes`` space-separated. The token comes from
    ``/oauth/token/``; it is cached, masked in logs, fetched again shortly before its expiry, and once more
    when Pluvo refuses it (HTTP 401 or a GraphQL ``Auth`` error).

    Generic capabilities: ``ensure_learners`` (``updateOrCreateUser`` by e-mail), ``subscribe`` (a training,
    or with ``platform_options={"target": "offer_event"}`` an offer event), ``subscribe_groups`` (a group's
    members into a training), ``unsubscribe`` (from a training), ``enrollment_status`` (``portfolioReport``)
    and ``award_certificate`` (``generateCertificate``). No invitation or mail is sent unless an option asks.

    :param lms_conn_id: the Airflow connection id (type ``pluvo``).
    """

    conn_type = "pluvo"
    hook_name = "Pluvo"
    default_conn_name = "pluvo_default"
    platform: ClassVar[str] = "Pluvo"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"ensure_learners", "subscribe", "subscribe_groups", "unsubscribe", "enrollment_status", "award_certificate"}
    )
    # portfolioReport gives progress, score and a completion date, never a verdict.
    reports_pass: ClassVar[bool] = False

    def __init__(self, lms_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(lms_conn_id, **kwargs)
        # Looked up once per hook, shared by the bulk run's threads.
        self._event_refs: dict[str, str] = {}
        self._certificate_titles: dict[str, str] = {}
        self._cache_lock = threading.Lock()

    # -- id rules and options -----------------------------------------------------------------------------
    def parse_learner_id(self, field: str, value: Any) -> str:
        return pluvo_uuid(field, value)

    def parse_course_id(self, field: str, value: Any) -> str:
        return pluvo_uuid(field, value)

    def parse_program_id(self, field: str, value: Any) -> str:
        return pluvo_uuid(field, value)

    def parse_group_id(self, field: str, value: Any) -> str:
        """A group's Pluvo id (a UUID); for ``LmsSubscribeGroupsOperator`` once it asks the hook."""
        return pluvo_uuid(field, value)

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        raise LmsInputError(field, "Pluvo has no enrollment ids for trainings; name it by learner_id and course_id")

    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        checked = dict(options)
        known = _OPTIONS.get(capability, frozenset())
        for name in options:
            if name not in known:
                where = name if name == "certificate_template_id" else f"platform_options.{name}"
                raise LmsInputError(where, f"is not a Pluvo option for {capability} ({sorted(known) or 'none'})")
        for name in ("send_invite", "send_invites", "send_mail"):
            if name in options and not isinstance(options[name], bool):
                raise LmsInputError(f"platform_options.{name}", f"must be true or false, got {options[name]!r}")
        target = options.get("target", "training")
        if target not in SUBSCRIBE_TARGETS:
            raise LmsInputError(
                "platform_options.target", f"must be one of {sorted(SUBSCRIBE_TARGETS)}, got {target!r}"
            )
        if capability == "unsubscribe" and target != "training":
            raise LmsInputError(
                "platform_options.target",
                "Pluvo publishes removal from trainings only (removeUsersFromTraining); cancel an offer-event "
                "enrollment in Pluvo",
            )
        mails = {"training": "send_invites", "offer_event": "send_mail"}
        other = mails["offer_event" if target == "training" else "training"]
        if capability == "subscribe" and other in options:
            raise LmsInputError(
                f"platform_options.{other}", f"does not apply to target {target!r} (use {mails[target]})"
            )
        if "role" in options and options["role"] not in TRAINING_ROLES:
            raise LmsInputError(
                "platform_options.role", f"must be one of {sorted(TRAINING_ROLES)}, got {options['role']!r}"
            )
        if capability == "subscribe" and target == "offer_event" and "role" in options:
            raise LmsInputError("platform_options.role", "applies to target 'training' only")
        if capability == "award_certificate":
            template = options.get("certificate_template_id")
            if template in (None, ""):
                raise LmsInputError(
                    "certificate_template_id",
                    "Pluvo generates certificates from a template: give its id (certificates)",
                )
            checked["certificate_template_id"] = pluvo_uuid("certificate_template_id", template)
            if options.get("title") is not None:
                checked["title"] = pluvo_text("platform_options.title", options["title"])
        return checked

    # -- ensure_learners ------------------------------------------------------------------------------------
    def ensure_learner(self, learner: LearnerSpec, **options: Any) -> ItemResult[Any]:
        """``updateOrCreateUser`` by e-mail (role PARTICIPANT, our ``external_id`` as ``ref``); no invitation
        unless ``send_invite=True``. Result ``{"learner_id": <Pluvo user id>, "email", "ref"}``.

        Safe to repeat: Pluvo looks the user up by e-mail, so a re-run (or a second pass after a lost answer)
        finds the user instead of creating another (``created`` false: already done).
        """
        opts = self.validate_options("ensure_learners", options)
        # ASSUMPTION: as in Pluvo's SyncUser recipe the user is sent with roles [PARTICIPANT]; whether Pluvo
        # replaces an existing user's other roles with it is unpublished.
        name = f"{learner.first_name} {learner.last_name}"
        ref = getattr(learner, "external_id", None)
        synced = self.update_or_create_user(
            learner.email, name, ref=ref, send_invite=bool(opts.get("send_invite", False))
        )
        return ItemResult(
            status=ItemStatus.DONE if synced.created else ItemStatus.ALREADY_DONE,
            result={"learner_id": synced.user.id, "email": learner.email, "ref": synced.user.ref},
        )

    # -- subscribe ---------------------------------------------------------------------------------------------
    def subscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Enroll a learner in a training (default) or an offer event; one already in is already done.

        :param course_id: the training's id, or the offer event's id with ``target="offer_event"``.
        :param learner_id: the learner's Pluvo user id.
        :param options: ``target`` (``"training"`` or ``"offer_event"``); ``send_invites`` (training, default
            false), ``role`` (training: ``PARTICIPANT`` or ``TRAINER``); ``send_mail`` (offer event, default false).
        """
        opts = self.validate_options("subscribe", options)
        course = pluvo_uuid("course_id", course_id)
        learner = pluvo_uuid("learner_id", learner_id)
        if opts.get("target", "training") == "offer_event":
            return self._enroll_in_offer_event(course, learner, send_mail=bool(opts.get("send_mail", False)))
        answer = self.add_users_to_training(
            course,
            [learner],
            send_invites=bool(opts.get("send_invites", False)),
            role=opts.get("role", "PARTICIPANT"),
        )
        result = {"enrollment_id": f"{learner}/{course}", "learner_id": learner, "course_id": course}
        return self._added(answer, learner, f"training {course}", result)

    def _added(
        self, answer: PluvoTrainingEnrollment, learner: str, where: str, result: dict[str, Any]
    ) -> ItemResult[Any]:
        if _has(answer.added_ids, learner):
            return ItemResult(status=ItemStatus.DONE, result=result)
        if _has(answer.already_added_ids, learner):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        if _has(answer.failed_ids, learner):
            raise LmsError(f"Pluvo could not add learner {learner} to {where} (failedIds)", platform=self.platform)
        raise LmsError(f"Pluvo's answer does not mention learner {learner} for {where}", platform=self.platform)

    def _event_ref(self, event_id: str) -> str:
        """The offer event's ``ref``: ``createOfferEventEnrollments`` takes refs only (common-recipes)."""
        with self._cache_lock:
            if event_id in self._event_refs:
                return self._event_refs[event_id]
        event = self.get_offer_event(event_id)
        if event is None:
            raise LmsNotFoundError(f"offer event {event_id} does not exist", platform=self.platform)
        if not event.ref:
            raise LmsError(f"offer event {event_id} has no ref, which enrolling needs", platform=self.platform)
        with self._cache_lock:
            self._event_refs[event_id] = event.ref
        return event.ref

    def _enrollment(self, learner: str, event_id: str) -> PluvoEnrollment | None:
        """The learner's live enrollment in the event, from ``enrollments(userId:)`` (ASSUMPTION: older page)."""
        try:
            enrollments = self.list_enrollments(learner)
        except PluvoValidationError:
            # ASSUMPTION: a Pluvo without the older `enrollments` query; createOfferEventEnrollments still
            # enrolls nobody twice (common-recipes), we only cannot tell "already done" beforehand.
            self.log.warning("Pluvo does not answer enrollments(userId:); enrolling without looking first")
            return None
        return next(
            (e for e in enrollments if (e.offer_event_id or "").lower() == event_id and e.status not in _ENDED), None
        )

    def _enroll_in_offer_event(self, event_id: str, learner: str, *, send_mail: bool) -> ItemResult[Any]:
        result: dict[str, Any] = {"learner_id": learner, "course_id": event_id}
        ref = self._event_ref(event_id)
        existing = self._enrollment(learner, event_id)
        if existing is not None:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={**result, "enrollment_id": existing.id})
        user = self.get_user(learner)
        if user is None:
            raise LmsNotFoundError(f"learner {learner} does not exist in Pluvo", platform=self.platform)
        if not user.ref:
            raise LmsError(f"learner {learner} has no ref, which offer-event enrollment needs", platform=self.platform)
        made = self.create_offer_event_enrollments(ref, [user.ref], send_mail=send_mail)
        mine = next((e for e in made if e.user and (e.user.id.lower() == learner or e.user.ref == user.ref)), None)
        if mine is not None and (mine.status or "ENROLLED") not in _ENDED:
            return ItemResult(
                status=ItemStatus.DONE, result={**result, "enrollment_id": mine.id, "status": mine.status}
            )
        again = self._enrollment(learner, event_id)
        if again is not None:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={**result, "enrollment_id": again.id})
        raise LmsError(
            f"Pluvo did not enroll learner {learner} in offer event {event_id} (full, closed or cancelled?)",
            platform=self.platform,
        )

    # -- subscribe_groups -------------------------------------------------------------------------------------
    def subscribe_group(self, course_id: str, group_id: str, **options: Any) -> ItemResult[Any]:
        """Add a group's current members to a training as direct participants.

        No published mutation links a group to a training (``addUsersToGroup`` is membership only, and
        ``Group.trainings`` is read-only), so the group's members (``group { users }``) are added with
        ``addUsersToTraining``. Members who join the group later are not added; run the task again for them.
        Members already in the training are left as they are; the group counts as done when anyone was added.

        :param options: ``send_invites`` (default false), ``role`` (default ``PARTICIPANT``).
        """
        opts = self.validate_options("subscribe_groups", options)
        training = pluvo_uuid("course_id", course_id)
        group = pluvo_uuid("group_id", group_id)
        members = [u.id.lower() for u in self.list_group_members(group)]
        added: list[str] = []
        already: list[str] = []
        failed: list[str] = []
        for start in range(0, len(members), _MEMBERS_PER_CALL):
            chunk = members[start : start + _MEMBERS_PER_CALL]
            answer = self.add_users_to_training(
                training,
                chunk,
                send_invites=bool(opts.get("send_invites", False)),
                role=opts.get("role", "PARTICIPANT"),
            )
            added += [m for m in chunk if _has(answer.added_ids, m)]
            already += [m for m in chunk if _has(answer.already_added_ids, m)]
            failed += [m for m in chunk if m not in added and m not in already]
        if failed:
            raise LmsError(
                f"{len(failed)} of {len(members)} members of group {group} could not be added to training "
                f"{training} (first: {', '.join(failed[:3])}); a re-run retries only them",
                platform=self.platform,
            )
        result = {"group_id": group, "course_id": training, "members": len(members), "added": len(added)}
        return ItemResult(status=ItemStatus.DONE if added else ItemStatus.ALREADY_DONE, result=result)

    # -- unsubscribe -----------------------------------------------------------------------------------------
    def unsubscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """``removeUsersFromTraining`` for one learner; one not in the training is already done.

        A learner who reaches the training through a group or an offer-event enrollment cannot be removed
        here (``idsLinkedViaObject``): that item fails with a message saying where to remove them.
        """
        self.validate_options("unsubscribe", options)
        training = pluvo_uuid("course_id", course_id)
        learner = pluvo_uuid("learner_id", learner_id)
        answer = self.remove_users_from_training(training, [learner])
        result = {"learner_id": learner, "course_id": training}
        if _has(answer.removed_ids, learner):
            return ItemResult(status=ItemStatus.DONE, result=result)
        if _has(answer.already_removed_ids, learner):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        if _has(answer.ids_linked_via_object, learner):
            raise LmsConflictError(
                f"learner {learner} reaches training {training} through a group or an offer-event enrollment "
                "(idsLinkedViaObject), so Pluvo cannot remove them from the training directly: remove them from "
                "that group (removeUsersFromGroup) or cancel that enrollment",
                platform=self.platform,
            )
        if _has(answer.failed_ids, learner):
            raise LmsError(f"Pluvo could not remove learner {learner} from training {training}", platform=self.platform)
        raise LmsError(f"Pluvo's answer does not mention learner {learner}", platform=self.platform)

    # -- award_certificate -------------------------------------------------------------------------------------
    def _template_title(self, template: str) -> str:
        """The certificate template's title (or name), from ``certificates``; cached per hook."""
        with self._cache_lock:
            if template in self._certificate_titles:
                return self._certificate_titles[template]
        found = next((c for c in self.list_certificates() if c.id.lower() == template), None)
        if found is None:
            raise LmsNotFoundError(f"certificate template {template} does not exist", platform=self.platform)
        title = found.title or found.name or ""
        with self._cache_lock:
            self._certificate_titles[template] = title
        return title

    def _holds(self, learner: str, title: str) -> bool:
        # ASSUMPTION: Pluvo publishes no "is certificate" flag on a portfolio item nor its link to the
        # template: a held certificate is recognized by a portfolio item with the certificate's title.
        wanted = title.strip().casefold()
        return bool(wanted) and any(
            (i.title or "").strip().casefold() == wanted for i in self.list_portfolio_items(learner)
        )

    def award_certificate(self, learner_id: str, program_id: str, **options: Any) -> ItemResult[Any]:
        """``generateCertificate`` from a template for one learner, linked to a training; skipped when the
        learner's portfolio already holds it (recognized by title: an ASSUMPTION).

        :param learner_id: the learner's Pluvo user id.
        :param program_id: the training the certificate belongs to (``trainingId``).
        :param options: ``certificate_template_id`` (required: a ``certificates`` id), ``title`` (default: the
            template's title).
        """
        opts = self.validate_options("award_certificate", options)
        learner = pluvo_uuid("learner_id", learner_id)
        training = pluvo_uuid("program_id", program_id)
        template = opts["certificate_template_id"]
        title = opts.get("title") or self._template_title(template)
        result = {"learner_id": learner, "course_id": training, "certificate_template_id": template, "title": title}
        if self._holds(learner, title):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        bulk = self.generate_certificate(template, [learner], training_id=training, title=opts.get("title"))
        if _has(bulk.succeeded_ids, learner):
            return ItemResult(status=ItemStatus.DONE, result=result)
        if _has(bulk.failed_ids, learner):
            raise LmsError(
                f"Pluvo could not generate certificate {template} for learner {learner}", platform=self.platform
            )
        raise LmsError(f"Pluvo's answer does not mention learner {learner}", platform=self.platform)

    # -- enrollment_status (EnrollmentCompletedSensor and its trigger) -----------------------------------------
    def _pair(self, ref: EnrollmentRef) -> tuple[str, str]:
        if ref.learner_id is None or ref.course_id is None:
            raise LmsInputError("learner_id", "Pluvo progress is named by learner_id and course_id (a training)")
        return pluvo_uuid("learner_id", ref.learner_id), pluvo_uuid("course_id", ref.course_id)

    @staticmethod
    def _row_matches(row: PluvoPortfolioReportItem, learner: str, training: str) -> bool:
        # ASSUMPTION: relatedObjectId is unpublished; a row without it is taken as the training filtered for.
        same_training = row.related_object_id is None or row.related_object_id.lower() == training
        return row.user.id.lower() == learner and same_training

    def _normalized(self, row: PluvoPortfolioReportItem, learner: str, training: str) -> NormalizedEnrollment:
        """A report row as the normalized state: completed once there is a completion date.

        Pluvo publishes no pass mark on the report, so a finished training is ``completed``, never ``passed``.
        """
        # ASSUMPTION: a completionDate means finished; progress only tells started from not started (its scale,
        # 0..1 or 0..100, is unpublished, so it never decides completion).
        if row.completion_date is not None:
            state = EnrollmentState.COMPLETED
        elif (row.progress or 0) > 0:
            state = EnrollmentState.IN_PROGRESS
        else:
            state = EnrollmentState.ENROLLED
        return NormalizedEnrollment(
            platform=self.platform,
            state=state,
            enrollment_id=f"{learner}/{training}",
            learner_id=learner,
            course_id=training,
            completed_at=row.completion_date.isoformat() if row.completion_date else None,
            # Pluvo's row as it came (the fields the hook selected): progress, score, completionDate, timeSpent.
            raw=row.model_dump(mode="json", by_alias=True, exclude_unset=True),
        )

    def _enrolled(self, learner: str, training: str) -> NormalizedEnrollment:
        """No report row: the learner is enrolled (nothing done yet) when ``paginatedUsers(trainingIds:)`` lists them.

        ASSUMPTION: portfolioReport may leave out a participant who has not started; paginatedUsers'
        ``trainingIds`` filter is published, its inclusion of group and enrollment participants is not.
        """
        return NormalizedEnrollment(
            platform=self.platform,
            state=EnrollmentState.ENROLLED,
            enrollment_id=f"{learner}/{training}",
            learner_id=learner,
            course_id=training,
        )

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The learner's state in a training, from ``portfolioReport`` (progress, score, completion date in ``raw``)."""
        learner, training = self._pair(ref)
        for row in self.portfolio_report(user_ids=[learner], training_ids=[training]):
            if self._row_matches(row, learner, training):
                return self._normalized(row, learner, training)
        user = self.get_user(learner)
        if user is not None and user.email:
            for member in self.list_users(training_ids=[training], q=user.email):
                if member.id.lower() == learner:
                    return self._enrolled(learner, training)
        return self.not_enrolled(learner, training)

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, used by the deferrable trigger."""
        learner, training = self._pair(ref)
        async for row in self.aportfolio_report(user_ids=[learner], training_ids=[training]):
            if self._row_matches(row, learner, training):
                return self._normalized(row, learner, training)
        user = await self.aget_user(learner)
        if user is not None and user.email:
            async for member in self.alist_users(training_ids=[training], q=user.email):
                if member.id.lower() == learner:
                    return self._enrolled(learner, training)
        return self.not_enrolled(learner, training)
