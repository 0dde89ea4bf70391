"""PluvoHook with respx: the token's life, typed GraphQL errors, mutations never resent, Relay paging, inputs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.pluvo import PluvoGraphQLError, PluvoHook
from airflow_provider_lms.hooks.pluvo_graphql import PluvoAuthError, PluvoNotFoundError, PluvoValidationError
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsInputError, LmsPermissionError
from tests.unit.pluvo_respx import BASE, GRAPHQL_URL, TOKEN_URL, FakePluvo, connection, token

CLIENT_SECRET = "pluvo-client-secret-x81"
USER = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> PluvoHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUVO_T",
        json.dumps(
            {
                "conn_type": "pluvo",
                "login": "client-1",
                "password": CLIENT_SECRET,
                "extra": {"base_url": BASE, "scopes": "users.read trainings.read", "backoff_base": 0.001},
            }
        ),
    )
    return PluvoHook("pluvo_t")


def _errors(*codes: str, message: str = "refused") -> httpx.Response:
    return httpx.Response(
        200, json={"data": None, "errors": [{"message": message, "extensions": {"code": c}} for c in codes]}
    )


# -- the token ------------------------------------------------------------------------------------------------
@respx.mock
def test_the_token_is_fetched_once_form_encoded_and_reused(hook):
    tokens = respx.post(TOKEN_URL).mock(return_value=token())
    graphql = respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {"__typename": "Query"}}))
    assert hook.query("{ __typename }") == {"__typename": "Query"}
    hook.query("{ __typename }")
    assert tokens.call_count == 1 and graphql.call_count == 2
    form = parse_qs(tokens.calls[0].request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": [CLIENT_SECRET],
        "scope": ["users.read trainings.read"],
    }
    assert graphql.calls[1].request.headers["Authorization"] == "Bearer tok-1"
    assert json.loads(graphql.calls[0].request.content) == {"query": "{ __typename }", "variables": {}}


@respx.mock
def test_a_401_fetches_a_new_token_once(hook):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2), token(3)])
    graphql = respx.post(GRAPHQL_URL).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"data": {"ok": True}})]
    )
    assert hook.query("{ ok }") == {"ok": True}
    assert tokens.call_count == 2
    assert graphql.calls[1].request.headers["Authorization"] == "Bearer tok-2"


@respx.mock
def test_a_second_401_fails_clearly_after_one_fresh_token(hook):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2), token(3)])
    graphql = respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(401))
    with pytest.raises(LmsAuthenticationError, match="also a freshly fetched one") as err:
        hook.query("{ ok }")
    assert tokens.call_count == 2 and graphql.call_count == 2
    assert CLIENT_SECRET not in str(err.value) and "tok-" not in str(err.value)


@respx.mock
def test_a_graphql_auth_error_fetches_a_new_token_and_retries_once(hook):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2)])
    graphql = respx.post(GRAPHQL_URL).mock(
        side_effect=[_errors("AuthenticationExpired"), httpx.Response(200, json={"data": {"ok": 1}})]
    )
    # A mutation too: an Auth error means Pluvo did not run it, so the one retry cannot double it.
    assert hook.query("mutation M { ok }") == {"ok": 1}
    assert tokens.call_count == 2
    assert [c.request.headers["Authorization"] for c in graphql.calls] == ["Bearer tok-1", "Bearer tok-2"]


@respx.mock
def test_a_second_graphql_auth_error_fails_clearly(hook):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2), token(3)])
    graphql = respx.post(GRAPHQL_URL).mock(return_value=_errors("NotAuthenticated"))
    with pytest.raises(PluvoAuthError, match="also a freshly fetched one") as err:
        hook.query("query Q { ok }")
    assert isinstance(err.value, LmsAuthenticationError)
    assert tokens.call_count == 2 and graphql.call_count == 2


@respx.mock
def test_the_async_path_refreshes_on_a_graphql_auth_error_too(hook):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2)])
    respx.post(GRAPHQL_URL).mock(side_effect=[_errors("AuthError"), httpx.Response(200, json={"data": {"ok": 2}})])

    async def run() -> Any:
        try:
            return await hook.aquery("{ ok }")
        finally:
            await hook.aclose()

    assert asyncio.run(run()) == {"ok": 2}
    assert tokens.call_count == 2


@respx.mock
def test_a_token_near_expiry_is_replaced_before_use(hook, monkeypatch):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[token(1), token(2)])
    respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {}}))
    hook.query("{ a }")
    later = time.monotonic() + 86400 - 200  # inside the 300 s refresh margin
    monkeypatch.setattr("airflow_provider_lms.http.auth.time.monotonic", lambda: later)
    hook.query("{ a }")
    assert tokens.call_count == 2


@respx.mock
def test_a_rejected_client_is_an_authentication_error_without_the_secret(hook):
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    with pytest.raises(LmsAuthenticationError, match="rejected the client id or secret") as err:
        hook.query("{ a }")
    assert CLIENT_SECRET not in str(err.value)
    ok, message = hook.test_connection()
    assert not ok and CLIENT_SECRET not in message


@respx.mock
def test_test_connection(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {"__typename": "Query"}}))
    assert hook.test_connection() == (True, "Connected to Pluvo at acme.pluvo.test")


# -- typed errors -----------------------------------------------------------------------------------------------
@respx.mock
def test_graphql_errors_are_raised_even_with_partial_data(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    respx.post(GRAPHQL_URL).mock(
        return_value=httpx.Response(
            200, json={"data": {"a": 1}, "errors": [{"message": "Cannot query field 'b'", "path": ["b"]}]}
        )
    )
    with pytest.raises(PluvoGraphQLError) as err:
        hook.query("{ a b }")
    assert "Cannot query field 'b'" in str(err.value) and err.value.errors[0]["path"] == ["b"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            httpx.Response(200, json={"errors": [{"message": "Cannot query field 'users' on type 'Query'."}]}),
            PluvoValidationError,
        ),
        (
            httpx.Response(400, json={"errors": [{"message": "Unknown argument 'x' on field 'Query.user'."}]}),
            PluvoValidationError,
        ),
        (
            httpx.Response(200, json={"errors": [{"message": "User matching query does not exist."}]}),
            PluvoNotFoundError,
        ),
        (
            httpx.Response(200, json={"errors": [{"message": "no", "extensions": {"code": "PermissionDenied"}}]}),
            LmsPermissionError,
        ),
    ],
)
@respx.mock
def test_graphql_errors_become_typed_errors(hook, answer, expected):
    respx.post(TOKEN_URL).mock(return_value=token())
    graphql = respx.post(GRAPHQL_URL).mock(return_value=answer)
    with pytest.raises(expected) as err:
        hook.query("query Q { a }")
    assert isinstance(err.value, PluvoGraphQLError) and "Q" in str(err.value)
    assert graphql.call_count == 1  # a refusal is not retried


# -- queries are resent after a dropped connection, mutations never ---------------------------------------------
def _dropped_then(data: dict[str, Any]) -> list[Any]:
    return [httpx.ReadError("dropped"), httpx.Response(200, json={"data": data})]


@pytest.mark.parametrize(
    ("document", "operation_name", "resent"),
    [
        ("query Q { a }", None, True),
        ("{ a }", None, True),
        ("mutation M { finish }", None, False),
        # A mutation after a fragment is still a mutation (a leading-keyword check would call it a query).
        ("fragment F on User { id }\nmutation M { finish { ...F } }", None, False),
        ("# a comment\nfragment F on User { id }\nmutation { finish { ...F } }", None, False),
        ("query Q { a }\nmutation M { finish }", "M", False),
        ("mutation M { finish }\nquery Q { a }", "Q", True),
    ],
)
@respx.mock
def test_only_queries_are_resent_after_a_dropped_connection(hook, document, operation_name, resent):
    respx.post(TOKEN_URL).mock(return_value=token())
    graphql = respx.post(GRAPHQL_URL).mock(side_effect=_dropped_then({"a": 1}))
    if resent:
        assert hook.query(document, operation_name=operation_name) == {"a": 1}
        assert graphql.call_count == 2
    else:
        with pytest.raises(Exception, match="connection failed"):
            hook.query(document, operation_name=operation_name)
        assert graphql.call_count == 1
    if operation_name:
        assert json.loads(graphql.calls[0].request.content)["operationName"] == operation_name


@pytest.mark.parametrize(
    ("document", "operation_name", "field"),
    [
        ("query { a ", None, "query"),
        ("", None, "query"),
        ("fragment F on User { id }", None, "query"),
        ("query A { a }\nquery B { b }", None, "operation_name"),
        ("query A { a }", "B", "operation_name"),
    ],
)
@respx.mock
def test_bad_documents_fail_before_any_request(hook, document, operation_name, field):
    graphql = respx.post(GRAPHQL_URL)
    tokens = respx.post(TOKEN_URL)
    with pytest.raises(LmsInputError) as err:
        hook.query(document, operation_name=operation_name)
    assert err.value.field == field
    assert graphql.call_count == 0 and tokens.call_count == 0


# -- Relay paging ----------------------------------------------------------------------------------------------
PAGED = "query P($first: Int, $after: String) { paginatedUsers(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501


def _page(ids: list[int], has_next: bool, cursor: str | None) -> httpx.Response:
    nodes = [{"id": str(i)} for i in ids]
    return httpx.Response(200, json={"data": {"paginatedUsers": connection(nodes, has_next=has_next, cursor=cursor)}})


@respx.mock
def test_pagination_is_lazy_and_follows_end_cursors(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    graphql = respx.post(GRAPHQL_URL).mock(side_effect=[_page([1, 2], True, "c2"), _page([3], False, "c3")])
    nodes = hook.paginate(PAGED, "paginatedUsers", page_size=2)
    assert graphql.call_count == 0  # nothing until the first node is needed
    assert next(nodes) == {"id": "1"}
    assert graphql.call_count == 1
    assert [n["id"] for n in nodes] == ["2", "3"]
    sent = [json.loads(c.request.content)["variables"] for c in graphql.calls]
    assert sent == [{"first": 2}, {"first": 2, "after": "c2"}]


@respx.mock
def test_paging_stops_on_has_next_page_only_never_on_the_page_size(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    # A short page that says there is more, then a full page that says there is not.
    graphql = respx.post(GRAPHQL_URL).mock(
        side_effect=[_page([1], True, "c1"), _page(list(range(2, 52)), False, "c51")]
    )
    assert len(list(hook.paginate(PAGED, "paginatedUsers"))) == 51
    assert graphql.call_count == 2
    assert all(json.loads(c.request.content)["variables"]["first"] == 50 for c in graphql.calls)


@respx.mock
def test_a_repeated_cursor_stops_instead_of_looping(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    respx.post(GRAPHQL_URL).mock(side_effect=[_page([1], True, "c1"), _page([1], True, "c1")])
    with pytest.raises(PluvoGraphQLError, match="endCursor"):
        list(hook.paginate(PAGED, "paginatedUsers"))


@pytest.mark.parametrize("size", [0, 51, 10.0, True])
def test_page_size_is_at_most_50(hook, size):
    with pytest.raises(LmsInputError, match="page_size"):
        next(hook.paginate(PAGED, "paginatedUsers", page_size=size))


@respx.mock
def test_the_typed_users_list_pages_with_its_filters(hook):
    respx.post(TOKEN_URL).mock(return_value=token())
    user = {"id": USER, "ref": "u1", "name": "A", "email": "a@x.org", "archived": False, "roles": ["PARTICIPANT"]}
    fake = FakePluvo(
        {
            "PluvoPaginatedUsers": lambda v: {
                "paginatedUsers": connection(
                    [user], has_next="after" not in v, cursor="c1" if "after" not in v else None
                )
            }
        }
    )
    respx.post(GRAPHQL_URL).mock(side_effect=fake)
    users = list(hook.list_users(q="a@x.org", archived=False, roles=["PARTICIPANT"], training_ids=[USER.upper()]))
    assert [u.id for u in users] == [USER, USER] and users[0].roles == ["PARTICIPANT"]
    assert fake.requests[0]["variables"] == {
        "first": 50,
        "q": "a@x.org",
        "archived": False,
        "userRoles": ["PARTICIPANT"],
        "trainingIds": [USER],  # canonical form
    }
    assert fake.requests[1]["variables"]["after"] == "c1"


# -- inputs are checked before any request -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: h.get_user("not-a-uuid"), "user_id"),
        (lambda h: h.get_user(), "user_id"),
        (lambda h: h.add_users_to_training(USER, ["nope"]), "user_ids[0]"),
        (lambda h: h.add_users_to_training(USER, [USER], role="BOSS"), "role"),
        (lambda h: h.add_users_to_training(USER, [USER], send_invites="yes"), "send_invites"),
        (lambda h: list(h.list_users(roles=["KING"])), "roles[0]"),
        (lambda h: list(h.list_users(colour="red")), "colour"),
        (lambda h: h.generate_certificate(USER, [USER], issue_date="tomorrow"), "issue_date"),
        (lambda h: h.subscribe_learner("x", USER), "course_id"),
        (lambda h: h.subscribe_learner(USER, 7), "learner_id"),
        (lambda h: h.subscribe_learner(USER, USER, target="course"), "platform_options.target"),
        (lambda h: h.subscribe_learner(USER, USER, send_mail=True), "platform_options.send_mail"),
        (lambda h: h.subscribe_learner(USER, USER, target="offer_event", role="TRAINER"), "platform_options.role"),
        (lambda h: h.subscribe_learner(USER, USER, send_invites="1"), "platform_options.send_invites"),
        (lambda h: h.unsubscribe_learner(USER, USER, target="offer_event"), "platform_options.target"),
        (lambda h: h.award_certificate(USER, USER), "certificate_template_id"),
        (lambda h: h.award_certificate(USER, USER, certificate_template_id="t"), "certificate_template_id"),
        (lambda h: h.validate_options("subscribe", {"adress_by": "id"}), "platform_options.adress_by"),
        (lambda h: h.parse_enrollment_id("enrollment_id", "e1"), "enrollment_id"),
    ],
)
@respx.mock
def test_bad_input_names_the_field_before_any_request(hook, call, field):
    graphql = respx.post(GRAPHQL_URL)
    with pytest.raises(LmsInputError) as err:
        call(hook)
    assert err.value.field == field
    assert graphql.call_count == 0


def test_learner_ids_are_uuids_in_canonical_form(hook):
    assert hook.parse_learner_id("learner_ids[0]", USER.upper()) == USER
    with pytest.raises(LmsInputError, match=r"learner_ids\[0\].*UUID"):
        hook.parse_learner_id("learner_ids[0]", "user-1")


# -- capabilities: what each outcome of Pluvo's bulk mutations becomes -----------------------------------------
T1 = "10000000-0000-4000-8000-000000000001"
G1 = "20000000-0000-4000-8000-000000000001"
C1 = "40000000-0000-4000-8000-000000000001"
E1 = "30000000-0000-4000-8000-000000000001"


def _fake(hook_handlers: dict[str, Any]) -> FakePluvo:
    respx.post(TOKEN_URL).mock(return_value=token())
    fake = FakePluvo(hook_handlers)
    respx.post(GRAPHQL_URL).mock(side_effect=fake)
    return fake


@pytest.mark.parametrize(
    ("answer", "status"),
    [({"addedIds": [USER]}, "done"), ({"alreadyAddedIds": [USER.upper()]}, "already_done")],
)
@respx.mock
def test_subscribe_to_a_training_is_done_or_already_done_without_invitations(hook, answer, status):
    fake = _fake({"PluvoAddUsersToTraining": lambda v: {"addUsersToTraining": answer}})
    result = hook.subscribe_learner(T1, USER)
    assert result.status.value == status and result.result["enrollment_id"] == f"{USER}/{T1}"
    assert fake.requests[0]["variables"] == {
        "trainingId": T1,
        "userIds": [USER],
        "sendInvites": False,
        "role": "PARTICIPANT",
    }


@respx.mock
def test_a_failed_id_is_a_failed_item_with_its_reason(hook):
    _fake({"PluvoAddUsersToTraining": lambda v: {"addUsersToTraining": {"failedIds": [USER]}}})
    with pytest.raises(Exception, match=f"could not add learner {USER} to training {T1}"):
        hook.subscribe_learner(T1, USER)


@respx.mock
def test_unsubscribe_says_where_a_linked_learner_must_be_removed(hook):
    _fake({"PluvoRemoveUsersFromTraining": lambda v: {"removeUsersFromTraining": {"idsLinkedViaObject": [USER]}}})
    with pytest.raises(Exception, match="through a group or an offer-event enrollment") as err:
        hook.unsubscribe_learner(T1, USER)
    assert not getattr(err.value, "retryable", True)  # a bulk run's second pass would not change it


@respx.mock
def test_unsubscribe_of_a_learner_not_in_the_training_is_already_done(hook):
    _fake({"PluvoRemoveUsersFromTraining": lambda v: {"removeUsersFromTraining": {"alreadyRemovedIds": [USER]}}})
    assert hook.unsubscribe_learner(T1, USER).status.value == "already_done"


@pytest.mark.parametrize(("created", "status"), [(True, "done"), (False, "already_done")])
@respx.mock
def test_ensure_learner_keeps_our_ref_and_sends_no_invitation(hook, created, status):
    from airflow_provider_lms.models.inputs import LearnerSpec

    user = {"id": USER, "ref": "HR-1", "name": "Ann Bee", "email": "ann@example.org"}
    fake = _fake({"PluvoUpdateOrCreateUser": lambda v: {"updateOrCreateUser": {"user": user, "created": created}}})
    spec = LearnerSpec(email="Ann@Example.org", first_name="Ann", last_name="Bee", external_id="HR-1")
    result = hook.ensure_learner(spec)
    assert result.status.value == status
    assert result.result == {"learner_id": USER, "email": "ann@example.org", "ref": "HR-1"}
    assert fake.requests[0]["variables"] == {
        "email": "ann@example.org",
        "name": "Ann Bee",
        "ref": "HR-1",
        "sendInvite": False,
    }


@respx.mock
def test_offer_event_enrollment_looks_up_both_refs_and_sends_no_mail(hook):
    fake = _fake(
        {
            "PluvoOfferEvent": lambda v: {"offerEvent": {"id": E1, "ref": "event-1", "type": "TRAINING"}},
            "PluvoEnrollments": lambda v: {"enrollments": []},
            "PluvoUser": lambda v: {"user": {"id": USER, "ref": "user-1", "name": "A"}},
            "PluvoCreateOfferEventEnrollments": lambda v: {
                "createOfferEventEnrollments": [
                    {"id": "en-1", "user": {"id": USER, "ref": "user-1"}, "status": "ENROLLED"}
                ]
            },
        }
    )
    result = hook.subscribe_learner(E1, USER, target="offer_event")
    assert result.status.value == "done" and result.result["enrollment_id"] == "en-1"
    create = fake.requests[-1]["variables"]
    assert create == {"offerEventRef": "event-1", "userRefs": ["user-1"], "sendMail": False}


@respx.mock
def test_an_existing_offer_event_enrollment_is_already_done_without_a_mutation(hook):
    fake = _fake(
        {
            "PluvoOfferEvent": lambda v: {"offerEvent": {"id": E1, "ref": "event-1", "type": "TRAINING"}},
            "PluvoEnrollments": lambda v: {"enrollments": [{"id": "en-1", "offerEventId": E1, "status": "ENROLLED"}]},
        }
    )
    assert hook.subscribe_learner(E1, USER, target="offer_event").status.value == "already_done"
    assert "PluvoCreateOfferEventEnrollments" not in fake.names()


@respx.mock
def test_a_group_is_subscribed_by_adding_its_members_in_calls_of_50(hook):
    members = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, 61)]

    def page(v: dict[str, Any]) -> dict[str, Any]:
        chunk = members[:50] if "after" not in v else members[50:]
        nodes = [{"id": m, "name": "m"} for m in chunk]
        return {"group": {"id": G1, "users": connection(nodes, has_next="after" not in v, cursor="p2")}}

    fake = _fake(
        {
            "PluvoGroupMembers": page,
            "PluvoAddUsersToTraining": lambda v: {"addUsersToTraining": {"alreadyAddedIds": v["userIds"]}},
        }
    )
    result = hook.subscribe_group(T1, G1)
    assert result.status.value == "already_done" and result.result["members"] == 60
    sent = [r["variables"]["userIds"] for r in fake.requests if "userIds" in r["variables"]]
    assert [len(s) for s in sent] == [50, 10]


@respx.mock
def test_a_certificate_already_in_the_portfolio_is_not_generated_again(hook):
    fake = _fake(
        {
            "PluvoCertificates": lambda v: {"certificates": connection([{"id": C1, "title": "Safety 2026"}])},
            "PluvoPortfolioItems": lambda v: {"portfolioItems": [{"id": "p", "title": "Safety 2026"}]},
        }
    )
    assert hook.award_certificate(USER, T1, certificate_template_id=C1).status.value == "already_done"
    assert "PluvoGenerateCertificate" not in fake.names()


@respx.mock
def test_a_certificate_is_generated_for_the_learner_and_linked_to_the_training(hook):
    fake = _fake(
        {
            "PluvoCertificates": lambda v: {"certificates": connection([{"id": C1, "title": "Safety 2026"}])},
            "PluvoPortfolioItems": lambda v: {"portfolioItems": [{"id": "p", "title": "Something else"}]},
            "PluvoGenerateCertificate": lambda v: {
                "generateCertificate": {"bulkGenerate": {"succeededIds": [USER], "failedIds": []}}
            },
        }
    )
    assert hook.award_certificate(USER, T1, certificate_template_id=C1).status.value == "done"
    assert fake.requests[-1]["variables"] == {"id": C1, "userIds": [USER], "trainingId": T1}


def _row(**changes: Any) -> dict[str, Any]:
    row = {"user": {"id": USER}, "title": "T", "progress": 0.0, "score": None, "completionDate": None}
    return {**row, "relatedObjectId": T1, **changes}


@pytest.mark.parametrize(
    ("row", "state"),
    [
        (_row(), "enrolled"),
        (_row(progress=0.4), "in_progress"),
        (_row(progress=1.0, score=0.8, completionDate="2026-03-01T10:00:00+00:00"), "completed"),
    ],
)
@respx.mock
def test_enrollment_state_comes_from_the_portfolio_report(hook, row, state):
    from airflow_provider_lms.hooks.base import EnrollmentRef

    fake = _fake({"PluvoPortfolioReport": lambda v: {"portfolioReport": connection([row])}})
    found = hook.get_enrollment_state(EnrollmentRef(learner_id=USER, course_id=T1))
    assert found.state.value == state and found.raw["progress"] == row["progress"]
    assert fake.requests[0]["variables"] == {"userIds": [USER], "trainingIds": [T1], "first": 50}
    if state == "completed":
        assert found.completed_at.startswith("2026-03-01") and found.raw["score"] == 0.8


@respx.mock
def test_no_report_row_and_not_a_participant_is_not_enrolled_in_both_paths(hook):
    from airflow_provider_lms.hooks.base import EnrollmentRef

    _fake(
        {
            "PluvoPortfolioReport": lambda v: {"portfolioReport": connection([])},
            "PluvoUser": lambda v: {"user": {"id": USER, "email": "a@x.org", "name": "A"}},
            "PluvoPaginatedUsers": lambda v: {"paginatedUsers": connection([])},
        }
    )
    ref = EnrollmentRef(learner_id=USER, course_id=T1)
    assert hook.get_enrollment_state(ref).state.value == "not_enrolled"

    async def run() -> Any:
        try:
            return await hook.aget_enrollment_state(ref)
        finally:
            await hook.aclose()

    assert asyncio.run(run()).state.value == "not_enrolled"
