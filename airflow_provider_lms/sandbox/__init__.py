"""The in-package sandbox: local HTTP doubles of the learning platforms, with seeded demo data.

Start it on a background thread for tests and demos::

    from airflow_provider_lms.sandbox import SandboxServer

    with SandboxServer() as sandbox:
        ...  # point a connection at sandbox.platform_url("<platform>"); the demo keys are in
        # airflow_provider_lms.testing.sandbox_connection_env(sandbox.url)

or in the foreground with ``python -m airflow_provider_lms.sandbox --port 8765``. The control API under
``/_sandbox`` resets data, injects faults and moves learners along. Each platform's double is a package
of its own (``airflow_provider_lms.sandbox.<platform>``), with its seed data and keys.
"""

from airflow_provider_lms.sandbox.app import PLATFORMS, create_app
from airflow_provider_lms.sandbox.faults import ALL_FAULT_KINDS, FaultConfig
from airflow_provider_lms.sandbox.server import SandboxServer
from airflow_provider_lms.sandbox.state import SandboxState

__all__ = [
    "ALL_FAULT_KINDS",
    "PLATFORMS",
    "FaultConfig",
    "SandboxServer",
    "SandboxState",
    "create_app",
]
