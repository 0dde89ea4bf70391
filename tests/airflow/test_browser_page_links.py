"""The "LMS page" extra link in Airflow's UI: shown on a finished task, it opens the sandbox's course page.

A real API server (SQLite), a DAG run by ``airflow dags test`` against the sandbox, then headless Chromium
on the task instance's page: the button is there, points at the platform page for the task's course, and
the page it opens is the sandbox's page for that course.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.testing import sandbox_connection_env
from tests.airflow.browser import artifacts_dir, chromium, chromium_path, open_airflow
from tests.airflow.live import LiveAirflow, live_airflow

pytestmark = pytest.mark.airflow

DAG_ID = "lms_page_link_demo"
DAG_FILE = f'''
import pendulum
from airflow.sdk import DAG
from airflow_provider_lms.operators import LmsSubscribeOperator

with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    LmsSubscribeOperator(task_id="enroll", lms_conn_id="eduframe_default", course_id="02", learner_ids=[1, 2])
'''


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveAirflow, SandboxServer, str]]:
    chromium_path()
    dags = tmp_path_factory.mktemp("dags")
    (dags / "page_link_demo.py").write_text(textwrap.dedent(DAG_FILE))
    with (
        SandboxServer() as sandbox,
        live_airflow(
            dags,
            tmp_path_factory.mktemp("airflow-home"),
            tmp_path_factory.mktemp("logs"),
            components=("api-server",),
            env=sandbox_connection_env(sandbox.url),
        ) as live,
    ):
        run = live.airflow.dags_test(DAG_ID)
        assert run.returncode == 0 and run.task_states == {"enroll": "success"}, run.output[-3000:]
        [(run_id,)] = live.airflow.query("SELECT run_id FROM dag_run WHERE dag_id = ?", DAG_ID)
        yield live, sandbox, run_id


def test_the_task_shows_the_link_and_it_opens_the_sandbox_page_of_its_course(setup):
    live, sandbox, run_id = setup
    expected = f"{sandbox.url}/_sandbox/pages/eduframe/planned_courses/2"
    # What the worker stored for the UI when the task ended (the UI runs none of our code).
    [(stored,)] = live.airflow.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'enroll' AND key = '_link_LmsPageLink'", DAG_ID
    )
    assert expected in (stored.decode() if isinstance(stored, bytes) else str(stored))
    # What Airflow's public REST API (and so the UI) serves for the task.
    links = live.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/enroll/links")
    assert links.status_code == 200, links.text
    assert links.json()["extra_links"] == {"LMS page": expected}
    shots = artifacts_dir("page_links")
    with chromium() as browser:
        page = open_airflow(browser, live)
        page.goto(f"{live.url}/dags/{DAG_ID}/runs/{run_id}/tasks/enroll")
        # Airflow's UI lists a task's extra links under "Extra Links" on its Details tab.
        page.get_by_role("tab", name="Details").or_(page.get_by_role("link", name="Details")).first.click()
        button = page.get_by_role("link", name="LMS page")
        try:
            button.wait_for()
        finally:
            page.screenshot(path=str(shots / "task_with_link.png"), full_page=True)
        assert button.get_attribute("href") == expected
        with page.context.expect_page() as opened:
            button.click()
        course_page = opened.value
        course_page.wait_for_load_state()
        assert course_page.url == expected
        heading = course_page.locator("h1")
        assert heading.get_attribute("data-platform") == "eduframe"
        assert heading.get_attribute("data-path") == "/planned_courses/2"
        course_page.screenshot(path=str(shots / "sandbox_course_page.png"))
