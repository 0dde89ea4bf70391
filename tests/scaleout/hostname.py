"""``[core] hostname_callable`` for two Celery workers on one machine.

Airflow records the hostname of the worker that ran each task instance (and fetches its logs from there).
Two workers on one host would both report the same name; each worker here gets its own from the environment
it was started with, so that a test (and the UI) can tell them apart.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """``LMS_WORKER_HOSTNAME`` when set (each worker's own), else the machine's name."""
    return os.environ.get("LMS_WORKER_HOSTNAME") or socket.getfqdn()
