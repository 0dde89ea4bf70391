"""Opt-in work-arounds for released Airflow versions; importing the provider never applies one by itself.

Only one today: the connection list's **Test** button answers ``400 "The host or port to test differs from
the stored connection"`` for every connection that has no port, which is every LMS connection (they address
a base URL, kept in the extras). The UI sends ``port: Number(null)``, i.e. ``0``, and the API compares that
with the stored ``NULL``. apache/airflow#73298 (merged 2026-09-17) fixes the comparison by treating ``0``
like a blank port; Airflow 3.3.2 and older do not have it yet.

A platform team decides whether a provider may change Airflow, so the same normalisation is applied only
when all of these hold:

* the setting asks for it: ``[lms] patch_connection_test = True`` (``AIRFLOW__LMS__PATCH_CONNECTION_TEST=True``;
  declared in the provider's ``config``, so ``airflow config list`` and ``airflow providers configs`` show it);
* the process is the API server (``airflow.api_fastapi.app`` is loaded): a scheduler or worker is never touched;
* the running Airflow still has the bug, found by behaviour, not by version: its own comparison is asked
  whether port ``0`` and a stored ``NULL`` are the same destination. An Airflow with the fix is left alone.

It does not weaken the check it lives in: that check exists so stored credentials are only sent to the stored
destination, and port 0 addresses no destination at all. A different host, or a real different port, is
still refused unless the request brings its own password.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["CONFIG_OPTION", "CONFIG_SECTION", "backport_portless_test_connection_fix", "patch_connection_test_enabled"]

_ROUTES = "airflow.api_fastapi.core_api.routes.public.connections"
#: The setting that allows the patch: ``[lms] patch_connection_test`` (default False).
CONFIG_SECTION = "lms"
CONFIG_OPTION = "patch_connection_test"


def _blank(value: Any) -> Any:
    # "" (hidden field), None (stored NULL) and 0 (the UI's Number(null)) all mean "no port".
    return None if value is None or value == "" or value == 0 else value


def _same_endpoint(requested: Any, stored: Any) -> bool:
    return bool(_blank(requested) == _blank(stored))


def patch_connection_test_enabled() -> bool:
    """Whether ``[lms] patch_connection_test`` is true (Airflow's config: airflow.cfg or the environment)."""
    from airflow.configuration import conf

    try:
        return conf.getboolean(CONFIG_SECTION, CONFIG_OPTION, fallback=False)
    except Exception as exc:  # a value that is not a boolean: leave Airflow alone, and say why
        log.warning(
            "airflow-provider-lms: [%s] %s is not a boolean (%s); not patching", CONFIG_SECTION, CONFIG_OPTION, exc
        )
        return False


def backport_portless_test_connection_fix() -> bool:
    """Let the UI's Test button work for connections without a port, when asked and where Airflow needs it.

    Called when the provider's API-server plugin is loaded. Does nothing (and imports nothing of Airflow's
    API) outside the API server, unless ``[lms] patch_connection_test`` is true, and where the running
    Airflow already treats port 0 as no port.

    :return: whether the fix was applied now.
    """
    if "airflow.api_fastapi.app" not in sys.modules:
        return False
    if not patch_connection_test_enabled():
        routes = sys.modules.get(_ROUTES)
        check = getattr(routes, "_same_endpoint", None)
        # Already loaded by the API server: a hint costs nothing and nothing is imported for it.
        if callable(check) and check is not _same_endpoint and not check(0, None):
            log.info(
                "airflow-provider-lms: this Airflow's Test button refuses connections without a port "
                "(apache/airflow#73298); set [%s] %s = True to apply the provider's fix",
                CONFIG_SECTION,
                CONFIG_OPTION,
            )
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
