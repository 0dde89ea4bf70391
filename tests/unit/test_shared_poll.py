"""Deferred waits scale with courses, not learners (issue 18), against the sandbox over real HTTP.

Triggers of one event loop (the triggerer's) that wait on the same connection and course share one roster
read per interval; each still ends with its own event; a ref without a course polls alone; cancelling the
triggers stops their polls and closes the shared hook; an outage or a refused key reaches every waiter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.registry import aget_lms_hook
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.app import PLATFORMS
from airflow_provider_lms.sandbox.pluvo.seed import PluvoSeed
from airflow_provider_lms.triggers import shared_poll
from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger
from airflow_provider_lms.triggers.shared_poll import shared_polls

FLEXIBLE = 3  # the seeded flexible planned course, the model of the ones added here
QUICK = {"backoff_base": 0.01, "backoff_max": 0.05, "max_retries": 1, "rate_limit_requests": 10**6, "timeout": 2}


def _connect(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, platform: str, **extra: Any) -> str:
    mount = next(m for m in PLATFORMS if m.name == platform)
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    conn["extra"] = {**conn.get("extra", {}), **QUICK, **extra}
    conn_id = f"shared_{platform}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def _control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


def _requests(sandbox: SandboxServer, prefix: str) -> list[dict[str, Any]]:
    return list(_control(sandbox, "GET", "/requests", params={"path_prefix": prefix}).json())


def _eduframe_courses(sandbox: SandboxServer, sizes: list[int]) -> list[tuple[int, list[int]]]:
    """Planned courses with ``sizes[i]`` learners each, put straight into the sandbox's state (setup, no requests).

    Returns ``(planned course id, [enrollment ids])`` per course.
    """
    ef = sandbox.state.eduframe
    now = datetime.now(timezone.utc)
    model = ef.planned_courses[FLEXIBLE]
    courses = []
    for size in sizes:
        pc_id = ef.next_id("planned_courses")
        pc = ef.planned_courses[pc_id] = dataclasses.replace(model, id=pc_id)
        enrollments = []
        for user_id in ef.add_students(size, first_name="Wait"):
            enrollments.append(ef.add_enrollment(user_id, pc, None, pc.start_date, pc.end_date, now).id)
        courses.append((pc_id, enrollments))
    return courses


async def _first_event(trigger: EnrollmentCompletedTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def _roster_reads(entries: list[dict[str, Any]]) -> list[str]:
    """The planned course of every ``GET /enrollments?planned_course_id=`` in the log (each page counts)."""
    reads = []
    for e in entries:
        query = dict(httpx.QueryParams(e.get("query") or ""))
        if e["method"] == "GET" and e["path"].endswith("/enrollments") and "planned_course_id" in query:
            reads.append(query["planned_course_id"])
        elif "cursor" in query and e["path"].endswith("/enrollments"):
            reads.append(query.get("planned_course_id", "?"))
    return reads


async def test_200_waits_on_4_courses_send_one_paged_roster_read_per_course_per_interval(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(monkeypatch, sandbox, "eduframe")
    built = []

    async def counting_hook(conn_id: str) -> Any:
        built.append(conn_id)
        return await aget_lms_hook(conn_id)

    monkeypatch.setattr(shared_poll, "aget_lms_hook", counting_hook)
    # 110 learners on the first course: its roster is two pages of 100.
    courses = _eduframe_courses(sandbox, [110, 30, 30, 30])
    _control(sandbox, "DELETE", "/requests")
    interval = 0.5
    triggers = {
        (pc, eid): EnrollmentCompletedTrigger(
            conn, {"enrollment_id": str(eid), "course_id": str(pc)}, poll_interval=interval
        )
        for pc, eids in courses
        for eid in eids
    }
    assert len(triggers) == 200
    tasks = {key: asyncio.create_task(_first_event(t)) for key, t in triggers.items()}
    started = time.monotonic()
    await asyncio.sleep(2.4)  # the first read after the join window (0.2 s), then about one every 0.5 s
    cycles_at_most = int((time.monotonic() - started) / interval) + 1
    entries = _requests(sandbox, "/eduframe/api")
    reads = _roster_reads(entries)
    # Nothing but roster reads: no per-enrollment GET /enrollments/{id}, no connection test.
    assert len(reads) == len(entries), [e["path"] for e in entries if not e["path"].endswith("/enrollments")]
    per_course = {str(pc): reads.count(str(pc)) for pc, _ in courses}
    pages = {str(pc): 2 if pc == courses[0][0] else 1 for pc, _ in courses}  # 110 learners: two pages of 100
    cycles = {pc: n / pages[pc] for pc, n in per_course.items()}
    # Each course read once per interval (whole reads: every page), whatever the number of its learners.
    assert all(c == int(c) and 3 <= c <= cycles_at_most for c in cycles.values()), (per_course, cycles_at_most)
    # At most 5 requests (4 courses, one of them two pages) per cycle, where a poll per learner sends 200.
    assert len(entries) <= 5 * cycles_at_most
    assert all(not task.done() for task in tasks.values())
    assert built == [conn]  # the connection was read, and the hook built, once for 200 triggers

    # Three learners complete: exactly their three triggers end, each with its own enrollment.
    done = [(courses[0][0], courses[0][1][105]), (courses[1][0], courses[1][1][0]), (courses[3][0], courses[3][1][7])]
    for _, eid in done:
        _control(sandbox, "POST", f"/eduframe/enrollments/{eid}/complete")
    finished = await asyncio.wait_for(asyncio.gather(*(tasks[key] for key in done)), timeout=10)
    assert [e["status"] for e in finished] == ["success"] * 3
    assert [e["enrollment"]["enrollment_id"] for e in finished] == [str(eid) for _, eid in done]
    assert sum(task.done() for task in tasks.values()) == 3

    # Airflow cancels the rest (timeout, reassignment): the polls stop and the shared hook closes.
    polls = shared_polls()
    assert len(polls.polls()) == 4 and polls.hooks_in_use() == [conn]
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    await polls.settle()
    assert polls.polls() == [] and list(polls.hooks_in_use()) == []
    _control(sandbox, "DELETE", "/requests")
    await asyncio.sleep(3 * interval)
    assert _requests(sandbox, "/eduframe/api") == []  # no poll is left behind


async def test_a_learner_ref_a_missing_learner_and_a_ref_without_a_course(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(monkeypatch, sandbox, "eduframe")
    [(pc, [eid, other])] = _eduframe_courses(sandbox, [2])
    learner = sandbox.state.eduframe.enrollments[eid].student_id
    _control(sandbox, "POST", f"/eduframe/enrollments/{eid}/complete")
    _control(sandbox, "POST", f"/eduframe/enrollments/{other}/complete")
    _control(sandbox, "DELETE", "/requests")
    by_learner = EnrollmentCompletedTrigger(conn, {"learner_id": str(learner), "course_id": str(pc)}, poll_interval=1)
    nobody = EnrollmentCompletedTrigger(conn, {"learner_id": "1", "course_id": str(pc)}, poll_interval=1)
    alone = EnrollmentCompletedTrigger(conn, {"enrollment_id": str(other)}, poll_interval=1)
    events = await asyncio.wait_for(asyncio.gather(*map(_first_event, (by_learner, nobody, alone))), timeout=10)
    assert [e["status"] for e in events] == ["success", "failed", "success"]
    assert events[0]["enrollment"]["enrollment_id"] == str(eid)
    assert "not_enrolled" in events[1]["message"]  # not on the roster: its own read says so
    paths = sorted(e["path"].rsplit("/api/v1", 1)[1] for e in _requests(sandbox, "/eduframe/api"))
    # One roster read for both learners of the course; the learner not on it, and the ref without a
    # course, are each read on their own.
    assert paths == ["/enrollments", "/enrollments", f"/enrollments/{other}"]
    await shared_polls().settle()


async def test_a_refused_key_reaches_every_waiter_and_an_outage_is_waited_out(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(monkeypatch, sandbox, "eduframe")
    [(pc, eids)] = _eduframe_courses(sandbox, [20])
    end = time.time() + 2.5
    refs = [{"enrollment_id": str(e), "course_id": str(pc)} for e in eids]
    _control(sandbox, "PUT", "/faults", json={"fault_rate": 1.0, "kinds": ["503"]})
    try:
        triggers = [EnrollmentCompletedTrigger(conn, r, poll_interval=0.2, end_time=end) for r in refs]
        events = await asyncio.wait_for(asyncio.gather(*map(_first_event, triggers)), timeout=15)
    finally:
        _control(sandbox, "DELETE", "/faults")
    # Each trigger rode the outage out to its own end and named it.
    assert {e["status"] for e in events} == {"timeout"}
    assert all("unavailable" in e["message"] and "503" in e["message"] for e in events), events[0]

    keys = sandbox.state.eduframe.api_keys
    saved = set(keys)
    keys.clear()  # the key is revoked: 401 can never heal
    try:
        triggers = [EnrollmentCompletedTrigger(conn, r, poll_interval=0.2) for r in refs]
        started = time.monotonic()
        events = await asyncio.wait_for(asyncio.gather(*map(_first_event, triggers)), timeout=15)
    finally:
        keys.update(saved)
    assert {e["status"] for e in events} == {"error"}
    assert all("401" in e["message"] for e in events)
    assert time.monotonic() - started < 5
    assert len(_requests(sandbox, "/eduframe/api")) <= 40  # the outage's backed-off reads, and one refused read
    await shared_polls().settle()


async def test_anewspring_waits_share_the_course_roster_and_read_results_only_on_change(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(monkeypatch, sandbox, "anewspring")
    learners = [f"wait-{i}" for i in range(12)]
    course = "VEILIG-2026"
    _control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": u} for u in learners]})

    def subscribe() -> None:
        hook = ANewSpringHook(conn)
        try:
            for learner in learners:
                hook.subscribe_learner(course, learner)
        finally:
            hook.close()

    await asyncio.to_thread(subscribe)
    _control(sandbox, "DELETE", "/requests")
    triggers = [
        EnrollmentCompletedTrigger(conn, {"learner_id": u, "course_id": course}, poll_interval=0.4) for u in learners
    ]
    tasks = [asyncio.create_task(_first_event(t)) for t in triggers]
    await asyncio.sleep(1.6)
    _control(
        sandbox,
        "POST",
        "/anewspring/advance",
        json={"user_id": learners[4], "course_id": course, "to": "course_completed"},
    )
    event = await asyncio.wait_for(tasks[4], timeout=10)
    assert event["status"] == "success" and event["enrollment"]["learner_id"] == learners[4]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await shared_polls().settle()
    paths = [e["path"] for e in _requests(sandbox, "/anewspring/api")]
    rosters = [p for p in paths if "/getStudentSubscriptions/" in p]
    results = [p for p in paths if "/getResults/" in p]
    assert len(rosters) >= 4 and len(paths) == len(rosters) + len(results)
    # Results are read once per learner when first seen, then only for the learner whose figures changed.
    assert len(results) == len(learners) + 1, results
    assert results.count(f"/anewspring/api/getResults/{learners[4]}/{course}") == 2


async def test_pluvo_waits_share_the_trainings_paged_report(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(monkeypatch, sandbox, "pluvo")
    training = PluvoSeed.training_id(1)
    learners = [PluvoSeed.user_id(n) for n in range(11, 71)]  # 60 learners: two report pages of 50
    participants = sandbox.state.pluvo.trainings[training].participants
    participants.update(dict.fromkeys(learners, "PARTICIPANT"))
    _control(sandbox, "DELETE", "/requests")
    triggers = [
        EnrollmentCompletedTrigger(conn, {"learner_id": u, "course_id": training}, poll_interval=0.4) for u in learners
    ]
    tasks = [asyncio.create_task(_first_event(t)) for t in triggers]
    await asyncio.sleep(1.5)
    _control(sandbox, "POST", "/pluvo/complete_training", json={"user_id": learners[55], "training_id": training})
    event = await asyncio.wait_for(tasks[55], timeout=10)
    assert event["status"] == "success" and event["enrollment"]["learner_id"] == learners[55]
    assert sum(t.done() for t in tasks) == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await shared_polls().settle()
    graphql = [e for e in _requests(sandbox, "/pluvo") if e["path"].endswith("/graphql/")]
    names = [(e.get("json") or {}).get("query", "").split("(")[0] for e in graphql]
    reports = [n for n in names if "PluvoPortfolioReport" in n]
    # Only the training's report (two pages per read), never a read per learner.
    assert reports and len(reports) == len(names) and len(reports) % 2 == 0, names
    assert 4 <= len(reports) <= 2 * 6
