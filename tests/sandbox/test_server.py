"""Starting and stopping the sandbox: on a thread (``SandboxServer``) and as ``python -m``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY


def test_server_binds_a_free_port_and_stops_cleanly() -> None:
    state = SandboxState()
    with SandboxServer(state=state) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.platform_url("eduframe") == f"{server.url}/eduframe/api/v1"
        response = httpx.get(
            f"{server.platform_url('eduframe')}/educators/current",
            headers={"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"},
        )
        assert response.status_code == 200
        assert server.state is state
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_sandbox/info", timeout=1)


def test_stop_does_not_wait_for_a_held_timeout_fault() -> None:
    with SandboxServer() as server:
        httpx.put(
            f"{server.control_url}/faults", json={"fault_rate": 1.0, "kinds": ["timeout"], "timeout_sleep_s": 30}
        ).raise_for_status()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{server.platform_url('eduframe')}/users", timeout=httpx.Timeout(5.0, read=0.2))
        started = time.monotonic()
    assert time.monotonic() - started < 5


def test_module_entry_point_serves_and_writes_the_port_file(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_lms.sandbox", "--port", "0", "--port-file", str(port_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "port file never written"
            time.sleep(0.05)
        port = int(port_file.read_text())
        response = httpx.get(
            f"http://127.0.0.1:{port}/eduframe/api/v1/educators/current",
            headers={"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"},
            timeout=20,
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/eduframe/api/v1" in output
    assert EDUFRAME_SANDBOX_API_KEY in output
