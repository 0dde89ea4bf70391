"""Work-arounds for released Airflow versions, each removed once the versions we support have the fix.

Only one today: the connection list's **Test** button answers ``400 "The host or port to test differs from
the stored connection"`` for every connection that has no port, which is every LMS connection (they address
a base URL, kept in the extras). The UI sends ``port: Number(null)``, i.e. ``0``, and the API compares that
with the stored ``NULL``. apache/airflow#73298 (merged 2026-09-17) fixes the comparison by treating ``0``
like a blank port; Airflow 3.3.2 and older do not have it yet. We apply the same normalisation, in the API
server only and only where the running Airflow still has the bug.

It does not weaken the check it lives in: that check exists so stored credentials are only sent to the stored
destination, and port 0 addresses no destination at all. A different host, or a real different port, is
still refused unless the request brings its own password.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

_ROUTES = "airflow.api_fastapi.core_api.routes.public.connections"


def _blank(value: Any) -> Any:
    # "" (hidden field), None (stored NULL) and 0 (the UI's Number(null)) all mean "no port".
    return None if value is None or value == "" or value == 0 else value


def _same_endpoint(requested: Any, stored: Any) -> bool:
    return bool(_blank(requested) == _blank(stored))


def backport_portless_test_connection_fix() -> bool:
    """Let the UI's Test button work for connections without a port on Airflow versions that refuse it.

    Runs only inside the API server (where ``airflow.api_fastapi.app`` is loaded); anywhere else it does
    nothing, so a scheduler or worker never imports the API routes because of us.

    :return: whether the fix was applied now.
    """
    if "airflow.api_fastapi.app" not in sys.modules:
        return False
    try:
        routes = __import__(_ROUTES, fromlist=["_same_endpoint"])
        current = routes._same_endpoint
    except (ImportError, AttributeError):  # a version without the check, or with it reworked: leave it alone
        return False
    if current is _same_endpoint or current(0, None):
        return False  # already applied, or this Airflow has the upstream fix
    setattr(routes, "_same_endpoint", _same_endpoint)  # noqa: B010 - a module of Airflow, typed as ModuleType
    log.info("airflow-provider-lms: applied the fix of apache/airflow#73298 (Test button on port-less connections)")
    return True
