"""What the aNewSpring double remembers and its rules: subscribing, scoring, results moving forward.

Plain Python: the rules raise :class:`~.errors.ANewSpringError` with the status and message the API answers;
``routes.py`` parses requests and renders, ``views.py`` turns records into the document's JSON.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from airflow_provider_lms.sandbox.anewspring.errors import ANewSpringError
from airflow_provider_lms.sandbox.anewspring.records import (
    GROUP_TYPE_ROLES,
    STAGES,
    AddressForm,
    AnsAttempt,
    AnsCourse,
    AnsPartDef,
    AnsPartResult,
    AnsSubscription,
    AnsUser,
    Stage,
    stable_uid,
)
from airflow_provider_lms.sandbox.anewspring.seed import ANEWSPRING_SANDBOX_API_KEY, seed

__all__ = ["ANewSpringSandboxState"]

# ASSUMPTION: the score an external activity gets when the sandbox is told to advance a learner who was
# never scored through the API.
DEFAULT_ADVANCE_SCORE = 80.0
#: The activity types that have a pass mark: all of them passed lets auto-progress pass the certificate.
_JUDGED_TYPES = frozenset({"Assessment", "Assignment", "External", "Scorm", "SkillAssignment"})


_Record = TypeVar("_Record")


def _find(
    kind: str, key: str | None, by: AddressForm, by_id: Mapping[str, _Record], by_uid: Mapping[str, _Record]
) -> _Record:
    """The ``kind`` record a call names by ``key`` in its address form (404 when it names none or an unknown one)."""
    if key is None:
        raise ANewSpringError(404, f"Not Found: give {kind}UID")
    found = by_id.get(key) if by == "id" else by_uid.get(key)
    if found is None:
        raise ANewSpringError(404, f"Not Found: no {kind} with {'ID' if by == 'id' else 'UID'} {key!r}")
    return found


class ANewSpringSandboxState:
    """Everything the aNewSpring double remembers.

    :param clock: the sandbox clock.
    :param api_keys: the keys accepted in ``X-API-Key`` (or ``_key``).
    """

    def __init__(self, clock: Callable[[], datetime], api_keys: Iterable[str] = (ANEWSPRING_SANDBOX_API_KEY,)) -> None:
        self.clock = clock
        self.api_keys = set(api_keys)
        self.reset()

    def reset(self) -> None:
        """Back to the seeded demo data."""
        self.users: dict[str, AnsUser] = {}
        self.users_by_uid: dict[str, AnsUser] = {}
        self.courses: dict[str, AnsCourse] = {}
        self.courses_by_uid: dict[str, AnsCourse] = {}
        self.groups: dict[str, list[str]] = {}
        #: Group id -> ``student``, ``teacher`` or ``mentor``.
        self.group_types: dict[str, str] = {}
        self.subscriptions: dict[tuple[str, str], AnsSubscription] = {}
        self.by_user: dict[str, list[str]] = {}
        #: ``None`` = off; else seconds after an external activity's score until the course completes.
        self.auto_progress_seconds: float | None = None
        #: What the API handler received per call (decoded ids, raw path): for the id-encoding tests.
        self.calls: deque[dict[str, Any]] = deque(maxlen=20000)
        seed(self)

    # -- data set-up (seed and control API) ----------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        uid: str | None = None,
        *,
        fields: Mapping[str, str] | None = None,
        roles: Iterable[str] = ("student",),
    ) -> AnsUser:
        """Create a user, a learner by default (or return the existing one with this external id)."""
        if user_id in self.users:
            return self.users[user_id]
        user = AnsUser(
            id=user_id,
            uid=uid or stable_uid("user", user_id),
            name=name or user_id,
            login=user_id,
            fields=dict(fields or {}),
            roles=set(roles),
        )
        self.users[user_id] = user
        self.users_by_uid[user.uid] = user
        return user

    # -- users (addOrUpdateUser, addUserRoles) -------------------------------------------------------------------
    def upsert_user(self, user_id: str, form: Mapping[str, str]) -> bool:
        """``addOrUpdateUser``: create the user or change the fields sent; True when anything changed.

        # ASSUMPTION: a user created here has no role (addOrUpdateUser takes none; addUserRoles gives one),
        # its login defaults to its external id, and a login held by another user is a conflict (409).
        """
        user = self.users.get(user_id)
        if user is not None and user.archived and form.get("archived", "").lower() != "false":
            raise ANewSpringError(409, f"Conflict: user {user_id!r} is archived")
        login = form.get("login")
        if login is not None:
            holder = next((u for u in self.users.values() if u.login == login and u.id != user_id), None)
            if holder is not None:
                raise ANewSpringError(409, f"Conflict: the login {login!r} is taken by another user")
        if "id" in form and form["id"] != user_id:
            # ASSUMPTION: the sandbox does not move a user to another external id.
            raise ANewSpringError(400, "Bad Request: the sandbox does not change a user's external ID")
        values = {k: v for k, v in form.items() if k not in ("login", "archived", "id", "notify", "password")}
        if user is None:
            user = self.add_user(user_id, roles=())
            user.created_by_api = True
            user.login = login or user_id
            user.fields = values
            user.writes += 1
            return True
        changed = {k: v for k, v in values.items() if user.fields.get(k) != v}
        if login is not None and login != user.login:
            user.login, changed["login"] = login, login
        if "archived" in form:
            user.archived = form["archived"].lower() == "true"
        if not changed:
            return False
        user.fields.update({k: v for k, v in changed.items() if k != "login"})
        user.writes += 1
        return True

    def add_roles(self, user: AnsUser, roles: Sequence[str], ignore_duplicates: bool) -> None:
        """``addUserRoles``: 409 when the user has one of the roles and duplicates are not ignored."""
        held = [r for r in roles if r in user.roles]
        if held and not ignore_duplicates:
            raise ANewSpringError(409, f"Conflict: user {user.id!r} already has the role {held[0]!r}")
        user.roles.update(roles)

    # -- groups (getGroupUsers, groupUserExists, addGroupUsers, deleteGroupUsers) ---------------------------------
    def group(self, group_id: str | None) -> list[str]:
        """The members of a group (404 for an unknown group)."""
        if group_id is None or group_id not in self.groups:
            raise ANewSpringError(404, f"Not Found: no group with ID {group_id!r}")
        return self.groups[group_id]

    def add_group_users(self, group_id: str, user_ids: Sequence[str], ignore_duplicates: bool) -> None:
        """``addGroupUsers``: all or nothing; 404 unknown group or user, 409 a missing role or (unless
        ignored) a member already in.

        # ASSUMPTION: an unknown user is 404 and the call changes nothing when any user is refused.
        """
        members = self.group(group_id)
        needed = GROUP_TYPE_ROLES[self.group_types.get(group_id, "student")]
        for user_id in user_ids:
            user = self.users.get(user_id)
            if user is None:
                raise ANewSpringError(404, f"Not Found: no user with ID {user_id!r}")
            if needed not in user.roles:
                raise ANewSpringError(409, f"Conflict: user {user_id!r} does not have the role {needed!r}")
            if user_id in members and not ignore_duplicates:
                raise ANewSpringError(409, f"Conflict: user {user_id!r} is already in group {group_id!r}")
        for user_id in user_ids:
            if user_id not in members:
                members.append(user_id)

    def delete_group_users(self, group_id: str, user_ids: Sequence[str], ignore_missing: bool) -> None:
        """``deleteGroupUsers``: 404 unknown group, or (unless ignored) 404 unknown user / 409 not a member."""
        members = self.group(group_id)
        if not ignore_missing:
            for user_id in user_ids:
                if user_id not in self.users:
                    raise ANewSpringError(404, f"Not Found: no user with ID {user_id!r}")
                if user_id not in members:
                    raise ANewSpringError(409, f"Conflict: user {user_id!r} is not in group {group_id!r}")
        leaving = set(user_ids)
        self.groups[group_id] = [m for m in members if m not in leaving]

    def roster(self, course: AnsCourse) -> list[AnsSubscription]:
        """``getStudentSubscriptions``: every subscription to the course, in subscription order.

        # ASSUMPTION: learners unsubscribed by hand stay on the roster with ``finished`` true (as they stay in
        # getSubscriptions, whose ``finished`` the document explains by a manual unsubscription).
        """
        subs = [s for s in self.subscriptions.values() if s.course_id == course.id]
        return sorted(subs, key=lambda s: s.subscribed_at)

    def add_course(
        self, course_id: str, *, template: str, name: str | None = None, uid: str | None = None
    ) -> AnsCourse:
        """Create a course run with the activities of an existing course (or return the existing one)."""
        if course_id in self.courses:
            return self.courses[course_id]
        base = self.courses[template]
        course = AnsCourse(
            id=course_id,
            uid=uid or stable_uid("course", course_id),
            name=name or course_id,
            reseller=base.reseller,
            parts=base.parts,  # activity uids are per template: the same in every run (document)
            pass_mark=base.pass_mark,
        )
        self.courses[course_id] = course
        self.courses_by_uid[course.uid] = course
        return course

    def unknown_users(self, user_ids: Iterable[str]) -> list[str]:
        """The ids among ``user_ids`` that name no learner."""
        return [u for u in user_ids if u not in self.users]

    def set_group(self, group_id: str, members: Iterable[str], group_type: str = "student") -> None:
        """Create or replace a group (a learner group unless ``group_type`` says ``teacher`` or ``mentor``)."""
        self.groups[group_id] = list(members)
        self.group_types[group_id] = group_type

    def set_auto_progress(self, seconds: float | None) -> None:
        """Switch auto-progress on (``seconds`` after a score the course completes) or off (``None``)."""
        self.auto_progress_seconds = seconds
        self.apply_auto_progress()

    def record_call(self, call: dict[str, Any]) -> None:
        """Remember what an API call received (``GET /_sandbox/anewspring/calls``)."""
        self.calls.append(call)

    # -- time-driven changes ------------------------------------------------------------------------------
    def apply_auto_progress(self) -> None:
        """Complete the courses whose external activity was scored long enough ago."""
        if self.auto_progress_seconds is None:
            return
        now = self.clock()
        due = timedelta(seconds=self.auto_progress_seconds)
        for sub in self.subscriptions.values():
            waiting = sub.scored_at is not None and sub.completed_at is None and not sub.unsubscribed
            if waiting and sub.scored_at is not None and now - sub.scored_at >= due:
                self.complete_course(sub)
                if all(self._judged_passed(self.courses[sub.course_id], sub)):
                    self.pass_certificate(sub)

    # -- finding records the way a call addresses them ------------------------------------------------------
    def user(self, key: str | None, by: AddressForm) -> AnsUser:
        """The learner a call names (404 when it names none or an unknown one)."""
        return _find("user", key, by, self.users, self.users_by_uid)

    def course(self, key: str | None, by: AddressForm) -> AnsCourse:
        """The course a call names (404 when it names none or an unknown one)."""
        return _find("course", key, by, self.courses, self.courses_by_uid)

    def subscription(self, user_key: str | None, course_key: str | None, by: AddressForm) -> AnsSubscription:
        """The live subscription of the named learner to the named course (404 when there is none)."""
        user = self.user(user_key, by)
        course = self.course(course_key, by)
        sub = self.subscriptions.get((user.id, course.id))
        if sub is None or not self.is_subscribed(sub):
            raise ANewSpringError(404, f"Not Found: user {user.id!r} is not subscribed to course {course.id!r}")
        return sub

    def subscriptions_of(self, user: AnsUser) -> list[AnsSubscription]:
        """Every subscription the learner ever had, unsubscribed ones included, in subscription order."""
        return [self.subscriptions[(user.id, c)] for c in self.by_user.get(user.id, [])]

    def part_of(self, sub: AnsSubscription, activity_id: str) -> AnsPartDef:
        """The activity with this external id in the subscription's course (404 when there is none)."""
        part = self.courses[sub.course_id].part(activity_id)
        if part is None:
            raise ANewSpringError(404, f"Not Found: no activity with ID {activity_id!r} in the course")
        return part

    def result(self, sub: AnsSubscription, part: AnsPartDef) -> AnsPartResult:
        """The learner's result for an activity (an untouched one when there is none yet)."""
        return sub.results.setdefault(part.part_id, AnsPartResult(passed=None if part.type == "Evaluation" else False))

    # -- subscription rules ---------------------------------------------------------------------------------
    def is_expired(self, sub: AnsSubscription) -> bool:
        """Expired by ``expired=true`` or by its expiry date lying behind the sandbox clock."""
        return sub.expired_flag or (sub.expire_date is not None and self.clock().date() > sub.expire_date)

    def is_subscribed(self, sub: AnsSubscription | None) -> bool:
        """What ``isSubscribed`` answers for this subscription (``None``: never subscribed)."""
        # ASSUMPTION: isSubscribed is true for an expired subscription (it still exists; the learner can see
        # the statistics) and false after a manual unsubscription.
        return sub is not None and not sub.unsubscribed

    def subscribe(self, user: AnsUser, course: AnsCourse, start: date | None, expire: date | None) -> bool:
        """Subscribe; False when already subscribed."""
        key = (user.id, course.id)
        existing = self.subscriptions.get(key)
        if self.is_subscribed(existing):
            return False
        now = self.clock()
        sub = AnsSubscription(
            user_id=user.id,
            course_id=course.id,
            subscribed_at=now,
            start_date=start or now.date(),
            expire_date=expire,
            times_subscribed=(existing.times_subscribed + 1) if existing else 1,
        )
        # ASSUMPTION: subscribing again after an unsubscription starts a fresh subscription.
        self.subscriptions[key] = sub
        courses = self.by_user.setdefault(user.id, [])
        if course.id not in courses:
            courses.append(course.id)
        return True

    def subscribe_user(self, user: AnsUser, course: AnsCourse, start: date | None, expire: date | None) -> None:
        """``subscribe``: 409 when the learner is already subscribed, or is not a learner.

        # ASSUMPTION: the document says users with the learner role can be subscribed; without it, 409.
        """
        if "student" not in user.roles:
            raise ANewSpringError(409, f"Conflict: user {user.id!r} does not have the role 'student'")
        if not self.subscribe(user, course, start, expire):
            raise ANewSpringError(409, f"Conflict: user {user.id!r} is already subscribed to course {course.id!r}")

    def check_groups(self, group_ids: Sequence[str]) -> None:
        """``subscribeGroups`` names at least one group, and only known ones (400, 404)."""
        if not group_ids:
            raise ANewSpringError(400, "Bad Request: give at least one groupID")
        missing = [g for g in group_ids if g not in self.groups]
        if missing:
            raise ANewSpringError(404, f"Not Found: no group with ID {missing[0]!r}")

    def subscribe_groups(
        self, course: AnsCourse, group_ids: Sequence[str], start: date | None, expire: date | None
    ) -> None:
        """Subscribe every member of the (checked) groups."""
        for group in group_ids:
            for member in self.groups[group]:
                # ASSUMPTION: members already subscribed are skipped (no 409 for a group).
                self.subscribe(self.users[member], course, start, expire)

    def update_subscription(
        self, sub: AnsSubscription, start: date | None, expire: date | None, expired: bool | None
    ) -> None:
        """``updateSubscription``: change the dates or the expired flag (400 when given none of them)."""
        if start is None and expire is None and expired is None:
            raise ANewSpringError(400, "Bad Request: give startDate, expireDate or expired")
        if start is not None:
            sub.start_date = start
        if expire is not None:
            sub.expire_date = expire
        if expired is not None:
            sub.expired_flag = expired

    def unsubscribe(self, sub: AnsSubscription) -> None:
        """``unsubscribe``: the subscription stays, marked as ended by hand."""
        sub.unsubscribed = True

    # -- results rules ----------------------------------------------------------------------------------------
    def scorable_part(self, sub: AnsSubscription, activity_id: str | None) -> AnsPartDef:
        """The external activity a ``scoreExternalActivity`` names, on a subscription that takes scores."""
        if activity_id is None:
            raise ANewSpringError(404, "Not Found: give activityID")
        part = self.part_of(sub, activity_id)
        if part.type != "External":
            # ASSUMPTION: scoring another kind of activity is a bad request.
            raise ANewSpringError(400, f"Bad Request: activity {part.id!r} is a {part.type}, not an external activity")
        if self.is_expired(sub):
            # ASSUMPTION: after expiry a learner can do no more activities (document), so no score either.
            raise ANewSpringError(409, "Conflict: the subscription has expired")
        return part

    def score_external_activity(
        self, sub: AnsSubscription, part: AnsPartDef, score: float | None, passed: bool | None, comment: str | None
    ) -> None:
        """``scoreExternalActivity``: 400 when neither a score nor ``passed`` is given."""
        if score is None and passed is None:
            raise ANewSpringError(400, "Bad Request: give score or passed")
        self.score(sub, part, score, passed, comment)

    def _start(self, sub: AnsSubscription, moment: datetime) -> None:
        if sub.started_at is None:
            sub.started_at = moment

    def score(
        self, sub: AnsSubscription, part: AnsPartDef, score: float | None, passed: bool | None, comment: str | None
    ) -> None:
        """Register an external activity's score (one attempt, ``attemptNr`` -1, as for any non-assessment)."""
        course = self.courses[sub.course_id]
        now = self.clock()
        sub.score_posts += 1
        result = self.result(sub, part)
        new_score = score if score is not None else result.score
        new_passed = passed if passed is not None else (new_score is not None and new_score >= course.pass_mark)
        if (
            result.completed
            and result.score == new_score
            and result.passed == new_passed
            and result.comment == (comment or result.comment)
        ):
            return  # the same result again: nothing changes, not even the dates
        self._start(sub, now)
        result.completed = True
        result.score = new_score
        result.passed = new_passed
        result.comment = comment or result.comment
        result.started_at = result.started_at or now
        result.completed_at = now
        result.attempts = [AnsAttempt(-1, result.started_at, now, new_passed, new_score, None)]
        sub.scored_at = now

    def complete_course(self, sub: AnsSubscription) -> None:
        """The learner finishes every other activity: lessons, the assessment (two attempts), evaluations."""
        course = self.courses[sub.course_id]
        now = self.clock()
        self._start(sub, now - timedelta(hours=2))
        for part in course.parts:
            result = self.result(sub, part)
            if part.type == "Certificate" or result.completed:
                continue
            began = now - timedelta(minutes=30)
            result.completed, result.started_at, result.completed_at = True, began, now
            if part.type == "External":
                self.score(sub, part, DEFAULT_ADVANCE_SCORE, None, None)
            elif part.type == "Assessment":
                result.score, result.passed = 67.0, True
                result.attempts = [
                    AnsAttempt(1, began, began + timedelta(minutes=5), False, 40.0, "3/3", terms_scored=0),
                    AnsAttempt(2, began + timedelta(minutes=10), now, True, 67.0, "3/3", terms_scored=2),
                ]
            elif part.type == "Evaluation":
                result.passed, result.score = None, None
                result.attempts = [AnsAttempt(-1, began, now, None, None, "4/4")]
            else:  # Lesson: no pass mark, so passed stays false (document)
                result.passed = False
                result.attempts = [AnsAttempt(-1, began, now, False, None, "5/5")]
        sub.completed_at = now

    def pass_certificate(self, sub: AnsSubscription) -> None:
        """The Certificate activities are passed."""
        course = self.courses[sub.course_id]
        now = self.clock()
        for part in course.parts:
            if part.type == "Certificate":
                result = self.result(sub, part)
                result.completed, result.passed, result.started_at, result.completed_at = True, True, now, now
                result.attempts = [AnsAttempt(-1, now, now, True, None, None)]

    def advance(self, sub: AnsSubscription, to: Stage | None) -> str:
        """Move a learner's results to ``to`` (or to the next stage), doing the stages before it too."""
        current = self.stage(sub)
        target = to or (
            STAGES[min(STAGES.index(current) + 1, len(STAGES) - 1)] if current != "subscribed" else STAGES[0]
        )
        course = self.courses[sub.course_id]
        if sub.scored_at is None:
            for part in course.parts:
                if part.type == "External" and not self.result(sub, part).completed:
                    self.score(sub, part, DEFAULT_ADVANCE_SCORE, None, None)
            self._start(sub, self.clock())
        if target in ("course_completed", "certificate_passed") and sub.completed_at is None:
            self.complete_course(sub)
        if target == "certificate_passed":
            self.pass_certificate(sub)
        return self.stage(sub)

    def advance_learner(self, user_id: str, course_id: str, to: Stage | None) -> AnsSubscription | None:
        """``advance`` the learner's live subscription; ``None`` when there is none to move."""
        sub = self.subscriptions.get((user_id, course_id))
        if sub is None or sub.unsubscribed:
            return None
        self.advance(sub, to)
        return sub

    def stage(self, sub: AnsSubscription) -> str:
        """How far the subscription's results got: ``subscribed`` or one of ``STAGES``."""
        course = self.courses[sub.course_id]
        certificates = [self.result(sub, p) for p in course.parts if p.type == "Certificate"]
        if certificates and all(r.passed for r in certificates):
            return "certificate_passed"
        if sub.completed_at is not None:
            return "course_completed"
        if sub.scored_at is not None:
            return "activity_scored"
        return "subscribed"

    def _judged_passed(self, course: AnsCourse, sub: AnsSubscription) -> Iterable[bool]:
        for part in course.parts:
            if part.type in _JUDGED_TYPES:
                yield bool(self.result(sub, part).passed)
