"""The Pluvo double: an OAuth2 token endpoint, a GraphQL subset, and webhooks sent on demand.

- ``POST /pluvo/oauth/token/``: form-encoded client-credentials grant (FACTS.md); answers
  ``{access_token, token_type: "Bearer", expires_in: 86400, scope}``; ``{"error": "unsupported_grant_type"}``
  (400) or ``{"error": "invalid_client"}`` (401) otherwise.
- ``POST /pluvo/graphql/`` with ``Authorization: Bearer <token>``: a GraphQL subset. Pluvo's real schema
  is not in the documents, so the root fields here (``users``, ``trainings``, ``user(id)``,
  ``training(id)``, ``__typename``) are the sandbox's own, shaped the Relay way FACTS.md describes
  (``first`` at most 50, ``after``, ``edges { cursor node }``, ``nodes``, ``pageInfo``). Errors come back
  as GraphQL ``errors`` with HTTP 200; a missing, unknown, revoked or expired token gets 401.
- Control: ``POST /_sandbox/pluvo/revoke_tokens`` (a token revoked early), ``GET /_sandbox/pluvo/state``,
  ``PUT /_sandbox/pluvo/webhook`` (``{url, secret}``: where to send events) and
  ``POST /_sandbox/pluvo/finish_training`` (``{user_id, training_id}``: a learner finishes a training,
  a signed ``TRAINING_FINISHED`` is delivered with retries).

Seeded demo data (identical after every reset; ``seed.py``):

=========  ===========================================================================================
client     ``sandbox-pluvo-client`` / ``sandbox-pluvo-secret`` (tokens live 86400 s on the sandbox clock)
users      120: ``00000000-0000-4000-8000-000000000001`` .. ``…000000000120``, ``ref`` ``user-<n>``,
           "Learner <n>", ``learner<n>@example.org``; every tenth inactive; ``extraFields.Afdeling``
           Marketing (odd n) or Sales (even n). Three pages of 50, so that pagination is exercised.
trainings  5: ``10000000-0000-4000-8000-000000000001`` .. ``…000000000005``, ``ref`` ``training-<n>``,
           "Training <n>", 2024-02-01 to 2025-02-01, ``extraFields.subject`` Development
webhook    none until ``PUT /_sandbox/pluvo/webhook``
=========  ===========================================================================================

Sources: FACTS.md (token endpoint, Relay pagination, webhook signature and retries), Pluvo's webhook
document (``pluvo-webhooks.txt``: the event bodies) and developers.pluvo.co "Webhooks security".

The package: ``records.py`` (stored records), ``seed.py`` (the demo data), ``state.py`` (the rules),
``errors.py`` (GraphQL, OAuth2 and control error bodies), ``views.py`` (records as Pluvo's JSON),
``pagination.py`` (Relay pages and cursors), ``graphql.py`` (the GraphQL subset: parser and executor, to be
replaced by a graphql-core schema), ``routes.py`` (the route table), ``control.py`` (``/_sandbox/pluvo``),
``signing.py`` (webhook signatures and retries).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.sandbox.pluvo.control import create_control_router
from airflow_provider_lms.sandbox.pluvo.errors import ControlError, GraphQLError, OAuthError, PluvoError, render_error
from airflow_provider_lms.sandbox.pluvo.graphql import Field, execute, parse_graphql
from airflow_provider_lms.sandbox.pluvo.pagination import MAX_FIRST
from airflow_provider_lms.sandbox.pluvo.routes import PLUVO_PREFIX, ROUTES, create_router
from airflow_provider_lms.sandbox.pluvo.seed import PLUVO_SANDBOX_CLIENT_ID, PLUVO_SANDBOX_CLIENT_SECRET, PluvoSeed
from airflow_provider_lms.sandbox.pluvo.signing import WEBHOOK_SCHEME
from airflow_provider_lms.sandbox.pluvo.state import TOKEN_LIFETIME_SECONDS, PluvoState

__all__ = [
    "MAX_FIRST",
    "MOUNT",
    "PLUVO_PREFIX",
    "PLUVO_SANDBOX_CLIENT_ID",
    "PLUVO_SANDBOX_CLIENT_SECRET",
    "ROUTES",
    "TOKEN_LIFETIME_SECONDS",
    "WEBHOOK_SCHEME",
    "ControlError",
    "Field",
    "GraphQLError",
    "OAuthError",
    "PluvoError",
    "PluvoSeed",
    "PluvoState",
    "execute",
    "parse_graphql",
    "render_error",
]


def _connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "pluvo",
        "login": PLUVO_SANDBOX_CLIENT_ID,
        "password": PLUVO_SANDBOX_CLIENT_SECRET,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{PLUVO_PREFIX}", "scopes": "users.read trainings.read"},
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
