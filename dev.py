#!/usr/bin/env python3
"""Developer entry point; needs nothing but Python 3.10+.

    python dev.py demo     # the example DAG end-to-end in a real Airflow against the sandbox
    python dev.py test     # ruff, mypy and the whole test suite
    python dev.py bench    # the benchmarks under benchmarks/ (installs the `bench` extra on first use)
    python dev.py soak     # the long fault-injection runs the test command skips
    python dev.py sandbox  # serve the sandbox in the foreground on http://127.0.0.1:8765

The first run creates ``.venv/`` and installs the project with its test extras into it; later runs
reuse it and reinstall only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-from"


def _say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_venv(extras: str = "test") -> None:
    """Create .venv and install the project (editable, with ``extras``) when needed."""
    if sys.version_info < (3, 10):  # noqa: UP036 - this file runs under whatever python3 the machine has
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    installed_hash, _, installed_extras = STAMP.read_text().partition("\n") if STAMP.exists() else ("", "", "")
    have = set(installed_extras.split(","))
    # Reinstall only when pyproject.toml changed or an extra is missing (bench on top of test, say).
    if PYTHON.exists() and installed_hash.strip() == wanted and set(extras.split(",")) <= have:
        return
    extras = ",".join(sorted((have | set(extras.split(","))) - {""})) if installed_hash.strip() == wanted else extras
    if not PYTHON.exists():
        _say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing airflow-provider-lms with its test dependencies (first run: about a minute)")
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]"], check=True)
    STAMP.write_text(f"{wanted}\n{extras}")


def run(*args: str) -> int:
    """Run a command with the venv's Python, from the project root."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env, check=False).returncode


def cmd_test(extra: list[str]) -> int:
    for step in (
        ["-m", "ruff", "check", "."],
        ["-m", "ruff", "format", "--check", "."],
        ["-m", "mypy"],
    ):
        _say("running " + " ".join(step[1:]))
        if (code := run(*step)) != 0:
            return code
    _say("running the test suite")
    return run("-m", "pytest", *(extra or ["-q"]))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, extra = argv[0], argv[1:]
    ensure_venv("test,bench" if command == "bench" else "test")
    if command == "demo":
        return run(str(ROOT / "scripts" / "demo.py"), *extra)
    if command == "test":
        return cmd_test(extra)
    if command == "bench":
        return run(str(ROOT / "benchmarks" / "run_all.py"), *extra)
    if command == "soak":
        return run("-m", "pytest", "-m", "soak", *(extra or ["-q"]))
    if command == "sandbox":
        return run("-m", "airflow_provider_lms.sandbox", *extra)
    print(f"unknown command {command!r}\n{__doc__}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
