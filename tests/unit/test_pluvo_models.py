"""Pluvo event models: every documented example parses; strict where the flow relies on a field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from airflow_provider_lms.models.pluvo import (
    PLUVO_EVENT_NAMES,
    AbsoluteDateCondition,
    AssignmentGradeUpdateEvent,
    CertificateAchievedEvent,
    CourseClearedCondition,
    CourseFinishedEvent,
    GroupEvent,
    ModuleGroupEvent,
    OfferEventEnrollmentEvent,
    OtherCondition,
    PortfolioItemEvent,
    RelativeDateCondition,
    TrainingEvent,
    TrainingFinishedEvent,
    UnknownPluvoEvent,
    UserEvent,
    parse_pluvo_event,
)

EXAMPLES = json.loads((Path(__file__).parents[1] / "fixtures" / "pluvo" / "webhook_examples.json").read_text())[
    "events"
]
USER = EXAMPLES["user"]
TRAINING = EXAMPLES["training"]


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("training", TrainingEvent),
        ("user", UserEvent),
        ("group", GroupEvent),
        ("module_group", ModuleGroupEvent),
        ("portfolio_item", PortfolioItemEvent),
        ("course_finished_course", CourseFinishedEvent),
        ("course_finished_lti", CourseFinishedEvent),
        ("training_finished", TrainingFinishedEvent),
        ("assignment_grade_update", AssignmentGradeUpdateEvent),
    ],
)
def test_every_documented_example_parses_into_its_model(name, model):
    event = parse_pluvo_event(EXAMPLES[name])
    assert type(event) is model
    assert event.event == EXAMPLES[name]["event"]


def test_every_event_name_from_the_document_and_facts_is_known():
    assert {
        *(f"{kind}_{what}" for kind in ("TRAINING", "USER", "GROUP") for what in ("CREATED", "UPDATED", "DELETED")),
        "EVENT_CONDITIONS_FULFILLED",
        "EVENT_FILE_UPLOADED",
        "EVENT_CERTIFICATE_ACHIEVED",
        "PORTFOLIO_ITEM_CREATED",
        "PORTFOLIO_ITEM_UPDATED",
        "PORTFOLIO_ITEM_DELETED",
        "COURSE_FINISHED",
        "TRAINING_FINISHED",
        "ASSIGNMENT_GRADE_UPDATE",
        "OFFER_EVENT_ENROLLED",
        "OFFER_EVENT_ENROLLMENT_STATUS_UPDATED",
        "OFFER_EVENT_UNENROLLED",
    } == PLUVO_EVENT_NAMES


def test_the_three_condition_types_and_an_unknown_one():
    payload = {**EXAMPLES["module_group"]}
    payload["conditions"] = [*payload["conditions"], {"type": "FutureCondition", "x": 1}]
    event = parse_pluvo_event(payload)
    assert [type(c) for c in event.conditions] == [
        AbsoluteDateCondition,
        RelativeDateCondition,
        CourseClearedCondition,
        OtherCondition,
    ]
    assert event.conditions[1].offset.days == 10
    assert event.conditions[2].score_threshold == 50.0 and event.conditions[2].course.id == 1


def test_unknown_fields_are_kept():
    event = parse_pluvo_event({**EXAMPLES["training_finished"], "newField": {"a": 1}})
    assert event.model_extra == {"newField": {"a": 1}}
    assert event.user.extra_fields == {"Afdeling": "Marketing"}
    assert event.model_dump(by_alias=True)["sentDate"] is not None


@pytest.mark.parametrize(
    ("name", "broken"),
    [
        ("training_finished", {"user": None}),
        ("training_finished", {"training": {"title": "no id"}}),
        ("course_finished_course", {"type": "SCORM"}),
        ("course_finished_course", {"type": "LTI"}),  # LTI without 'lti'
        ("assignment_grade_update", {"score": 1.5}),
        ("assignment_grade_update", {"state": "pending"}),
        ("module_group", {"conditions": [{"type": "RelativeDateCondition", "comparison": "START"}]}),
        ("user", {"id": None}),
    ],
)
def test_fields_the_flow_relies_on_are_strict(name, broken):
    with pytest.raises(ValidationError):
        parse_pluvo_event({**EXAMPLES[name], **broken})


def test_events_named_only_in_facts():
    achieved = parse_pluvo_event(
        {"id": "c1", "event": "EVENT_CERTIFICATE_ACHIEVED", "user": USER, "training": TRAINING}
    )
    assert isinstance(achieved, CertificateAchievedEvent) and achieved.training.title == "Training X"
    for name in ("OFFER_EVENT_ENROLLED", "OFFER_EVENT_ENROLLMENT_STATUS_UPDATED", "OFFER_EVENT_UNENROLLED"):
        event = parse_pluvo_event({"id": "o1", "event": name, "user": USER, "offer": {"id": "x"}, "status": "ENROLLED"})
        assert isinstance(event, OfferEventEnrollmentEvent) and event.model_extra == {"offer": {"id": "x"}}
    for name in ("TRAINING_UPDATED", "USER_DELETED", "GROUP_UPDATED", "PORTFOLIO_ITEM_DELETED", "EVENT_FILE_UPLOADED"):
        base = {"TRAINING": TRAINING, "USER": USER, "GROUP": EXAMPLES["group"]}.get(name.split("_")[0])
        payload = {
            **(base or EXAMPLES["module_group" if name.startswith("EVENT") else "portfolio_item"]),
            "event": name,
        }
        assert parse_pluvo_event(payload).event == name


def test_unknown_names_are_kept_but_must_be_identifiers():
    assert isinstance(parse_pluvo_event({"event": "BRAND_NEW", "id": "1"}), UnknownPluvoEvent)
    for bad in ({"event": "lower"}, {"event": "A/B"}, {"id": "1"}, [], {"event": 3}):
        with pytest.raises(ValueError):
            parse_pluvo_event(bad)


# -- GraphQL answers ------------------------------------------------------------------------------------------
def test_bulk_mutation_answers_read_null_lists_as_empty():
    from airflow_provider_lms.models.pluvo import PluvoGroupMembership, PluvoTrainingRemoval

    removal = PluvoTrainingRemoval.model_validate(
        {"removedIds": None, "idsLinkedViaObject": ["u2"], "refsLinkedViaObject": None, "failedIds": []}
    )
    assert (
        removal.removed_ids == [] and removal.ids_linked_via_object == ["u2"] and removal.refs_linked_via_object == []
    )
    assert PluvoGroupMembership.model_validate({}).already_added_ids == []


def test_report_rows_keep_progress_score_and_completion():
    from airflow_provider_lms.models.pluvo import PluvoPortfolioReportItem

    row = PluvoPortfolioReportItem.model_validate(
        {
            "user": {"id": "u1", "ref": "r"},
            "title": "T",
            "progress": 1,
            "score": None,
            "completionDate": "2026-03-01T10:00:00Z",
            "timeSpent": {"days": 1, "seconds": 30},
        }
    )
    assert row.progress == 1.0 and row.score is None and row.completion_date.year == 2026
    assert row.time_spent is not None and row.time_spent.days == 1
    with pytest.raises(ValidationError):
        PluvoPortfolioReportItem.model_validate({"title": "no user"})


def test_offer_events_and_offers_read_null_lists_as_empty():
    from airflow_provider_lms.models.pluvo import PluvoOffer

    offer = PluvoOffer.model_validate(
        {"id": "o", "offerEvents": [{"id": "e", "ref": "e-1", "dates": None, "accessTrainings": None}]}
    )
    assert offer.offer_events[0].dates == [] and offer.offer_events[0].access_trainings == []
    assert PluvoOffer.model_validate({"id": "o", "offerEvents": None}).offer_events == []
