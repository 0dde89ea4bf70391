"""The Pluvo double over real HTTP: the published schema, its validation, pagination, tokens and the endpoint.

These talk to the sandbox with plain httpx (no client code), as a Pluvo integration would: a token from
``/oauth/token/``, then GraphQL documents to ``/graphql/``. The helpers here are shared by the other
``test_pluvo_sandbox_*`` modules.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.pluvo import PLUVO_SANDBOX_CLIENT_ID, PLUVO_SANDBOX_CLIENT_SECRET, PluvoSeed

#: The root fields of Pluvo's published operations, typed from the project's Pluvo facts (sections 6-12
#: and the assembled excerpt in 15). The served schema must have exactly these names.
PUBLISHED_QUERIES = {
    "user",  # 6, users-2
    "paginatedUsers",  # 6, users-2
    "group",  # 7, groups-2
    "paginatedGroups",  # 7, groups-2
    "training",  # 8, learning-journeys-2
    "paginatedTrainings",  # 8, learning-journeys-2
    "offer",  # 9, offer
    "offers",  # 9, offer
    "offerEvent",  # 9, offerevent-date-2
    "enrollments",  # 10, enrollments
    "portfolioReport",  # 11, common-recipes
    "portfolioItems",  # 12, portfolioitems
    "portfolioItem",  # 12, portfolioitems
    "certificates",  # 12, certificate-2
}
PUBLISHED_MUTATIONS = {
    "createUser",  # 6, users-2
    "updateUser",  # 6, users-2
    "updateOrCreateUser",  # 6, users-2 and common-recipes
    "addUsersToGroup",  # 7, group-user-manager-2
    "removeUsersFromGroup",  # 7, group-user-manager-2
    "addUsersToTraining",  # 8, training-participants
    "removeUsersFromTraining",  # 8, training-participants
    "createOfferEventEnrollments",  # 10, common-recipes
    "unenrollUserFromOfferEvent",  # 10, enrollments
    "generateCertificate",  # 12, certificate-2
}

USERS_PAGE = """
query Users($first: Int, $after: String) {
  paginatedUsers(first: $first, after: $after) {
    edges { cursor node { id ref email archived } }
    pageInfo { hasNextPage endCursor }
    count
  }
}
"""


class Pluvo:
    """A GraphQL client on the sandbox's Pluvo, with a token fetched the documented way.

    :param sandbox: The running sandbox.
    """

    def __init__(self, sandbox: SandboxServer) -> None:
        self.base = sandbox.platform_url("pluvo")
        self.http = httpx.Client(base_url=self.base, timeout=30.0)
        self.control = httpx.Client(base_url=f"{sandbox.control_url}/pluvo", timeout=30.0)
        self.token = self.new_token()

    def new_token(self) -> str:
        answer = self.http.post(
            "/oauth/token/",
            data={
                "grant_type": "client_credentials",
                "client_id": PLUVO_SANDBOX_CLIENT_ID,
                "client_secret": PLUVO_SANDBOX_CLIENT_SECRET,
                "scope": "users.read trainings.read",
            },
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    def post(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.post("/graphql/", json={"query": query, "variables": variables or {}}, headers=headers)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's body (``data`` and/or ``errors``), asserting HTTP 200."""
        answer = self.post(query, variables)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's ``data``, asserting there were no errors."""
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def error(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """The message of the answer's one error."""
        body = self.gql(query, variables)
        assert len(body.get("errors", [])) == 1, body
        message: str = body["errors"][0]["message"]
        return message

    def state(self) -> dict[str, Any]:
        answer = self.control.get("/state")
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.control.put(path, json=body)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def close(self) -> None:
        self.http.close()
        self.control.close()

    def __enter__(self) -> Pluvo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def pluvo(sandbox: SandboxServer) -> Iterator[Pluvo]:
    with Pluvo(sandbox) as client:
        yield client


def advance(sandbox: SandboxServer, seconds: float) -> None:
    httpx.post(f"{sandbox.control_url}/clock/advance", json={"seconds": seconds}).raise_for_status()


# -- the schema ----------------------------------------------------------------------------------------------
def test_the_root_fields_are_exactly_the_published_names(pluvo: Pluvo) -> None:
    data = pluvo.data("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }")
    assert {f["name"] for f in data["__schema"]["queryType"]["fields"]} == PUBLISHED_QUERIES
    assert {f["name"] for f in data["__schema"]["mutationType"]["fields"]} == PUBLISHED_MUTATIONS


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ users { edges { node { id } } } }", "Cannot query field 'users' on type 'Query'"),
        ("{ trainings { id } }", "Cannot query field 'trainings' on type 'Query'"),
        ("{ paginatedUsers { nodes { id } } }", "Cannot query field 'nodes' on type 'UserConnection'"),
        ('{ user(ref: "user-1") { salary } }', "Cannot query field 'salary' on type 'User'"),
        ('{ user(ref: "user-1", active: true) { id } }', "Unknown argument 'active' on field 'Query.user'"),
        ("{ paginatedUsers(first: 5, sortBy: NAME) { count } }", "Unknown argument 'sortBy'"),
        ('mutation { addUsersToTraining(trainingRef: "training-1", userRefs: ["user-1"]) }', "must have a selection"),
    ],
)
def test_a_field_or_argument_pluvo_does_not_have_fails_validation(pluvo: Pluvo, query: str, message: str) -> None:
    answer = pluvo.post(query)
    assert answer.status_code == 200  # ASSUMPTION in the double (PluvoSettings.validation_status)
    body = answer.json()
    assert "data" not in body  # nothing was executed
    [error] = body["errors"]
    assert message in error["message"]
    assert error["locations"][0]["line"] >= 1


def test_validation_errors_can_be_answered_with_400(pluvo: Pluvo) -> None:
    pluvo.put("/settings", {"validation_status": 400})
    assert pluvo.post("{ users { id } }").status_code == 400
    # A request that executed still answers 200, with its errors next to the data.
    answer = pluvo.post("{ paginatedUsers(first: 51) { count } }")
    assert answer.status_code == 200 and answer.json()["data"] == {"paginatedUsers": None}


def test_an_id_that_is_not_a_uuid_fails_as_a_graphql_error(pluvo: Pluvo) -> None:
    assert "Expected value of type 'UUID'" in pluvo.error('{ user(id: "42") { id } }')
    message = pluvo.error("query($id: UUID) { user(id: $id) { id } }", {"id": "not-a-uuid"})
    assert message.startswith("Variable '$id' has invalid value") and "UUID" in message
    # A well-formed UUID that names no one is simply no user.
    assert pluvo.data('{ user(id: "99999999-0000-4000-8000-000000000000") { id } }') == {"user": None}


def test_custom_scalars_are_served_as_graphene_serializes_them(pluvo: Pluvo) -> None:
    user = pluvo.data('{ user(ref: "user-3") { extraFields } }')["user"]
    assert user["extraFields"] == '{"Afdeling": "Marketing"}'  # JSONString: a JSON text
    training = pluvo.data('{ training(ref: "training-1") { startDate endDate } }')["training"]
    assert training == {"startDate": "2024-02-01", "endDate": "2025-02-01"}
    event = pluvo.data('{ offerEvent(ref: "offer-event-1") { price dates { startDate } } }')["offerEvent"]
    assert event == {"price": "0.00", "dates": [{"startDate": "2025-03-03T09:00:00+00:00"}]}


def test_an_unknown_operation_name_or_bad_body_is_refused(pluvo: Pluvo) -> None:
    answer = pluvo.http.post("/graphql/", content=b"{not json", headers={"Authorization": f"Bearer {pluvo.token}"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["message"] == "Body is not valid JSON"
    answer = pluvo.http.post("/graphql/", json={"variables": {}}, headers={"Authorization": f"Bearer {pluvo.token}"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["message"] == "Must provide query string."


# -- pagination ----------------------------------------------------------------------------------------------
def test_relay_pages_of_50_cover_every_user_once_and_stop_on_has_next_page(pluvo: Pluvo) -> None:
    seen, after, pages = [], None, 0
    while True:
        page = pluvo.data(USERS_PAGE, {"first": 50, "after": after})["paginatedUsers"]
        pages += 1
        assert page["count"] == 120
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert set(seen) == {PluvoSeed.user_id(n) for n in range(1, 121)}


def test_offset_skips_records_and_cursors_are_opaque(pluvo: Pluvo) -> None:
    query = "query($o: Int) { paginatedUsers(first: 2, offset: $o) { edges { cursor node { name } } count } }"
    whole = [e["node"]["name"] for e in pluvo.data(query, {"o": 0})["paginatedUsers"]["edges"]]
    shifted = pluvo.data(query, {"o": 1})["paginatedUsers"]
    assert shifted["edges"][0]["node"]["name"] == whole[1]
    assert shifted["count"] == 120
    # Opaque: not a user id, not a plain number.
    cursor = shifted["edges"][0]["cursor"]
    assert not cursor.isdigit() and PluvoSeed.user_id(1) not in base64.b64decode(cursor).decode()
    assert "Invalid cursor" in pluvo.error('{ paginatedUsers(after: "bm9wZQ==") { count } }')


def test_first_over_50_is_an_error_naming_the_limit_unless_capped(pluvo: Pluvo) -> None:
    body = pluvo.gql("{ paginatedUsers(first: 51) { count } }")
    assert body["data"] == {"paginatedUsers": None}
    assert "exceeds the `first` limit of 50 records" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["paginatedUsers"]
    pluvo.put("/settings", {"first_over_max": "cap"})
    page = pluvo.data("{ paginatedUsers(first: 120) { edges { cursor } pageInfo { hasNextPage } } }")
    assert len(page["paginatedUsers"]["edges"]) == 50 and page["paginatedUsers"]["pageInfo"]["hasNextPage"]


def test_certificates_page_backwards_with_last_and_before(pluvo: Pluvo) -> None:
    pluvo.control.post("/certificates", json={"name": "c2", "title": "Second"}).raise_for_status()
    pluvo.control.post("/certificates", json={"name": "c3", "title": "Third"}).raise_for_status()
    forward = pluvo.data("{ certificates(first: 3) { edges { cursor node { name } } count } }")["certificates"]
    assert [e["node"]["name"] for e in forward["edges"]] == ["certificate-1", "c2", "c3"] and forward["count"] == 3
    last_cursor = forward["edges"][-1]["cursor"]
    query = """query($b: String) {
      certificates(last: 1, before: $b) { edges { node { name } } pageInfo { hasPreviousPage } }
    }"""
    back = pluvo.data(query, {"b": last_cursor})["certificates"]
    assert [e["node"]["name"] for e in back["edges"]] == ["c2"] and back["pageInfo"]["hasPreviousPage"]


# -- the endpoint and the token ------------------------------------------------------------------------------
def test_without_the_trailing_slash_the_endpoint_redirects_or_answers_404(pluvo: Pluvo) -> None:
    headers = {"Authorization": f"Bearer {pluvo.token}"}
    answer = pluvo.http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert answer.status_code == 301 and answer.headers["location"] == f"{pluvo.base}/graphql/"
    assert pluvo.http.post("/oauth/token", data={}).headers["location"] == f"{pluvo.base}/oauth/token/"
    pluvo.put("/settings", {"missing_slash": "404"})
    assert pluvo.http.post("/graphql", json={"query": "{ __typename }"}, headers=headers).status_code == 404
    assert pluvo.post("{ __typename }").json() == {"data": {"__typename": "Query"}}


def test_the_token_answer_and_a_day_long_lifetime_on_the_sandbox_clock(pluvo: Pluvo, sandbox: SandboxServer) -> None:
    answer = pluvo.http.post(
        "/oauth/token/",
        data={"grant_type": "client_credentials", "client_id": PLUVO_SANDBOX_CLIENT_ID,
              "client_secret": PLUVO_SANDBOX_CLIENT_SECRET, "scope": "users.read"},
    ).json()  # fmt: skip
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 86400 and answer["scope"] == "users.read"
    advance(sandbox, 86399)
    assert pluvo.post("{ __typename }", token=answer["access_token"]).status_code == 200
    advance(sandbox, 2)
    expired = pluvo.post("{ __typename }", token=answer["access_token"])
    assert expired.status_code == 401 and "Unauthorized" in expired.json()["errors"][0]["message"]


def test_a_shortened_lifetime_expires_tokens_issued_after_it(pluvo: Pluvo, sandbox: SandboxServer) -> None:
    before = pluvo.token
    assert pluvo.put("/token_lifetime", {"seconds": 2}) == {"seconds": 2}
    short = pluvo.new_token()
    advance(sandbox, 3)
    assert pluvo.post("{ __typename }", token=short).status_code == 401
    assert pluvo.post("{ __typename }", token=before).status_code == 200  # issued with the day-long lifetime
    assert pluvo.state()["token_lifetime_seconds"] == 2


def test_an_expired_token_can_be_answered_as_a_graphql_auth_error(pluvo: Pluvo) -> None:
    pluvo.put("/settings", {"auth_failure": "graphql_error"})
    pluvo.control.post("/revoke_tokens").raise_for_status()
    answer = pluvo.post("{ __typename }")
    assert answer.status_code == 200
    [error] = answer.json()["errors"]
    assert "Auth" in error["extensions"]["code"]
    missing = pluvo.http.post("/graphql/", json={"query": "{ __typename }"})
    assert missing.status_code == 200 and "Auth" in missing.json()["errors"][0]["extensions"]["code"]
    assert pluvo.post("{ __typename }", token=pluvo.new_token()).json() == {"data": {"__typename": "Query"}}


def test_a_token_that_expired_on_the_clock_is_a_graphql_auth_error_in_that_form(
    pluvo: Pluvo, sandbox: SandboxServer
) -> None:
    pluvo.put("/settings", {"auth_failure": "graphql_error"})
    pluvo.put("/token_lifetime", {"seconds": 2})
    token = pluvo.new_token()
    assert pluvo.post("{ __typename }", token=token).json() == {"data": {"__typename": "Query"}}
    advance(sandbox, 3)
    answer = pluvo.post("{ __typename }", token=token)
    assert answer.status_code == 200 and answer.json()["errors"][0]["extensions"]["code"] == "AuthenticationError"


def test_revoked_missing_and_foreign_tokens_get_401(pluvo: Pluvo) -> None:
    assert pluvo.http.post("/graphql/", json={"query": "{ __typename }"}).status_code == 401
    assert pluvo.post("{ __typename }", token="made-up").status_code == 401
    assert pluvo.control.post("/revoke_tokens").json() == {"revoked": 1}
    assert pluvo.post("{ __typename }").status_code == 401
    bad = pluvo.http.post(
        "/oauth/token/", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}
    wrong = pluvo.http.post("/oauth/token/", data={"grant_type": "password"})
    assert wrong.status_code == 400 and wrong.json() == {"error": "unsupported_grant_type"}


# -- the generic machinery covers Pluvo ----------------------------------------------------------------------
def test_faults_and_the_request_log_cover_the_graphql_endpoint(pluvo: Pluvo, control: httpx.Client) -> None:
    control.put(
        "/faults", json={"fault_rate": 1.0, "kinds": ["503"], "path_prefix": "/pluvo/graphql/"}
    ).raise_for_status()
    answer = pluvo.post("{ __typename }")
    assert answer.status_code == 503 and "errors" in answer.json()
    control.delete("/faults").raise_for_status()
    assert pluvo.post("{ __typename }").status_code == 200
    logged = [r for r in control.get("/requests").json() if r["path"] == "/pluvo/graphql/"]
    assert len(logged) == 2
