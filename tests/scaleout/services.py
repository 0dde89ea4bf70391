"""Throwaway Redis and Postgres servers on loopback, owned by the test run (their data in a temp dir).

``python3 dev.py test`` installs Debian's ``redis-server`` and ``postgresql`` when missing (as it installs
Chromium). A test that needs one and finds it missing fails and says how to get it, unless
``LMS_SKIP_SCALEOUT_TESTS=1`` says to skip the scale-out tests (dev.py sets it for the older Airflow's run,
whose venv has no ``scaleout`` extra).

Postgres refuses to run as root, so as root its cluster is created and run as the ``postgres`` user that
Debian's package creates (``runuser``), in a temp dir that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SKIP_ENV = "LMS_SKIP_SCALEOUT_TESTS"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need(what: str, how: str) -> None:
    """Skip when the scale-out tests are switched off, else fail naming what is missing and how to get it."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{what} is missing and {SKIP_ENV}=1")
    pytest.fail(f"{what} is missing: {how} (or set {SKIP_ENV}=1 to skip the scale-out tests)", pytrace=False)


def require_modules(*names: str) -> None:
    """The Python packages of the ``scaleout`` extra, or skip/fail as :func:`need` says."""
    for name in names:
        try:
            __import__(name)
        except ImportError:
            need(f"the Python package {name!r}", "pip install -e '.[test,scaleout]' (python3 dev.py test does)")


def _wait_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:g}s")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence; yields its URL (``redis://127.0.0.1:P/0``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        need("redis-server", "apt-get install redis-server (python3 dev.py test does)")
    assert binary is not None
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="lms-redis-")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_bin(name: str) -> str | None:
    """A Postgres program from Debian's newest installed major version (they are not on PATH), else PATH's."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A Postgres cluster on a free loopback port (trust auth, fsync off); yields a SQLAlchemy URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        need("Postgres (initdb, pg_ctl)", "apt-get install postgresql (python3 dev.py test does)")
    assert initdb is not None and pg_ctl is not None
    as_root = os.geteuid() == 0
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    workdir = Path(tempfile.mkdtemp(prefix="lms-postgres-"))
    if as_root:
        shutil.chown(workdir, "postgres", "postgres")
    data = workdir / "data"
    port = free_port()
    env = dict(os.environ, LC_ALL="C.UTF-8")

    def run(*args: str) -> None:
        done = subprocess.run([*run_as, *args], env=env, capture_output=True, text=True, check=False, cwd=workdir)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    run(initdb, "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=300"
    )
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "postgres.log"), "-w", "-t", "60", "start")
    try:
        createdb = _pg_bin("createdb") or "createdb"
        run(createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow")
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"
    finally:
        with contextlib.suppress(RuntimeError):
            run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)
