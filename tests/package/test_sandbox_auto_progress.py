"""``python -m airflow_provider_lms.sandbox --auto-progress[=SECONDS]``: learners progress by themselves.

Over real HTTP, with the provider's own hooks as a DAG would use them: the sandbox is started the way the
quickstart starts it (a subprocess), and nothing but the delay moves the learners along.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pendulum
import pytest

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.models.inputs import ScoreRow
from airflow_provider_lms.models.state import EnrollmentState
from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.sandbox.auto_progress import AutoProgress
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from airflow_provider_lms.testing import sandbox_connection_env

DELAY = 2.0
T = TypeVar("T")


@dataclass
class Cli:
    url: str
    banner: str


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    port_file = tmp_path_factory.mktemp("sandbox") / "port"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "airflow_provider_lms.sandbox", "--port", "0", "--port-file", str(port_file)),
            *(f"--auto-progress={DELAY:g}", "--log-level", "warning"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the sandbox never wrote its port"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        banner = []
        assert process.stdout is not None
        # The banner is printed (and flushed) before the sandbox serves; it ends with the connections' header.
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Airflow connections"):
                break
        # The port file is written before uvicorn starts: wait until the app answers (auto-progress is on then).
        while True:
            try:
                httpx.get(f"{url}/_sandbox/info", timeout=5).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox never answered"
                time.sleep(0.1)
        yield Cli(url=url, banner="".join(banner))
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture
def connections(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    httpx.post(f"{cli.url}/_sandbox/reset", timeout=10).raise_for_status()
    for name, value in sandbox_connection_env(cli.url).items():
        monkeypatch.setenv(name, value)
    return cli


def eventually(read: Callable[[], T], done: Callable[[T], bool], within: float = DELAY + 10) -> T:
    deadline = time.monotonic() + within
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _enroll_and_wait_eduframe(learner_id: str) -> tuple[EnrollmentState, EnrollmentState, float]:
    with closing(EduframeHook("eduframe_default")) as hook:
        started = time.monotonic()
        result = hook.subscribe_learner("1", learner_id)
        ref = EnrollmentRef(enrollment_id=str(result.result["enrollment_id"]))
        first = hook.get_enrollment_state(ref).state
        early = time.monotonic() - started
        last = eventually(lambda: hook.get_enrollment_state(ref).state, lambda s: s is EnrollmentState.PASSED)
    return first, last, early


def test_the_banner_says_auto_progress_is_on_and_where(cli: Cli) -> None:
    line = next(x for x in cli.banner.splitlines() if "auto-progress:" in x)
    assert f"learners complete {DELAY:g} s after they start" in line
    assert all(name in line for name in ("eduframe", "anewspring", "pluvo", "pynter"))


def test_an_eduframe_enrollment_completes_and_passes_by_itself(connections: Cli) -> None:
    first, last, early = _enroll_and_wait_eduframe("3")
    if early < DELAY:
        assert first is not EnrollmentState.PASSED  # not at once: after the delay
    assert last is EnrollmentState.PASSED


def test_a_reset_keeps_auto_progress_on(connections: Cli) -> None:
    httpx.post(f"{connections.url}/_sandbox/reset", timeout=10).raise_for_status()
    assert httpx.get(f"{connections.url}/_sandbox/eduframe/auto_progress", timeout=10).json() == {
        "complete_after_seconds": DELAY,
        "graduation_state": "passed",
    }
    assert _enroll_and_wait_eduframe("4")[1] is EnrollmentState.PASSED


def test_an_anewspring_course_completes_once_its_exam_was_scored(connections: Cli) -> None:
    with closing(ANewSpringHook("anewspring_default")) as hook:
        assert hook.subscribe_learner("VEILIG-2026", "learner-001").status.value == "done"
        row = ScoreRow(learner_id="learner-001", course_id="VEILIG-2026", activity_id="EXAMEN-PRAKTIJK", score=90)
        assert hook.score_activity(row).status.value == "done"
        ref = EnrollmentRef(learner_id="learner-001", course_id="VEILIG-2026")
        state = eventually(
            lambda: hook.get_enrollment_state(ref).state,
            lambda s: s in (EnrollmentState.COMPLETED, EnrollmentState.PASSED),
        )
    assert state in (EnrollmentState.COMPLETED, EnrollmentState.PASSED)


def test_pynter_overdue_persons_pass_the_class_planned_for_them(connections: Cli) -> None:
    with closing(PynterHook("pynter_default")) as hook:
        # Pynter answers in Dutch local time, without a zone.
        since = pendulum.now("Europe/Amsterdam").naive() - timedelta(minutes=1)

        def bhv_passed_since() -> set[str]:
            return {
                str(r.ExternalId)
                for r in hook.get_all_finished_modules(since=since)
                if r.ModuleId == 1 and r.Passed is not False and r.FinishDate.replace(tzinfo=None) >= since
            }

        assert bhv_passed_since() == set()
        hook.insert_class(1, "BHV herhaling (auto-progress)", date.today() + timedelta(days=7))
        passed = eventually(bhv_passed_since, lambda found: {"E1001", "E1003"} <= found)
    # Anna's and Gijs's BHV had expired (the seed); they are the ones who pass.
    assert {"E1001", "E1003"} <= passed


def test_without_the_flag_nobody_progresses() -> None:
    with SandboxServer() as sandbox:
        headers = {"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"}
        enrollment = _seeded_enrollment(sandbox)
        time.sleep(1.0)
        got = httpx.get(f"{sandbox.platform_url('eduframe')}/enrollments/{enrollment}", headers=headers, timeout=10)
    assert got.status_code == 200
    assert got.json()["status"] != "completed"


def _seeded_enrollment(sandbox: SandboxServer) -> int:
    answer = httpx.post(f"{sandbox.control_url}/eduframe/seed_enrollments", json={"count": 1}, timeout=10)
    answer.raise_for_status()
    return int(answer.json()["first_id"])


def test_the_ticker_completes_learners_while_no_client_asks_anything() -> None:
    state = SandboxState()
    with SandboxServer(state=state, auto_progress=AutoProgress(0.3, tick_seconds=0.1)) as sandbox:
        enrollment = _seeded_enrollment(sandbox)
        time.sleep(1.5)  # no request at all in the meantime
        # Read straight from the state object: no route ran that would have applied the rule lazily.
        status = state.eduframe.enrollments[enrollment].status
    assert status == "completed"


def test_sandbox_server_reset_keeps_auto_progress_on() -> None:
    with SandboxServer(auto_progress=1.0) as sandbox:
        sandbox.reset()
        rule: Any = httpx.get(f"{sandbox.control_url}/eduframe/auto_progress", timeout=10).json()
    assert rule["complete_after_seconds"] == 1.0


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_a_bad_delay_is_refused_before_anything_starts(value: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "airflow_provider_lms.sandbox", "--port", "0", f"--auto-progress={value}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--auto-progress" in done.stderr


def test_the_banner_names_the_platforms_that_progress(tmp_path: Path) -> None:
    from airflow_provider_lms.sandbox.app import create_app

    progress = AutoProgress(3)
    names = progress.platforms(create_app(auto_progress=progress))
    assert {"eduframe", "anewspring", "pynter", "pluvo"} <= set(names)
    assert "lara" not in names  # it has no auto-progress route: its periods end through the control API
    assert json.dumps(progress.describe(names))
