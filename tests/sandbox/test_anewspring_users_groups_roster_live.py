"""aNewSpring users, group membership and course rosters over real HTTP against the sandbox's double.

Each capability is run twice: the second run must change nothing in the sandbox (and, where the provider
looks before it writes, send no write at all). The roster test counts the requests the sandbox received.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.http import LmsCapabilityError, LmsConflictError, LmsInputError, LmsNotFoundError
from airflow_provider_lms.models.inputs import LearnerSpec
from airflow_provider_lms.operators import (
    LmsEnsureLearnersOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)
from airflow_provider_lms.operators.anewspring import (
    AnewspringAddGroupMembersOperator,
    AnewspringRemoveGroupMembersOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
from tests.task_context import ctx

COURSE = "VEILIG-2026"
KEY = {"X-API-Key": ANEWSPRING_SANDBOX_API_KEY}


@pytest.fixture
def conn(anewspring_conn: str) -> str:
    return anewspring_conn


@pytest.fixture
def hook(anewspring_hook: ANewSpringHook) -> ANewSpringHook:
    return anewspring_hook


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def state(sandbox: SandboxServer) -> dict[str, Any]:
    return control(sandbox, "GET", "/anewspring/state")


def users(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    return {u["id"]: u for u in state(sandbox)["user_records"]}


def requests_made(sandbox: SandboxServer) -> list[tuple[str, str]]:
    """(method, function) of every API request since the log was last cleared."""
    entries = control(sandbox, "GET", "/requests", params={"path_prefix": "/anewspring/api/"})
    return [(e["method"], e["path"].split("/")[3]) for e in entries]


def clear_requests(sandbox: SandboxServer) -> None:
    control(sandbox, "DELETE", "/requests")


def learner(i: int, **changes: Any) -> dict[str, Any]:
    spec = {"email": f"hr{i}@sandbox.example", "first_name": "Lotte", "last_name": f"van Dijk {i}"}
    return {**spec, "external_id": f"HR-{i:04d}", **changes}


# -- ensure_learners ------------------------------------------------------------------------------------------


def test_ensure_learners_creates_with_the_learner_role_and_a_rerun_sends_no_write(sandbox: SandboxServer, conn: str):
    specs = [learner(i) for i in range(4)]
    first = LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=specs)
    context = ctx()
    summary = first.execute(context)
    assert (summary["done"], summary["already_done"], summary["failed"]) == (4, 0, 0)
    assert context["ti"].pushed["learner_ids"] == [s["external_id"] for s in specs]
    made = users(sandbox)
    for spec in specs:
        record = made[spec["external_id"]]
        assert record["created_by_api"] and record["roles"] == ["student"] and record["writes"] == 1
        assert record["fields"] == {
            "firstName": "Lotte",
            "lastName": spec["last_name"],
            "email": spec["email"],
        }
        assert record["login"] == spec["email"]  # the default login of a new user
    posts = [f for m, f in requests_made(sandbox) if m == "POST"]
    assert Counter(posts) == {"addOrUpdateUser": 4, "addUserRoles": 4}
    created = control(sandbox, "GET", "/requests", params={"method": "POST"})[0]
    assert created["form"]["notify"] == ["false"]  # no mail to a learner from a sync unless asked

    clear_requests(sandbox)
    again = LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=specs).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 4)
    assert requests_made(sandbox) == [("GET", "getUser")] * 4  # looked, wrote nothing
    assert users(sandbox) == made


def test_ensure_learners_updates_only_what_differs_or_nothing_when_told_not_to(sandbox: SandboxServer, conn: str):
    LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=[learner(1)]).execute(ctx())
    clear_requests(sandbox)
    moved = learner(1, email="lotte.new@sandbox.example")
    kept = LmsEnsureLearnersOperator(
        task_id="e", lms_conn_id=conn, learners=[moved], platform_options={"update_existing": False}
    ).execute(ctx())
    assert kept["already_done"] == 1 and kept["items"][0]["result"]["differs"] == ["email"]
    assert [m for m, _ in requests_made(sandbox)] == ["GET"]
    assert users(sandbox)["HR-0001"]["fields"]["email"] == "hr1@sandbox.example"

    updated = LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=[moved]).execute(ctx())
    assert updated["done"] == 1 and updated["items"][0]["result"]["updated"] == ["email"]
    sent = control(sandbox, "GET", "/requests", params={"method": "POST"})[-1]
    assert sent["path"].endswith("/addOrUpdateUser/HR-0001") and sent["form"] == {"email": [moved["email"]]}
    record = users(sandbox)["HR-0001"]
    assert (
        record["fields"]["email"] == moved["email"]
        and record["writes"] == 2
        and record["login"] == "hr1@sandbox.example"
    )
    again = LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=[moved]).execute(ctx())
    assert again["already_done"] == 1 and users(sandbox)["HR-0001"]["writes"] == 2


def test_a_seeded_learner_whose_family_name_is_split_over_middle_and_last_name_matches(
    sandbox: SandboxServer, hook: ANewSpringHook
):
    # The seed holds Anna / de / Vries as firstName / middleName / lastName; HR writes "de Vries".
    spec = LearnerSpec(
        email="learner-001@sandbox.example", first_name="Anna", last_name="de Vries", external_id="learner-001"
    )
    clear_requests(sandbox)
    assert hook.ensure_learner(spec).status.value == "already_done"
    assert requests_made(sandbox) == [("GET", "getUser")]


def test_an_ensured_learner_can_be_subscribed_and_a_user_without_the_role_cannot(
    sandbox: SandboxServer, hook: ANewSpringHook, conn: str
):
    LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=[learner(7)]).execute(ctx())
    assert (
        LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=["HR-0007"]).execute(ctx())[
            "done"
        ]
        == 1
    )
    # addOrUpdateUser alone gives no role in the sandbox (the strictest reading): subscribing is refused.
    hook.add_or_update_user("NO-ROLE", {"firstName": "Nico", "lastName": "Rol", "email": "nico@sandbox.example"})
    with pytest.raises(LmsConflictError, match="role"):
        hook.subscribe("NO-ROLE", COURSE)
    assert hook.get_user("NO-ROLE").roles == []
    hook.add_user_roles("NO-ROLE", ["student"])
    hook.add_user_roles("NO-ROLE", ["student"])  # ignoreDuplicates: no error the second time
    assert hook.get_user("NO-ROLE").roles == ["student"]
    hook.subscribe("NO-ROLE", COURSE)


def test_ensure_refuses_bad_learners_before_sending(sandbox: SandboxServer, hook: ANewSpringHook, conn: str):
    clear_requests(sandbox)
    no_id = LearnerSpec(email="a@sandbox.example", first_name="A", last_name="B")
    with pytest.raises(LmsInputError, match=r"learner\.external_id"):
        hook.ensure_learner(no_id)
    with pytest.raises(LmsInputError, match=r"learners\[1\]\.external_id"):
        hook.check_learner("learners[1]", no_id)
    hook.check_learner("learners[0]", LearnerSpec(**learner(1)))
    # Rows are merged by external id: one id is one user, whatever the e-mail address.
    assert hook.learner_key(LearnerSpec(**learner(1))) == hook.learner_key(LearnerSpec(**learner(1, email="x@y.nl")))
    with pytest.raises(LmsInputError, match=r"platform_options\.login"):
        hook.ensure_learner(LearnerSpec(**learner(1)), login="phone")
    with pytest.raises(LmsInputError, match=r"platform_options\.role"):
        hook.ensure_learner(LearnerSpec(**learner(1)), role="boss")
    with pytest.raises(LmsInputError, match=r"platform_options\.send_invite"):
        hook.ensure_learner(LearnerSpec(**learner(1)), send_invite=True)
    with pytest.raises(LmsInputError, match=r"fields\.shoeSize"):
        hook.add_or_update_user("HR-1", {"shoeSize": "44"})
    with pytest.raises(LmsInputError, match=r"fields\.email"):
        hook.add_or_update_user("HR-1", {"email": "not an address"})
    with pytest.raises(LmsInputError, match=r"roles\[0\]"):
        hook.add_user_roles("HR-1", ["boss"])
    assert requests_made(sandbox) == []


def test_the_operator_refuses_a_learner_without_an_external_id_before_any_request(sandbox: SandboxServer, conn: str):
    clear_requests(sandbox)
    with pytest.raises(LmsInputError, match=r"learners\[1\]\.external_id"):
        LmsEnsureLearnersOperator(
            task_id="e",
            lms_conn_id=conn,
            learners=[learner(1), {"email": "a@sandbox.example", "first_name": "A", "last_name": "B"}],
        ).execute(ctx())
    # One external id with two e-mail addresses would overwrite itself: refused, naming the second row.
    twins = [learner(1), {**learner(1), "email": "twin@sandbox.example"}]
    with pytest.raises(LmsInputError, match=r"learners\[1\].*same learner as learners\[0\]"):
        LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=twins).execute(ctx())
    assert requests_made(sandbox) == []


# -- group membership ----------------------------------------------------------------------------------------------


def test_group_members_are_added_and_removed_once_and_reruns_send_no_write(sandbox: SandboxServer, conn: str):
    control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": f"gm-{i}"} for i in range(6)]})
    control(sandbox, "POST", "/anewspring/groups", json={"id": "TEAM-X", "members": ["gm-0"]})
    wanted = [f"gm-{i}" for i in range(6)]

    def add() -> dict[str, Any]:
        return AnewspringAddGroupMembersOperator(
            task_id="a", lms_conn_id=conn, group_id="TEAM-X", user_ids=wanted
        ).execute(ctx())

    clear_requests(sandbox)
    first = add()
    assert (first["done"], first["already_done"]) == (5, 1)
    assert sorted(state(sandbox)["groups"]["TEAM-X"]) == wanted
    made = requests_made(sandbox)
    assert made.count(("GET", "getGroupUsers")) == 1 and made.count(("POST", "addGroupUsers")) == 5
    sent = control(sandbox, "GET", "/requests", params={"method": "POST"})[0]["form"]
    assert sent["ignoreDuplicates"] == ["true"] and sent["notify"] == ["false"] and len(sent["user"]) == 1

    clear_requests(sandbox)
    again = add()
    assert (again["done"], again["already_done"]) == (0, 6)
    assert requests_made(sandbox) == [("GET", "getGroupUsers")]
    assert sorted(state(sandbox)["groups"]["TEAM-X"]) == sorted(wanted)

    leaving = ["gm-1", "gm-2", "nobody-at-all"]

    def remove() -> dict[str, Any]:
        return AnewspringRemoveGroupMembersOperator(
            task_id="r", lms_conn_id=conn, group_id="TEAM-X", user_ids=leaving
        ).execute(ctx())

    clear_requests(sandbox)
    removed = remove()
    assert (removed["done"], removed["already_done"]) == (2, 1)  # a user who is not a member is already out
    assert sorted(state(sandbox)["groups"]["TEAM-X"]) == ["gm-0", "gm-3", "gm-4", "gm-5"]
    assert Counter(requests_made(sandbox)) == {("GET", "getGroupUsers"): 1, ("POST", "deleteGroupUsers"): 2}
    clear_requests(sandbox)
    assert remove()["already_done"] == 3
    assert requests_made(sandbox) == [("GET", "getGroupUsers")]


def test_group_items_outside_a_bulk_run_ask_per_user_and_platform_refusals_are_reported(
    sandbox: SandboxServer, hook: ANewSpringHook, conn: str
):
    clear_requests(sandbox)
    assert hook.add_group_member("COHORT-2026-A", "learner-001").status.value == "already_done"
    assert hook.remove_group_member("COHORT-2026-B", "learner-001").status.value == "already_done"
    assert requests_made(sandbox) == [("GET", "groupUserExists")] * 2
    # A user without the role of a learner group: aNewSpring answers 409, the item fails with its reason.
    control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": "coach-1", "roles": ["teacher"]}]})
    run = AnewspringAddGroupMembersOperator(
        task_id="a", lms_conn_id=conn, group_id="COHORT-2026-A", user_ids=["coach-1", "learner-004"],
        fail_on_item_error=False,
    ).execute(ctx())  # fmt: skip
    outcome = {i["key"]: i for i in run["items"]}
    assert outcome["learner-004"]["status"] == "done"
    assert outcome["coach-1"]["status"] == "failed" and "role" in outcome["coach-1"]["error"]
    assert "coach-1" not in state(sandbox)["groups"]["COHORT-2026-A"]
    missing = AnewspringAddGroupMembersOperator(
        task_id="a", lms_conn_id=conn, group_id="NO-SUCH-GROUP", user_ids=["learner-001"], fail_on_item_error=False
    ).execute(ctx())
    assert missing["failed"] == 1 and "NO-SUCH-GROUP" in missing["items"][0]["error"]
    with pytest.raises(LmsNotFoundError):
        hook.get_group_users("NO-SUCH-GROUP")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"group_id": "", "user_ids": ["learner-001"]}, "group_id"),
        ({"group_id": None, "user_ids": ["learner-001"]}, "group_id"),
        ({"group_id": "G\x00", "user_ids": ["learner-001"]}, "group_id"),
        ({"group_id": "COHORT-2026-A", "user_ids": []}, "user_ids"),
        ({"group_id": "COHORT-2026-A", "user_ids": "learner-001"}, "user_ids"),
        ({"group_id": "COHORT-2026-A", "user_ids": ["ok", True]}, r"user_ids\[1\]"),
        ({"group_id": "COHORT-2026-A", "user_ids": ["ok"], "platform_options": {"notify": "yes"}}, "notify"),
        ({"group_id": "COHORT-2026-A", "user_ids": ["ok"], "platform_options": {"ignoreDuplicates": False}}, "ignore"),
    ],
)
def test_group_operators_refuse_bad_input_before_any_request(
    sandbox: SandboxServer, conn: str, kwargs: dict[str, Any], field: str
):
    clear_requests(sandbox)
    with pytest.raises(LmsInputError, match=field):
        AnewspringAddGroupMembersOperator(task_id="a", lms_conn_id=conn, **kwargs).execute(ctx())
    assert requests_made(sandbox) == []


def test_group_operators_refuse_another_platform_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU_X", json.dumps({"conn_type": "eduframe", "password": "k"}))
    with pytest.raises(LmsCapabilityError, match="aNewSpring only"):
        AnewspringRemoveGroupMembersOperator(task_id="r", lms_conn_id="edu_x", group_id="G", user_ids=["u"]).execute(
            ctx()
        )


# -- the course roster ---------------------------------------------------------------------------------------------


def test_a_200_learner_rerun_reads_the_roster_once_instead_of_once_per_learner(sandbox: SandboxServer, conn: str):
    many = [f"roster-{i:03d}" for i in range(200)]
    control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": u} for u in many]})

    def subscribe(**options: Any) -> dict[str, Any]:
        return LmsSubscribeOperator(
            task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=many, platform_options=options or None
        ).execute(ctx())

    clear_requests(sandbox)
    first = subscribe()
    assert first["done"] == 200
    assert Counter(requests_made(sandbox)) == {("GET", "getStudentSubscriptions"): 1, ("POST", "subscribe"): 200}

    clear_requests(sandbox)
    again = subscribe()
    assert again["already_done"] == 200
    assert requests_made(sandbox) == [("GET", "getStudentSubscriptions")]  # 1 request instead of 200

    # The same re-run looking per learner, for comparison: one isSubscribed each.
    clear_requests(sandbox)
    assert subscribe(use_roster=False)["already_done"] == 200
    assert Counter(requests_made(sandbox)) == {("GET", "isSubscribed"): 200}

    # Update and unsubscribe over the same course read the roster once too.
    clear_requests(sandbox)
    update = LmsUpdateSubscriptionOperator(
        task_id="u", lms_conn_id=conn, course_id=COURSE, learner_ids=many[:50], start_date="2026-06-01"
    )
    assert update.execute(ctx())["done"] == 50
    assert Counter(requests_made(sandbox)) == {
        ("GET", "getStudentSubscriptions"): 1,
        ("POST", "updateSubscription"): 50,
    }
    clear_requests(sandbox)
    unsubscribe = LmsUnsubscribeOperator(task_id="d", lms_conn_id=conn, course_id=COURSE, learner_ids=many)
    assert unsubscribe.execute(ctx())["done"] == 200
    assert Counter(requests_made(sandbox)) == {("GET", "getStudentSubscriptions"): 1, ("POST", "unsubscribe"): 200}
    clear_requests(sandbox)
    rerun = LmsUnsubscribeOperator(task_id="d", lms_conn_id=conn, course_id=COURSE, learner_ids=many).execute(ctx())
    assert rerun["already_done"] == 200
    # Unsubscribed learners stay on the roster (finished): the re-run needs no per-learner read.
    assert requests_made(sandbox) == [("GET", "getStudentSubscriptions")]
    subs = [s for s in state(sandbox)["subscriptions"] if s["course_id"] == COURSE]
    assert len(subs) == 200 and all(s["unsubscribed"] and s["times_subscribed"] == 1 for s in subs)


def test_a_learner_missing_from_the_roster_is_still_asked_about_alone_when_unsubscribing(
    sandbox: SandboxServer, conn: str
):
    # learner-002 was never subscribed; "ghost" does not exist: the roster cannot tell the two apart.
    LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=["learner-001"]).execute(ctx())
    clear_requests(sandbox)
    run = LmsUnsubscribeOperator(
        task_id="d",
        lms_conn_id=conn,
        course_id=COURSE,
        learner_ids=["learner-001", "learner-002", "ghost"],
        fail_on_item_error=False,
    ).execute(ctx())
    outcome = {i["key"]: i["status"] for i in run["items"]}
    assert outcome == {"learner-001": "done", "learner-002": "already_done", "ghost": "failed"}
    assert Counter(requests_made(sandbox)) == {
        ("GET", "getStudentSubscriptions"): 1,
        ("GET", "isSubscribed"): 2,
        ("POST", "unsubscribe"): 1,
    }


def test_the_roster_read_and_its_answer(sandbox: SandboxServer, hook: ANewSpringHook):
    hook.subscribe("learner-001", COURSE)
    hook.subscribe("learner-002", COURSE)
    hook.unsubscribe("learner-002", COURSE)
    roster = {s.id: s for s in hook.get_student_subscriptions(COURSE)}
    assert set(roster) == {"learner-001", "learner-002"}
    assert roster["learner-001"].live and roster["learner-001"].name == "Anna de Vries"
    assert not roster["learner-002"].live and roster["learner-002"].finished and not roster["learner-002"].expired
    assert roster["learner-001"].progress is None  # skipStats by default
    with_stats = hook.get_student_subscriptions(COURSE, skip_stats=False)
    assert with_stats[0].progress == "0/5" and with_stats[0].objectives_progress == 0.0
    sent = control(sandbox, "GET", "/requests", params={"path_prefix": "/anewspring/api/getStudentSubscriptions"})
    assert "skipStats=true" in sent[0]["query"] and "skipStats" not in sent[1]["query"]
    with pytest.raises(LmsNotFoundError, match="NO-COURSE"):
        hook.get_student_subscriptions("NO-COURSE")
    with pytest.raises(LmsInputError, match="course_id"):
        hook.get_student_subscriptions("")


# -- the sandbox's dialect for the new calls ------------------------------------------------------------------------


def test_the_double_answers_the_new_calls_as_published(sandbox: SandboxServer):
    base = f"{sandbox.url}/anewspring/api"
    missing = httpx.get(f"{base}/getUser/nobody", headers=KEY)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/plain")
    record = httpx.get(f"{base}/getUser/learner-001", headers=KEY).json()
    assert {"id", "uid", "login", "email", "firstName", "middleName", "lastName", "custom5", "roles"} <= set(record)
    assert record["middleName"] == "de" and record["roles"] == ["student"]
    bad_date = httpx.post(f"{base}/addOrUpdateUser/u-1", data={"dateOfBirth": "2023-02-29"}, headers=KEY)
    assert (
        bad_date.status_code == 400
        and bad_date.text == "dateOfBirth does not contain an ISO8601 date value: 2023-02-29"
    )
    assert httpx.post(f"{base}/addOrUpdateUser/u-1", data={"shoeSize": "44"}, headers=KEY).status_code == 400
    assert httpx.post(f"{base}/addOrUpdateUser/u-1", json={"firstName": "A"}, headers=KEY).status_code == 415
    ok = httpx.post(f"{base}/addOrUpdateUser/u-1", data={"firstName": "A", "login": "a"}, headers=KEY)
    assert ok.status_code == 200 and ok.content == b""
    taken = httpx.post(f"{base}/addOrUpdateUser/u-2", data={"login": "a"}, headers=KEY)
    assert taken.status_code == 409
    assert httpx.get(f"{base}/addGroupUsers/COHORT-2026-A", headers=KEY).status_code == 405
    dup = httpx.post(f"{base}/addGroupUsers/COHORT-2026-A", data={"user": "learner-001"}, headers=KEY)
    assert dup.status_code == 409  # already a member, ignoreDuplicates not set
    both = httpx.post(
        f"{base}/addGroupUsers/COHORT-2026-B",
        data={"user": ["learner-001", "nobody"], "ignoreDuplicates": "true"},
        headers=KEY,
    )
    assert both.status_code == 404  # all or nothing: learner-001 was not added either
    assert "learner-001" not in state(sandbox)["groups"]["COHORT-2026-B"]
    assert httpx.post(f"{base}/addGroupUsers/NONE", data={"user": "learner-001"}, headers=KEY).status_code == 404
    not_in = httpx.post(f"{base}/deleteGroupUsers/COHORT-2026-B", data={"user": "learner-001"}, headers=KEY)
    assert not_in.status_code == 409
    unknown = httpx.post(f"{base}/deleteGroupUsers/COHORT-2026-B", data={"user": "nobody"}, headers=KEY)
    assert unknown.status_code == 404
    ignored = httpx.post(
        f"{base}/deleteGroupUsers/COHORT-2026-B", data={"user": "nobody", "ignoreMissing": "true"}, headers=KEY
    )
    assert ignored.status_code == 200
    formatted = httpx.get(f"{base}/getGroupUsers/NONE", params={"_formatErrors": "true"}, headers=KEY)
    assert formatted.status_code == 404 and formatted.json()["code"] == 404
    assert httpx.get(f"{base}/groupUserExists/COHORT-2026-A/learner-001", headers=KEY).json() == {"result": True}
    assert httpx.get(f"{base}/getStudentSubscriptions/{COURSE}", headers=KEY).json() == {"students": []}
    assert httpx.get(f"{base}/getStudentSubscriptions/{COURSE}").status_code == 401


def test_a_roster_that_cannot_be_read_falls_back_to_one_read_per_learner(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
):
    many = [f"big-roster-{i:03d}" for i in range(40)]
    control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": u} for u in many]})
    for u in many:
        httpx.post(f"{sandbox.url}/anewspring/api/subscribe/{u}/{COURSE}", headers=KEY).raise_for_status()
    # 40 learners' roster is more than 1 KiB: over this connection's answer size limit.
    extra = {"base_url": f"{sandbox.url}/anewspring/api", "backoff_base": 0.01, "max_response_bytes": 1024}
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANS_SMALL",
        json.dumps({"conn_type": "anewspring", "password": ANEWSPRING_SANDBOX_API_KEY, "extra": extra}),
    )
    clear_requests(sandbox)
    run = LmsSubscribeOperator(task_id="s", lms_conn_id="ans_small", course_id=COURSE, learner_ids=many).execute(ctx())
    assert run["already_done"] == 40 and run["failed"] == 0
    # The roster is asked for once (and not again after the size limit stopped it); then per learner.
    assert Counter(requests_made(sandbox)) == {("GET", "getStudentSubscriptions"): 1, ("GET", "isSubscribed"): 40}
