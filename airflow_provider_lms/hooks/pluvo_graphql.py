"""GraphQL for the Pluvo hook, with graphql-core: documents parsed once, operations told apart, errors typed.

:class:`PluvoGraphQLHook` is the transport the typed hook builds on: one OAuth2 token shared by the sync and
the async client, ``query``/``aquery`` and ``paginate``/``apaginate``.

- :func:`operation_type` parses a document (cached) and says which operation it runs, picked by
  ``operation_name`` when the document holds several. Only a ``query`` is safe to send again after a
  dropped connection; a mutation (also one that follows a fragment) is not.
- :func:`graphql_error` turns an ``errors`` array into the provider's typed errors. Pluvo publishes no
  catalogue of ``extensions.code`` values; its reference client treats a code containing ``Auth`` as an
  expired or invalid token, which is the one rule here that is published. The others are ASSUMPTIONs (see
  :data:`_NOT_FOUND_HINTS` and :data:`_VALIDATION_HINTS`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from graphql import DocumentNode, GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.pluvo_documents import DOCUMENTS
from airflow_provider_lms.http.auth import OAuth2ClientCredentials
from airflow_provider_lms.http.client import ErrorParser, PlatformError
from airflow_provider_lms.http.errors import (
    LmsAuthenticationError,
    LmsError,
    LmsInputError,
    LmsNotFoundError,
    LmsPermissionError,
    LmsValidationError,
)
from airflow_provider_lms.models.connection import ConnectionFields, LmsConnection
from airflow_provider_lms.models.pluvo import PluvoPageInfo

#: Relay ``first`` may not exceed 50 (pagination page).
MAX_PAGE_SIZE = 50

__all__ = [
    "MAX_PAGE_SIZE",
    "PluvoAuthError",
    "PluvoConnection",
    "PluvoGraphQLError",
    "PluvoGraphQLHook",
    "PluvoNotFoundError",
    "PluvoPermissionError",
    "PluvoValidationError",
    "graphql_body",
    "graphql_error",
    "is_auth_error",
    "operation_type",
    "parse_document",
    "parse_pluvo_error",
    "select_operation",
    "without_unset",
]


class PluvoGraphQLError(LmsError):
    """Pluvo answered a GraphQL request with ``errors`` (base of the typed GraphQL errors below).

    :param message: what went wrong, in a sentence.
    :param errors: the ``errors`` list as Pluvo sent it (messages, paths, extensions).
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]], **kwargs: Any) -> None:
        self.errors = errors
        super().__init__(message, **kwargs)


class PluvoAuthError(PluvoGraphQLError, LmsAuthenticationError):
    """The token was refused (an ``extensions.code`` containing ``Auth``), also after a fresh token."""


class PluvoPermissionError(PluvoGraphQLError, LmsPermissionError):
    """The client lacks a permission or scope for the operation."""


class PluvoNotFoundError(PluvoGraphQLError, LmsNotFoundError):
    """The record addressed does not exist."""


class PluvoValidationError(PluvoGraphQLError, LmsValidationError):
    """The document or its variables do not fit Pluvo's schema (unknown field, wrong type, bad value)."""


# ASSUMPTION: Pluvo publishes no extensions.code catalogue. These fragments of codes and messages are the
# usual Graphene/graphql-core wordings; anything else stays a plain PluvoGraphQLError.
_PERMISSION_HINTS = ("permission", "forbidden", "scope")
_NOT_FOUND_HINTS = ("notfound", "not_found", "doesnotexist", "does not exist", "not found")
_VALIDATION_HINTS = (
    "validation",
    "bad_user_input",
    "cannot query field",
    "unknown argument",
    "unknown type",
    "got invalid value",
    "expected type",
    "of required type",
    "syntax error",
    "must have a selection",
    "is not defined",
)


@functools.lru_cache(maxsize=512)
def _parse_cached(document: str) -> DocumentNode:
    return parse(document)


def parse_document(document: str) -> DocumentNode:
    """The parsed document (cached: the hook's own documents are parsed once per process).

    :raises LmsInputError: naming ``query``, for an empty document or a GraphQL syntax error; before any request.
    """
    if not isinstance(document, str) or not document.strip():
        raise LmsInputError("query", "is empty")
    try:
        return _parse_cached(document)
    except GraphQLSyntaxError as exc:
        where = f" at line {exc.locations[0].line}, column {exc.locations[0].column}" if exc.locations else ""
        raise LmsInputError("query", f"is not valid GraphQL{where}: {exc.message}") from None


def select_operation(document: str, operation_name: str | None = None) -> OperationDefinitionNode:
    """The operation the document runs, picked by ``operation_name`` when the document holds several.

    :param document: the GraphQL document.
    :param operation_name: the operation to run, required when the document has several.
    :raises LmsInputError: the document has no operation, several without ``operation_name``, or none by that name.
    """
    operations = [d for d in parse_document(document).definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise LmsInputError("query", "has no query or mutation, only fragments")
    if operation_name:
        for op in operations:
            if op.name is not None and op.name.value == operation_name:
                return op
        names = sorted(op.name.value for op in operations if op.name is not None)
        raise LmsInputError("operation_name", f"{operation_name!r} is not an operation of the document ({names})")
    if len(operations) > 1:
        raise LmsInputError("operation_name", "the document has several operations: name the one to run")
    return operations[0]


def operation_type(document: str, operation_name: str | None = None) -> OperationType:
    """Which kind of operation the document runs: ``QUERY``, ``MUTATION`` or ``SUBSCRIPTION``.

    A mutation after a fragment is a mutation: the document is parsed, not scanned for a leading keyword.
    """
    return select_operation(document, operation_name).operation


def graphql_body(response: httpx.Response) -> dict[str, Any]:
    """A GraphQL answer's JSON object (a ``ValueError`` counts as a malformed answer in the HTTP core)."""
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _error_list(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return [{"message": str(raw)}]
    return [e if isinstance(e, dict) else {"message": str(e)} for e in raw]


def _code(error: dict[str, Any]) -> str:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return str(code) if code is not None else ""


def is_auth_error(errors: Any) -> bool:
    """Whether an ``errors`` array reports a refused token: an ``extensions.code`` containing ``Auth``.

    The rule of Pluvo's reference client (pluvo-graphql facts, section 4), matched case-sensitively as it is.
    """
    return any("Auth" in _code(e) for e in _error_list(errors))


def _summary(errors: list[dict[str, Any]]) -> str:
    return "; ".join(str(e.get("message", "")) for e in errors)[:500]


def graphql_error(
    errors: Any, *, platform: str, path: str, operation: str | None, status: int | None = None
) -> PluvoGraphQLError:
    """The typed error for an ``errors`` array.

    :param errors: the ``errors`` value of the answer.
    :param platform: the platform's display name.
    :param path: the GraphQL path (for the message).
    :param operation: the operation's name, when it has one.
    :param status: the HTTP status, when it was an error status (a 400 with GraphQL errors is a validation error).
    """
    listed = _error_list(errors)
    codes = [_code(e) for e in listed]
    text = " ".join(codes + [str(e.get("message", "")) for e in listed]).lower()
    cls: type[PluvoGraphQLError] = PluvoGraphQLError
    if any("Auth" in c for c in codes):
        cls = PluvoAuthError
    elif any(h in text for h in _PERMISSION_HINTS):
        cls = PluvoPermissionError
    elif any(h in text for h in _NOT_FOUND_HINTS):
        cls = PluvoNotFoundError
    elif any(h in text for h in _VALIDATION_HINTS) or status in (400, 422):
        cls = PluvoValidationError
    what = f"GraphQL operation {operation} failed" if operation else "GraphQL request failed"
    return cls(
        what,
        errors=listed,
        code=next((c for c in codes if c), None),
        platform_message=_summary(listed),
        status=status,
        platform=platform,
        method="POST",
        path=path,
    )


def parse_pluvo_error(response: httpx.Response) -> PlatformError:
    """Read an HTTP error answer: a GraphQL ``errors`` body when there is one, else the text."""
    try:
        body = response.json()
    except ValueError:
        return PlatformError(message=response.text.strip()[:300] or None)
    if isinstance(body, dict) and body.get("errors"):
        listed = _error_list(body["errors"])
        return PlatformError(message=_summary(listed), code=next((c for c in map(_code, listed) if c), None))
    if isinstance(body, dict) and body.get("error"):
        # The OAuth2 token endpoint's {"error": "invalid_client"}.
        return PlatformError(message=str(body.get("error_description") or body["error"])[:300])
    return PlatformError()


def without_unset(**values: Any) -> dict[str, Any]:
    """Variables without the unset ones: a variable left out is an argument not given (GraphQL's rule)."""
    return {k: v for k, v in values.items() if v is not None}


def _page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise LmsInputError("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}, got {value!r}")
    return value


def _page_variables(variables: Mapping[str, Any] | None, size: int, after: str | None) -> dict[str, Any]:
    """The caller's variables with this page's ``first`` and ``after`` (left out on the first page)."""
    if variables is not None and not isinstance(variables, Mapping):
        raise LmsInputError("variables", f"must be a mapping, got {type(variables).__name__}")
    page = {k: v for k, v in (variables or {}).items() if k not in ("first", "after")}
    return {**page, "first": size, **({"after": after} if after is not None else {})}


def _connection_path(connection: str | Sequence[str]) -> tuple[str, ...]:
    path = (connection,) if isinstance(connection, str) else tuple(connection)
    if not path or not all(isinstance(p, str) and p for p in path):
        raise LmsInputError("connection", f"must name the connection field in data, got {connection!r}")
    return path


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


class PluvoGraphQLHook(LmsHook[PluvoConnection]):
    """Pluvo's GraphQL transport: ``query``/``aquery`` for one document, ``paginate``/``apaginate`` for a connection.

    :param lms_conn_id: the Airflow connection id (type ``pluvo``).
    """

    graphql_path: ClassVar[str] = "/graphql/"
    connection_model: ClassVar[type[LmsConnection]] = PluvoConnection

    def __init__(self, lms_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(lms_conn_id, **kwargs)
        self._oauth: OAuth2ClientCredentials | None = None

    # -- connection ---------------------------------------------------------------------------------------
    def auth_for(self, config: PluvoConnection) -> httpx.Auth:
        # One token for the sync and the async client, so that the hook can invalidate it on a GraphQL Auth error.
        if self._oauth is None:
            self._oauth = OAuth2ClientCredentials(
                config.base_url.rstrip("/") + "/oauth/token/",
                config.client_id,
                config.client_secret,
                scope=config.scopes,
            )
        return self._oauth

    def error_parser(self) -> ErrorParser:
        return parse_pluvo_error

    # -- one GraphQL request --------------------------------------------------------------------------------
    def _body(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> tuple[dict[str, Any], bool, str | None]:
        """The request body, whether a resend after a dropped connection is harmless (a query only), the name."""
        operation = select_operation(query, operation_name)
        if variables is not None and not isinstance(variables, Mapping):
            raise LmsInputError("variables", f"must be a mapping, got {type(variables).__name__}")
        body: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            body["operationName"] = operation_name
        name = operation.name.value if operation.name is not None else None
        return body, operation.operation is OperationType.QUERY, name

    def _http_error(self, exc: LmsAuthenticationError | LmsValidationError, name: str | None) -> Exception:
        """A refused token or an invalid request as the HTTP core raised it, said the Pluvo way."""
        if isinstance(exc, PluvoGraphQLError):
            return exc
        if isinstance(exc, LmsValidationError):
            # A 400/422 whose body carried GraphQL errors: the same typed error as with HTTP 200.
            errors = [{"message": exc.platform_message or exc.message, "extensions": {"code": exc.code}}]
            return graphql_error(
                errors, platform=self.platform, path=self.graphql_path, operation=name, status=exc.status
            )
        if exc.status == 401 and (exc.path or "").endswith(self.graphql_path):
            # The auth flow has already fetched one fresh token and tried once more.
            return LmsAuthenticationError(
                "Pluvo refused the token, also a freshly fetched one: check the OAuth2 client and its scopes",
                status=401,
                platform=self.platform,
                method="POST",
                path=exc.path,
            )
        return exc

    def _data(self, answer: dict[str, Any], name: str | None, *, refreshed: bool) -> dict[str, Any]:
        errors = answer.get("errors")
        if errors:
            error = graphql_error(errors, platform=self.platform, path=self.graphql_path, operation=name)
            if isinstance(error, PluvoAuthError) and refreshed:
                raise PluvoAuthError(
                    "Pluvo refused the token (a GraphQL Auth error), also a freshly fetched one: "
                    "check the OAuth2 client and its scopes",
                    errors=error.errors,
                    code=error.code,
                    platform_message=error.platform_message,
                    platform=self.platform,
                    method="POST",
                    path=self.graphql_path,
                )
            raise error
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PluvoGraphQLError(
                "GraphQL answer without data", errors=[], platform=self.platform, method="POST", path=self.graphql_path
            )
        return data

    def _fresh_token(self) -> None:
        """Forget the token after a GraphQL ``Auth`` error, so that the next request fetches a new one."""
        if self._oauth is not None:
            self._oauth.invalidate()

    def query(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run a GraphQL query or mutation and return its ``data``.

        The document is parsed first (a syntax error is an :class:`LmsInputError` naming ``query``, before any
        request); only a query is sent again after a dropped connection. A GraphQL ``Auth`` error gets one
        fresh token and one more try.

        :param query: the GraphQL document.
        :param variables: the variables it declares.
        :param operation_name: which operation to run, when the document has several.
        :raises PluvoGraphQLError: Pluvo answered with ``errors`` (even alongside partial data); the subclass
            says what kind (:class:`PluvoAuthError`, ``PluvoNotFoundError``, ``PluvoValidationError``...).
        """
        body, idempotent, name = self._body(query, variables, operation_name)
        for attempt in (1, 2):
            try:
                answer = self.client.request(
                    "POST", self.graphql_path, json=body, parse=graphql_body, idempotent=idempotent
                )
            except (LmsAuthenticationError, LmsValidationError) as exc:
                raise self._http_error(exc, name) from None
            if attempt == 1 and is_auth_error(answer.get("errors")):
                self._fresh_token()
                continue
            return self._data(answer, name, refreshed=attempt == 2)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aquery(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation_name: str | None = None
    ) -> dict[str, Any]:
        """The async twin of :meth:`query` (for triggers), with the same retries and token refresh."""
        body, idempotent, name = self._body(query, variables, operation_name)
        client = await self.aget_conn()
        for attempt in (1, 2):
            try:
                answer = await client.arequest(
                    "POST", self.graphql_path, json=body, parse=graphql_body, idempotent=idempotent
                )
            except (LmsAuthenticationError, LmsValidationError) as exc:
                raise self._http_error(exc, name) from None
            if attempt == 1 and is_auth_error(answer.get("errors")):
                self._fresh_token()
                continue
            return self._data(answer, name, refreshed=attempt == 2)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- Relay connections ----------------------------------------------------------------------------------
    @staticmethod
    def _page(data: Any, path: tuple[str, ...], after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page's nodes and the cursor of the next page (None: the last page)."""
        for key in path:
            if not isinstance(data, dict) or key not in data:
                raise LmsInputError("connection", f"{'.'.join(path)!r} is not in the answer")
            data = data[key]
            if data is None:
                raise PluvoNotFoundError(
                    f"{'.'.join(path)} is null: the record asked for does not exist", errors=[], platform="Pluvo"
                )
        if not isinstance(data, dict) or "edges" not in data:
            raise LmsInputError("connection", f"{'.'.join(path)!r} is not a connection (no edges) in the answer")
        nodes = [e["node"] for e in data.get("edges") or [] if isinstance(e, dict) and e.get("node") is not None]
        page = PluvoPageInfo.model_validate(data.get("pageInfo") or {"hasNextPage": False})
        # Only hasNextPage ends the paging (pagination page): a short page is not the last one by itself.
        if not page.has_next_page:
            return nodes, None
        if not page.end_cursor or page.end_cursor == after:
            # A server that keeps answering the same cursor would have us loop forever.
            raise PluvoGraphQLError(
                "the connection reports a next page without a new endCursor", errors=[], platform="Pluvo"
            )
        return nodes, page.end_cursor

    def paginate(
        self,
        query: str,
        connection: str | Sequence[str],
        variables: Mapping[str, Any] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield the nodes of a Relay connection lazily, one page (``first`` ≤ 50) at a time.

        The query must declare ``$first: Int`` and ``$after: String``, pass them to the connection field
        and select ``edges { node { ... } }`` and ``pageInfo { hasNextPage endCursor }``. Paging stops when
        ``hasNextPage`` is false. Nothing is requested until the first node is needed.

        :param query: the GraphQL document.
        :param connection: the path of the connection field in ``data``, e.g. ``"paginatedUsers"`` or
            ``("group", "users")``.
        :param variables: further variables.
        :param page_size: nodes per request, 1 to 50.
        """
        size, path = _page_size(page_size), _connection_path(connection)
        after: str | None = None
        while True:
            data = self.query(query, _page_variables(variables, size, after))
            nodes, after = self._page(data, path, after)
            yield from nodes
            if after is None:
                return

    async def apaginate(
        self,
        query: str,
        connection: str | Sequence[str],
        variables: Mapping[str, Any] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """The async twin of :meth:`paginate`."""
        size, path = _page_size(page_size), _connection_path(connection)
        after: str | None = None
        while True:
            data = await self.aquery(query, _page_variables(variables, size, after))
            nodes, after = self._page(data, path, after)
            for node in nodes:
                yield node
            if after is None:
                return

    def check_connection(self) -> str:
        self.query(DOCUMENTS["PluvoConnectionTest"])
        return f"Connected to Pluvo at {self.client.base_url.host}"
