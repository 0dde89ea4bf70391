#!/usr/bin/env python3
"""Developer entry point; needs nothing but Python 3.10+.

    python dev.py demo     # the example DAG end-to-end in a real Airflow against the sandbox
    python dev.py test     # ruff, mypy, the whole suite on the newest Airflow we test (3.3.2), its
                           #   Airflow-dependent part on 3.2.0 (--airflow newest|oldest to run one; pytest
                           #   arguments may follow)
    python dev.py bench    # the benchmarks under benchmarks/ (installs the `bench` and `scaleout` extras and
                           #   Debian's redis-server and postgresql on first use)
    python dev.py soak     # the long fault-injection runs the test command skips
    python dev.py sandbox  # serve the sandbox in the foreground on http://127.0.0.1:8765

The first run creates ``.venv/`` (the newest Airflow we test) and installs the project with its test extras into
it, pinned by ``constraints/airflow-<version>.txt`` as CI runs it;
``test`` also creates ``.venv-airflow-3.2.0/`` for the oldest Airflow we support, and installs Debian's
Chromium for the browser test when it is missing (as root, or with sudo). For the scale-out tier
(tests/scaleout: CeleryExecutor, Postgres, Redis, two workers) it installs Debian's ``postgresql`` and
``redis-server`` the same way, and the ``scaleout`` extra into the newest Airflow's venv only; set
LMS_SKIP_SCALEOUT_TESTS=1 to skip that tier. ``bench`` installs the ``scaleout`` extra and (unless
LMS_SKIP_SCALEOUT_TESTS=1) the same Debian packages too: the shared-limit benchmark starts a throwaway
redis-server and uses redis-py. Later runs reuse them and reinstall only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
#: The oldest Airflow we support (pyproject.toml: apache-airflow>=3.2.0); `test` runs the suite on it too.
OLDEST_AIRFLOW = "3.2.0"
#: The newest Airflow we test: `.venv/` installs it with constraints/airflow-<this>.txt, our tested set of
#: versions (a new celery, say, cannot break CI unseen). Moving on is a new constraints file and this line.
NEWEST_AIRFLOW = "3.3.2"
CHROMIUM = "/usr/bin/chromium"
#: What runs on the oldest Airflow: the tests whose outcome can change with Airflow's version. The unit tests
#: (hooks, operators, sensors and triggers on Airflow's SDK classes, the Test-button compat, the webhook store),
#: the DAG-author plugin (dag.test()), the provider's registration in a real Airflow, the webhook receiver in
#: a live API server (it records asset events through Airflow's own interfaces) and one example flow through
#: `airflow dags test`. The sandbox, fault, docs, package and other real-Airflow tests drive our own code over
#: HTTP the same way on any Airflow: they run on the newest only, so that the command stays under 45 minutes.
OLDEST_SUITE = (
    "tests/unit",
    "tests/dag_author",
    "tests/airflow/test_provider_registration.py",
    "tests/airflow/test_webhook_receiver_run.py",
    "tests/airflow/test_eduframe_flow_run.py",
)


def _python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


VENV = ROOT / ".venv"
PYTHON = _python(VENV)


def _say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_venv(extras: str = "test", venv_dir: Path = VENV, airflow: str = NEWEST_AIRFLOW) -> Path:
    """Create ``venv_dir`` and install the project (editable, with ``extras``) when needed; its Python.

    :param airflow: the exact Airflow version to install, with ``constraints/airflow-<airflow>.txt``.
    """
    if sys.version_info < (3, 10):  # noqa: UP036 - this file runs under whatever python3 the machine has
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}")
    python, stamp = _python(venv_dir), venv_dir / ".installed-from"
    inputs = [ROOT / "pyproject.toml", ROOT / "constraints" / f"airflow-{airflow}.txt"]
    wanted = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()
    installed_hash, _, installed_extras = stamp.read_text().partition("\n") if stamp.exists() else ("", "", "")
    have = set(installed_extras.split(","))
    # Reinstall only when pyproject.toml changed or an extra is missing (bench on top of test, say).
    if python.exists() and installed_hash.strip() == wanted and set(extras.split(",")) <= have:
        return python
    extras = ",".join(sorted((have | set(extras.split(","))) - {""})) if installed_hash.strip() == wanted else extras
    if not python.exists():
        _say(f"creating {venv_dir}")
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    _say(f"installing airflow-provider-lms with its {extras} extras and Airflow {airflow} (first run: a few minutes)")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    # An exact Airflow comes with the pins it needs (constraints/airflow-<version>.txt), in Airflow's own
    # manner of installing a release with its constraints.
    pins = ["-c", str(ROOT / "constraints" / f"airflow-{airflow}.txt"), f"apache-airflow=={airflow}"]
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]", *pins], check=True)
    stamp.write_text(f"{wanted}\n{extras}")
    return python


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser test when it is missing (the test says so if this fails)."""
    if Path(CHROMIUM).exists() or os.environ.get("LMS_CHROMIUM") or os.environ.get("LMS_SKIP_BROWSER_TESTS") == "1":
        return
    if not shutil.which("apt-get"):
        _say("no apt-get: install Chromium yourself and set LMS_CHROMIUM, or set LMS_SKIP_BROWSER_TESTS=1")
        return
    sudo = [] if os.name != "nt" and os.geteuid() == 0 else ["sudo", "-n"]
    _say("installing Debian's chromium for the browser test (apt-get, about half a minute)")
    install = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=False, stdout=subprocess.DEVNULL)
        subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL)


#: Debian packages the scale-out tier needs, and a program of each that shows it is installed.
SCALEOUT_PACKAGES = {"postgresql": "/usr/lib/postgresql", "redis-server": "/usr/bin/redis-server"}


def ensure_scaleout_services() -> None:
    """Install Debian's ``postgresql`` and ``redis-server`` for the scale-out tier when missing.

    The tier starts its own throwaway servers on loopback (tests/scaleout/services.py); the packages' own
    services are not needed. When this is impossible the tier fails and says why, unless
    LMS_SKIP_SCALEOUT_TESTS=1.
    """
    if os.environ.get("LMS_SKIP_SCALEOUT_TESTS") == "1":
        return
    missing = [pkg for pkg, path in SCALEOUT_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if not shutil.which("apt-get"):
        _say(f"no apt-get: install {' and '.join(missing)} yourself, or set LMS_SKIP_SCALEOUT_TESTS=1")
        return
    root = os.name != "nt" and os.geteuid() == 0
    if not root and not shutil.which("sudo"):
        _say(f"not root and no sudo: cannot install {' and '.join(missing)}; the scale-out tier will say so")
        return
    sudo = [] if root else ["sudo", "-n"]
    _say(f"installing Debian's {' and '.join(missing)} for the scale-out tier (apt-get, about a minute)")
    install = [*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    # Only the programs are needed. Where the packages start their own services, those listen on the default
    # ports (5432, 6379), which the tier never uses.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=False, stdout=subprocess.DEVNULL)
        if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode != 0:
            _say(f"apt-get could not install {' and '.join(missing)}; the scale-out tier will say so")


def run(*args: str, python: Path = PYTHON, env: dict[str, str] | None = None) -> int:
    """Run a command with a venv's Python, from the project root."""
    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([str(python), *args], cwd=ROOT, env=full, check=False).returncode


def cmd_test(extra: list[str]) -> int:
    which = "both"
    for arg in list(extra):
        if arg.startswith("--airflow="):
            which = arg.split("=", 1)[1]
            extra.remove(arg)
    if which not in ("both", "newest", "oldest"):
        print(f"--airflow must be newest, oldest or both, not {which!r}")
        return 2
    for step in (
        ["-m", "ruff", "check", "."],
        ["-m", "ruff", "format", "--check", "."],
        ["-m", "mypy"],
    ):
        _say("running " + " ".join(step[1:]))
        if (code := run(*step)) != 0:
            return code
    ensure_chromium()
    # The slowest tests are named at the end of each run: the whole command must stay under 45 minutes.
    extra = extra or ["-q", "--durations=25"]
    failed = []
    if which in ("both", "newest"):
        # The scale-out tier runs on the newest Airflow only: its extra (the Celery provider, Postgres drivers,
        # redis-py) goes into that venv, on top of whatever extras it has.
        if os.environ.get("LMS_SKIP_SCALEOUT_TESTS") != "1":
            ensure_scaleout_services()
            ensure_venv("scaleout")
        _say("running the test suite on the newest Airflow")
        run("-c", "import airflow; print('[dev] Airflow', airflow.__version__)")
        if run("-m", "pytest", *extra) != 0:
            failed.append("newest")
    if which in ("both", "oldest"):
        python = ensure_venv("test", ROOT / f".venv-airflow-{OLDEST_AIRFLOW}", OLDEST_AIRFLOW)
        _say(f"running the Airflow-dependent tests on the oldest supported Airflow, {OLDEST_AIRFLOW}")
        skip = {"LMS_SKIP_SCALEOUT_TESTS": "1"}
        # Paths given after `test` replace the oldest's selection too.
        given = any((ROOT / a.split("::")[0]).exists() for a in extra if not a.startswith("-"))
        paths = [] if given else list(OLDEST_SUITE)
        if run("-m", "pytest", *extra, *paths, "-m", "not soak and not scaleout", python=python, env=skip) != 0:
            failed.append(OLDEST_AIRFLOW)
    if failed:
        _say("the test suite failed on Airflow " + " and ".join(failed))
        return 1
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, extra = argv[0], argv[1:]
    # bench: benchmarks/scenario_shared_limit.py needs redis-server and the scaleout extra's redis-py.
    ensure_venv("test,lint,bench,scaleout" if command == "bench" else "test,lint")
    if command == "bench":
        ensure_scaleout_services()
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
