"""The aNewSpring double's records as the document's JSON (keys sorted, as aNewSpring sends them)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox.anewspring.records import AnsAttempt, AnsCourse, AnsPartDef, AnsSubscription, AnsUser

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.anewspring.state import ANewSpringSandboxState

__all__ = [
    "USER_RECORD_FIELDS",
    "api_user_json",
    "attempt_json",
    "part_json",
    "results_json",
    "roster_json",
    "subscription_json",
    "summary",
    "user_json",
    "user_summary_json",
]

#: The text fields of a ``getUser`` answer (the public client's list), in its order.
USER_RECORD_FIELDS = (
    "email", "title", "firstName", "middleName", "lastName", "initials", "gender", "company", "function",
    "dateOfBirth", "telephoneNumber", "faxNumber", "cellPhoneNumber", "address", "zip", "residence", "country",
    "invoiceAddress", "invoiceZip", "invoiceResidence", "invoiceCountry", "custom1", "custom2", "custom3",
    "custom4", "custom5", "locale", "timeZoneGroup",
)  # fmt: skip


def _ts(moment: datetime | None) -> str | None:
    """``2020-02-13T16:23:55Z``, the document's UTC form."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _pct(score: float | None) -> str | None:
    # The document shows whole percentages ("67%").
    return None if score is None else f"{round(score)}%"


def _terms(scored: int | None) -> list[dict[str, Any]]:
    if scored is None:
        return []
    return [
        {"maxScore": 1, "name": f"Examenterm {n}", "score": 1 if n <= scored else 0, "threshold": 0} for n in (1, 2, 3)
    ]


def attempt_json(attempt: AnsAttempt) -> dict[str, Any]:
    """One entry of an activity's ``attempts``."""
    return {
        "attemptNr": attempt.nr,
        "completeDate": _day(attempt.completed),
        "completeDateTime": _ts(attempt.completed),
        "completed": attempt.completed is not None,
        "criteria": [],
        "passed": attempt.passed,
        "progress": attempt.progress,
        "score": _pct(attempt.score),
        "startDate": _day(attempt.started),
        "startDateTime": _ts(attempt.started),
        "terms": _terms(attempt.terms_scored),
    }


def _progress(ans: ANewSpringSandboxState, sub: AnsSubscription, course: AnsCourse) -> str:
    done = sum(1 for p in course.parts if ans.result(sub, p).completed)
    return f"{done}/{len(course.parts)}"


def subscription_json(ans: ANewSpringSandboxState, sub: AnsSubscription, *, skip_stats: bool = False) -> dict[str, Any]:
    """A ``getSubscriptions`` course entry (without the statistics when ``skip_stats``)."""
    course = ans.courses[sub.course_id]
    expired = ans.is_expired(sub)
    started = sub.started_at is not None
    start_moment = sub.started_at or datetime.combine(sub.start_date, datetime.min.time(), tzinfo=timezone.utc)
    record: dict[str, Any] = {
        "active": started,
        "expired": expired,
        "finished": expired or sub.unsubscribed,
        "id": course.id,
        "name": course.name,
        "reseller": course.reseller,
        "startDate": sub.start_date.isoformat(),
        "startDateTime": _ts(start_moment),
        "subscribeDate": sub.subscribed_at.date().isoformat(),
        "subscribeDateTime": _ts(sub.subscribed_at),
        "uid": course.uid,
    }
    if not skip_stats:
        completed = sub.completed_at is not None
        record.update(
            {
                "efficiency": 0.5 if started else 0.0,
                "knowledgeIntake": 0.7 if completed else (0.2 if started else 0.0),
                "objectivesProgress": 1.0 if completed else (0.375 if started else 0.0),
                "progress": _progress(ans, sub, course),
            }
        )
    return dict(sorted(record.items()))


def roster_json(ans: ANewSpringSandboxState, sub: AnsSubscription, *, skip_stats: bool = True) -> dict[str, Any]:
    """A ``getStudentSubscriptions`` entry: the subscription's figures, named by the learner's id and name.

    # ASSUMPTION: the objectives figure is spelled ``objectivesProgress`` as in the document's real output (the
    # public client's comment writes ``objectiveProgress``).
    """
    record = subscription_json(ans, sub, skip_stats=skip_stats)
    user = ans.users[sub.user_id]
    record.update({"id": user.id, "uid": user.uid, "name": user.display_name()})
    return dict(sorted(record.items()))


def _flag(value: str | None, default: bool | None) -> bool | None:
    return default if value is None else value.lower() == "true"


def api_user_json(user: AnsUser) -> dict[str, Any]:
    """A ``getUser`` answer: every listed field, null where never set."""
    record: dict[str, Any] = {"id": user.id, "uid": user.uid, "login": user.login}
    record.update({name: user.fields.get(name) for name in USER_RECORD_FIELDS})
    record["active"] = _flag(user.fields.get("active"), True)
    record["renewable"] = _flag(user.fields.get("renewable"), False)
    record["roles"] = sorted(user.roles)
    return record


def user_summary_json(user: AnsUser) -> dict[str, Any]:
    """A user as ``getGroupUsers`` lists them."""
    return {
        "active": _flag(user.fields.get("active"), True),
        "email": user.fields.get("email"),
        "id": user.id,
        "login": user.login,
        "name": user.display_name(),
        "uid": user.uid,
    }


def part_json(ans: ANewSpringSandboxState, sub: AnsSubscription, part: AnsPartDef) -> dict[str, Any]:
    """One entry of ``parts`` (also the answer of ``getResults/{user}/{course}/{activity}``)."""
    result = ans.result(sub, part)
    evaluation = part.type == "Evaluation"
    return {
        "attempts": [attempt_json(a) for a in result.attempts],
        "blockName": part.block_name,
        "completeDate": _day(result.completed_at),
        "completeDateTime": _ts(result.completed_at),
        "completed": result.completed,
        "id": part.id,
        "name": part.name,
        "partId": part.part_id,
        "passed": None if evaluation else bool(result.passed),
        "score": None if evaluation else _pct(result.score),
        "subType": part.sub_type,
        "type": part.type,
        "uid": part.uid,
    }


def results_json(ans: ANewSpringSandboxState, sub: AnsSubscription) -> dict[str, Any]:
    """A ``getResults/{user}/{course}`` answer."""
    course = ans.courses[sub.course_id]
    record = subscription_json(ans, sub)
    grade_part = next((p for p in course.parts if p.type == "External"), None)
    grade_result = ans.result(sub, grade_part) if grade_part else None
    graded = grade_result is not None and grade_result.completed
    completed = sub.completed_at is not None
    record.update(
        {
            "completeDate": _day(sub.completed_at),
            "completeDateTime": _ts(sub.completed_at),
            "completed": completed,
            # ASSUMPTION: the sandbox's templates base the course grade on the external activity.
            "grade": _pct(grade_result.score) if graded and grade_result else None,
            "gradeDate": _day(grade_result.completed_at) if graded and grade_result else None,
            "gradeDateTime": _ts(grade_result.completed_at) if graded and grade_result else None,
            "lastTrainingCompletedDate": None,
            "lastTrainingCompletedDateTime": None,
            "objectives": [
                {
                    "knowledgeIntake": 0.5 if completed else 0.0,
                    "name": "Veiligheidsregels kennen",
                    "target": 0.8,
                    "value": 0.9 if completed else (0.3 if sub.started_at else 0.0),
                }
            ],
            "parts": [part_json(ans, sub, p) for p in course.parts],
        }
    )
    return dict(sorted(record.items()))


def _subscription_summary(ans: ANewSpringSandboxState, sub: AnsSubscription) -> dict[str, Any]:
    course = ans.courses[sub.course_id]
    scores = {
        p.id or str(p.part_id): ans.result(sub, p).score
        for p in course.parts
        if p.type == "External" and ans.result(sub, p).completed
    }
    return {
        "user_id": sub.user_id,
        "course_id": sub.course_id,
        "subscribed": ans.is_subscribed(sub),
        "times_subscribed": sub.times_subscribed,
        "subscribe_date_time": _ts(sub.subscribed_at),
        "start_date": sub.start_date.isoformat(),
        "expire_date": sub.expire_date.isoformat() if sub.expire_date else None,
        "expired": ans.is_expired(sub),
        "unsubscribed": sub.unsubscribed,
        "stage": ans.stage(sub),
        "completed": sub.completed_at is not None,
        "external_scores": scores,
        "score_posts": sub.score_posts,
    }


def _user_summary(user: AnsUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "login": user.login,
        "fields": dict(user.fields),
        "roles": sorted(user.roles),
        "archived": user.archived,
        "writes": user.writes,
        "created_by_api": user.created_by_api,
    }


def summary(ans: ANewSpringSandboxState) -> dict[str, Any]:
    """The whole state as JSON, for ``GET /_sandbox/anewspring/state``."""
    return {
        "users": len(ans.users),
        "user_records": [_user_summary(u) for u in ans.users.values()],
        "courses": sorted(ans.courses),
        "groups": {g: list(m) for g, m in ans.groups.items()},
        "group_types": dict(ans.group_types),
        "auto_progress_seconds": ans.auto_progress_seconds,
        "subscriptions": [_subscription_summary(ans, sub) for sub in ans.subscriptions.values()],
    }


def user_json(user: AnsUser) -> dict[str, Any]:
    """A learner as the control API answers it."""
    return {"id": user.id, "uid": user.uid, "name": user.name}
