"""The bad-input corpus's Pluvo cases: every Pluvo entry point refuses them before any request, naming the field.

Pluvo ids are UUIDs, so refs, integers, near-UUIDs and GraphQL fragments are refused as ids; text sent as a
GraphQL string (refs, names, titles) follows the shared input layer's character rules; options are checked
per capability; a DAG author's document must parse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.pluvo import PluvoHook
from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
)
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from tests.faults.bad_input_cases import BAD_ID_TYPES, BAD_TEXT, HUGE_TEXT, Case, Env

PLUVO_ID = "10000000-0000-4000-8000-000000000001"
#: Not Pluvo ids: refs, integers, near-UUIDs, GraphQL and JSON fragments, path tricks.
NOT_IDS: dict[str, Any] = {
    "ref": "user-1",
    "int": 7,
    "digits": "1",
    "short": PLUVO_ID[:-1],
    "long": PLUVO_ID + "0",
    "non-hex": PLUVO_ID[:-1] + "g",
    "graphql": '1") { users { email } } #',
    "graphql-2": '"}) { __schema { types { name } } }',
    "json": '1", "admin": true, "x": "',
    "traversal": "../../admin",
    "huge-text": HUGE_TEXT,
    "empty": "",
    **{f"text-{k}": v for k, v in BAD_TEXT.items()},
    **{f"type-{k}": v for k, v in BAD_ID_TYPES.items()},
}


def _conn(env: Env) -> str:
    return env.custom("pluvo", conn_id="corpus_pluvo")


def _op(cls: type, **kwargs: Any) -> Callable[[Env], Any]:
    return lambda env: cls(task_id="t", lms_conn_id=_conn(env), **kwargs)


def _hook(call: Callable[[PluvoHook], Any]) -> Callable[[Env], Any]:
    return lambda env: lambda: call(PluvoHook(_conn(env)))


def _id_cases() -> list[Case]:
    cases: list[Case] = []
    for name, bad in NOT_IDS.items():
        cases.append(
            (
                f"pluvo-subscribe-learner-{name}",
                _op(LmsSubscribeOperator, course_id=PLUVO_ID, learner_ids=[bad]),
                "learner_ids",
            )
        )
    for name in ("ref", "int", "graphql", "text-nul", "type-true", "type-none"):
        bad = NOT_IDS[name]
        cases += [
            (
                f"pluvo-unsubscribe-course-{name}",
                _op(LmsUnsubscribeOperator, course_id=bad, learner_ids=[PLUVO_ID]),
                "course_id",
            ),
            (
                f"pluvo-award-program-{name}",
                _op(
                    LmsAwardCertificateOperator,
                    program_id=bad,
                    learner_ids=[PLUVO_ID],
                    certificate_template_id=PLUVO_ID,
                ),
                "program_id",
            ),
            (
                f"pluvo-award-template-{name}",
                _op(
                    LmsAwardCertificateOperator,
                    program_id=PLUVO_ID,
                    learner_ids=[PLUVO_ID],
                    certificate_template_id=bad,
                ),
                "certificate_template_id",
            ),
            (f"pluvo-hook-user-{name}", _hook(lambda h, bad=bad: h.get_user(bad)), "user_id"),
            (f"pluvo-hook-members-{name}", _hook(lambda h, bad=bad: list(h.list_group_members(bad))), "group_id"),
            (
                f"pluvo-hook-state-{name}",
                _hook(lambda h, bad=bad: h.get_enrollment_state(EnrollmentRef(learner_id=PLUVO_ID, course_id=bad))),
                "course_id",
            ),
        ]
    return cases


def _option_cases() -> list[Case]:
    options: list[tuple[str, dict[str, Any], str]] = [
        ("target-course", {"target": "course"}, "platform_options.target"),
        ("target-graphql", {"target": NOT_IDS["graphql"]}, "platform_options.target"),
        ("invites-text", {"send_invites": "yes"}, "platform_options.send_invites"),
        ("invites-int", {"send_invites": 1}, "platform_options.send_invites"),
        ("mail-on-training", {"send_mail": True}, "platform_options.send_mail"),
        ("invites-on-event", {"target": "offer_event", "send_invites": True}, "platform_options.send_invites"),
        ("role-owner", {"role": "OWNER"}, "platform_options.role"),
        ("role-on-event", {"target": "offer_event", "role": "TRAINER"}, "platform_options.role"),
        ("camel-case", {"sendInvites": False}, "platform_options.sendinvites"),
    ]
    return [
        (
            f"pluvo-subscribe-options-{name}",
            _op(LmsSubscribeOperator, course_id=PLUVO_ID, learner_ids=[PLUVO_ID], platform_options=opts),
            field,
        )
        for name, opts, field in options
    ] + [
        (
            "pluvo-unsubscribe-offer-event",
            _op(
                LmsUnsubscribeOperator,
                course_id=PLUVO_ID,
                learner_ids=[PLUVO_ID],
                platform_options={"target": "offer_event"},
            ),
            "platform_options.target",
        ),
        (
            "pluvo-award-no-template",
            _op(LmsAwardCertificateOperator, program_id=PLUVO_ID, learner_ids=[PLUVO_ID]),
            "certificate_template_id",
        ),
    ]


def _text_cases() -> list[Case]:
    cases: list[Case] = []
    for name, bad in {**BAD_TEXT, "huge": HUGE_TEXT, "empty": "", "int": 7}.items():
        spec = {"email": "a@example.org", "first_name": "A", "last_name": "B", "external_id": bad}
        cases += [
            (f"pluvo-ensure-external-id-{name}", _op(LmsEnsureLearnersOperator, learners=[spec]), "external_id"),
            (f"pluvo-hook-ref-{name}", _hook(lambda h, bad=bad: h.get_user(ref=bad)), "ref"),
            (
                f"pluvo-hook-event-ref-{name}",
                _hook(lambda h, bad=bad: h.create_offer_event_enrollments(bad, ["u-1"])),
                "offer_event_ref",
            ),
            (
                f"pluvo-hook-title-{name}",
                _hook(lambda h, bad=bad: h.generate_certificate(PLUVO_ID, [PLUVO_ID], title=bad)),
                "title",
            ),
        ]
    return cases


def _misc_cases() -> list[Case]:
    return [
        ("pluvo-query-syntax", _hook(lambda h: h.query("query { user(id: ")), "query"),
        ("pluvo-query-empty", _hook(lambda h: h.query("   ")), "query"),
        ("pluvo-query-fragment-only", _hook(lambda h: h.query("fragment F on User { id }")), "query"),
        ("pluvo-query-two-operations", _hook(lambda h: h.query("query A { a }\nquery B { b }")), "operation_name"),
        (
            "pluvo-query-unknown-operation",
            _hook(lambda h: h.query("query A { a }", operation_name="B")),
            "operation_name",
        ),
        ("pluvo-query-variables-list", _hook(lambda h: h.query("query A { a }", [1])), "variables"),  # type: ignore[arg-type]
        ("pluvo-page-size-51", _hook(lambda h: list(h.list_users(page_size=51))), "page_size"),
        ("pluvo-page-size-true", _hook(lambda h: list(h.list_certificates(page_size=True))), "page_size"),
        ("pluvo-users-filter", _hook(lambda h: list(h.list_users(colour="red"))), "colour"),
        ("pluvo-users-role", _hook(lambda h: list(h.list_users(roles=["KING"]))), "roles[0]"),
        (
            "pluvo-users-last-login",
            _hook(lambda h: list(h.list_users(last_login_after="yesterday"))),
            "last_login_after",
        ),
        ("pluvo-training-role", _hook(lambda h: h.add_users_to_training(PLUVO_ID, [PLUVO_ID], role="BOSS")), "role"),
        (
            "pluvo-training-both",
            _hook(lambda h: h.add_users_to_training(PLUVO_ID, [PLUVO_ID], training_ref="t")),
            "training_id",
        ),
        ("pluvo-group-no-users", _hook(lambda h: h.add_users_to_group(PLUVO_ID)), "user_ids"),
        ("pluvo-report-no-filter", _hook(lambda h: list(h.portfolio_report())), "user_ids"),
        (
            "pluvo-sensor-enrollment-id",
            lambda env: EnrollmentCompletedSensor(
                task_id="s", lms_conn_id=_conn(env), enrollment_id=PLUVO_ID, poke_interval=1, timeout=5
            ),
            "enrollment_id",
        ),
        (
            "pluvo-sensor-learner-ref",
            lambda env: EnrollmentCompletedSensor(
                task_id="s", lms_conn_id=_conn(env), learner_id="user-1", course_id=PLUVO_ID, poke_interval=1, timeout=5
            ),
            "learner_id",
        ),
    ]


def pluvo_cases() -> list[Case]:
    """Every Pluvo case."""
    return _id_cases() + _option_cases() + _text_cases() + _misc_cases()
