"""aNewSpring: REST with form-encoded POST bodies and ``X-API-Key`` (anewspring-api.nl.txt, FACTS.md).

Every call addresses the learner and the course in one of two ways, and the caller chooses:

* by external ids, in the path: ``GET /getResults/{userID}/{courseID}`` (``address_by="id"``, the default);
* by UIDs, in the query: ``GET /getResults?userUID=..&courseUID=..`` (``address_by="uid"``).

An id in the path is percent-encoded as exactly one segment (``/``, ``?``, ``#``, ``%`` and spaces are
escaped, and a ``.`` or ``..`` segment is written ``%2E``/``%2E%2E`` so that URL resolution cannot drop
it), so no id can ever reach another endpoint.

Answers: ``Accept: application/json``; a POST answers 200 with an empty body; errors are plain text
unless ``_formatErrors=true``, which this hook always sends. 404 means user, course, group or activity
not found, or not subscribed; 409 a conflict such as a duplicate subscription.

Beyond the subscription document (anewspring-more.md, after the public PHP client ``telartis/anewspring``
and support articles 70412/70415/70416): users (``getUser``, ``addOrUpdateUser``, ``addUserRoles``), learner
group membership (``getGroupUsers``, ``groupUserExists``, ``addGroupUsers``, ``deleteGroupUsers``) and the
course roster (``getStudentSubscriptions``). These calls address users, groups and courses by external id
in the path only (no UID form is published for them).

**Rosters in bulk runs.** Inside a bulk operator's run, subscribe, unsubscribe and update read a course's
roster once (``getStudentSubscriptions``, ``skipStats=true``) and look every learner up in it, instead of one
``isSubscribed``/``getSubscriptions`` per learner; the group-membership items read the group's members once
(``getGroupUsers``). The snapshot lives as long as the run. A roster that cannot be read (an outage, an
answer over the size limit) falls back to one read per learner; ``use_roster=False`` asks for that always.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_provider_lms.hooks.anewspring_api import (
    ADDRESS_MODES,
    ROLES,
    SCORE_FIELDS,
    UPDATE_SUBSCRIPTION_FIELDS,
    USER_FIELDS,
    AddressBy,
    ANewSpringApi,
    ANewSpringConnection,
    encode_path_segment,
    parse_anewspring_error,
)
from airflow_provider_lms.hooks.anewspring_api import field_names as _field_names
from airflow_provider_lms.hooks.anewspring_api import form_fields as _form_fields
from airflow_provider_lms.hooks.anewspring_api import form_value as _form_value
from airflow_provider_lms.hooks.anewspring_api import iso_date as _date
from airflow_provider_lms.hooks.anewspring_api import read_json as _json
from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.hooks.rosters import ANewSpringRosterMixin
from airflow_provider_lms.http.breaker import CircuitBreaker, current_breaker
from airflow_provider_lms.http.client import LmsHttpClient
from airflow_provider_lms.http.errors import (
    LmsCircuitOpenError,
    LmsConflictError,
    LmsError,
    LmsInputError,
    LmsNotFoundError,
    LmsServerError,
    LmsTransportError,
)
from airflow_provider_lms.models.anewspring import (
    ANewSpringCourseResult,
    ANewSpringPart,
    ANewSpringSubscription,
    ANewSpringUser,
    parse_percent,
)
from airflow_provider_lms.models.inputs import (
    LearnerSpec,
    ScoreRow,
    recheck,
    shown,
    validate_id,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus
from airflow_provider_lms.models.state import NormalizedEnrollment

__all__ = [
    "ADDRESS_MODES",
    "GROUP_MEMBER_OPERATIONS",
    "LOGIN_SOURCES",
    "ROLES",
    "SCORE_FIELDS",
    "UPDATE_SUBSCRIPTION_FIELDS",
    "USER_FIELDS",
    "ANewSpringConnection",
    "ANewSpringHook",
    "encode_path_segment",
    "parse_anewspring_error",
]

#: Where a new user's ``login`` comes from (``ensure_learners`` option ``login``).
# ASSUMPTION: the sources do not say whether addOrUpdateUser needs a login to create a user; by default the
# learner's e-mail address is sent as the login when (and only when) the user is created.
LOGIN_SOURCES = frozenset({"email", "external_id", "none"})

_ENSURE_OPTIONS = frozenset({"update_existing", "login", "role", "notify"})
_GROUP_OPTIONS = frozenset({"notify", "add_to_teacher_students", "use_roster"})
_COMMON_OPTIONS = frozenset({"address_by", "fields", "field_names", "check_first", "use_roster"})
#: The operations of the aNewSpring-only group membership operators (their options are checked under these).
GROUP_MEMBER_OPERATIONS = frozenset({"add_group_members", "remove_group_members"})


@dataclass
class _Snapshot:
    """One list read once per bulk run (a course's roster, a group's members), shared by the run's items."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    members: dict[str, Any] | None = None
    unavailable: bool = False


@register_platform
class ANewSpringHook(ANewSpringRosterMixin, ANewSpringApi):
    """aNewSpring for the generic operators and sensors: ensure learners (by external id), subscribe, subscribe
    groups, unsubscribe, update subscriptions, score external activities, enrollment status; and the group
    membership items of :mod:`airflow_provider_lms.operators.anewspring`. The typed calls are in
    :class:`~airflow_provider_lms.hooks.anewspring_api.ANewSpringApi`.

    Connection: ``base_url`` is the environment's API root (``https://<environment>/api``), the API key
    is the password and goes out as ``X-API-Key``.

    Every API method takes ``address_by``: ``"id"`` (external ids, in the path; the default) or ``"uid"``
    (UIDs, in the query). Generic operators pass it as ``platform_options={"address_by": "uid"}``.

    :param lms_conn_id: the Airflow connection id (type ``anewspring``).
    """

    conn_type = "anewspring"
    hook_name = "aNewSpring"
    default_conn_name = "anewspring_default"
    platform: ClassVar[str] = "aNewSpring"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {
            "ensure_learners",
            "subscribe",
            "subscribe_groups",
            "unsubscribe",
            "update_subscription",
            "score_external_activity",
            "enrollment_status",
        }
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per bulk run (its circuit breaker is the run's identity): lists read once and shared by the items.
        # Weak keys: a run's snapshots go when the run's breaker does.
        self._snapshots: weakref.WeakKeyDictionary[CircuitBreaker, dict[tuple[str, str], _Snapshot]] = (
            weakref.WeakKeyDictionary()
        )
        self._snapshots_lock = threading.Lock()

    def close(self) -> None:
        """Close pooled connections and forget the bulk runs' roster and group snapshots."""
        with self._snapshots_lock:
            self._snapshots.clear()
        super().close()

    # -- lists read once per bulk run ------------------------------------------------------------------------------
    def _run_snapshot(self, kind: str, key: str, load: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        """The list ``load`` reads, read once per bulk run and shared by its items; None outside a bulk run.

        A list that cannot be read for a transient reason (outage, timeout, an answer over the size limit)
        is not read again in this run: its items fall back to one read each. Other errors (bad key, unknown
        course or group) are raised to the item, as a per-item read would.
        """
        run = current_breaker()
        if run is None:
            return None
        with self._snapshots_lock:
            snap = self._snapshots.setdefault(run, {}).setdefault((kind, key), _Snapshot())
        with snap.lock:
            if snap.unavailable:
                return None
            if snap.members is None:
                try:
                    snap.members = load()
                except LmsCircuitOpenError:
                    raise
                except LmsError as exc:
                    if not (isinstance(exc, LmsTransportError) or exc.retryable):
                        raise
                    snap.unavailable = True
                    self.log.warning("%s %s could not be read (%s); reading per learner instead", kind, key, exc)
                    return None
            return snap.members

    def _roster(self, course_id: str, by: AddressBy, options: Mapping[str, Any]) -> dict[str, Any] | None:
        """The course's roster by learner external id, in a bulk run (None: look per learner)."""
        # ASSUMPTION: getStudentSubscriptions has only the external-id form; courses named by UID are looked
        # up per learner.
        if by != "id" or options.get("use_roster", True) is False:
            return None
        return self._run_snapshot(
            "roster",
            course_id,
            lambda: {s.id: s for s in self.get_student_subscriptions(course_id) if s.id is not None},
        )

    def _group_members(self, group_id: str, options: Mapping[str, Any]) -> dict[str, Any] | None:
        if options.get("use_roster", True) is False:
            return None
        return self._run_snapshot(
            "group", group_id, lambda: {u.id: u for u in self.get_group_users(group_id) if u.id is not None}
        )

    # -- the UI's Test button -------------------------------------------------------------------------------------
    def check_connection(self) -> str:
        """Ask for the subscriptions of a user id that cannot exist: 404 proves key and URL are right."""
        probe = "airflow-connection-test"
        # A 404 is the expected answer; 401 (bad key) and transport errors propagate.
        with contextlib.suppress(LmsNotFoundError):
            self.get_subscriptions(probe, skip_stats=True)
        return f"Connected to aNewSpring at {self.client.base_url}"

    # -- capabilities used by the generic operators ------------------------------------------------------------
    def parse_learner_id(self, field: str, value: Any) -> str:
        return validate_id(field, value)

    def parse_course_id(self, field: str, value: Any) -> str:
        return validate_id(field, value)

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        raise LmsInputError(
            field, "aNewSpring has no enrollment ids; name the subscription by learner_id and course_id"
        )

    def validate_options(self, capability: str, options: dict[str, Any]) -> dict[str, Any]:
        checked = dict(options)
        if capability == "ensure_learners":
            known = _ENSURE_OPTIONS
        elif capability == "remove_group_members":
            known = frozenset({"use_roster"})
        elif capability in GROUP_MEMBER_OPERATIONS:
            known = _GROUP_OPTIONS
        else:
            known = _COMMON_OPTIONS
        for name in options:
            if name not in known:
                raise LmsInputError(f"platform_options.{name}", f"is not an aNewSpring option ({sorted(known)})")
        if "address_by" in options:
            try:
                checked["address_by"] = self._address_by(options["address_by"])
            except LmsInputError:
                raise LmsInputError(
                    "platform_options.address_by", f"must be 'id' or 'uid', got {options['address_by']!r}"
                ) from None
        for name in ("fields", "field_names"):
            if name in options and not isinstance(options[name], dict):
                raise LmsInputError(f"platform_options.{name}", f"must be a mapping, got {shown(options[name])}")
        if "fields" in options:
            checked["fields"] = _form_fields("platform_options.fields", options["fields"])
        if "field_names" in options:
            defaults = SCORE_FIELDS if capability == "score_external_activity" else UPDATE_SUBSCRIPTION_FIELDS
            _field_names("platform_options.field_names", options["field_names"], defaults)
        for flag in ("check_first", "use_roster", "update_existing", "notify", "add_to_teacher_students"):
            if flag in options and not isinstance(options[flag], bool):
                raise LmsInputError(f"platform_options.{flag}", f"must be true or false, got {options[flag]!r}")
        if "login" in options and options["login"] not in LOGIN_SOURCES:
            raise LmsInputError(
                "platform_options.login", f"must be one of {sorted(LOGIN_SOURCES)}, got {shown(options['login'])}"
            )
        if "role" in options and options["role"] is not None and options["role"] not in ROLES:
            raise LmsInputError(
                "platform_options.role", f"must be one of {sorted(ROLES)} or None, got {shown(options['role'])}"
            )
        return checked

    # -- ensure_learners ---------------------------------------------------------------------------------------
    @staticmethod
    def learner_external_id(field_name: str, learner: LearnerSpec) -> str:
        """The learner's aNewSpring user id: its ``external_id``, which aNewSpring addresses users by.

        :param field_name: where the learner is, e.g. ``learners[3]``; the error names ``learners[3].external_id``.
        """
        if learner.external_id is None:
            raise LmsInputError(
                f"{field_name}.external_id",
                "aNewSpring addresses users by external id: give each learner an external_id (e.g. the HR number)",
            )
        return validate_id(f"{field_name}.external_id", learner.external_id)

    def check_learner(self, field: str, learner: LearnerSpec, **options: Any) -> None:
        """Refuse, before any request, a learner ``ensure_learner`` cannot handle: one without ``external_id``.

        :param field: where the learner is, e.g. ``learners[3]``; the error names ``learners[3].external_id``.
        :param learner: the validated learner.
        """
        self.learner_external_id(field, learner)

    def learner_key(self, learner: LearnerSpec) -> str:
        """One aNewSpring user per external id: two rows with it and different e-mail addresses are refused."""
        return str(learner.external_id) if learner.external_id is not None else learner.email

    @staticmethod
    def _learner_differences(current: ANewSpringUser, learner: LearnerSpec) -> list[str]:
        """The addOrUpdateUser fields whose value differs from the learner's (names compared exactly, the
        e-mail address without case; a family name may be split over ``middleName`` and ``lastName``)."""
        changed = []
        if (current.first_name or "").strip() != learner.first_name:
            changed.append("firstName")
        if learner.last_name not in ((current.last_name or "").strip(), current.family_name.strip()):
            changed.append("lastName")
        if (current.email or "").strip().lower() != learner.email.lower():
            changed.append("email")
        return changed

    def ensure_learner(self, learner: LearnerSpec, **options: Any) -> ItemResult[Any]:
        """Find the user by external id (``getUser``); create them, or update what differs, with ``addOrUpdateUser``.

        Nothing is sent when the user exists with the same first name, family name and e-mail address and holds
        the role: a re-run is ``already_done``. The learner needs ``external_id`` (aNewSpring's user id).
        Result ``{"learner_id": <external id>, "email", "created", "updated"}``.

        :param options: ``update_existing`` (default True: send the fields that differ; False: leave an existing
            user as is and report the differences as ``differs``), ``login`` (for a new user: ``"email"``, the
            default, ``"external_id"`` or ``"none"``), ``role`` (default ``"student"``, given with
            ``addUserRoles`` when the user lacks it; None: no role), ``notify`` (default False: no mail to the
            new user).
        """
        learner = recheck(learner, "learner")
        opts = self.validate_options("ensure_learners", options)
        user_id = self.learner_external_id("learner", learner)
        role = opts.get("role", "student")
        update_existing = opts.get("update_existing", True)
        wanted = {"firstName": learner.first_name, "lastName": learner.last_name, "email": learner.email}
        result: dict[str, Any] = {"learner_id": user_id, "email": learner.email, "created": False, "updated": []}
        current = self.find_user(user_id)
        if current is None:
            form: dict[str, Any] = {**wanted, "notify": bool(opts.get("notify", False))}
            login = opts.get("login", "email")
            if login != "none":
                form["login"] = learner.email if login == "email" else user_id
            self.add_or_update_user(user_id, form)
            if role:
                # ASSUMPTION: addOrUpdateUser takes no role (the public client lists `role` for addUser only),
                # so the learner role is given with addUserRoles; only users with it can be subscribed.
                self.add_user_roles(user_id, [role])
            return ItemResult(status=ItemStatus.DONE, result={**result, "created": True})
        changed = self._learner_differences(current, learner)
        wrote = False
        if changed and update_existing:
            self.add_or_update_user(user_id, {name: wanted[name] for name in changed})
            result["updated"], wrote = changed, True
        elif changed:
            result["differs"] = changed
        if role and role not in current.roles:
            self.add_user_roles(user_id, [role])
            result["role_added"], wrote = role, True
        return ItemResult(status=ItemStatus.DONE if wrote else ItemStatus.ALREADY_DONE, result=result)

    # -- group membership (the aNewSpring group operators) ------------------------------------------------------
    def add_group_member(self, group_id: str, user_id: str, **options: Any) -> ItemResult[Any]:
        """Add one user to a group unless a member; result ``{"group_id", "user_id"}``.

        In a bulk run the group's members are read once (``getGroupUsers``); alone, ``groupUserExists``
        asks for this user. Sent with ``ignoreDuplicates=true``, so a member added meanwhile is no error.

        :param options: ``notify`` (default False), ``add_to_teacher_students`` (default False),
            ``use_roster`` (default True: one members read per run).
        """
        opts = self.validate_options("add_group_members", options)
        group, user = validate_id("group_id", group_id), validate_id("user_id", user_id)
        result = {"group_id": group, "user_id": user}
        members = self._group_members(group, opts)
        member = (user in members) if members is not None else self.group_user_exists(group, user)
        if member:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.add_group_users(
            group,
            [user],
            notify=bool(opts.get("notify", False)),
            add_to_teacher_students=bool(opts.get("add_to_teacher_students", False)),
        )
        return ItemResult(status=ItemStatus.DONE, result=result)

    def remove_group_member(self, group_id: str, user_id: str, **options: Any) -> ItemResult[Any]:
        """Remove one user from a group; one who is not a member counts as already done.

        :param options: ``use_roster`` (default True: in a bulk run, one members read per run).
        """
        opts = self.validate_options("remove_group_members", options)
        group, user = validate_id("group_id", group_id), validate_id("user_id", user_id)
        result = {"group_id": group, "user_id": user}
        members = self._group_members(group, opts)
        member = (user in members) if members is not None else self.group_user_exists(group, user)
        if not member:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.delete_group_users(group, [user])
        return ItemResult(status=ItemStatus.DONE, result=result)

    def subscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Subscribe one learner unless subscribed; an existing subscription (409 or isSubscribed) is done.

        :param options: ``address_by`` (``"id"``/``"uid"``), ``fields`` (extra form fields), ``check_first``
            (default True: look before subscribing, so a platform that re-subscribes instead of answering 409
            is never asked to), ``use_roster`` (default True: in a bulk run, the look is the course's roster,
            read once for the run, instead of one isSubscribed per learner).
        """
        by = self._address_by(options.get("address_by", "id"))
        result = {"learner_id": learner_id, "course_id": course_id, "enrollment_id": f"{learner_id}/{course_id}"}
        if options.get("check_first", True):
            roster = self._roster(course_id, by, options)
            if roster is not None:
                entry = roster.get(learner_id)
                if entry is not None and entry.live:
                    return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
                # Not on the roster, or unsubscribed by hand: subscribe (a 409 still counts as done).
            elif self.is_subscribed(learner_id, course_id, address_by=by):
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        try:
            self.subscribe(learner_id, course_id, address_by=by, fields=options.get("fields"))
        except LmsConflictError:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        except (LmsTransportError, LmsServerError):
            # The subscribe may or may not have happened: look instead of sending it again.
            if self.is_subscribed(learner_id, course_id, address_by=by):
                return ItemResult(status=ItemStatus.DONE, result=result)
            raise
        return ItemResult(status=ItemStatus.DONE, result=result)

    def subscribe_group(self, course_id: str, group_id: str, **options: Any) -> ItemResult[Any]:
        """Subscribe one learner group to a course (members already subscribed are left as they are)."""
        by = self._address_by(options.get("address_by", "id"))
        self.subscribe_groups(course_id, [group_id], address_by=by, fields=options.get("fields"))
        return ItemResult(status=ItemStatus.DONE, result={"group_id": group_id, "course_id": course_id})

    def unsubscribe_learner(self, course_id: str, learner_id: str, **options: Any) -> ItemResult[Any]:
        """Unsubscribe one learner; one who is not subscribed counts as already done.

        :param options: ``address_by``; ``use_roster`` (default True: in a bulk run, the course's roster read
            once for the run says who is subscribed; a learner missing from it is still asked about alone).
        """
        by = self._address_by(options.get("address_by", "id"))
        result = {"learner_id": learner_id, "course_id": course_id}
        roster = self._roster(course_id, by, options)
        entry = roster.get(learner_id) if roster is not None else None
        if entry is not None:
            if not entry.live:
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        # isSubscribed answers 404 for an unknown user or course: that is an error, not "already done". A learner
        # missing from the roster is therefore asked about alone, not taken as "not subscribed".
        elif not self.is_subscribed(learner_id, course_id, address_by=by):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        try:
            self.unsubscribe(learner_id, course_id, address_by=by)
        except LmsNotFoundError:
            # Subscribed a moment ago, not any more: someone (or a lost earlier answer of ours) got there first.
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        return ItemResult(status=ItemStatus.DONE, result=result)

    def update_learner_subscription(
        self,
        course_id: str,
        learner_id: str,
        *,
        start_date: Any = None,
        expiry_date: Any = None,
        expired: bool | None = None,
        **options: Any,
    ) -> ItemResult[Any]:
        """Update one subscription; unchanged when what getSubscriptions shows already matches.

        The expiry date is not in any answer, so an update that sets it is always sent (it is idempotent).
        In a bulk run the course's roster, read once, replaces one getSubscriptions per learner
        (``use_roster=False``: per learner).
        """
        by = self._address_by(options.get("address_by", "id"))
        form = self.update_form(start_date, expiry_date, expired, options.get("field_names"))
        result = {
            "learner_id": learner_id,
            "course_id": course_id,
            "sent": {k: _form_value(v) for k, v in form.items()},
        }
        if expiry_date in (None, "") and not options.get("fields"):
            roster = self._roster(course_id, by, options)
            on_roster = roster.get(learner_id) if roster is not None else None
            # The roster shows the same startDate and expired as getSubscriptions; a learner missing from it
            # is looked up alone, so that "not subscribed" is told apart from "no such user".
            current = on_roster or self._find_subscription(learner_id, course_id, by)
            if current is None:
                raise LmsNotFoundError(
                    f"learner {learner_id} has no subscription to course {course_id}", platform=self.platform
                )
            same_start = start_date in (None, "") or current.start_date == _date("start_date", start_date)
            same_expired = expired is None or bool(current.expired) == expired
            if same_start and same_expired:
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.update_subscription(
            learner_id,
            course_id,
            start_date=start_date,
            expiry_date=expiry_date,
            expired=expired,
            address_by=by,
            field_names=options.get("field_names"),
            fields=options.get("fields"),
        )
        return ItemResult(status=ItemStatus.DONE, result=result)

    def _find_subscription(self, user: str, course: str, by: AddressBy) -> ANewSpringSubscription | None:
        for sub in self.get_subscriptions(user, address_by=by, skip_stats=True):
            if (sub.uid if by == "uid" else sub.id) == course:
                return sub
        return None

    def check_score_row(self, field: str, row: ScoreRow, **options: Any) -> None:
        """Refuse a row ``score_activity`` would refuse, before the bulk run sends anything.

        :param field: where the row is, e.g. ``scores[3]``; errors name ``scores[3].score``.
        """
        if row.activity_id is None:
            raise LmsInputError(f"{field}.activity_id", "aNewSpring scores an activity: give the row's activity_id")
        try:
            self.score_form(row.score, getattr(row, "passed", None), row.comment, options.get("field_names"))
        except LmsInputError as exc:
            raise LmsInputError(f"{field}.{exc.field}", str(exc).removeprefix(f"invalid {exc.field}: ")) from None

    def check_subscription_update(self, start_date: Any, expiry_date: Any, expired: Any, **options: Any) -> None:
        """Refuse dates or a flag the updateSubscription form would refuse (errors name the field)."""
        self.update_form(start_date, expiry_date, expired, options.get("field_names"))

    def score_activity(self, row: ScoreRow, **options: Any) -> ItemResult[Any]:
        """Register a row's score on its external activity unless the same score is already there.

        The row needs ``activity_id``; ``score`` is a percentage (0-100); ``passed`` and ``comment`` are
        sent when given. ``check_first`` (default True) reads the activity's result first and leaves an
        equal score alone (the platform shows whole percentages, so 66.7 equals "67%").
        """
        by = self._address_by(options.get("address_by", "id"))
        row = recheck(row, "row")
        if row.activity_id is None:
            raise LmsInputError("activity_id", "aNewSpring scores an activity: give the row's activity_id")
        user, course, activity = str(row.learner_id), str(row.course_id), str(row.activity_id)
        passed = getattr(row, "passed", None)
        form = self.score_form(row.score, passed, row.comment, options.get("field_names"))
        result = {"learner_id": user, "course_id": course, "activity_id": activity, "score": row.score}
        if options.get("check_first", True):
            try:
                part = self.get_activity_results(user, course, activity, address_by=by)
            except LmsNotFoundError:
                part = None  # let the POST say what is missing (user, course, activity or subscription)
            if part is not None and self._same_score(part, row.score, passed):
                return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        self.score_external_activity(
            user,
            course,
            activity,
            score=row.score,
            passed=passed,
            comment=row.comment,
            address_by=by,
            field_names=options.get("field_names"),
            fields=options.get("fields"),
        )
        return ItemResult(
            status=ItemStatus.DONE, result={**result, "sent": {k: _form_value(v) for k, v in form.items()}}
        )

    @staticmethod
    def _same_score(part: ANewSpringPart, score: float | None, passed: bool | None) -> bool:
        shown = parse_percent(part.score)
        if score is not None and (shown is None or abs(shown - score) > 0.5):
            return False
        return passed is None or part.passed == passed

    # -- enrollment state (sensor and trigger) ------------------------------------------------------------------
    def _state_endpoint(self, ref: EnrollmentRef) -> tuple[str, dict[str, str]]:
        if ref.learner_id is None or ref.course_id is None:
            raise LmsInputError("learner_id", "aNewSpring subscriptions are named by learner_id and course_id")
        return self.endpoint("getResults", user=ref.learner_id, course=ref.course_id)

    def _normalize(self, ref: EnrollmentRef, body: Any) -> NormalizedEnrollment:
        normalized = ANewSpringCourseResult.model_validate(body).normalized(ref.learner_id)
        normalized.course_id = normalized.course_id or ref.course_id
        normalized.enrollment_id = f"{ref.learner_id}/{ref.course_id}"
        return normalized

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The normalized state of a learner's subscription, from ``getResults/{userID}/{courseID}``.

        404 (not subscribed, or no such user or course) is reported as ``not_enrolled``.
        """
        path, params = self._state_endpoint(ref)
        try:
            body = self._get(path, params)
        except LmsNotFoundError:
            return self.not_enrolled(ref.learner_id, ref.course_id)
        return self._normalize(ref, body)

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, for the deferrable trigger."""
        client: LmsHttpClient = await self.aget_conn()
        path, params = self._state_endpoint(ref)
        try:
            body = await client.arequest("GET", path, params=params, parse=_json)
        except LmsNotFoundError:
            return self.not_enrolled(ref.learner_id, ref.course_id)
        return self._normalize(ref, body)
