"""The Pluvo double's users, groups, trainings, offers and certificates over real HTTP, and the mails it records.

Each test asserts what an integration would see in the answers and what the double's state says
afterwards (``GET /_sandbox/pluvo/state``), including which mails Pluvo would have sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.pluvo import PluvoSeed
from tests.sandbox.test_pluvo_sandbox import Pluvo

UPSERT = """
mutation Sync($email: String, $ref: String, $name: String, $invite: Boolean) {
  updateOrCreateUser(
    email: $email, ref: $ref, sendInvite: $invite, user: { name: $name, roles: [PARTICIPANT], language: NL }
  ) {
    user { id ref email name }
    created
  }
}
"""
ADD_TO_TRAINING = """
mutation Add($training: String, $ids: [UUID!], $refs: [String!], $invites: Boolean, $role: TrainingRole) {
  addUsersToTraining(trainingRef: $training, userIds: $ids, userRefs: $refs, sendInvites: $invites, role: $role) {
    addedIds addedRefs alreadyAddedIds alreadyAddedRefs failedIds failedRefs
  }
}
"""
REMOVE_FROM_TRAINING = """
mutation Remove($training: String, $ids: [UUID!], $refs: [String!]) {
  removeUsersFromTraining(trainingRef: $training, userIds: $ids, userRefs: $refs) {
    removedIds removedRefs alreadyRemovedIds alreadyRemovedRefs
    idsLinkedViaObject refsLinkedViaObject failedIds failedRefs
  }
}
"""
ENROLL = """
mutation Enroll($event: String!, $refs: [String!]!, $mail: Boolean) {
  createOfferEventEnrollments(offerEventRef: $event, userRefs: $refs, sendMail: $mail) { id user { ref } status }
}
"""
UNKNOWN_ID = "99999999-0000-4000-8000-000000000000"


@pytest.fixture
def pluvo(sandbox: SandboxServer) -> Iterator[Pluvo]:
    with Pluvo(sandbox) as client:
        yield client


def _mails(pluvo: Pluvo) -> list[dict[str, Any]]:
    mails: list[dict[str, Any]] = pluvo.state()["mails"]
    return mails


def _nonempty(result: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: value for key, value in result.items() if value}


# -- users ---------------------------------------------------------------------------------------------------
def test_a_user_is_found_by_id_ref_or_email(pluvo: Pluvo) -> None:
    for selector in (f'id: "{PluvoSeed.user_id(7)}"', 'ref: "user-7"', 'email: "LEARNER7@example.org"'):
        assert pluvo.data(f"{{ user({selector}) {{ id ref name }} }}")["user"] == {
            "id": PluvoSeed.user_id(7), "ref": "user-7", "name": "Learner 7"
        }  # fmt: skip
    assert pluvo.data('{ user(ref: "nobody") { id } }') == {"user": None}


def test_paginated_users_filters(pluvo: Pluvo) -> None:
    def refs(arguments: str) -> list[str]:
        page = pluvo.data(f"{{ paginatedUsers({arguments}) {{ edges {{ node {{ ref }} }} count }} }}")["paginatedUsers"]
        assert page["count"] == len(page["edges"])
        return sorted(edge["node"]["ref"] for edge in page["edges"])

    assert refs('q: "learner11"') == ["user-11", "user-110", "user-111", "user-112", "user-113", "user-114",
                                      "user-115", "user-116", "user-117", "user-118", "user-119"]  # fmt: skip
    assert refs('q: "Learner 12", archived: true') == ["user-120"]
    assert pluvo.data("{ paginatedUsers(archived: false) { count } }")["paginatedUsers"]["count"] == 108
    assert refs(f'groupIds: ["{PluvoSeed.group_id(1)}"]') == ["user-1", "user-3", "user-5", "user-7", "user-9"]
    # Training 5 is reached by group-2's members; training ids filter on every way of reaching it.
    assert refs(f'trainingIds: ["{PluvoSeed.training_id(5)}"]') == ["user-10", "user-2", "user-4", "user-6", "user-8"]
    assert refs("userRoles: [TRAINER]") == []


def test_create_user_refuses_an_existing_email_and_records_an_invitation(pluvo: Pluvo) -> None:
    create = """mutation($invite: Boolean) {
      createUser(sendInvite: $invite, user: { name: "New", email: "%s" }) { user { id ref } created }
    }"""
    created = pluvo.data(create % "new@example.org")["createUser"]
    assert created["created"] is True and created["user"]["ref"]  # Pluvo generates a ref when none is given
    body = pluvo.gql(create % "learner1@example.org", {"invite": False})
    assert body["data"] == {"createUser": None} and body["errors"][0]["path"] == ["createUser"]
    assert "already exists" in body["errors"][0]["message"]
    assert [(m["kind"], m["to"]) for m in _mails(pluvo)] == [("invitation", "new@example.org")]


def test_update_or_create_user_reports_created_and_keeps_our_ref(pluvo: Pluvo) -> None:
    variables = {"email": "hr-1@example.org", "ref": "hr-1", "name": "From HR", "invite": False}
    first = pluvo.data(UPSERT, variables)["updateOrCreateUser"]
    assert first["created"] is True and first["user"]["ref"] == "hr-1"
    again = pluvo.data(UPSERT, {**variables, "name": "Renamed"})["updateOrCreateUser"]
    assert again == {"created": False, "user": {**first["user"], "name": "Renamed"}}
    by_ref = pluvo.data(UPSERT, {"ref": "hr-1", "name": "By ref"})["updateOrCreateUser"]
    assert by_ref["created"] is False and by_ref["user"]["id"] == first["user"]["id"]
    # Looked up by e-mail, an existing seeded user gets our ref.
    seeded = pluvo.data(UPSERT, {"email": "learner5@example.org", "ref": "hr-5", "name": "Learner 5"})
    assert seeded["updateOrCreateUser"] == {
        "created": False,
        "user": {"id": PluvoSeed.user_id(5), "ref": "hr-5", "email": "learner5@example.org", "name": "Learner 5"},
    }
    assert pluvo.state()["users"] == 121 and _mails(pluvo) == []  # updates never invite


def test_update_or_create_user_invites_by_default_only_when_it_creates(pluvo: Pluvo) -> None:
    pluvo.data(UPSERT, {"email": "invited@example.org", "ref": "inv-1", "name": "Invited"})
    pluvo.data(UPSERT, {"email": "invited@example.org", "ref": "inv-1", "name": "Invited again"})
    pluvo.data(UPSERT, {"email": "quiet@example.org", "ref": "inv-2", "name": "Quiet", "invite": False})
    assert [(m["kind"], m["to"]) for m in _mails(pluvo)] == [("invitation", "invited@example.org")]


def test_when_email_and_ref_name_different_users_the_email_decides(pluvo: Pluvo) -> None:
    # ASSUMPTION in the double: the e-mail wins; the ref then clashes with user-2's and is refused.
    body = pluvo.gql(UPSERT, {"email": "learner1@example.org", "ref": "user-2", "name": "X"})
    assert "ref already exists" in body["errors"][0]["message"]
    moved = pluvo.data(UPSERT, {"email": "learner1@example.org", "ref": "user-1b", "name": "X"})["updateOrCreateUser"]
    assert moved["user"]["id"] == PluvoSeed.user_id(1)


def test_extra_fields_travel_as_a_json_string(pluvo: Pluvo) -> None:
    query = 'mutation($x: JSONString) { updateUser(ref: "user-6", user: { extraFields: $x }) { user { extraFields } } }'
    changed = pluvo.data(query, {"x": '{"Team": "Blue"}'})["updateUser"]["user"]
    assert changed == {"extraFields": '{"Afdeling": "Sales", "Team": "Blue"}'}
    assert "JSONString" in pluvo.error(query, {"x": "{not json"})


def test_update_user_and_archive_through_update_or_create(pluvo: Pluvo) -> None:
    updated = pluvo.data('mutation { updateUser(ref: "user-4", user: { name: "Four" }) { user { name archived } } }')
    assert updated["updateUser"]["user"] == {"name": "Four", "archived": False}
    archived = pluvo.data(
        'mutation { updateOrCreateUser(ref: "user-4", user: { archived: true }) { user { archived isActive } } }'
    )
    assert archived["updateOrCreateUser"]["user"] == {"archived": True, "isActive": False}
    assert "does not exist" in pluvo.error(
        'mutation { updateUser(ref: "nobody", user: { name: "x" }) { user { id } } }'
    )


# -- groups --------------------------------------------------------------------------------------------------
def test_group_members_are_added_once_and_removed_once(pluvo: Pluvo) -> None:
    add = """mutation($ids: [UUID!], $refs: [String!]) {
      addUsersToGroup(groupRef: "group-1", userIds: $ids, userRefs: $refs) { addedIds alreadyAddedIds failedIds }
    }"""
    result = pluvo.data(
        add, {"ids": [PluvoSeed.user_id(1), PluvoSeed.user_id(2), UNKNOWN_ID], "refs": ["user-3", "user-4"]}
    )
    assert result["addUsersToGroup"] == {
        "addedIds": [PluvoSeed.user_id(2), PluvoSeed.user_id(4)],
        "alreadyAddedIds": [PluvoSeed.user_id(1), PluvoSeed.user_id(3)],
        "failedIds": [UNKNOWN_ID],
    }
    again = pluvo.data(add, {"ids": [PluvoSeed.user_id(2)]})["addUsersToGroup"]
    assert again == {"addedIds": [], "alreadyAddedIds": [PluvoSeed.user_id(2)], "failedIds": []}
    remove = """mutation($ids: [UUID!]) {
      removeUsersFromGroup(groupId: "%s", userIds: $ids) { removedIds alreadyRemovedIds failedIds }
    }"""
    removed = pluvo.data(remove % PluvoSeed.group_id(1), {"ids": [PluvoSeed.user_id(2), PluvoSeed.user_id(50)]})
    assert removed["removeUsersFromGroup"] == {
        "removedIds": [PluvoSeed.user_id(2)], "alreadyRemovedIds": [PluvoSeed.user_id(50)], "failedIds": []
    }  # fmt: skip
    members = pluvo.data('{ group(ref: "group-1") { userCount users(first: 50) { count edges { node { ref } } } } }')
    assert members["group"]["userCount"] == 6 and members["group"]["users"]["count"] == 6
    assert "does not exist" in pluvo.error(
        'mutation { addUsersToGroup(groupRef: "nope", userRefs: ["user-1"]) { addedIds } }'
    )


def test_groups_are_listed_and_a_users_groups_are_shown(pluvo: Pluvo) -> None:
    groups = pluvo.data('{ paginatedGroups(q: "sal", first: 10) { count edges { node { ref name } } } }')
    assert groups["paginatedGroups"] == {"count": 1, "edges": [{"node": {"ref": "group-2", "name": "Sales"}}]}
    user = pluvo.data('{ user(ref: "user-2") { participantGroups { ref } groupCount } }')["user"]
    assert user == {"participantGroups": [{"ref": "group-2"}], "groupCount": 1}


# -- trainings -----------------------------------------------------------------------------------------------
def test_add_users_to_training_reports_added_already_added_and_failed_by_ids_and_refs(pluvo: Pluvo) -> None:
    variables = {
        "training": "training-1",
        "ids": [PluvoSeed.user_id(1), UNKNOWN_ID],
        "refs": ["user-2", "nobody"],
        "invites": False,
    }
    first = pluvo.data(ADD_TO_TRAINING, variables)["addUsersToTraining"]
    assert _nonempty(first) == {
        "addedIds": [PluvoSeed.user_id(1)], "addedRefs": ["user-2"], "failedIds": [UNKNOWN_ID], "failedRefs": ["nobody"]
    }  # fmt: skip
    second = pluvo.data(ADD_TO_TRAINING, variables)["addUsersToTraining"]
    assert _nonempty(second) == {
        "alreadyAddedIds": [PluvoSeed.user_id(1)], "alreadyAddedRefs": ["user-2"],
        "failedIds": [UNKNOWN_ID], "failedRefs": ["nobody"],
    }  # fmt: skip
    assert pluvo.state()["participants"] == {
        PluvoSeed.training_id(1): {PluvoSeed.user_id(1): "PARTICIPANT", PluvoSeed.user_id(2): "PARTICIPANT"}
    }
    assert _mails(pluvo) == []


def test_add_users_to_training_invites_by_default(pluvo: Pluvo) -> None:
    pluvo.data(ADD_TO_TRAINING, {"training": "training-2", "refs": ["user-8"]})
    pluvo.data(ADD_TO_TRAINING, {"training": "training-2", "refs": ["user-8"]})  # already added: no new mail
    assert [(m["kind"], m["to"], m["about"]) for m in _mails(pluvo)] == [
        ("training_invitation", "learner8@example.org", PluvoSeed.training_id(2))
    ]


def test_trainers_and_participants_of_a_training(pluvo: Pluvo) -> None:
    pluvo.data(ADD_TO_TRAINING, {"training": "training-5", "refs": ["user-30"], "invites": False, "role": "TRAINER"})
    pluvo.data(ADD_TO_TRAINING, {"training": "training-5", "refs": ["user-31"], "invites": False})
    query = """{ training(ref: "training-5") {
      participants(first: 50) { count edges { node { ref } } } trainers { count edges { node { ref } } }
    } }"""
    training = pluvo.data(query)["training"]
    # group-2 (users 2, 4, 6, 8, 10) is linked to training 5; user-31 was added directly.
    assert sorted(e["node"]["ref"] for e in training["participants"]["edges"]) == [
        "user-10", "user-2", "user-31", "user-4", "user-6", "user-8"
    ]  # fmt: skip
    assert training["trainers"] == {"count": 1, "edges": [{"node": {"ref": "user-30"}}]}


def test_remove_users_from_training_reports_users_linked_via_a_group_or_an_enrollment(pluvo: Pluvo) -> None:
    pluvo.data(ADD_TO_TRAINING, {"training": "training-4", "refs": ["user-20"], "invites": False})
    pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-21"], "mail": False})  # gives access to training 4
    removed = pluvo.data(
        REMOVE_FROM_TRAINING, {"training": "training-4", "refs": ["user-20", "user-21", "user-22", "nobody"]}
    )
    assert _nonempty(removed["removeUsersFromTraining"]) == {
        "removedRefs": ["user-20"], "refsLinkedViaObject": ["user-21"],
        "alreadyRemovedRefs": ["user-22"], "failedRefs": ["nobody"],
    }  # fmt: skip
    via_group = pluvo.data(REMOVE_FROM_TRAINING, {"training": "training-5", "ids": [PluvoSeed.user_id(2)]})
    assert _nonempty(via_group["removeUsersFromTraining"]) == {"idsLinkedViaObject": [PluvoSeed.user_id(2)]}
    # Still a learner of both: the links through the group and the enrollment stay.
    report = pluvo.data(
        "query($u: [UUID]) { portfolioReport(userIds: $u) { edges { node { user { ref } title } } } }",
        {"u": [PluvoSeed.user_id(2), PluvoSeed.user_id(21)]},
    )
    assert {(e["node"]["user"]["ref"], e["node"]["title"]) for e in report["portfolioReport"]["edges"]} == {
        ("user-2", "Training 5"), ("user-21", "Training 4")
    }  # fmt: skip


def test_training_lookups_and_list_filters(pluvo: Pluvo) -> None:
    by_id = pluvo.data(
        "query($id: UUID) { training(id: $id) { ref title isActive archived } }", {"id": PluvoSeed.training_id(3)}
    )
    assert by_id["training"] == {"ref": "training-3", "title": "Training 3", "isActive": True, "archived": False}
    page = pluvo.data(
        """{ paginatedTrainings(q: "training", archived: false, first: 2) {
          count edges { node { ref } } pageInfo { hasNextPage }
        } }"""
    )
    assert page["paginatedTrainings"]["count"] == 5 and page["paginatedTrainings"]["pageInfo"]["hasNextPage"]
    assert "Provide the training's id or ref" in pluvo.error(
        'mutation { addUsersToTraining(userRefs: ["user-1"]) { addedIds } }'
    )


# -- offers and enrollments ----------------------------------------------------------------------------------
def test_offer_events_enroll_idempotently_and_mail_by_default(pluvo: Pluvo) -> None:
    first = pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-40", "user-41", "nobody"]})
    second = pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-40"]})
    [again] = second["createOfferEventEnrollments"]
    assert [e["user"]["ref"] for e in first["createOfferEventEnrollments"]] == ["user-40", "user-41"]
    assert again == first["createOfferEventEnrollments"][0] and again["status"] == "ENROLLED"
    assert len(pluvo.state()["enrollments"]) == 2
    assert [m["to"] for m in _mails(pluvo) if m["kind"] == "enrollment"] == [
        "learner40@example.org",
        "learner41@example.org",
    ]
    pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-42"], "mail": False})
    assert len(_mails(pluvo)) == 2
    assert "Provide the offer event's ref" in pluvo.error(
        ENROLL.replace("$event: String!", "$event: String"), {"refs": []}
    )
    assert "does not exist" in pluvo.error(ENROLL, {"event": "nope", "refs": ["user-40"]})
    event = pluvo.data('{ offerEvent(ref: "offer-event-1") { enrolledCount spotsAvailable maxSubscriptions } }')
    assert event["offerEvent"] == {"enrolledCount": 3, "spotsAvailable": 22, "maxSubscriptions": 25}


def test_unenroll_and_list_enrollments(pluvo: Pluvo) -> None:
    pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-43"], "mail": False})
    listed = pluvo.data(
        "query($u: UUID) { enrollments(userId: $u) { userId status offerEvent { ref } } }", {"u": PluvoSeed.user_id(43)}
    )
    assert listed["enrollments"] == [
        {"userId": PluvoSeed.user_id(43), "status": "ENROLLED", "offerEvent": {"ref": "offer-event-1"}}
    ]
    unenroll = "mutation($u: UUID!, $e: UUID!) { unenrollUserFromOfferEvent(userId: $u, offerEventId: $e) { success } }"
    ids = {"u": PluvoSeed.user_id(43), "e": PluvoSeed.offer_event_id(1)}
    assert pluvo.data(unenroll, ids) == {"unenrollUserFromOfferEvent": {"success": True}}
    assert pluvo.data(unenroll, ids) == {"unenrollUserFromOfferEvent": {"success": False}}
    assert pluvo.state()["enrollments"][0]["status"] == "CANCELLED"
    # Cancelled: no longer a learner of the event's training.
    report = pluvo.data("query($u: [UUID]) { portfolioReport(userIds: $u) { count } }", {"u": [ids["u"]]})
    assert report["portfolioReport"]["count"] == 0


def test_offers_list_their_events_and_the_trainings_they_open(pluvo: Pluvo) -> None:
    offer = pluvo.data('{ offer(ref: "offer-1") { title offerEvents { ref type accessTrainings { ref } } } }')["offer"]
    assert offer == {
        "title": "Onboarding",
        "offerEvents": [{"ref": "offer-event-1", "type": "TRAINING", "accessTrainings": [{"ref": "training-4"}]}],
    }
    assert pluvo.data("{ offers { ref } }") == {"offers": [{"ref": "offer-1"}]}


# -- certificates and the portfolio --------------------------------------------------------------------------
GENERATE = """
mutation($id: UUID!, $users: [UUID!]!, $title: String, $training: UUID) {
  generateCertificate(id: $id, userIds: $users, title: $title, trainingId: $training) {
    bulkGenerate { succeededIds failedIds }
  }
}
"""


def test_generate_certificate_issues_portfolio_items_and_reports_unknown_users(pluvo: Pluvo) -> None:
    variables = {"id": PluvoSeed.certificate_id(1), "users": [PluvoSeed.user_id(9), UNKNOWN_ID]}
    result = pluvo.data(GENERATE, variables)["generateCertificate"]["bulkGenerate"]
    assert result == {"succeededIds": [PluvoSeed.user_id(9)], "failedIds": [UNKNOWN_ID]}
    pluvo.data(
        GENERATE,
        {**variables, "users": [PluvoSeed.user_id(9)], "title": "Own title", "training": PluvoSeed.training_id(1)},
    )
    items = pluvo.data(
        "query($u: UUID) { portfolioItems(userId: $u) { id title startDate files user { ref } } }",
        {"u": PluvoSeed.user_id(9)},
    )
    titles = [item["title"] for item in items["portfolioItems"]]
    assert titles == ["Certificate of completion", "Own title"]  # generating again issues again
    one = items["portfolioItems"][0]
    assert one["user"] == {"ref": "user-9"} and one["files"][0].startswith("https://files.pluvo.co/")
    assert pluvo.data("query($id: UUID!) { portfolioItem(id: $id) { title } }", {"id": one["id"]}) == {
        "portfolioItem": {"title": "Certificate of completion"}
    }
    assert "does not exist" in pluvo.error(GENERATE, {"id": UNKNOWN_ID, "users": [PluvoSeed.user_id(9)]})


def test_certificate_templates_are_listed(pluvo: Pluvo) -> None:
    page = pluvo.data("{ certificates(first: 10) { count edges { node { id name title } } } }")["certificates"]
    assert page == {
        "count": 1,
        "edges": [
            {"node": {"id": PluvoSeed.certificate_id(1), "name": "certificate-1", "title": "Certificate of completion"}}
        ],
    }


# -- the portfolio report ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", {("user-1", "Training 1"), ("user-2", "Training 5"), ("user-4", "Training 5"), ("user-6", "Training 5"),
              ("user-8", "Training 5"), ("user-10", "Training 5"), ("user-60", "Training 4")}),
        (f'userGroupIds: ["{PluvoSeed.group_id(2)}"], relatedObjectTypes: [TRAINING]',
         {("user-2", "Training 5"), ("user-4", "Training 5"), ("user-6", "Training 5"), ("user-8", "Training 5"),
          ("user-10", "Training 5")}),
        (f'relatedObjectIds: ["{PluvoSeed.training_id(4)}"]', {("user-60", "Training 4")}),
        (f'userIds: ["{PluvoSeed.user_id(1)}"]', {("user-1", "Training 1")}),
    ],
)  # fmt: skip
def test_portfolio_report_has_one_node_per_learner_and_training(pluvo: Pluvo, arguments: str, expected: set) -> None:
    pluvo.data(ADD_TO_TRAINING, {"training": "training-1", "refs": ["user-1"], "invites": False})
    pluvo.data(ENROLL, {"event": "offer-event-1", "refs": ["user-60"], "mail": False})
    query = """{ portfolioReport(%s) {
      count edges { node { user { ref } title progress score completionDate timeSpent { days seconds } } }
    } }"""
    report = pluvo.data(query % (arguments or "first: 50"))["portfolioReport"]
    assert {(e["node"]["user"]["ref"], e["node"]["title"]) for e in report["edges"]} == expected
    assert report["count"] == len(expected)
    node = report["edges"][0]["node"]
    assert node["progress"] == 0.0 and node["score"] is None and node["completionDate"] is None
    assert node["timeSpent"] == {"days": 0, "seconds": 0}
