"""Pluvo: GraphQL with OAuth2 client credentials.

Pluvo publishes webhooks (see :mod:`airflow_provider_lms.webhooks`) and a GraphQL API. The API's schema
is not part of the documents this provider is built from, so the hook does not hard-code queries: it runs
the query a DAG author writes, surfaces GraphQL ``errors`` as exceptions, and pages through Relay
connections lazily.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.http.auth import OAuth2ClientCredentials
from airflow_provider_lms.http.errors import LmsError, LmsInputError
from airflow_provider_lms.models.connection import ConnectionFields, LmsConnection
from airflow_provider_lms.models.pluvo import PluvoPageInfo

__all__ = ["MAX_PAGE_SIZE", "PluvoConnection", "PluvoGraphQLError", "PluvoHook"]

#: Relay ``first`` may not exceed 50 (FACTS.md).
MAX_PAGE_SIZE = 50
_MUTATION = re.compile(r"^\s*(#[^\n]*\n\s*)*mutation\b")


class PluvoGraphQLError(LmsError):
    """Pluvo answered a GraphQL request with ``errors``.

    :param errors: the ``errors`` list as Pluvo sent it (messages, paths, extensions).
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]], **kwargs: Any) -> None:
        self.errors = errors
        super().__init__(message, **kwargs)


def _graphql_body(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


@dataclass(frozen=True, kw_only=True)
class PluvoConnection(LmsConnection):
    """A Pluvo connection: OAuth2 client credentials (login and password) and the scopes to ask for.

    :param client_id: the OAuth2 client id (the login field).
    :param client_secret: the OAuth2 client secret (the password field); masked in logs, left out of ``repr``.
    :param scopes: space-separated scopes, or None for the client's default.
    """

    client_id: str
    client_secret: str = field(repr=False)
    scopes: str | None = None

    @classmethod
    def read_credentials(cls, fields: ConnectionFields, base_url: str) -> dict[str, Any]:
        client_id = fields.required(fields.conn.login, "client id (login)")
        scopes = fields.extras.get("scopes") or None
        return {
            "client_id": client_id,
            "client_secret": fields.secret(fields.conn.password, "client secret (password)"),
            "scopes": str(scopes) if scopes else None,
        }


@register_platform
class PluvoHook(LmsHook[PluvoConnection]):
    """Pluvo: GraphQL at ``<organisation URL>/graphql/`` with an OAuth2 client-credentials token.

    Connection: ``base_url`` is the organisation URL (``https://<organisation>.pluvo.com``), the
    client id is the login, the client secret the password, ``scopes`` space-separated.

    The token comes from ``/oauth/token/``; it is cached, masked in logs, fetched again shortly before
    its expiry and once more when Pluvo answers 401 (see :class:`OAuth2ClientCredentials`).

    :param lms_conn_id: the Airflow connection id (type ``pluvo``).
    """

    conn_type = "pluvo"
    hook_name = "Pluvo"
    default_conn_name = "pluvo_default"
    platform: ClassVar[str] = "Pluvo"
    graphql_path: ClassVar[str] = "/graphql/"
    connection_model: ClassVar[type[LmsConnection]] = PluvoConnection

    def auth_for(self, config: PluvoConnection) -> httpx.Auth:
        return OAuth2ClientCredentials(
            config.base_url.rstrip("/") + "/oauth/token/",
            config.client_id,
            config.client_secret,
            scope=config.scopes,
        )

    def check_connection(self) -> str:
        # The cheapest query every GraphQL server answers; it proves the token and the endpoint.
        self.query("query ConnectionTest { __typename }")
        return f"Connected to Pluvo at {self.client.base_url.host}"

    # -- GraphQL -------------------------------------------------------------------------------------------
    def query(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run a GraphQL query or mutation and return its ``data``.

        :param query: the GraphQL document.
        :param variables: the variables it declares.
        :param operation_name: which operation to run, when the document has several.
        :raises PluvoGraphQLError: Pluvo answered with ``errors`` (even alongside partial data).
        """
        if not query or not query.strip():
            raise LmsInputError("query", "is empty")
        body: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            body["operationName"] = operation_name
        # A query reads only, so a retry after a dropped connection is harmless; a mutation is not.
        idempotent = not _MUTATION.match(query)
        answer = self.client.request("POST", self.graphql_path, json=body, parse=_graphql_body, idempotent=idempotent)
        errors = answer.get("errors")
        if errors:
            errors = errors if isinstance(errors, list) else [{"message": str(errors)}]
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            raise PluvoGraphQLError(
                "GraphQL errors",
                errors=errors,
                platform=self.platform,
                method="POST",
                path=self.graphql_path,
                platform_message=messages[:500],
            )
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PluvoGraphQLError(
                "GraphQL answer without data", errors=[], platform=self.platform, path=self.graphql_path
            )
        return data

    def paginate(
        self,
        query: str,
        connection: str | Sequence[str],
        variables: Mapping[str, Any] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield the nodes of a Relay connection lazily, one page (``first`` ≤ 50) at a time.

        The query must declare ``$first: Int`` and ``$after: String`` and pass them to the connection
        field, and select ``edges { node { ... } }`` (or ``nodes``) and ``pageInfo { hasNextPage endCursor }``.
        Nothing is requested until the first node is needed.

        :param query: the GraphQL document.
        :param connection: the path of the connection field in ``data``, e.g. ``"users"`` or
            ``("training", "participants")``.
        :param variables: further variables.
        :param page_size: nodes per request, 1 to 50.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise LmsInputError("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
        path = (connection,) if isinstance(connection, str) else tuple(connection)
        if not path:
            raise LmsInputError("connection", "is empty")
        after: str | None = None
        while True:
            data: Any = self.query(query, {**(variables or {}), "first": page_size, "after": after})
            for key in path:
                data = data.get(key) if isinstance(data, dict) else None
            if not isinstance(data, dict):
                raise LmsInputError("connection", f"{'.'.join(path)!r} is not a connection in the answer")
            if "edges" in data:
                nodes = [edge.get("node") for edge in data.get("edges") or [] if isinstance(edge, dict)]
            else:
                nodes = list(data.get("nodes") or [])
            yield from (n for n in nodes if n is not None)
            page = PluvoPageInfo.model_validate(data.get("pageInfo") or {"hasNextPage": False})
            if not page.has_next_page:
                return
            if not page.end_cursor or page.end_cursor == after:
                # A server that keeps answering the same cursor would have us loop forever.
                raise PluvoGraphQLError(
                    "the connection reports a next page without a new endCursor",
                    errors=[],
                    platform=self.platform,
                    path=self.graphql_path,
                )
            after = page.end_cursor
