"""The secrets guard (``tests/faults/secrets_guard.py``) knows the suite's secrets and catches a leak.

The guard runs with every test session; these tests show it is not a no-op: it finds every kind of secret
the suite uses, and a separate pytest run over small tests that leak (print, log, fail with, write a task
log or an XCom row holding a secret, or print a token the sandbox issued) fails with the test or file and
the secret's name, never the secret's value; so does an Airflow command whose output (the task log under
``dags test``) shows one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.app import PLATFORMS
from airflow_provider_lms.sandbox.lara import LARA_CREDENTIALS
from tests.faults.conftest import STORM_EXTRAS, connect
from tests.faults.secrets_guard import PLUGIN_NAME, TESTS_ROOT, SecretsGuard, build_registry

ROOT = TESTS_ROOT.parent


def _guard(config: pytest.Config) -> SecretsGuard:
    guard = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(guard, SecretsGuard), "tests/conftest.py registers the guard for every run"
    return guard


def test_the_guard_knows_every_kind_of_secret_the_suite_uses() -> None:
    from tests.airflow import (
        test_anewspring_flow_run,
        test_eduframe_flow_run,
        test_pynter_flow_run,
        test_webhook_receiver_run,
    )
    from tests.faults import test_secrets_never_leak, test_webhook_abuse
    from tests.unit import conftest as unit_conftest
    from tests.unit import test_pluvo_hook, test_pynter_hook

    known = build_registry().names
    sandbox = {
        value
        for mount in PLATFORMS
        if mount.connection_factory is not None
        for value in (mount.connection_factory("http://x").get("password"),)
        if value
    }
    expected = {
        "sandbox API keys, passwords and client secret": sandbox,
        "Lära's credential pair": set(LARA_CREDENTIALS.values()),
        "webhook secrets": {
            *test_secrets_never_leak.WEBHOOK_SECRETS.values(),
            *test_webhook_abuse.SECRETS.values(),
            test_webhook_receiver_run.PLUVO_SECRET,
            test_webhook_receiver_run.ANEWSPRING_SECRET,
        },
        "wrong credentials tried on purpose": set(test_secrets_never_leak.WRONG.values()),
        "the Airflow flow tests' own keys": {
            test_anewspring_flow_run.DISTINCT_KEY,
            test_eduframe_flow_run.DISTINCT_KEY,
            test_pynter_flow_run.DISTINCT_PASSWORD,
        },
        "the unit tests' credentials": {
            unit_conftest.SECRET,
            test_pluvo_hook.CLIENT_SECRET,
            test_pynter_hook.PASSWORD,
        },
    }
    missing = {kind: values - set(known) for kind, values in expected.items() if values - set(known)}
    assert not missing, f"the guard does not know: { {k: len(v) for k, v in missing.items()} }"
    assert len(known) >= 40


def test_the_guard_learns_the_oauth_tokens_the_sandbox_issues(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    guard = _guard(request.config)
    ok, _ = get_lms_hook(connect(monkeypatch, sandbox, "pluvo", **STORM_EXTRAS)).test_connection()
    issued = set(sandbox.state.pluvo.tokens)
    assert ok and issued
    assert issued <= set(guard.registry.names)


LEAKY_TESTS = """
import logging
import sqlite3
from datetime import datetime, timezone

from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from airflow_provider_lms.sandbox.lara import LARA_CREDENTIALS
from airflow_provider_lms.sandbox.pluvo import PluvoState
from airflow_provider_lms.sandbox.pynter import PYNTER_SANDBOX_PASSWORD


def test_prints_a_key():
    print("connecting with", EDUFRAME_SANDBOX_API_KEY)


def test_logs_a_password():
    logging.getLogger("airflow_provider_lms.leaky").warning("login failed for %s", PYNTER_SANDBOX_PASSWORD)


def test_writes_a_task_log(tmp_path):
    log = tmp_path / "airflow-home" / "logs" / "dag_id=d" / "attempt=1.log"
    log.parent.mkdir(parents=True)
    log.write_text("header X-API-Key: " + ANEWSPRING_SANDBOX_API_KEY)


def test_pushes_an_xcom(tmp_path):
    db = sqlite3.connect(tmp_path / "airflow.db")
    db.execute("CREATE TABLE xcom (key TEXT, value BLOB)")
    db.execute("INSERT INTO xcom VALUES ('return_value', ?)", (LARA_CREDENTIALS["X-Lara-Api-Secret"].encode(),))
    db.commit()
    db.close()


def test_runs_an_airflow_command_whose_task_log_shows_a_key(tmp_path, monkeypatch):
    import subprocess

    from airflow_provider_lms import testing

    # Stands in for `airflow dags test`, whose output is the task log.
    answer = subprocess.CompletedProcess([], 0, stdout="Authorization: Bearer " + EDUFRAME_SANDBOX_API_KEY, stderr="")
    monkeypatch.setattr(testing.subprocess, "run", lambda *args, **kwargs: answer)
    testing.AirflowRunner(tmp_path, home=tmp_path).airflow("dags", "test", "some_dag")


def test_prints_an_issued_token():
    token = PluvoState(lambda: datetime.now(timezone.utc)).issue_token("client", "users.read")
    print("token", token)
"""

FAILING_TESTS = """
from airflow_provider_lms.sandbox.pluvo import PLUVO_SANDBOX_CLIENT_SECRET


def test_fails_with_a_secret_in_its_message():
    raise RuntimeError("refused: " + PLUVO_SANDBOX_CLIENT_SECRET)


def test_holds_a_secret_as_input_only():
    wrong = "wrong-pluvo-secret-5590"
    answer = "401 invalid client"
    assert wrong not in answer


def test_clean():
    print("nothing to hide")
"""


def _inner_pytest(source: str) -> tuple[int, str]:
    # Outside this session's basetemp: the files it writes hold secrets on purpose, and this session's
    # own guard scans its basetemp at the end.
    with tempfile.TemporaryDirectory(prefix="lms-guard-") as folder:
        work = Path(folder)
        (work / "test_inner.py").write_text(textwrap.dedent(source))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "tests.faults.secrets_guard",
                "-p",
                "no:cacheprovider",
                "--basetemp",
                str(work / "basetemp"),
                "test_inner.py",
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    return done.returncode, done.stdout + done.stderr


def _values() -> dict[str, str]:
    from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
    from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
    from airflow_provider_lms.sandbox.pluvo import PLUVO_SANDBOX_CLIENT_SECRET
    from airflow_provider_lms.sandbox.pynter import PYNTER_SANDBOX_PASSWORD

    return {
        "eduframe": EDUFRAME_SANDBOX_API_KEY,
        "anewspring": ANEWSPRING_SANDBOX_API_KEY,
        "pynter": PYNTER_SANDBOX_PASSWORD,
        "pluvo": PLUVO_SANDBOX_CLIENT_SECRET,
        "lara": LARA_CREDENTIALS["X-Lara-Api-Secret"],
        "wrong": "wrong-pluvo-secret-5590",
    }


def test_a_leak_in_passing_tests_fails_the_session_naming_test_file_and_secret_but_not_the_value() -> None:
    code, output = _inner_pytest(LEAKY_TESTS)
    assert "6 passed" in output, output[-3000:]
    # Every test passed: only the guard can fail the session.
    assert code == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert "secrets guard: SECRETS LEAKED" in output
    report = output[output.index("SECRETS LEAKED") :]
    expected = [
        ("sandbox eduframe connection password", "test_inner.py::test_prints_a_key: captured stdout call"),
        ("sandbox eduframe connection password", "task_log_shows_a_key: output of `airflow dags test`"),
        ("sandbox pynter connection password", "test_inner.py::test_logs_a_password: captured log call"),
        ("sandbox anewspring connection password", "attempt=1.log"),
        ("sandbox lara connection credential_2_secret", "airflow.db (table xcom)"),
        ("a Pluvo OAuth token the sandbox issued", "test_inner.py::test_prints_an_issued_token: captured stdout"),
    ]
    for name, where in expected:
        assert any(name in line and where in line for line in report.splitlines()), (name, where, report)
    leaked_values = [kind for kind, value in _values().items() if value in output]
    assert not leaked_values, f"the guard's own report shows the value of: {leaked_values}"


def test_a_secret_in_a_failure_is_reported_and_a_secret_held_as_input_is_not() -> None:
    code, output = _inner_pytest(FAILING_TESTS)
    assert code == pytest.ExitCode.TESTS_FAILED and "1 failed, 2 passed" in output, output[-3000:]
    report = output[output.index("SECRETS LEAKED") :]
    lines = [line for line in report.splitlines() if " appears in " in line]
    assert len(lines) == 1, report
    assert lines[0].startswith("sandbox pluvo connection password appears in ")
    assert "test_fails_with_a_secret_in_its_message: failure text (call)" in lines[0]
