"""The Lära double: the ``lmsapi`` cycle methods under ``/lara/lmsapi/cycle/<method>``.

Behaviour follows ``lara-cycles-api.fr.txt``: every method is ``POST`` with a JSON body and answers
JSON; dates are the portal's wall-clock time without an offset (``2018-02-08T15:02:45.73``), the
portal's zone being America/Toronto; ``getperiodlist``'s ``filterDate`` is UTC (``...Z``). Status
updates really change the data, and the documented bad inputs get the documented codes 1000-1010.
What the document leaves open is marked ``# ASSUMPTION:``:

- credentials: two headers, ``X-Lara-Api-Key`` and ``X-Lara-Api-Secret`` (the real names are handed over
  at onboarding and not public); missing or wrong ones get ``401``.
- error envelope: ``400 {"isSuccess": false, "ErrorID": <code>, "Message": "<documented message>"}``.
- ``getuserprogress``'s ``id`` is the cycle period's id; addressed by a custom field, ``memberId``
  carries the field's value.

A period's end is computed by the double's own code (:mod:`.periods`), not the client's.

Seeded demo data (identical ids after every reset; dates relative to the reset moment):

======================  ==============================================================================
record                  details
======================  ==============================================================================
cycle ``CYCLE_ID``      "Règlement de formation continue" (fr-CA, en, fr-FR, es names), active
 period ``PREVIOUS``    1 year (unit 4), ended one year before the demo period ended
 period ``DEMO``        1 year (unit 4), ends ``DEMO_PERIOD_SECONDS`` (10 s) after reset; 20 credits
                        required (type 1), plus a type-3 requirement (2 categories) and a type-2 child
 period ``NEXT``        1 year (unit 4), starts when the demo period ends
cycle ``OLD_CYCLE_ID``  "Ancien règlement", inactive; periods of 36 months, 6 weeks (deleted), 90
                        days and 48 hours, starting 2015-2016
members 1-6             custom field ``numero_permis`` 10001-10006; each has an open "Membre" range
                        since 2020-01-01 (member 6 also a closed "1ère inscription" range in 2019)
progress (demo period)  10001: 22 completed; 10002: 15 + 5 exempted; 10003: 30 (compliant)
                        10004: 12; 10005: 19.5; 10006: 0 (non-compliant)
======================  ==============================================================================

Control API (``/_sandbox/lara/...``): ``GET state``; ``POST period_end`` ``{"cyclePeriodId", "seconds"}``
moves a period so it ends that many seconds from the sandbox clock (negative: already ended);
``PUT progress`` sets a member's credits in a period.

Package layout: ``periods`` (portal time, period ends), ``records``, ``seed``, ``state`` (rules), ``errors``,
``views`` (JSON bodies), ``routes`` (the ``ROUTES`` table), ``control``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.lara.control import create_control_router
from airflow_provider_lms.sandbox.lara.errors import LaraError, render_error, render_validation_error
from airflow_provider_lms.sandbox.lara.periods import PORTAL_TIMEZONE, period_end
from airflow_provider_lms.sandbox.lara.records import lara_id
from airflow_provider_lms.sandbox.lara.routes import LARA_PREFIX, ROUTES, create_router
from airflow_provider_lms.sandbox.lara.seed import CUSTOM_FIELD, DEMO_PERIOD_SECONDS, LARA_CREDENTIALS, LaraSeed
from airflow_provider_lms.sandbox.lara.state import LaraState

__all__ = [
    "CUSTOM_FIELD",
    "DEMO_PERIOD_SECONDS",
    "LARA_CREDENTIALS",
    "LARA_PORTAL_TIMEZONE",
    "LARA_PREFIX",
    "MOUNT",
    "ROUTES",
    "LaraError",
    "LaraSeed",
    "LaraState",
    "lara_id",
    "period_end",
    "render_error",
]

LARA_PORTAL_TIMEZONE = PORTAL_TIMEZONE


def _lara_connection(sandbox_url: str) -> dict[str, Any]:
    (h1, s1), (h2, s2) = LARA_CREDENTIALS.items()
    return {
        "conn_type": "lara",
        "extra": {
            "base_url": f"{sandbox_url.rstrip('/')}{LARA_PREFIX}",
            "credential_1_header": h1,
            "credential_1_secret": s1,
            "credential_2_header": h2,
            "credential_2_secret": s2,
            "portal_timezone": LARA_PORTAL_TIMEZONE,
        },
    }


MOUNT = PlatformMount(
    name="lara",
    prefix=LARA_PREFIX,
    router_factory=create_router,
    render_error=render_error,
    render_validation_error=render_validation_error,
    state_factory=lambda clock: LaraState(clock),
    control_router_factory=create_control_router,
    connection_factory=_lara_connection,
    conn_id="lara_default",
)
