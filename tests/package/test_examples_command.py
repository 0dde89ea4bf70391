"""``python -m airflow_provider_lms.examples``: list the example DAGs, install them into a DAG folder.

Run as a user runs it (a subprocess, from a folder outside the source tree). Here the package is the
checkout's (an editable install); the wheel's layout is covered by tests/unit/test_package_shape.py and
the quickstart test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_lms.examples import InstallAction, example_dags, install, plan_install

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_dags"


def examples(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_lms.examples", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def shipped_files() -> dict[str, bytes]:
    return {
        str(p.relative_to(EXAMPLES)): p.read_bytes()
        for p in EXAMPLES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def folder_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_list_shows_every_example_dag_by_its_dag_id(tmp_path: Path) -> None:
    done = examples("list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for path in EXAMPLES.glob("*.py"):
        assert path.stem in done.stdout  # each example's dag_id is its file name
    assert "data/anewspring_exam_scores.csv" in done.stdout and "data/pluvo_hr_export.csv" in done.stdout


def test_the_dag_ids_are_read_from_the_source() -> None:
    dags = {d.path.name: d for d in example_dags(EXAMPLES)}
    assert dags["lms_eduframe_enrollment_to_certification.py"].dag_id == "lms_eduframe_enrollment_to_certification"
    assert dags["lms_eduframe_enrollment_to_certification.py"].summary.startswith("Eduframe")


def test_install_copies_the_dags_and_their_data_files_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    dags = tmp_path / "airflow-home" / "dags"
    first = examples("install", str(dags), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert folder_files(dags) == shipped_files()
    assert "created" in first.stdout and f"{len(shipped_files())} created" in first.stdout

    before = {p: p.stat().st_mtime_ns for p in dags.rglob("*") if p.is_file()}
    again = examples("install", str(dags), cwd=tmp_path)
    assert again.returncode == 0
    assert f"0 created, 0 overwritten, {len(shipped_files())} unchanged" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in dags.rglob("*") if p.is_file()} == before


def test_a_changed_file_is_never_overwritten_without_force_and_nothing_else_is_written(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    assert examples("install", str(dags), cwd=tmp_path).returncode == 0
    mine = dags / "data" / "pluvo_hr_export.csv"
    mine.write_text("employee_id,email\nE1,me@example.com\n", encoding="utf-8")
    removed = dags / "lms_pynter_recertification.py"
    removed.unlink()

    refused = examples("install", str(dags), cwd=tmp_path)
    assert refused.returncode == 1
    assert "data/pluvo_hr_export.csv" in refused.stdout and "--force" in refused.stdout
    assert mine.read_text(encoding="utf-8").startswith("employee_id,email\nE1,")
    assert not removed.exists()  # all or nothing: the missing DAG is not put back beside a changed data file

    forced = examples("install", str(dags), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stdout
    assert folder_files(dags) == shipped_files()
    assert "overwrite" in forced.stdout


def test_a_users_own_files_in_the_dag_folder_are_left_alone(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    own = dags / "my_dag.py"
    own.write_text("# mine\n", encoding="utf-8")
    plan = install(dags, source=EXAMPLES)
    assert plan.conflicts == []
    assert own.read_text(encoding="utf-8") == "# mine\n"
    assert plan_install(dags, source=EXAMPLES).count(InstallAction.UNCHANGED) == len(shipped_files())


def test_a_folder_where_a_file_should_be_is_a_conflict(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    (dags / "lms_lara_cycle_compliance.py").mkdir(parents=True)
    plan = install(dags, source=EXAMPLES)
    assert plan.conflicts == [Path("lms_lara_cycle_compliance.py")]
    assert not (dags / "lms_eduframe_enrollment_to_certification.py").exists()


@pytest.mark.parametrize("args", [[], ["install"], ["remove", "x"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert examples(*args, cwd=tmp_path).returncode == 2
