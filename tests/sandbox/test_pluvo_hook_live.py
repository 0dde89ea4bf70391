"""The Pluvo hook's typed methods over real HTTP against the sandbox's Pluvo (graphql-core over the schema).

What a user would notice: the published operations answer as typed models, connections are paged to the end
with ``first`` at most 50, a refused token is replaced once (HTTP 401 or a GraphQL ``Auth`` error, also in
the middle of a run), a document Pluvo could not run fails as a typed error, and mails go out only when asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.pluvo import PluvoHook
from airflow_provider_lms.hooks.pluvo_graphql import PluvoValidationError
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.app import PLATFORMS

U1 = "00000000-0000-4000-8000-000000000001"
T1 = "10000000-0000-4000-8000-000000000001"
T5 = "10000000-0000-4000-8000-000000000005"
G1 = "20000000-0000-4000-8000-000000000001"
G2 = "20000000-0000-4000-8000-000000000002"
OFFER = "30000000-0000-4000-8000-000000000001"
EVENT = "40000000-0000-4000-8000-000000000001"
CERT = "50000000-0000-4000-8000-000000000001"


def pluvo_conn(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, conn_id: str = "pluvo_live") -> str:
    mount = next(m for m in PLATFORMS if m.name == "pluvo")
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    conn["extra"] = {**conn.get("extra", {}), "backoff_base": 0.01, "backoff_max": 0.05}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def state(sandbox: SandboxServer) -> dict[str, Any]:
    return control(sandbox, "GET", "/pluvo/state")


def graphql_requests(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in control(sandbox, "GET", "/requests", params={"path_prefix": "/pluvo/graphql"})]


@pytest.fixture
def hook(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluvoHook]:
    h = PluvoHook(pluvo_conn(monkeypatch, sandbox))
    yield h
    h.close()


def test_users_are_paged_to_the_end_with_at_most_50_a_page(sandbox: SandboxServer, hook: PluvoHook):
    users = list(hook.list_users())
    assert len(users) == 120 and len({u.id for u in users}) == 120
    assert len(graphql_requests(sandbox)) == 3  # 50 + 50 + 20, stopped by hasNextPage
    archived = list(hook.list_users(archived=True, page_size=5))
    assert archived and all(u.archived for u in archived)
    assert hook.get_user(U1).ref == "user-1" and hook.get_user(ref="user-1").id == U1
    assert hook.get_user("00000000-0000-4000-8000-000000000999") is None


def test_groups_trainings_offers_and_certificates_answer_as_typed_models(hook: PluvoHook):
    assert {g.id for g in hook.list_groups()} >= {G1, G2}
    assert [u.id for u in hook.list_group_members(G1, page_size=2)] == [
        f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 3, 5, 7, 9)
    ]
    assert len(list(hook.list_trainings(page_size=2))) == 5
    assert hook.get_training(ref="training-1").id == T1
    offer = hook.get_offer(OFFER)
    assert offer is not None and [e.id for e in offer.offer_events] == [EVENT]
    event = hook.get_offer_event(EVENT)
    assert event is not None and event.ref == "offer-event-1" and event.access_trainings
    assert [c.id for c in hook.list_certificates()] == [CERT]


def test_group_membership_is_idempotent(sandbox: SandboxServer, hook: PluvoHook):
    added = hook.add_users_to_group(G1, [U1, "00000000-0000-4000-8000-000000000002"])
    assert added.already_added_ids == [U1] and added.added_ids == ["00000000-0000-4000-8000-000000000002"]
    again = hook.add_users_to_group(group_ref="group-1", user_refs=["user-2"])
    assert again.added_ids == [] and again.already_added_ids
    removed = hook.remove_users_from_group(G1, ["00000000-0000-4000-8000-000000000002"])
    assert removed.removed_ids == ["00000000-0000-4000-8000-000000000002"]
    assert hook.remove_users_from_group(G1, ["00000000-0000-4000-8000-000000000002"]).already_removed_ids


def test_training_participants_and_the_ones_linked_through_a_group(sandbox: SandboxServer, hook: PluvoHook):
    first = hook.add_users_to_training(T1, [U1])
    assert first.added_ids == [U1]
    assert hook.add_users_to_training(T1, [U1]).already_added_ids == [U1]
    assert state(sandbox)["participants"][T1] == {U1: "PARTICIPANT"}
    # Users 2, 4, ... reach training 5 through group 2: Pluvo cannot remove them here.
    linked = hook.remove_users_from_training(T5, ["00000000-0000-4000-8000-000000000002"])
    assert linked.ids_linked_via_object == ["00000000-0000-4000-8000-000000000002"] and not linked.removed_ids
    assert hook.remove_users_from_training(T1, [U1]).removed_ids == [U1]
    # No invitation went out: the hook sends sendInvites: false unless asked.
    assert state(sandbox)["mails"] == []
    hook.add_users_to_training(T1, [U1], send_invites=True)
    assert [m["kind"] for m in state(sandbox)["mails"]] != []


def test_update_or_create_user_by_email_keeps_our_ref_without_an_invitation(sandbox: SandboxServer, hook: PluvoHook):
    made = hook.update_or_create_user("hr-7@example.org", "Hr Seven", ref="HR-7")
    assert made.created and made.user.ref == "HR-7"
    again = hook.update_or_create_user("hr-7@example.org", "Hr Seven", ref="HR-7")
    assert not again.created and again.user.id == made.user.id
    assert state(sandbox)["mails"] == []


def test_progress_and_certificates(sandbox: SandboxServer, hook: PluvoHook):
    hook.add_users_to_training(T1, [U1])
    control(sandbox, "POST", "/pluvo/progress", json={"user_id": U1, "training_id": T1, "progress": 0.5, "score": 0.7})
    rows = list(hook.portfolio_report(user_ids=[U1], training_ids=[T1]))
    assert [(r.user.id, r.progress, r.score) for r in rows] == [(U1, 0.5, 0.7)]
    group_rows = list(hook.portfolio_report(group_ids=[G2]))
    assert {r.title for r in group_rows} == {"Training 5"}
    bulk = hook.generate_certificate(CERT, [U1], training_id=T1)
    assert bulk.succeeded_ids == [U1]
    assert [i.title for i in hook.list_portfolio_items(U1)] == ["Certificate of completion"]


def test_more_than_50_is_never_asked_and_a_bad_document_fails_as_pluvo_would(sandbox: SandboxServer, hook: PluvoHook):
    with pytest.raises(LmsInputError, match="page_size"):
        list(hook.list_users(page_size=51))
    with pytest.raises(PluvoValidationError, match="Cannot query field"):
        hook.query("query Old { users { id } }")
    control(sandbox, "PUT", "/pluvo/settings", json={"validation_status": 400})
    with pytest.raises(PluvoValidationError, match="Cannot query field"):
        hook.query("query Old { trainings { id } }")
    sent = [r["json"] for r in graphql_requests(sandbox) if isinstance(r.get("json"), dict)]
    assert sent and all((r.get("variables") or {}).get("first", 0) <= 50 for r in sent)


@pytest.mark.parametrize("failure", ["http_401", "graphql_error"])
def test_a_token_expiring_mid_run_is_replaced_once(sandbox: SandboxServer, hook: PluvoHook, failure: str):
    control(sandbox, "PUT", "/pluvo/settings", json={"auth_failure": failure})
    # Longer than the hook's 300 s refresh margin, so the hook still trusts the token when the sandbox expires it.
    control(sandbox, "PUT", "/pluvo/token_lifetime", json={"seconds": 400})
    assert len(list(hook.list_users(page_size=50))) == 120
    control(sandbox, "POST", "/clock/advance", json={"seconds": 500})
    assert len(list(hook.list_users(page_size=50))) == 120
    assert state(sandbox)["tokens_issued"] == 2


def test_the_async_path_pages_and_refreshes_too(sandbox: SandboxServer, hook: PluvoHook):
    control(sandbox, "PUT", "/pluvo/settings", json={"auth_failure": "graphql_error"})
    control(sandbox, "PUT", "/pluvo/token_lifetime", json={"seconds": 400})

    async def run() -> int:
        try:
            first = [u async for u in hook.alist_users()]
            httpx.post(f"{sandbox.control_url}/clock/advance", json={"seconds": 500}, timeout=10)
            second = [u async for u in hook.alist_users()]
            return len(first) + len(second)
        finally:
            await hook.aclose()

    assert asyncio.run(run()) == 240
    assert state(sandbox)["tokens_issued"] == 2


def test_bulk_threads_that_find_no_token_fetch_one_and_mask_it_one_at_a_time(
    sandbox: SandboxServer, hook: PluvoHook, monkeypatch: pytest.MonkeyPatch
):
    # Airflow 3.2's task supervisor channel does not survive two threads masking at once (a task hung for
    # good): the token is fetched, and masked, by one thread while the others wait for it.
    import threading

    import airflow.sdk.log

    inside, overlaps, masked = [0], [0], []
    guard = threading.Lock()

    def slow_mask(secret: str) -> None:
        with guard:
            inside[0] += 1
            overlaps[0] = max(overlaps[0], inside[0])
        threading.Event().wait(0.05)
        masked.append(secret)
        with guard:
            inside[0] -= 1

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", slow_mask)
    before = state(sandbox)["tokens_issued"]
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        hook.get_user(U1)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert state(sandbox)["tokens_issued"] == before + 1
    assert overlaps[0] == 1, "two threads were in mask_secret at once"
