"""The in-package sandbox: local HTTP doubles of the learning platforms, with seeded demo data.

Start it on a background thread for tests and demos::

    from airflow_provider_lms.sandbox import EDUFRAME_SANDBOX_API_KEY, SandboxServer

    with SandboxServer() as sandbox:
        ...  # point an Eduframe connection at sandbox.eduframe_url with EDUFRAME_SANDBOX_API_KEY

or in the foreground with ``python -m airflow_provider_lms.sandbox --port 8765``. The control API under
``/_sandbox`` resets data, injects faults and moves learners along.
"""

from airflow_provider_lms.sandbox.app import PLATFORMS, create_app
from airflow_provider_lms.sandbox.eduframe import (
    EDUFRAME_PREFIX,
    EDUFRAME_SANDBOX_API_KEY,
    EduframeSeed,
    EduframeState,
)
from airflow_provider_lms.sandbox.faults import ALL_FAULT_KINDS, FaultConfig
from airflow_provider_lms.sandbox.server import SandboxServer
from airflow_provider_lms.sandbox.state import SandboxState

__all__ = [
    "ALL_FAULT_KINDS",
    "EDUFRAME_PREFIX",
    "EDUFRAME_SANDBOX_API_KEY",
    "PLATFORMS",
    "EduframeSeed",
    "EduframeState",
    "FaultConfig",
    "SandboxServer",
    "SandboxState",
    "create_app",
]
