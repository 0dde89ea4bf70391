"""The docs site builds from the code, with warnings as errors (``mkdocs build --strict``), into a temp dir.

The build reads every docstring the API reference shows (mkdocstrings, through griffe) and includes the
README's sections into the prose pages, so a docstring griffe cannot parse, a README heading a page
includes that is gone, or a link to a page that does not exist fails this test.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    done = subprocess.run(
        [*command, "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8") if name else (site / "index.html").read_text()


def test_the_readme_is_the_front_page(site: Path):
    front = _page(site, "")
    readme_title = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    assert readme_title in front
    assert "Connections" in front


@pytest.mark.parametrize(
    ("page", "documented"),
    [
        ("api/hooks", ["EduframeHook", "PluvoHook", "LmsHook"]),
        ("api/operators", ["LmsSubscribeOperator", "LmsEnsureLearnersOperator"]),
        ("api/sensors", ["EnrollmentCompletedSensor", "LaraCyclePeriodEndedSensor"]),
        ("api/triggers", ["EnrollmentCompletedTrigger"]),
        ("api/webhooks", ["airflow_provider_lms.webhooks.receiver"]),
        ("api/models", ["NormalizedEnrollment", "EnrollmentState"]),
        ("api/sandbox", ["SandboxServer", "FaultConfig"]),
        ("api/testing", ["SandboxControl", "lms_run_dag", "AirflowRunner"]),
    ],
)
def test_the_api_reference_is_generated_from_the_docstrings(site: Path, page: str, documented: list[str]):
    html = _page(site, page)
    for name in documented:
        assert name in html, f"{page} does not document {name}"
    # The :param: fields became a parameter table, not raw reST.
    assert ":param " not in html


@pytest.mark.parametrize(
    ("page", "text"),
    [
        ("connections", "API key"),
        ("operators", "already_done"),
        ("sensors", "not_enrolled"),
        ("webhooks", "lms_webhook_pluvo"),
        ("sandbox", "/_sandbox/faults"),
        ("capabilities", "LmsSubscribeOperator"),
        ("assumptions", "ASSUMPTION"),
        # The full example is the tested file itself, included, so the page cannot drift from it.
        ("testing", "test_learners_are_enrolled_once_and_the_run_waits_for_their_completion"),
    ],
)
def test_each_page_carries_its_text(site: Path, page: str, text: str):
    html = _page(site, page)
    assert text in html
    assert "{%" not in html, f"{page} has an include that was not processed"


def test_only_the_one_griffe_message_about_other_signatures_is_dropped():
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "docs" / "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    hooks.on_startup(command="build", dirty=False)
    logger = logging.getLogger("mkdocs.plugins.griffe")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep()
    logger.addHandler(handler)
    try:
        logger.warning("griffe: x.py:3: No matching parameter for 'lms_conn_id'")
        logger.warning("griffe: x.py:3: Failed to parse field directive from ':param x'")
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
    assert seen == ["griffe: x.py:3: Failed to parse field directive from ':param x'"]
