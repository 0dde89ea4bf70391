"""The Eduframe double: an in-memory Eduframe REST API v1 under ``/eduframe/api/v1``.

Paths, methods, parameters and response bodies follow the public OpenAPI document
(``eduframe-openapi-v1.json``) and FACTS.md; behaviour the documents leave open is marked ``# ASSUMPTION:``.

Auth is ``Authorization: Bearer <key>`` (default key ``sandbox-eduframe-key``); every error answers
``{"errors": {...}, "code": <status>, "message": "..."}``; lists are cursor-paginated with a ``Link``
header; each token may make 500 requests per 300 s (sliding window) before it gets 429 + ``Retry-After``.

Seeded demo data (identical after every reset; dates are relative to the reset day, UTC):

=========================  ====  =============================================================
record                     id    details
=========================  ====  =============================================================
educator                   1     "Sandbox Academy" (``GET /educators/current``)
user (admin)               1     admin@sandbox.example, order creator and grader
users (learners)           2-6   anna.devries@, bram.jansen@, chloe.bakker@, daan.visser@,
                                 eva.smit@ (all ``@sandbox.example``)
course                     1     "Workplace Safety"
course                     2     "First Aid at Work"
planned course             1     course 1, FixedPlannedCourse, starts in 14 days, 2 days, max 20
planned course             2     course 2, FixedPlannedCourse, starts in 30 days, 1 day, max 12
planned course             3     course 2, FlexiblePlannedCourse, started 7 days ago, 60 days, active
catalog variant            1     PlannedCourse 1 (product 1)
catalog variant            2     PlannedCourse 2 (product 2)
catalog variant            3     PlannedCourse 3 (product 2)
program                    1     "Certified Safety Officer"
program edition            1     program 1, contains planned course 1
catalog variant            4     Program::Edition 1 (product 3)
certificate template       1     "Certified Safety Officer certificate"
credits                    1-3   learner 2: 2.0 and 1.5; learner 3: 4.0 (course 1)
=========================  ====  =============================================================

No enrollments, orders, grades, program enrollments or webhooks are seeded: learners start
un-enrolled, so a DAG has to look them up and order. Ids count up per table: new users start at 7,
the first order, enrollment, program enrollment and grade created after a reset each get id 1.

The package: ``records`` (the stored dataclasses), ``seed`` (the demo data above), ``state`` (storage,
lookups, list queries, auto-progress), ``rules`` (what each write does), ``views`` (the JSON bodies),
``bodies`` (request body models), ``params`` and ``pagination`` (query parameters, cursor pages and the
``Link`` header), ``ratelimit``, ``errors``, ``routes`` (the route table) and ``control`` (``/_sandbox``).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.eduframe.admin_routes import with_admin_routes
from airflow_provider_lms.sandbox.eduframe.control import create_control_router
from airflow_provider_lms.sandbox.eduframe.errors import EduframeError, render_error, render_validation_error
from airflow_provider_lms.sandbox.eduframe.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, paginate, paginate_ids
from airflow_provider_lms.sandbox.eduframe.ratelimit import (
    DEFAULT_RATE_LIMIT_REQUESTS,
    DEFAULT_RATE_LIMIT_SECONDS,
    SlidingWindowRateLimiter,
)
from airflow_provider_lms.sandbox.eduframe.records import WEBHOOK_EVENTS, AutoProgress
from airflow_provider_lms.sandbox.eduframe.routes import EDUFRAME_PREFIX, ROUTES, EduframeResponses, create_router
from airflow_provider_lms.sandbox.eduframe.seed import EDUFRAME_SANDBOX_API_KEY, EduframeSeed
from airflow_provider_lms.sandbox.eduframe.state import EduframeState

__all__ = [
    "DEFAULT_PER_PAGE",
    "DEFAULT_RATE_LIMIT_REQUESTS",
    "DEFAULT_RATE_LIMIT_SECONDS",
    "EDUFRAME_PREFIX",
    "EDUFRAME_SANDBOX_API_KEY",
    "MAX_PER_PAGE",
    "MOUNT",
    "ROUTES",
    "WEBHOOK_EVENTS",
    "AutoProgress",
    "EduframeError",
    "EduframeResponses",
    "EduframeSeed",
    "EduframeState",
    "SlidingWindowRateLimiter",
    "create_control_router",
    "create_router",
    "paginate",
    "paginate_ids",
    "render_error",
    "render_validation_error",
]


def _connection(sandbox_url: str) -> dict[str, Any]:
    """The ``eduframe_default`` connection for a sandbox at ``sandbox_url``."""
    return {
        "conn_type": "eduframe",
        "password": EDUFRAME_SANDBOX_API_KEY,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{EDUFRAME_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="eduframe",
    prefix=EDUFRAME_PREFIX,
    router_factory=with_admin_routes(create_router),
    render_error=render_error,
    render_validation_error=render_validation_error,
    state_factory=lambda clock: EduframeState(clock=clock),
    control_router_factory=create_control_router,
    connection_factory=_connection,
    conn_id="eduframe_default",
)
