"""The Pluvo double: an OAuth2 token endpoint, Pluvo's published GraphQL schema, and signed webhooks.

- ``POST /pluvo/oauth/token/``: form-encoded client-credentials grant (getting-started-2); answers
  ``{access_token, token_type: "Bearer", expires_in: 86400, scope}``; ``{"error": "unsupported_grant_type"}``
  (400) or ``{"error": "invalid_client"}`` (401) otherwise.
- ``POST /pluvo/graphql/`` with ``Authorization: Bearer <token>``: the schema in ``schema.graphql``,
  assembled from Pluvo's developer pages (every name cited there), executed by graphql-core over the
  state below. Root fields: ``user``, ``paginatedUsers``, ``group``, ``paginatedGroups``, ``training``,
  ``paginatedTrainings``, ``offer``, ``offers``, ``offerEvent``, ``enrollments``, ``portfolioReport``,
  ``portfolioItems``, ``portfolioItem``, ``certificates``; mutations ``createUser``, ``updateUser``,
  ``updateOrCreateUser``, ``addUsersToGroup``, ``removeUsersFromGroup``, ``addUsersToTraining``,
  ``removeUsersFromTraining``, ``createOfferEventEnrollments``, ``unenrollUserFromOfferEvent``,
  ``generateCertificate``. A field or argument Pluvo does not have fails GraphQL validation
  (``{"errors": [{"message", "locations"}]}``); a value that does not fit a scalar (a non-UUID id) fails as
  a GraphQL error; connections take ``first`` at most 50 (more: an error naming the limit), ``after``,
  ``offset`` where the schema has it, and report ``count`` and ``pageInfo.hasNextPage``.
- ``POST /pluvo/graphql`` (no slash): 301 to the slash URL, or 404 (setting ``missing_slash``).
- An expired (86,400 s on the sandbox clock), revoked or missing token: HTTP 401, or HTTP 200 with a GraphQL
  error whose ``extensions.code`` is ``AuthenticationError`` (setting ``auth_failure``).
- Mails Pluvo would send (``sendInvite``, ``sendInvites``, ``sendMail``: each defaults to sending) are
  recorded, not sent: ``GET /_sandbox/pluvo/state`` → ``"mails"``.

Control (``/_sandbox/pluvo/...``): ``GET state``; ``POST revoke_tokens``; ``PUT token_lifetime``
(``{"seconds": 2}``); ``PUT settings`` (``auth_failure`` ``http_401``/``graphql_error``, ``missing_slash``
``redirect``/``404``, ``first_over_max`` ``error``/``cap``, ``validation_status`` 200/400); ``PUT webhook``
(``{url, secret}``); ``POST finish_training`` (a signed ``TRAINING_FINISHED``, nothing else changes);
``POST progress`` (``{user_id, training_id, progress, score?, time_spent_seconds?}``); ``POST
complete_training`` (progress 1.0, completion date now, ``TRAINING_FINISHED``, and when the training has a
certificate template the certificate as a portfolio item plus ``EVENT_CERTIFICATE_ACHIEVED``); ``PUT
auto_progress`` (``{"complete_after_seconds": N, "score": s}``: every learner who reaches a training from
then on completes it N sandbox seconds later); seeding: ``POST users``, ``groups``, ``trainings``,
``offers``, ``offer_events``, ``certificates``, ``group_trainings`` (link a group to a training), ``PUT
training_certificate``.

Seeded demo data (identical after every reset; ``seed.py``):

============  ========================================================================================
client        ``sandbox-pluvo-client`` / ``sandbox-pluvo-secret`` (tokens live 86400 s on the sandbox clock)
users         120: ``00000000-0000-4000-8000-000000000001`` .. ``…000000000120``, ``ref`` ``user-<n>``,
              "Learner <n>", ``learner<n>@example.org``; every tenth archived; ``extraFields.Afdeling``
              Marketing (odd n) or Sales (even n). Three pages of 50, so that pagination is exercised.
trainings     5: ``10000000-0000-4000-8000-000000000001`` .. ``…000000000005``, ``ref`` ``training-<n>``,
              "Training <n>", 2024-02-01 to 2025-02-01, ``extraFields.subject`` Development; no direct
              participants. Training 5 issues certificate-1 on completion.
groups        ``20000000-0000-4000-8000-000000000001`` ``group-1`` "Marketing": users 1, 3, 5, 7, 9;
              ``…000000000002`` ``group-2`` "Sales": users 2, 4, 6, 8, 10, linked to training 5 (so these
              five reach training 5 through the group).
offer         ``30000000-0000-4000-8000-000000000001`` ``offer-1`` "Onboarding", with offer event
              ``40000000-0000-4000-8000-000000000001`` ``offer-event-1`` (type TRAINING, 25 places) giving
              access to training 4; nobody enrolled.
certificate   ``50000000-0000-4000-8000-000000000001`` "certificate-1", title "Certificate of completion".
webhook       none until ``PUT /_sandbox/pluvo/webhook``
============  ========================================================================================

Records the API creates get ids of the same shapes with ``9000`` in the fourth group (users
``00000000-0000-4000-9000-…``, enrollments ``60000000-…``, portfolio items ``70000000-…``).

Sources: ``schema.graphql`` (the pages each name comes from), getting-started-2 (token, trailing slash),
pagination, Pluvo's webhook document (``pluvo-webhooks.txt``: the event bodies) and developers.pluvo.co
"Webhooks security" (signatures).

The package: ``records.py`` (stored records), ``seed.py`` (the demo data), ``state.py`` (data, lookups,
links, timers, settings), ``rules.py`` (what mutations and progress do), ``schema.graphql`` + ``schema.py``
(the schema built with graphql-core), ``scalars.py`` (UUID, DateTime, Date, JSONString, Decimal),
``resolvers.py`` (the fields' resolvers), ``pagination.py`` (Relay connections), ``errors.py`` (HTTP-level
error bodies), ``views.py`` (webhook bodies, the token answer, the state), ``routes.py`` (the route table),
``control.py`` (``/_sandbox/pluvo``), ``delivery.py`` and ``signing.py`` (signed webhook deliveries).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.pluvo.control import create_control_router
from airflow_provider_lms.sandbox.pluvo.errors import (
    AUTH_ERROR_CODE,
    ControlError,
    OAuthError,
    PluvoError,
    render_error,
)
from airflow_provider_lms.sandbox.pluvo.pagination import MAX_FIRST
from airflow_provider_lms.sandbox.pluvo.routes import PLUVO_PREFIX, ROUTES, create_router
from airflow_provider_lms.sandbox.pluvo.schema import load_sdl, pluvo_schema, run_graphql
from airflow_provider_lms.sandbox.pluvo.seed import PLUVO_SANDBOX_CLIENT_ID, PLUVO_SANDBOX_CLIENT_SECRET, PluvoSeed
from airflow_provider_lms.sandbox.pluvo.signing import WEBHOOK_SCHEME
from airflow_provider_lms.sandbox.pluvo.state import TOKEN_LIFETIME_SECONDS, PluvoSettings, PluvoState

__all__ = [
    "AUTH_ERROR_CODE",
    "MAX_FIRST",
    "MOUNT",
    "PLUVO_PREFIX",
    "PLUVO_SANDBOX_CLIENT_ID",
    "PLUVO_SANDBOX_CLIENT_SECRET",
    "ROUTES",
    "TOKEN_LIFETIME_SECONDS",
    "WEBHOOK_SCHEME",
    "ControlError",
    "OAuthError",
    "PluvoError",
    "PluvoSeed",
    "PluvoSettings",
    "PluvoState",
    "load_sdl",
    "pluvo_schema",
    "render_error",
    "run_graphql",
]


#: The scopes the sandbox's connection asks for (introduction-2); the sandbox does not check scopes.
_SCOPES = "users.read users.write groups.read groups.write trainings.read trainings.write events.read events.write"


def _connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "pluvo",
        "login": PLUVO_SANDBOX_CLIENT_ID,
        "password": PLUVO_SANDBOX_CLIENT_SECRET,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{PLUVO_PREFIX}", "scopes": _SCOPES},
    }


MOUNT = PlatformMount(
    name="pluvo",
    prefix=PLUVO_PREFIX,
    router_factory=create_router,
    render_error=render_error,
    state_factory=PluvoState,
    control_router_factory=create_control_router,
    connection_factory=_connection,
    conn_id="pluvo_default",
    webhook_scheme=WEBHOOK_SCHEME,
)
