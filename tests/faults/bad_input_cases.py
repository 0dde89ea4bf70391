"""The bad-input corpus's cases, by class of problem, for every public entry point but Pluvo's.

Each case is ``(name, make, field)``: ``make(env)`` returns an operator or sensor (run with ``execute``) or a
zero-argument callable (a hook method, a connection check); ``field`` is what the error must name. The
classes (issue 16): type confusion, characters that must never reach the wire, lengths, duplicates that
disagree, dates, options and knobs, and connections (secrets, header names, base URLs, unreadable or
misspelt extras). Pluvo's entry points are left out while its hook is being rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow
from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeGroupsOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.app import PLATFORMS
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

PLATFORM_NAMES = ("eduframe", "anewspring", "lara", "pynter")


class Env:
    """What a case builds on: the sandbox's connections, and connections changed for a case."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer) -> None:
        self.monkeypatch = monkeypatch
        self.sandbox = sandbox
        self._made = 0
        #: Strings no error message of the case may show (its secrets).
        self.hidden: list[str] = []
        self.conns = {p: self.custom(p, conn_id=f"corpus_{p}") for p in PLATFORM_NAMES}

    def base(self, platform: str) -> dict[str, Any]:
        mount = next(m for m in PLATFORMS if m.name == platform)
        assert mount.connection_factory is not None
        conn = mount.connection_factory(self.sandbox.url)
        conn["extra"] = dict(conn.get("extra") or {})
        return conn

    def custom(self, platform: str, *, conn_id: str | None = None, **changes: Any) -> str:
        """A connection like the sandbox's with ``changes`` (``extra`` merged, ``raw_extra`` as written)."""
        conn = self.base(platform)
        for key, value in changes.items():
            if key == "extra":
                conn["extra"].update(value)
            elif key == "drop_extra":
                for name in value:
                    conn["extra"].pop(name, None)
            elif key == "raw_extra":
                conn["extra"] = value
            else:
                conn[key] = value
        self._made += 1
        conn_id = conn_id or f"corpus_bad_{self._made}"
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id


Case = tuple[str, Callable[[Env], Any], str]

HUGE_TEXT = "9" * 5000
HUGE_INT = 10**5000  # str() of it raises ValueError: the error must still name the field
#: Text that must never reach the wire, one class of character each.
BAD_TEXT: dict[str, str] = {
    "nul": "a\x00b",
    "soh": "a\x01b",
    "esc": "a\x1bb",
    "del": "a\x7fb",
    "nel": "a\x85b",
    "csi": "a\x9bb",
    "line-sep": "a\u2028b",
    "para-sep": "a\u2029b",
    "rlo": "a\u202eb",
    "bom": "\ufeffab",
    "surrogate": "a\ud800b",
    "low-surrogate": "\udfffab",
}
#: Values of the wrong type for an id.
BAD_ID_TYPES: dict[str, Any] = {
    "true": True,
    "false": False,
    "bytes": b"23",
    "bytearray": bytearray(b"7"),
    "float": 1.5,
    "nan": float("nan"),
    "huge-int": HUGE_INT,
    "none": None,
    "dict": {"id": 1},
    "set": {1},
    "list": [1],
}
BAD_DATES = ["0000-00-00", "2026-13-01", "2026-02-30", "99999-01-01", "yesterday", "1e9", "2026-01-01T25:00"]
BAD_MOMENTS: dict[str, Any] = {
    **{f"text-{i}": d for i, d in enumerate(BAD_DATES)},
    "duration": "P1D",
    "time-only": "10:00",
    "year-1": "0001-01-01",
    "bool": True,
    "int": 1_700_000_000,
    "bytes": b"2026-01-01",
    "nul": "2026-01-01\x00",
}


def _op(cls: type, platform: str, **kwargs: Any) -> Callable[[Env], Any]:
    return lambda env: cls(task_id="t", lms_conn_id=env.conns[platform], **kwargs)


def _hook(cls: type, platform: str, call: Callable[[Any], Any]) -> Callable[[Env], Any]:
    return lambda env: lambda: call(cls(env.conns[platform]))


def eduframe_cases() -> list[Case]:
    cases: list[Case] = []
    ids = {**BAD_ID_TYPES, **BAD_TEXT, "traversal": "../../admin", "slash": "1/2", "sql": "1; DROP TABLE", "neg": "-1"}
    ids |= {
        "hex": "0x10",
        "decimal": "1.0",
        "exp": "1e3",
        "arabic": "\u0661\u0662",
        "fullwidth": "\uff11",
        "nbsp": "\xa0",
    }
    ids |= {"huge-text": HUGE_TEXT, "zero": 0, "too-big": 2**63, "empty": "", "blank": "   "}
    for name, bad in ids.items():
        cases.append(
            (
                f"edu-subscribe-learner-{name}",
                _op(LmsSubscribeOperator, "eduframe", course_id=1, learner_ids=[bad]),
                "learner_ids[0]",
            )
        )
    for name, bad in {
        "bytes": b"23",
        "text": "23",
        "int": 23,
        "dict": {"a": 1},
        "set": {1, 2},
        "none": None,
        "empty": [],
    }.items():
        cases.append(
            (
                f"edu-subscribe-list-{name}",
                _op(LmsSubscribeOperator, "eduframe", course_id=1, learner_ids=bad),
                "learner_ids",
            )
        )
    for name in ("true", "bytes", "huge-int", "float", "none", "dict"):
        cases.append(
            (
                f"edu-subscribe-course-{name}",
                _op(LmsSubscribeOperator, "eduframe", course_id=BAD_ID_TYPES[name], learner_ids=[2]),
                "course_id",
            )
        )
    for name, bad in BAD_TEXT.items():
        person = {"email": "a@b.example", "first_name": "A", "last_name": "B"}
        for key in ("first_name", "last_name", "email"):
            value = bad if key != "email" else f"x{bad}@b.example"
            cases.append(
                (
                    f"edu-ensure-{key}-{name}",
                    _op(LmsEnsureLearnersOperator, "eduframe", learners=[{**person, key: value}]),
                    f"learners[0].{key}",
                )
            )
    for name, (bad, field) in {
        "bytes-name": ({"email": "a@b.example", "first_name": b"A", "last_name": "B"}, "learners[0].first_name"),
        "int-name": ({"email": "a@b.example", "first_name": 5, "last_name": "B"}, "learners[0].first_name"),
        "two-at": ({"email": "a@b@c.example", "first_name": "A", "last_name": "B"}, "learners[0].email"),
        "no-dot": ({"email": "a@example", "first_name": "A", "last_name": "B"}, "learners[0].email"),
        "long-name": ({"email": "a@b.example", "first_name": "x" * 201, "last_name": "B"}, "learners[0].first_name"),
        "key-surrogate": ({"email": "a@b.example", "first_name": "A", "last_name": "B", "r\ud800": 1}, "learners[0]"),
        "key-int": ({"email": "a@b.example", "first_name": "A", "last_name": "B", 5: 1}, "learners[0]"),
        "extra-key": (
            {"email": "a@b.example", "first_name": "A", "last_name": "B", "role": "admin"},
            "learners[0].role",
        ),
    }.items():
        cases.append((f"edu-ensure-{name}", _op(LmsEnsureLearnersOperator, "eduframe", learners=[bad]), field))
    twin = [
        {"email": "a@b.example", "first_name": "A", "last_name": "B"},
        {"email": "A@B.example", "first_name": "Z", "last_name": "B"},
    ]
    cases.append(
        ("edu-ensure-same-email-other-name", _op(LmsEnsureLearnersOperator, "eduframe", learners=twin), "learners[1]")
    )
    cases.append(("edu-ensure-bytes", _op(LmsEnsureLearnersOperator, "eduframe", learners=b"a@b.example"), "learners"))
    row = {"learner_id": 2, "course_id": 1, "score": 7}
    for name, bad in {
        "true": True,
        "false": False,
        "bytes": b"7",
        "nan-text": "nan",
        "inf-text": "1e999",
        "inf": float("inf"),
        "huge-int": HUGE_INT,
        "word": "ten",
        "negative": -1,
        "list": [7],
        "comma": "7,5",
    }.items():
        cases.append(
            (
                f"edu-score-score-{name}",
                _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "score": bad}]),
                "scores[0].score",
            )
        )
    for name, bad in BAD_TEXT.items():
        cases.append(
            (
                f"edu-score-grade-{name}",
                _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "grade": bad}]),
                "scores[0].grade",
            )
        )
        cases.append(
            (
                f"edu-score-comment-{name}",
                _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "comment": bad}]),
                "scores[0].comment",
            )
        )
    for name in ("true", "bytes", "huge-int", "float"):
        cases.append(
            (
                f"edu-score-learner-{name}",
                _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "learner_id": BAD_ID_TYPES[name]}]),
                "scores[0].learner_id",
            )
        )
    cases.append(
        (
            "edu-score-long-grade",
            _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "grade": "A" * 101}]),
            "scores[0].grade",
        )
    )
    cases.append(
        (
            "edu-score-long-comment",
            _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "comment": "c" * 5001}]),
            "scores[0].comment",
        )
    )
    cases.append(
        (
            "edu-score-passed-text",
            _op(LmsScoreExternalActivityOperator, "eduframe", scores=[{**row, "passed": "yes"}]),
            "scores[0].passed",
        )
    )
    cases.append(
        (
            "edu-score-conflict",
            _op(LmsScoreExternalActivityOperator, "eduframe", scores=[row, {**row, "learner_id": "02", "score": 8}]),
            "scores[1]",
        )
    )
    cases.append(("edu-score-bytes", _op(LmsScoreExternalActivityOperator, "eduframe", scores=b"[]"), "scores"))
    for name, (options, field) in {
        "typo": ({"aprove": False}, "platform_options.aprove"),
        "creator-bool": ({"creator_id": True}, "platform_options.creator_id"),
        "target": ({"target": "course"}, "platform_options.target"),
        "approve-text": ({"approve": "yes"}, "platform_options.approve"),
        "key-int": ({1: True}, "platform_options"),
        "key-nul": ({"approve\x00": True}, "platform_options"),
    }.items():
        cases.append(
            (
                f"edu-options-{name}",
                _op(LmsSubscribeOperator, "eduframe", course_id=1, learner_ids=[2], platform_options=options),
                field,
            )
        )
    for name, bad in {"bool": True, "huge": HUGE_INT, "text": "x/y", "none": None}.items():
        cases.append(
            (
                f"edu-award-template-{name}",
                _op(
                    LmsAwardCertificateOperator, "eduframe", program_id=1, learner_ids=[2], certificate_template_id=bad
                ),
                "certificate_template_id",
            )
        )
    cases.append(
        (
            "edu-award-program-bool",
            _op(LmsAwardCertificateOperator, "eduframe", program_id=True, learner_ids=[2], certificate_template_id=1),
            "program_id",
        )
    )
    for name, (knob, field) in {
        "concurrency-bool": ({"concurrency": True}, "concurrency"),
        "concurrency-zero": ({"concurrency": 0}, "concurrency"),
        "concurrency-text": ({"concurrency": "8"}, "concurrency"),
        "concurrency-big": ({"concurrency": 257}, "concurrency"),
        "progress-bool": ({"progress_interval": True}, "progress_interval"),
        "progress-nan": ({"progress_interval": float("nan")}, "progress_interval"),
        "fail-text": ({"fail_on_item_error": "yes"}, "fail_on_item_error"),
    }.items():
        cases.append(
            (f"edu-knob-{name}", _op(LmsSubscribeOperator, "eduframe", course_id=1, learner_ids=[2], **knob), field)
        )
    hook_calls: dict[str, tuple[Callable[[EduframeHook], Any], str]] = {
        "get-user-bool": (lambda h: h.get_user(True), "user_id"),
        "get-user-huge": (lambda h: h.get_user(HUGE_INT), "user_id"),
        "get-enrollment-bytes": (lambda h: h.get_enrollment(b"1"), "enrollment_id"),
        "find-email-nul": (lambda h: h.find_user_by_email("a\x00@b.example"), "email"),
        "find-email-bytes": (lambda h: h.find_user_by_email(b"a@b.example"), "email"),
        "create-user-nel": (lambda h: h.create_user("a@b.example", "A\x85", "B"), "first_name"),
        "create-user-surrogate": (lambda h: h.create_user("a@b.example", "A", "B\ud800"), "last_name"),
        "grade-comment-nul": (lambda h: h.create_grade(1, score=5, grade=None, comment="ok\x00"), "comment"),
        "grade-score-bool": (lambda h: h.create_grade(1, score=True, grade=None), "score"),
        "update-grade-bool": (lambda h: h.update_grade(True, score=5), "grade_id"),
        "update-grade-comment": (lambda h: h.update_grade(1, comment="x\u2028y"), "comment"),
        "webhook-url-newline": (
            lambda h: h.create_webhook("https://x.example/\nHost: evil", ["enrollment.updated"]),
            "url",
        ),
        "webhook-events-text": (lambda h: h.create_webhook("https://x.example/", "enrollment.updated"), "events"),
        "enrollments-status": (lambda h: list(h.list_enrollments(status=["done"])), "status"),
        "enrollments-student-bool": (lambda h: list(h.list_enrollments(student_id=True)), "student_id"),
        "planned-filter-bool": (lambda h: list(h.list_planned_courses(course_id=True)), "filters.course_id"),
        "planned-filter-nul": (lambda h: list(h.list_planned_courses(name="a\x00")), "filters.name"),
        "score-row-bool": (
            lambda h: h.score_activity(ScoreRow.model_construct(learner_id=True, course_id=1, score=5)),
            "learner_id",
        ),
        "ensure-learner-nul": (
            lambda h: h.ensure_learner(
                LearnerSpec.model_construct(email="a@b.example", first_name="A\x00", last_name="B")
            ),
            "first_name",
        ),
    }
    for name, (call, field) in hook_calls.items():
        cases.append((f"edu-hook-{name}", _hook(EduframeHook, "eduframe", call), field))
    sensor: dict[str, tuple[dict[str, Any], str]] = {
        "traversal": ({"enrollment_id": "../1"}, "enrollment_id"),
        "learner": ({"learner_id": "../2", "course_id": 1}, "learner_id"),
        "course": ({"learner_id": 2, "course_id": "1/../2"}, "course_id"),
        "pair": ({"learner_id": 2}, "course_id"),
        "since-date": ({"enrollment_id": 1, "completed_since": "2026-02-30"}, "completed_since"),
        "since-words": ({"enrollment_id": 1, "completed_since": "last week"}, "completed_since"),
        "huge": ({"enrollment_id": HUGE_TEXT}, "enrollment_id"),
        "huge-int": ({"enrollment_id": HUGE_INT}, "enrollment_id"),
        "bool": ({"enrollment_id": True}, "enrollment_id"),
        "bytes": ({"enrollment_id": b"1"}, "enrollment_id"),
        "nul": ({"enrollment_id": "1\x00"}, "enrollment_id"),
    }
    for name, (kwargs, field) in sensor.items():
        make = _op(EnrollmentCompletedSensor, "eduframe", poke_interval=1, timeout=5, **kwargs)
        cases.append((f"edu-sensor-{name}", make, field))
    return cases


def anewspring_cases() -> list[Case]:
    cases: list[Case] = []
    ids = {
        **BAD_ID_TYPES,
        **BAD_TEXT,
        "huge-text": HUGE_TEXT,
        "empty": "",
        "blank": " ",
        "tab": "a\tb",
    }
    for name, bad in ids.items():
        cases.append(
            (
                f"ans-subscribe-learner-{name}",
                _op(LmsSubscribeOperator, "anewspring", course_id="C", learner_ids=[bad]),
                "learner_ids[0]",
            )
        )
    for name in ("nul", "nel", "line-sep", "surrogate"):
        cases.append(
            (
                f"ans-groups-{name}",
                _op(LmsSubscribeGroupsOperator, "anewspring", course_id="C", group_ids=[BAD_TEXT[name]]),
                "group_ids[0]",
            )
        )
    for name in ("bytes", "true", "huge-int"):
        cases.append(
            (
                f"ans-groups-type-{name}",
                _op(LmsSubscribeGroupsOperator, "anewspring", course_id="C", group_ids=[BAD_ID_TYPES[name]]),
                "group_ids[0]",
            )
        )
    cases.append(
        (
            "ans-groups-bytes-list",
            _op(LmsSubscribeGroupsOperator, "anewspring", course_id="C", group_ids=b"12"),
            "group_ids",
        )
    )
    for name in ("none", "bytes", "true", "huge-int", "nul", "rlo"):
        bad = BAD_ID_TYPES.get(name, BAD_TEXT.get(name))
        cases.append(
            (
                f"ans-unsubscribe-course-{name}",
                _op(LmsUnsubscribeOperator, "anewspring", course_id=bad, learner_ids=["u"]),
                "course_id",
            )
        )
    updates: dict[str, tuple[dict[str, Any], str]] = {
        **{f"start-{i}": ({"start_date": d}, "start_date") for i, d in enumerate(BAD_DATES)},
        "expiry-feb-30": ({"expiry_date": "2026-02-30"}, "expiry_date"),
        "expiry-before-start": ({"start_date": "2026-03-01", "expiry_date": "2026-02-01"}, "expiry_date"),
        "expiry-before-start-dates": (
            {"start_date": dt.date(2026, 3, 1), "expiry_date": dt.date(2026, 1, 1)},
            "expiry_date",
        ),
        "start-int": ({"start_date": 20260101}, "start_date"),
        "start-bool": ({"start_date": True}, "start_date"),
        "expired-text": ({"expired": "yes"}, "expired"),
        "expired-int": ({"expired": 1}, "expired"),
        "nothing": ({}, "start_date"),
        "field-names-typo": (
            {"start_date": "2026-01-01", "platform_options": {"field_names": {"start": "s"}}},
            "field_names",
        ),
        "field-names-nul": (
            {"start_date": "2026-01-01", "platform_options": {"field_names": {"start_date": "s\x00"}}},
            "field_names",
        ),
        "fields-nul": (
            {"start_date": "2026-01-01", "platform_options": {"fields": {"note": "a\x00"}}},
            "platform_options.fields.note",
        ),
        "fields-bytes": (
            {"start_date": "2026-01-01", "platform_options": {"fields": {"note": b"a"}}},
            "platform_options.fields.note",
        ),
        "option-typo": (
            {"start_date": "2026-01-01", "platform_options": {"adress_by": "uid"}},
            "platform_options.adress_by",
        ),
        "address-by": (
            {"start_date": "2026-01-01", "platform_options": {"address_by": "email"}},
            "platform_options.address_by",
        ),
    }
    for name, (kwargs, field) in updates.items():
        cases.append(
            (
                f"ans-update-{name}",
                _op(LmsUpdateSubscriptionOperator, "anewspring", course_id="C", learner_ids=["u"], **kwargs),
                field,
            )
        )
    row = {"learner_id": "u", "course_id": "C", "activity_id": "A", "score": 70}
    scores: dict[str, tuple[dict[str, Any], str]] = {
        "no-activity": ({"activity_id": None}, "scores[0].activity_id"),
        "over-100": ({"score": 101}, "scores[0].score"),
        "bool": ({"score": True}, "scores[0].score"),
        "passed-int": ({"passed": 1}, "scores[0].passed"),
        "comment-nul": ({"comment": "ok\x00"}, "scores[0].comment"),
        "comment-ls": ({"comment": "ok\u2028"}, "scores[0].comment"),
        "activity-nul": ({"activity_id": "A\x00"}, "scores[0].activity_id"),
        "activity-bool": ({"activity_id": True}, "scores[0].activity_id"),
    }
    for name, (change, field) in scores.items():
        cases.append(
            (
                f"ans-score-{name}",
                _op(LmsScoreExternalActivityOperator, "anewspring", scores=[{**row, **change}]),
                field,
            )
        )
    cases.append(
        (
            "ans-score-conflict",
            _op(LmsScoreExternalActivityOperator, "anewspring", scores=[row, {**row, "score": 80}]),
            "scores[1]",
        )
    )
    hook_calls: dict[str, tuple[Callable[[ANewSpringHook], Any], str]] = {
        "results-bool": (lambda h: h.get_results(True), "user_id"),
        "results-bytes": (lambda h: h.get_results(b"u"), "user_id"),
        "results-huge": (lambda h: h.get_results(HUGE_INT), "user_id"),
        "subscribed-nul": (lambda h: h.is_subscribed("u\x00", "C"), "user_id"),
        "activity-surrogate": (lambda h: h.get_activity_results("u", "C", "A\ud800"), "activity_id"),
        "subscribe-fields-nul": (lambda h: h.subscribe("u", "C", fields={"x": "a\x00"}), "fields.x"),
        "subscribe-fields-key": (lambda h: h.subscribe("u", "C", fields={"x\n": "a"}), "fields key"),
        "groups-bytes": (lambda h: h.subscribe_groups("C", b"12"), "group_ids"),
        "groups-bool": (lambda h: h.subscribe_groups("C", [True]), "group_ids[0]"),
        "score-bool": (lambda h: h.score_external_activity("u", "C", "A", score=True), "score"),
        "score-nan": (lambda h: h.score_external_activity("u", "C", "A", score=float("nan")), "score"),
        "score-passed-text": (lambda h: h.score_external_activity("u", "C", "A", passed="no"), "passed"),
        "score-comment-del": (lambda h: h.score_external_activity("u", "C", "A", score=5, comment="a\x7f"), "comment"),
        "update-end-before-start": (
            lambda h: h.update_subscription("u", "C", start_date="2026-05-01", expiry_date="2026-04-30"),
            "expiry_date",
        ),
        "update-address-by": (lambda h: h.update_subscription("u", "C", expired=True, address_by="mail"), "address_by"),  # type: ignore[arg-type]
        "unsubscribe-bool": (lambda h: h.unsubscribe(True, "C"), "user_id"),
    }
    for name, (call, field) in hook_calls.items():
        cases.append((f"ans-hook-{name}", _hook(ANewSpringHook, "anewspring", call), field))
    return cases
