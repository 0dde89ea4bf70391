"""The Pluvo double: an OAuth2 token endpoint, a GraphQL subset, and webhooks sent on demand.

- ``POST /pluvo/oauth/token/``: form-encoded client-credentials grant (FACTS.md); answers
  ``{access_token, token_type: "Bearer", expires_in: 86400, scope}``. Default client
  ``sandbox-pluvo-client`` / ``sandbox-pluvo-secret``.
- ``POST /pluvo/graphql/`` with ``Authorization: Bearer <token>``: a GraphQL subset. Pluvo's real schema
  is not in the documents, so the root fields here (``users``, ``trainings``, ``user(id)``,
  ``training(id)``, ``__typename``) are the sandbox's own, shaped the Relay way FACTS.md describes
  (``first`` at most 50, ``after``, ``edges { cursor node }``, ``nodes``, ``pageInfo``). Errors come back
  as GraphQL ``errors`` with HTTP 200; a missing, unknown, revoked or expired token gets 401.
- Control: ``POST /_sandbox/pluvo/revoke_tokens`` (a token revoked early), ``GET /_sandbox/pluvo/state``,
  ``PUT /_sandbox/pluvo/webhook`` (``{url, secret}``: where to send events) and
  ``POST /_sandbox/pluvo/finish_training`` (``{user_id, training_id}``: a learner finishes a training,
  a signed ``TRAINING_FINISHED`` is delivered with retries).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import PlatformMount, iso_timestamp

__all__ = [
    "MOUNT",
    "PLUVO_PREFIX",
    "PLUVO_SANDBOX_CLIENT_ID",
    "PLUVO_SANDBOX_CLIENT_SECRET",
    "PluvoState",
    "parse_graphql",
]

PLUVO_PREFIX = "/pluvo"
PLUVO_SANDBOX_CLIENT_ID = "sandbox-pluvo-client"
PLUVO_SANDBOX_CLIENT_SECRET = "sandbox-pluvo-secret"  # noqa: S105 - a sandbox credential, public on purpose
TOKEN_LIFETIME_SECONDS = 86400
MAX_FIRST = 50


def render_error(status: int, message: str) -> Response:
    """Pluvo's error body is not documented; the sandbox answers in the GraphQL ``errors`` shape."""
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


# -- state -------------------------------------------------------------------------------------------------
@dataclass
class _Token:
    client_id: str
    scope: str
    expires_at: datetime


class PluvoState:
    """Clients, tokens, users and trainings of the Pluvo double.

    :param clock: the sandbox clock (token expiry follows it).
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.clients: dict[str, str] = {}
        self.tokens: dict[str, _Token] = {}
        self.users: list[dict[str, Any]] = []
        self.trainings: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.reset()

    def reset(self) -> None:
        self.clients = {PLUVO_SANDBOX_CLIENT_ID: PLUVO_SANDBOX_CLIENT_SECRET}
        self.tokens = {}
        self.tokens_issued = 0
        self.webhook_url = None
        self.webhook_secret = None
        # 120 users: three pages of 50, so that pagination is exercised.
        self.users = [
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "ref": f"user-{i}",
                "name": f"Learner {i}",
                "email": f"learner{i}@example.org",
                "isActive": i % 10 != 0,
                "extraFields": {"Afdeling": "Marketing" if i % 2 else "Sales"},
            }
            for i in range(1, 121)
        ]
        self.trainings = [
            {
                "id": f"10000000-0000-4000-8000-{i:012d}",
                "ref": f"training-{i}",
                "title": f"Training {i}",
                "subtitle": None,
                "introduction": None,
                "startDate": "2024-02-01",
                "endDate": "2025-02-01",
                "isActive": True,
                "showParticipants": True,
                "showSharedFiles": True,
                "enableChat": False,
                "extraFields": {"subject": "Development"},
            }
            for i in range(1, 6)
        ]

    def issue_token(self, client_id: str, scope: str) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = _Token(client_id, scope, self.clock() + timedelta(seconds=TOKEN_LIFETIME_SECONDS))
        self.tokens_issued += 1
        return token

    def token_valid(self, token: str) -> bool:
        known = self.tokens.get(token)
        return known is not None and self.clock() < known.expires_at

    def find(self, kind: str, record_id: str) -> dict[str, Any] | None:
        records = self.users if kind == "user" else self.trainings
        return next((r for r in records if r["id"] == record_id), None)

    def training_finished_event(self, user_id: str, training_id: str, score: float | None = None) -> dict[str, Any]:
        """The ``TRAINING_FINISHED`` body, shaped like the document's example."""
        user, training = self.find("user", user_id), self.find("training", training_id)
        if user is None or training is None:
            raise KeyError("unknown user or training")
        now = self.clock()
        return {
            "id": str(_uuid_from(user_id + training_id + now.isoformat())),
            "score": score,
            "start_date": (now - timedelta(days=7)).isoformat(timespec="seconds"),
            "user": {**user, "event": "USER_UPDATED", "sentDate": iso_timestamp(now)},
            "training": {**training, "event": "TRAINING_UPDATED", "sentDate": iso_timestamp(now)},
            "sentDate": iso_timestamp(now),
            "event": "TRAINING_FINISHED",
        }


def _uuid_from(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


# -- a GraphQL subset: enough syntax for queries with variables, aliases and nested selections ------------
class GraphQLError(Exception):
    """A request error answered in the GraphQL ``errors`` list."""


_TOKEN = re.compile(
    r'\s*(?:(#[^\n]*)|(\.\.\.)|([{}()\[\]:$!=,@])|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([_A-Za-z][_0-9A-Za-z]*))'
)


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise GraphQLError(f"Syntax Error: unexpected character {text[pos:].strip()[:1]!r}")
        pos = match.end()
        if match.group(1) or match.group(0).strip() == ",":
            continue
        if match.group(2):
            raise GraphQLError("fragments are not in the sandbox's GraphQL subset")
        tokens.append(match.group(0).strip())
    return tokens


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any]
    selections: list[Field]


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(f"Syntax Error: expected {expected or 'a token'}, found {token or '<EOF>'}")
        self.pos += 1
        return token

    def document(self) -> tuple[str, list[Field]]:
        kind = "query"
        if self.peek() in ("query", "mutation", "subscription"):
            kind = self.take()
            if self.peek() not in ("{", "("):
                self.take()  # operation name
            if self.peek() == "(":
                while self.take() != ")":  # variable definitions: types and defaults are not checked
                    pass
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("the sandbox runs documents with exactly one operation")
        return kind, selections

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while self.peek() != "}":
            fields.append(self.field())
        self.take("}")
        if not fields:
            raise GraphQLError("Syntax Error: empty selection set")
        return fields

    def field(self) -> Field:
        alias = name = self.take()
        if self.peek() == ":":
            self.take(":")
            name = self.take()
        args: dict[str, Any] = {}
        if self.peek() == "(":
            self.take("(")
            while self.peek() != ")":
                key = self.take()
                self.take(":")
                args[key] = self.value()
            self.take(")")
        selections = self.selection_set() if self.peek() == "{" else []
        return Field(name, alias, args, selections)

    def value(self) -> Any:
        lexeme = self.take()
        if lexeme == "$":
            return self.variables.get(self.take())
        if lexeme.startswith('"'):
            return bytes(lexeme[1:-1], "utf-8").decode("unicode_escape")
        if lexeme in ("true", "false"):
            return lexeme == "true"
        if lexeme == "null":
            return None
        try:
            return float(lexeme) if "." in lexeme else int(lexeme)
        except ValueError:
            return lexeme  # an enum value


def parse_graphql(text: str, variables: dict[str, Any] | None = None) -> tuple[str, list[Field]]:
    """Parse a document of the subset into its operation kind and root fields."""
    return _Parser(text, variables or {}).document()


_USER_FIELDS = {"id", "ref", "name", "email", "isActive", "extraFields", "__typename"}
_TRAINING_FIELDS = {
    "id",
    "ref",
    "title",
    "subtitle",
    "introduction",
    "startDate",
    "endDate",
    "isActive",
    "showParticipants",
    "showSharedFiles",
    "enableChat",
    "extraFields",
    "__typename",
}


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if cursor is None:
        return -1
    try:
        kind, _, number = base64.b64decode(cursor).decode().partition(":")
        if kind != "cursor":
            raise ValueError(cursor)
        return int(number)
    except ValueError:
        raise GraphQLError(f"invalid cursor {cursor!r}") from None


def _project(record: dict[str, Any], fields: list[Field], allowed: set[str], type_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name not in allowed:
            raise GraphQLError(f"Cannot query field '{f.name}' on type '{type_name}'.")
        out[f.alias] = type_name if f.name == "__typename" else record.get(f.name)
    return out


def _connection(records: list[dict[str, Any]], field: Field, allowed: set[str], node_type: str) -> dict[str, Any]:
    first = field.args.get("first")
    if first is None:
        first = MAX_FIRST
    if not isinstance(first, int) or first < 0:
        raise GraphQLError("'first' must be a non-negative integer")
    if first > MAX_FIRST:
        raise GraphQLError(f"'first' must be at most {MAX_FIRST}, got {first}")
    start = _index(field.args.get("after")) + 1
    window = list(enumerate(records))[start : start + first]
    has_next = start + first < len(records)
    out: dict[str, Any] = {}
    for sub in field.selections:
        if sub.name == "edges":
            edges = []
            for i, record in window:
                edge: dict[str, Any] = {}
                for part in sub.selections:
                    if part.name == "cursor":
                        edge[part.alias] = _cursor(i)
                    elif part.name == "node":
                        edge[part.alias] = _project(record, part.selections, allowed, node_type)
                    else:
                        raise GraphQLError(f"Cannot query field '{part.name}' on type '{node_type}Edge'.")
                edges.append(edge)
            out[sub.alias] = edges
        elif sub.name == "nodes":
            out[sub.alias] = [_project(r, sub.selections, allowed, node_type) for _, r in window]
        elif sub.name == "pageInfo":
            info = {
                "hasNextPage": has_next,
                "hasPreviousPage": start > 0,
                "startCursor": _cursor(window[0][0]) if window else None,
                "endCursor": _cursor(window[-1][0]) if window else None,
            }
            out[sub.alias] = _project(info, sub.selections, set(info), "PageInfo")
        elif sub.name == "totalCount":
            out[sub.alias] = len(records)
        else:
            raise GraphQLError(f"Cannot query field '{sub.name}' on type '{node_type}Connection'.")
    return out


def execute(state: PluvoState, query: str, variables: dict[str, Any] | None) -> dict[str, Any]:
    """Run a document of the subset against the state; the GraphQL answer body."""
    try:
        kind, fields = parse_graphql(query, variables)
        if kind != "query":
            raise GraphQLError(f"the sandbox's GraphQL subset has no {kind} type")
        data: dict[str, Any] = {}
        for f in fields:
            if f.name == "__typename":
                data[f.alias] = "Query"
            elif f.name in ("users", "trainings"):
                records = state.users if f.name == "users" else state.trainings
                allowed = _USER_FIELDS if f.name == "users" else _TRAINING_FIELDS
                data[f.alias] = _connection(records, f, allowed, "User" if f.name == "users" else "Training")
            elif f.name in ("user", "training"):
                record = state.find(f.name, str(f.args.get("id")))
                allowed = _USER_FIELDS if f.name == "user" else _TRAINING_FIELDS
                data[f.alias] = None if record is None else _project(record, f.selections, allowed, f.name.title())
            else:
                raise GraphQLError(f"Cannot query field '{f.name}' on type 'Query'.")
    except GraphQLError as exc:
        return {"data": None, "errors": [{"message": str(exc)}]}
    return {"data": data}


# -- routes ------------------------------------------------------------------------------------------------
def create_pluvo_router(state: Any) -> APIRouter:
    pluvo: PluvoState = state.pluvo
    router = APIRouter(prefix=PLUVO_PREFIX, tags=["pluvo"])

    @router.post("/oauth/token/")
    async def token(request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        client_id, client_secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
        expected = pluvo.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        scope = str(form.get("scope") or "")
        return JSONResponse(
            {
                "access_token": pluvo.issue_token(client_id, scope),
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS,
                "scope": scope,
            }
        )

    @router.post("/graphql/")
    async def graphql(request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not pluvo.token_valid(presented.strip()):
            return render_error(401, "Unauthorized: send a valid Bearer token from /oauth/token/")
        try:
            body = await request.json()
        except ValueError:
            return render_error(400, "Body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return render_error(400, "Must provide query string.")
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return render_error(400, "Variables must be an object.")
        return JSONResponse(execute(pluvo, body["query"], variables))

    return router


class _WebhookTarget(BaseModel):
    url: str
    secret: str


class _FinishTraining(BaseModel):
    user_id: str
    training_id: str
    score: float | None = None


def create_pluvo_control_router(state: Any) -> APIRouter:
    pluvo: PluvoState = state.pluvo
    router = APIRouter(prefix="/pluvo", tags=["sandbox control"])

    @router.post("/revoke_tokens")
    async def revoke_tokens() -> dict[str, Any]:
        revoked = len(pluvo.tokens)
        pluvo.tokens.clear()
        return {"revoked": revoked}

    @router.get("/state")
    async def pluvo_state() -> dict[str, Any]:
        return {
            "tokens_issued": pluvo.tokens_issued,
            "live_tokens": sum(1 for t in pluvo.tokens if pluvo.token_valid(t)),
            "users": len(pluvo.users),
            "trainings": len(pluvo.trainings),
            "webhook_url": pluvo.webhook_url,
        }

    @router.put("/webhook")
    async def set_webhook(target: _WebhookTarget) -> dict[str, Any]:
        pluvo.webhook_url, pluvo.webhook_secret = target.url, target.secret
        return {"url": target.url}

    @router.post("/finish_training")
    async def finish_training(body: _FinishTraining) -> Response:
        if pluvo.webhook_url is None or pluvo.webhook_secret is None:
            return JSONResponse({"detail": "no webhook configured: PUT /_sandbox/pluvo/webhook first"}, 409)
        try:
            event = pluvo.training_finished_event(body.user_id, body.training_id, body.score)
        except KeyError:
            return JSONResponse({"detail": "unknown user or training"}, 404)
        from airflow_provider_lms.sandbox.webhook_sender import WebhookSender

        def send() -> dict[str, Any]:
            with WebhookSender("pluvo", pluvo.webhook_secret) as sender:
                result = sender.send(str(pluvo.webhook_url), event)
            return {"delivered": result.delivered, "statuses": result.statuses, "event": event}

        # Off the event loop: the receiver may be slow, and the sandbox keeps serving meanwhile.
        return JSONResponse(await asyncio.to_thread(send))

    return router


def _pluvo_connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "pluvo",
        "login": PLUVO_SANDBOX_CLIENT_ID,
        "password": PLUVO_SANDBOX_CLIENT_SECRET,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{PLUVO_PREFIX}", "scopes": "users.read trainings.read"},
    }


MOUNT = PlatformMount(
    name="pluvo",
    prefix=PLUVO_PREFIX,
    router_factory=create_pluvo_router,
    render_error=render_error,
    state_factory=lambda clock: PluvoState(clock),
    control_router_factory=create_pluvo_control_router,
    connection_factory=_pluvo_connection,
    conn_id="pluvo_default",
)
