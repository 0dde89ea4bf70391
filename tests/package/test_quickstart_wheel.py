"""The README's quickstart, run as written: wheel, fresh venv, fresh ``AIRFLOW_HOME``, no source tree.

The commands come from the bash block between ``<!-- quickstart:start -->`` and ``<!-- quickstart:end -->``
in README.md, so the README and this test cannot drift apart. Only the values of the block's settings are
replaced: ``LMS_PROVIDER`` by the wheel built from this tree, ``AIRFLOW_VERSION`` and ``AIRFLOW_CONSTRAINTS``
by this venv's Airflow and its own pins (CI reaches PyPI, not GitHub, where Airflow's constraint files are;
the same pins also keep the install to a few minutes, from pip's cache). The sandbox serves on its default
port, 8765, as the quickstart says; the test fails at once when that port is taken (by another sandbox,
whose learners might never progress).
The block runs under ``bash -e`` in an empty folder outside the source tree, with no ``PYTHONPATH`` and no
``AIRFLOW__*`` settings, and ``python3`` on the PATH is the base interpreter of this venv.

It runs on the newest Airflow only (the quickstart installs one Airflow; the oldest supported version is
covered by the rest of the suite): skipped when this venv's Airflow is dev.py's ``OLDEST_AIRFLOW``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest

import airflow_provider_lms
from airflow_provider_lms.testing import sandbox_connection_env
from tests.package.distributions import ROOT, build_distributions

pytestmark = pytest.mark.airflow

README = ROOT / "README.md"
START, END = "<!-- quickstart:start -->", "<!-- quickstart:end -->"
#: The settings the test may set; everything else in the block runs verbatim.
SETTINGS = ("LMS_PROVIDER", "AIRFLOW_VERSION", "AIRFLOW_CONSTRAINTS")
#: The sandbox's default port, which the quickstart uses as written.
SANDBOX_PORT = 8765
DAG_ID = "lms_eduframe_enrollment_to_certification"
#: What a newcomer can wait for: the DAG's own run time, from its start to its end (issue 17). A machine
#: shared with other heavy work may need more: LMS_QUICKSTART_MAX_DAG_SECONDS says how much.
MAX_DAG_SECONDS = float(os.environ.get("LMS_QUICKSTART_MAX_DAG_SECONDS", "60"))
#: Paths that exist only in a checkout: the quickstart must not need any of them.
SOURCE_ONLY = ("example_dags", "dev.py", "scripts/", "tests/", "CONTRIBUTING", "/work/")


def _oldest_airflow() -> str:
    text = (ROOT / "dev.py").read_text(encoding="utf-8")
    match = re.search(r'^OLDEST_AIRFLOW = "([^"]+)"', text, re.MULTILINE)
    assert match, "dev.py no longer says OLDEST_AIRFLOW"
    return match.group(1)


AIRFLOW_VERSION = version("apache-airflow")
if _oldest_airflow() == AIRFLOW_VERSION:
    pytest.skip(
        f"the quickstart installs the newest Airflow; this venv has the oldest, {AIRFLOW_VERSION}",
        allow_module_level=True,
    )


def quickstart_block(markdown: str) -> str:
    """The bash block between the quickstart markers (exactly one)."""
    assert START in markdown and END in markdown, (
        f"README.md has no {START} ... {END} block (the quickstart this test runs)"
    )
    section = markdown.split(START, 1)[1].split(END, 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"the quickstart section should hold one bash block, found {len(blocks)}"
    return blocks[0]


def with_settings(block: str, values: dict[str, str]) -> str:
    """The block with each setting's value replaced; every setting must be assigned exactly once."""
    for name, value in values.items():
        pattern = re.compile(rf"^{name}=.*$", re.MULTILINE)
        assert len(pattern.findall(block)) == 1, f"the quickstart should set {name} once, on a line of its own"
        block = pattern.sub(lambda _m, n=name, v=value: f"{n}={shlex.quote(v)}", block)
    return block


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the sandbox binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _constraints(path: Path) -> Path:
    """This venv's pins, minus the project itself (installed from the wheel instead)."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    keep = [
        line
        for line in frozen.splitlines()
        if line and not line.startswith(("#", "-")) and " @ " not in line
        if not line.lower().replace("_", "-").startswith("airflow-provider-lms")
    ]
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


def _environment(shims: Path) -> dict[str, str]:
    """The user's environment as a newcomer has it: no Airflow settings, no source tree, no venv."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "AIRFLOW_HOME", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env["PATH"] = os.pathsep.join([str(shims), *path])
    # Byte-compiling all of Airflow at install time costs a minute of CPU; modules compile when imported.
    env["PIP_NO_COMPILE"] = "1"
    return env


def _redacted(text: str) -> str:
    # The sandbox prints its demo credentials; the suite's secrets guard treats them as secrets all the same.
    secrets: set[str] = set()
    for value in sandbox_connection_env("http://127.0.0.1:1").values():
        secrets.update(re.findall(r'"(?:password|[a-z_]*secret|login)": "([^"]+)"', value))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass
class QuickstartRun:
    returncode: int
    output: str
    workdir: Path
    home: Path
    venv: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> QuickstartRun:
    block = quickstart_block(Path(os.environ.get("LMS_QUICKSTART_MARKDOWN", README)).read_text(encoding="utf-8"))
    dists = build_distributions(tmp_path_factory.mktemp("build"))
    workdir = tmp_path_factory.mktemp("newcomer")
    assert not workdir.resolve().is_relative_to(ROOT)
    shims = workdir.parent / f"{workdir.name}-shims"
    shims.mkdir()
    (shims / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    constraints = _constraints(workdir.parent / f"{workdir.name}-constraints.txt")
    script = with_settings(
        block,
        {
            "LMS_PROVIDER": str(dists.wheel),
            "AIRFLOW_VERSION": AIRFLOW_VERSION,
            "AIRFLOW_CONSTRAINTS": str(constraints),
        },
    )
    assert _port_is_free(SANDBOX_PORT), f"port {SANDBOX_PORT}, where the quickstart serves the sandbox, is taken"
    # -e: stop at the first failing command; -x: the transcript shows which. The trap stops the sandbox.
    prologue = "set -eo pipefail -x\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
    env = _environment(shims)
    process = subprocess.Popen(
        ["bash", "-c", prologue + script],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=1200)
    finally:
        # Whatever the outcome, nothing the block started outlives the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        if process.poll() is None:
            process.kill()
            output, _ = process.communicate()
    return QuickstartRun(
        returncode=process.returncode,
        output=output,
        workdir=workdir,
        home=workdir / "airflow-home",
        venv=workdir / "lms-quickstart",
        env=env,
    )


def _dag_run(home: Path) -> tuple[str, datetime, datetime]:
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "SELECT state, start_date, end_date FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (DAG_ID,)
        ).fetchone()
    assert row is not None, "no DAG run recorded"
    state, start, end = row
    return str(state), datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end))


def test_the_readme_quickstart_names_no_path_of_the_source_tree() -> None:
    block = quickstart_block(Path(os.environ.get("LMS_QUICKSTART_MARKDOWN", README)).read_text(encoding="utf-8"))
    assert [p for p in SOURCE_ONLY if p in block] == []
    assert "--auto-progress" in block and "airflow db migrate" in block


def test_the_quickstart_runs_through_and_the_dag_succeeds_on_its_own_within_a_minute(
    quickstart: QuickstartRun,
) -> None:
    assert quickstart.returncode == 0, _redacted(quickstart.output[-8000:])
    state, start, end = _dag_run(quickstart.home)
    assert state == "success", _redacted(quickstart.output[-8000:])
    with sqlite3.connect(quickstart.home / "airflow.db") as db:
        rows = db.execute(
            "SELECT task_id || CASE WHEN map_index >= 0 THEN '[' || map_index || ']' ELSE '' END, state, "
            "start_date, end_date FROM task_instance WHERE dag_id = ? ORDER BY start_date",
            (DAG_ID,),
        ).fetchall()
    tasks = {task: task_state for task, task_state, _, _ in rows}
    timeline = "\n".join(f"{task}: {started} .. {ended}" for task, _, started, ended in rows)
    assert (end - start).total_seconds() < MAX_DAG_SECONDS, f"run {start} .. {end}; tasks:\n{timeline}"
    # Every learner's wait ended because the sandbox completed them, and the certificates were awarded.
    assert {t for t in tasks if t.startswith("wait_for_completion[")} == {f"wait_for_completion[{i}]" for i in range(3)}
    assert set(tasks.values()) == {"success"}, tasks


def test_airflow_lists_the_provider_with_its_version(quickstart: QuickstartRun) -> None:
    shown = re.search(r"^airflow-provider-lms\s*\|.*\|\s*(\S+)\s*$", quickstart.output, re.MULTILINE)
    assert shown is not None, _redacted(quickstart.output[-4000:])
    assert shown.group(1) == airflow_provider_lms.__version__


def test_the_provider_and_the_dags_came_from_the_wheel_not_the_source_tree(quickstart: QuickstartRun) -> None:
    python = quickstart.venv / "bin" / "python"
    probe = "import airflow_provider_lms.examples as e, sys; print(e.__file__); print(e.examples_folder())"
    done = subprocess.run(
        [str(python), "-c", probe],
        cwd=quickstart.workdir,
        env=quickstart.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    module, folder = (Path(line) for line in done.stdout.splitlines()[-2:])
    assert module.is_relative_to(quickstart.venv) and folder.is_relative_to(quickstart.venv)
    installed = sorted(p.name for p in (quickstart.home / "dags").glob("*.py"))
    assert f"{DAG_ID}.py" in installed and installed == sorted(p.name for p in folder.glob("*.py"))
    assert (quickstart.home / "dags" / "data").is_dir()
