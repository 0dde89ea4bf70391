"""The aNewSpring double: the subscription and results API under ``/anewspring/api``.

It follows ``anewspring-api.nl.txt`` and FACTS.md: the same function paths in both address forms (external
ids in the path, UIDs in the query), ``X-API-Key`` (or ``_key``), form-encoded POST bodies with repeated
parameters for arrays, 200 with an empty body for a successful POST, errors as plain text unless
``_formatErrors=true``, 404 for an unknown user, course, group or activity or a missing subscription, and
409 for a duplicate subscription. Details the documents leave open are marked ``# ASSUMPTION:``.

Beyond the subscription document it serves the calls anewspring-more.md lists for users, groups and rosters,
external ids in the path: ``getUser``, ``addOrUpdateUser``, ``addUserRoles``, ``getGroupUsers``,
``groupUserExists``, ``addGroupUsers``, ``deleteGroupUsers`` and ``getStudentSubscriptions`` (the course
roster, one answer: no pagination is published). Seeded users are learners (role ``student``, first/middle/
last name and e-mail set); a user made by ``addOrUpdateUser`` has no role until ``addUserRoles`` gives one.

Paths are routed on the raw (still percent-encoded) path, one segment per id, so an id holding ``/``,
``..``, ``?``, ``#``, ``%``, spaces or any Unicode arrives whole, at the endpoint it was sent to.

Seeded demo data (identical after every reset; ``seed.py``):

=================  ====================================================================================
users (learners)   ``learner-001`` .. ``learner-005``: Anna de Vries, Bram Jansen, Chloé Bakker,
                   Daan Visser, Eva Smit
course             ``VEILIG-2026`` "Veilig werken 2026": Les ``LES-INTRO``, Toets ``TOETS-KENNIS``,
                   Externe activiteit ``EXAMEN-PRAKTIJK`` (the exam scored through the API),
                   Vragenlijst (no external id), Certificaat ``CERT-VEILIG``
course             ``EHBO-2026`` "EHBO basis 2026": Documentatie ``DOC-EHBO``, Webinar ``WEBINAR-EHBO``,
                   Certificaat ``CERT-EHBO``
groups             ``COHORT-2026-A`` (learner-001..003), ``COHORT-2026-B`` (learner-004, learner-005)
=================  ====================================================================================

No subscriptions are seeded. A subscription's results move forward when told (``POST
/_sandbox/anewspring/advance``: activity scored, then course completed, then Certificate part passed) or by
themselves (``PUT /_sandbox/anewspring/auto_progress``: N seconds after its external activity was scored,
the course completes, and the certificate passes when every judged activity passed).

It also plays aNewSpring's webhook sender (``WebhookSender("anewspring", secret)``): signed as in
``signing.py``.

The package: ``records.py`` (stored records), ``seed.py`` (the demo data), ``state.py`` (the rules),
``errors.py`` (plain-text or formatted errors), ``views.py`` (the document's JSON), ``routes.py`` (the route
table and its dispatcher on the raw path), ``control.py`` (``/_sandbox/anewspring``), ``signing.py``
(webhook signatures).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.anewspring.control import create_control_router
from airflow_provider_lms.sandbox.anewspring.errors import ANewSpringError, render_error, render_plain_error
from airflow_provider_lms.sandbox.anewspring.records import DEFAULT_PASS_MARK, STAGES, Stage, stable_uid
from airflow_provider_lms.sandbox.anewspring.routes import ANEWSPRING_PREFIX, ROUTES, create_router
from airflow_provider_lms.sandbox.anewspring.seed import ANEWSPRING_SANDBOX_API_KEY, ANewSpringSeed
from airflow_provider_lms.sandbox.anewspring.signing import WEBHOOK_SCHEME
from airflow_provider_lms.sandbox.anewspring.state import DEFAULT_ADVANCE_SCORE, ANewSpringSandboxState

__all__ = [
    "ANEWSPRING_PREFIX",
    "ANEWSPRING_SANDBOX_API_KEY",
    "DEFAULT_ADVANCE_SCORE",
    "DEFAULT_PASS_MARK",
    "MOUNT",
    "ROUTES",
    "STAGES",
    "ANewSpringError",
    "ANewSpringSandboxState",
    "ANewSpringSeed",
    "Stage",
    "render_error",
    "stable_uid",
]


def _connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "anewspring",
        "password": ANEWSPRING_SANDBOX_API_KEY,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{ANEWSPRING_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="anewspring",
    prefix=ANEWSPRING_PREFIX,
    router_factory=create_router,
    render_error=render_plain_error,
    state_factory=lambda clock: ANewSpringSandboxState(clock),
    control_router_factory=create_control_router,
    connection_factory=_connection,
    conn_id="anewspring_default",
    webhook_scheme=WEBHOOK_SCHEME,
)
