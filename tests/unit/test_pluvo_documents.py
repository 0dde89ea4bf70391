"""Every GraphQL document the Pluvo hook can send validates against the schema the sandbox serves.

Two nets: the hook's registry (``pluvo_documents.DOCUMENTS``) is validated whole, and every typed method and
capability is driven through respx while each request it sends is validated, document and variables, and
must come from the registry (so the registry is complete). A document selecting a field Pluvo does not have
fails here, as it would on the real server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from graphql import (
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

import airflow_provider_lms.sandbox.pluvo as sandbox_pluvo
from airflow_provider_lms.hooks import pluvo_documents
from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.pluvo import PluvoHook
from airflow_provider_lms.hooks.pluvo_documents import DOCUMENTS
from airflow_provider_lms.models.inputs import LearnerSpec
from tests.unit.pluvo_respx import BASE, GRAPHQL_URL, TOKEN_URL, connection, operation_name, token

SCHEMA_FILE = Path(sandbox_pluvo.__file__).parent / "schema.graphql"
U1 = "00000000-0000-4000-8000-000000000001"
T1 = "10000000-0000-4000-8000-000000000001"
G1 = "20000000-0000-4000-8000-000000000001"
E1 = "30000000-0000-4000-8000-000000000001"
C1 = "40000000-0000-4000-8000-000000000001"

# Root fields Pluvo's pages publish (the project's Pluvo facts: users-2, groups-2, group-user-manager-2,
# learning-journeys-2, training-participants, offerevent-date-2, certificate-2, common-recipes).
PUBLISHED_ROOT_FIELDS = {
    "user",
    "paginatedUsers",
    "updateOrCreateUser",
    "group",
    "paginatedGroups",
    "addUsersToGroup",
    "removeUsersFromGroup",
    "training",
    "paginatedTrainings",
    "addUsersToTraining",
    "removeUsersFromTraining",
    "offerEvent",
    "createOfferEventEnrollments",
    "portfolioReport",
    "certificates",
    "generateCertificate",
}
# Root fields only the older pages show: each is marked ASSUMPTION beside its document.
OLDER_PAGES_ONLY = {"offer", "enrollments", "portfolioItems"}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    """The schema as the sandbox serves it: the committed SDL with the sandbox's scalars (a non-UUID id fails)."""
    from airflow_provider_lms.sandbox.pluvo.schema import pluvo_schema

    built = pluvo_schema()
    # The same SDL as the file in the package, so what validates here validates on the sandbox.
    assert str(build_schema(SCHEMA_FILE.read_text(encoding="utf-8")).type_map.keys()) == str(built.type_map.keys())
    return built


def _root_fields(document: str) -> set[str]:
    found = set()
    for definition in parse(document).definitions:
        if isinstance(definition, OperationDefinitionNode):
            found |= {s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)}
    return found


def check(schema: GraphQLSchema, document: str, variables: dict[str, Any] | None = None) -> list[str]:
    """Validation errors of a document and, when given, of its variables against their declared types."""
    errors = [e.message for e in validate(schema, parse(document))]
    if not errors and variables is not None:
        op = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
        coerced = get_variable_values(schema, op.variable_definitions or [], variables)
        if isinstance(coerced, list):
            errors = [e.message for e in coerced]
    return errors


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_registered_document_validates_against_the_schema(schema, name):
    assert check(schema, DOCUMENTS[name]) == []
    assert operation_name(DOCUMENTS[name]) == name


def test_the_check_fails_on_a_field_pluvo_does_not_have(schema):
    # The names the hook used before it followed the published pages.
    assert check(schema, "query { users { id } }")
    assert check(schema, "query { trainings { edges { node { id } } } }")
    assert check(schema, "query { paginatedUsers { nodes { id } } }")
    assert check(schema, "query($u: UserInput!) { user(id: $u) { id } }")
    assert check(schema, "query($n: Int) { user(id: $n) { id } }", None)
    # A variable whose value does not fit its declared type (the sandbox's UUID scalar refuses a ref).
    assert check(schema, DOCUMENTS["PluvoUser"], {"id": "user-1"})


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_use_published_root_fields_and_declare_only_scalar_or_enum_variables(schema, name):
    roots = _root_fields(DOCUMENTS[name]) - {"__typename"}
    assert roots <= PUBLISHED_ROOT_FIELDS | OLDER_PAGES_ONLY, roots
    assumptions = [line for line in Path(pluvo_documents.__file__).read_text().splitlines() if "ASSUMPTION" in line]
    for root in roots & OLDER_PAGES_ONLY:
        assert any(f"`{root}" in line for line in assumptions), f"{root} is not marked ASSUMPTION"
    op = next(d for d in parse(DOCUMENTS[name]).definitions if isinstance(d, OperationDefinitionNode))
    for var in op.variable_definitions or []:
        named = var.type
        while not hasattr(named, "name"):
            named = named.type  # type: ignore[attr-defined]
        type_name = named.name.value  # type: ignore[attr-defined]
        # Input types' names are unpublished: variables use scalars and the published enums only.
        assert type_name in {"UUID", "String", "Int", "Boolean", "DateTime", "Float", "Role", "TrainingRole"}, (
            var.variable.name.value,
            type_name,
        )


# -- every request the hook sends, captured -----------------------------------------------------------------------
USER = {"id": U1, "ref": "u-1", "name": "Ann", "email": "ann@example.org", "archived": False, "roles": ["PARTICIPANT"]}
ANSWERS: dict[str, Any] = {
    "PluvoUser": {"user": USER},
    "PluvoUserByEmail": {"user": USER},
    "PluvoPaginatedUsers": {"paginatedUsers": connection([USER])},
    "PluvoUpdateOrCreateUser": {"updateOrCreateUser": {"user": USER, "created": True}},
    "PluvoPaginatedGroups": {"paginatedGroups": connection([{"id": G1, "ref": "g", "name": "G", "userCount": 1}])},
    "PluvoGroupMembers": {"group": {"id": G1, "users": connection([USER])}},
    "PluvoAddUsersToGroup": {"addUsersToGroup": {"addedIds": [U1], "alreadyAddedIds": [], "failedIds": []}},
    "PluvoRemoveUsersFromGroup": {"removeUsersFromGroup": {"removedIds": [U1]}},
    "PluvoPaginatedTrainings": {"paginatedTrainings": connection([{"id": T1, "title": "T"}])},
    "PluvoTraining": {"training": {"id": T1, "title": "T"}},
    "PluvoAddUsersToTraining": {"addUsersToTraining": {"addedIds": [U1]}},
    "PluvoRemoveUsersFromTraining": {"removeUsersFromTraining": {"removedIds": [U1]}},
    "PluvoOffer": {"offer": {"id": E1, "title": "O", "offerEvents": [{"id": E1, "ref": "e-1"}]}},
    "PluvoOfferEvent": {"offerEvent": {"id": E1, "ref": "e-1", "type": "TRAINING"}},
    "PluvoCreateOfferEventEnrollments": {
        "createOfferEventEnrollments": [{"id": E1, "user": {"id": U1, "ref": "u-1"}, "status": "ENROLLED"}]
    },
    "PluvoEnrollments": {"enrollments": []},
    "PluvoGroupProgress": {"portfolioReport": connection([])},
    "PluvoPortfolioReport": {
        "portfolioReport": connection(
            [
                {
                    "user": USER,
                    "title": "T",
                    "progress": 0.5,
                    "score": None,
                    "completionDate": None,
                    "relatedObjectId": T1,
                }
            ]
        )
    },
    "PluvoCertificates": {"certificates": connection([{"id": C1, "name": "c", "title": "Certificate"}])},
    "PluvoGenerateCertificate": {"generateCertificate": {"bulkGenerate": {"succeededIds": [U1], "failedIds": []}}},
    "PluvoPortfolioItems": {"portfolioItems": []},
    "PluvoConnectionTest": {"__typename": "Query"},
}


def _drive(hook: PluvoHook) -> None:
    """Every typed method and capability, once."""
    hook.check_connection()
    hook.get_user(U1)
    hook.get_user(ref="u-1")
    hook.find_user_by_email("ann@example.org")
    list(
        hook.list_users(
            q="a",
            archived=False,
            roles=["PARTICIPANT"],
            group_ids=[G1],
            training_ids=[T1],
            last_login_after="2026-01-01T00:00:00+00:00",
            last_login_before="2026-02-01T00:00:00",
        )
    )
    hook.update_or_create_user("ann@example.org", "Ann", ref="u-1")
    list(hook.list_groups(q="g"))
    list(hook.list_group_members(G1))
    list(hook.list_group_members(ref="g"))
    hook.add_users_to_group(G1, [U1])
    hook.add_users_to_group(group_ref="g", user_refs=["u-1"])
    hook.remove_users_from_group(G1, [U1])
    list(hook.list_trainings(q="t", active=True, archived=False))
    hook.get_training(T1)
    hook.add_users_to_training(T1, [U1], role="TRAINER")
    hook.add_users_to_training(training_ref="t", user_refs=["u-1"])
    hook.remove_users_from_training(T1, [U1])
    hook.get_offer(E1)
    hook.get_offer_event(E1)
    hook.create_offer_event_enrollments("e-1", ["u-1"])
    hook.list_enrollments(U1)
    list(hook.portfolio_report(group_ids=[G1]))
    list(hook.portfolio_report(user_ids=[U1], training_ids=[T1]))
    list(hook.list_certificates())
    hook.generate_certificate(C1, [U1], training_id=T1, title="Certificate", issue_date="2026-01-01T00:00:00Z")
    hook.list_portfolio_items(U1)
    hook.ensure_learner(LearnerSpec(email="ann@example.org", first_name="Ann", last_name="B", external_id="u-1"))
    hook.subscribe_learner(T1, U1)
    hook.subscribe_learner(E1, U1, target="offer_event", send_mail=True)
    hook.subscribe_group(T1, G1, send_invites=True)
    hook.unsubscribe_learner(T1, U1)
    hook.award_certificate(U1, T1, certificate_template_id=C1)
    hook.get_enrollment_state(EnrollmentRef(learner_id=U1, course_id=T1))


@respx.mock
def test_every_request_the_hook_sends_is_a_registered_document_that_validates(schema, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUVO_DOCS",
        json.dumps({"conn_type": "pluvo", "login": "c", "password": "s", "extra": {"base_url": BASE}}),
    )
    respx.post(TOKEN_URL).mock(return_value=token())
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        return httpx.Response(200, json={"data": ANSWERS[operation_name(body["query"])]})

    respx.post(GRAPHQL_URL).mock(side_effect=answer)
    _drive(PluvoHook("pluvo_docs"))
    registered = set(DOCUMENTS.values())
    for body in sent:
        assert body["query"] in registered, body["query"]
        assert check(schema, body["query"], body["variables"]) == [], (operation_name(body["query"]), body["variables"])
    # The capture saw every document of the registry, so nothing the hook holds goes unchecked.
    assert {operation_name(b["query"]) for b in sent} == set(DOCUMENTS)


def test_the_hook_imports_nothing_from_the_sandbox():
    import ast

    import airflow_provider_lms.hooks as hooks_package

    folder = Path(hooks_package.__file__).parent
    for path in folder.glob("pluvo*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "sandbox" not in (node.module or ""), (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert all("sandbox" not in alias.name for alias in node.names), path.name
