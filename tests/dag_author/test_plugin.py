"""The ``lms`` pytest plugin itself: it loads without side effects, and its fixtures do what they say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from airflow_provider_lms.pytest_plugin import SandboxControlError

HELLO_DAG = Path(__file__).parent / "dags" / "hello_dag.py"


def test_the_plugin_is_registered_for_every_pytest_run():
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("lms") == "airflow_provider_lms.pytest_plugin"


def test_loading_the_plugin_imports_neither_airflow_nor_the_sandbox():
    code = (
        "import json, sys; import airflow_provider_lms.pytest_plugin; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('airflow', 'httpx', 'fastapi', 'uvicorn', 'sqlalchemy') or m.startswith('airflow_provider_lms.sandbox'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == []


def test_a_run_returns_states_and_xcom_and_leaves_airflow_as_it_was(lms_run_dag):
    from airflow import settings

    before = (settings.SQL_ALCHEMY_CONN, os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"))

    result = lms_run_dag(HELLO_DAG, conf={"who": "world"})

    assert result.succeeded, result.task_states
    assert result.dag_id == "hello_dag"
    assert result.task_states == {"hello": "success"}
    assert result.xcom["hello"] == {"greeting": "hello", "conf": {"who": "world"}}
    assert (settings.SQL_ALCHEMY_CONN, os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")) == before


def test_a_file_with_another_dag_id_is_refused_by_name(lms_run_dag):
    with pytest.raises(LookupError, match=r"defines no DAG 'nope'.*hello_dag"):
        lms_run_dag(HELLO_DAG, dag_id="nope")


def test_connections_point_every_platform_at_the_sandbox(lms_connections, lms_sandbox):
    assert set(lms_connections) == {"anewspring", "eduframe", "lara", "pluvo", "pynter"}
    for conn_id in lms_connections.values():
        conn = json.loads(os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"])
        assert lms_sandbox.url in json.dumps(conn)


def test_a_learner_is_seeded_once_however_often_it_is_asked(lms_sandbox_control):
    eduframe = lms_sandbox_control.eduframe
    first = eduframe.seed_learner("sam.de.wit@example.com", "Sam", "de Wit")
    again = eduframe.seed_learner("Sam.de.Wit@example.com", "Sam", "de Wit")
    assert first == again
    assert [u["id"] for u in eduframe.state()["users"] if u["email"] == "sam.de.wit@example.com"] == [first]


def test_each_platform_part_reaches_its_control_routes(lms_sandbox_control):
    control = lms_sandbox_control
    assert control.anewspring.seed_learner("learner-900", "New Learner") == "learner-900"
    assert "learner-900" in [u["id"] for u in control.anewspring.state()["user_records"]]

    users = control.pluvo.state()["users"]
    assert len(control.pluvo.seed_learner("Pat Pluvo", email="pat@example.com", ref="HR-9")) == 36  # a UUID
    assert control.pluvo.state()["users"] == users + 1

    before = len(control.pynter.state()["results"])
    control.pynter.add_result("E1001", 1)
    assert len(control.pynter.state()["results"]) == before + 1
    with pytest.raises(SandboxControlError, match="unknown person or module"):
        control.pynter.add_result("E1001", 999)

    period = control.lara.state()["periods"][1]["cyclePeriodId"]
    ended = control.lara.end_period(period)
    assert ended["endDate"] < control.lara.state()["now"]


def test_refusals_raise_with_the_sandbox_answer(lms_sandbox_control):
    with pytest.raises(SandboxControlError) as refused:
        lms_sandbox_control.eduframe.complete_enrollment(424242)
    assert refused.value.status == 404


def test_faults_can_be_aimed_at_one_platform_and_switched_off(lms_sandbox_control):
    settings = lms_sandbox_control.inject_faults(["503"], rate=1.0, platform="pluvo", max_faults=1)
    assert settings["path_prefix"].startswith("/pluvo")
    with pytest.raises(ValueError, match="platform: the sandbox serves no 'moodle'"):
        lms_sandbox_control.inject_faults(["503"], platform="moodle")
    assert lms_sandbox_control.clear_faults()["fault_rate"] == 0


def test_each_test_starts_from_the_seed_data(lms_sandbox_control):
    # The seeding tests above added learners; the reset before this test took them away again.
    emails = [u["email"] for u in lms_sandbox_control.eduframe.state()["users"]]
    assert "sam.de.wit@example.com" not in emails
