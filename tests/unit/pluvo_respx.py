"""A respx stand-in for Pluvo's GraphQL endpoint: answers by operation name and keeps every request it saw."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse

BASE = "https://acme.pluvo.test"
TOKEN_URL = f"{BASE}/oauth/token/"
GRAPHQL_URL = f"{BASE}/graphql/"

Handler = Callable[[dict[str, Any]], Any]


def token(n: int = 1, expires_in: int = 86400) -> httpx.Response:
    return httpx.Response(200, json={"access_token": f"tok-{n}", "token_type": "Bearer", "expires_in": expires_in})


def operation_name(document: str) -> str | None:
    ops = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    return ops[0].name.value if ops and ops[0].name else None


class FakePluvo:
    """Dispatches each GraphQL request to ``handlers[operation name](variables)``; the result is ``data``.

    A handler may return an ``httpx.Response`` to answer with something else (errors, a status).
    """

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        name = body.get("operationName") or operation_name(body["query"])
        answer = self.handlers[name](body.get("variables") or {})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"data": answer})

    def names(self) -> list[str | None]:
        return [operation_name(r["query"]) for r in self.requests]


def connection(nodes: list[dict[str, Any]], *, has_next: bool = False, cursor: str | None = None) -> dict[str, Any]:
    return {
        "edges": [{"node": n, "cursor": f"c{i}"} for i, n in enumerate(nodes)],
        "pageInfo": {"hasNextPage": has_next, "endCursor": cursor},
        "count": len(nodes),
    }
