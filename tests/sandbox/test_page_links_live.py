"""The "LMS page" link of bulk operators and the enrollment sensor, opened against the sandbox's pages."""

from __future__ import annotations

import json

import httpx
import pytest

from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.links import LmsPageLink
from airflow_provider_lms.operators import LmsSubscribeOperator, LmsUnsubscribeOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.testing import sandbox_connection_env


@pytest.fixture
def connections(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    env = sandbox_connection_env(sandbox.url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {name: json.loads(value) for name, value in env.items()}


def link(operator) -> str:
    return LmsPageLink().get_link(operator, ti_key=None)  # type: ignore[arg-type]


def test_a_subscribe_task_links_to_the_course_page_the_sandbox_serves(sandbox, connections):
    op = LmsSubscribeOperator(task_id="s", lms_conn_id="eduframe_default", course_id="06", learner_ids=[1])
    url = link(op)
    # The platform's rule normalises the id ("06" is course 6) before it goes into the link.
    assert url == f"{sandbox.url}/_sandbox/pages/eduframe/planned_courses/6"
    page = httpx.get(url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "data-path='/planned_courses/6'" in page.text and "eduframe sandbox" in page.text


def test_the_sensor_links_to_the_enrollment_and_other_platforms_to_their_pages(sandbox, connections):
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id="eduframe_default", enrollment_id=41)
    assert link(sensor).endswith("/_sandbox/pages/eduframe/enrollments/41")
    by_course = EnrollmentCompletedSensor(task_id="w2", lms_conn_id="eduframe_default", learner_id=3, course_id=2)
    assert link(by_course).endswith("/_sandbox/pages/eduframe/planned_courses/2")
    training = "10000000-0000-4000-8000-000000000001"
    pluvo = LmsUnsubscribeOperator(task_id="u", lms_conn_id="pluvo_default", course_id=training, learner_ids=["x"])
    assert link(pluvo) == f"{sandbox.url}/_sandbox/pages/pluvo/trainings/{training}"
    assert httpx.get(link(pluvo)).status_code == 200


def test_no_web_url_means_no_button_and_an_id_cannot_leave_its_path_segment(sandbox, connections, monkeypatch):
    edu = connections["AIRFLOW_CONN_EDUFRAME_DEFAULT"]
    bare = {**edu, "extra": {k: v for k, v in edu["extra"].items() if k != "web_url"}}
    monkeypatch.setenv("AIRFLOW_CONN_EDU_BARE", json.dumps(bare))
    assert link(LmsSubscribeOperator(task_id="s", lms_conn_id="edu_bare", course_id=1, learner_ids=[1])) == ""
    # aNewSpring course ids are free text: "/", "?" and ".." stay inside one percent-encoded segment.
    ans = LmsSubscribeOperator(task_id="a", lms_conn_id="anewspring_default", course_id="a/../b?x", learner_ids=["u"])
    assert link(ans).endswith("/_sandbox/pages/anewspring/courses/a%2F..%2Fb%3Fx")


def test_page_paths_can_be_overridden_and_bad_ones_are_refused_naming_the_extra(sandbox, connections, monkeypatch):
    edu = connections["AIRFLOW_CONN_EDUFRAME_DEFAULT"]
    custom = {**edu, "extra": {**edu["extra"], "course_page_path": "/catalog/{course_id}/overview"}}
    monkeypatch.setenv("AIRFLOW_CONN_EDU_CUSTOM", json.dumps(custom))
    op = LmsSubscribeOperator(task_id="s", lms_conn_id="edu_custom", course_id=9, learner_ids=[1])
    assert link(op).endswith("/_sandbox/pages/eduframe/catalog/9/overview")
    for bad, field in (({"course_page_path": "/x/{secret}"}, "course_page_path"), ({"web_url": "ftp://x"}, "web_url")):
        monkeypatch.setenv("AIRFLOW_CONN_EDU_BAD", json.dumps({**edu, "extra": {**edu["extra"], **bad}}))
        with pytest.raises(LmsInputError, match=field):
            _ = get_lms_hook("edu_bad").connection_config
