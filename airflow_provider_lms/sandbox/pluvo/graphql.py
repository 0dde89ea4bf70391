"""A GraphQL subset: enough syntax for queries with variables, aliases and nested selections.

Pluvo's real schema is not in the documents, so the root fields here (``users``, ``trainings``,
``user(id)``, ``training(id)``, ``__typename``) are the sandbox's own, shaped the Relay way FACTS.md
describes. The document is read with a regular-expression tokenizer and a small recursive-descent parser.

A later issue replaces this module with a graphql-core schema built from Pluvo's published pages; until
then every regular expression and every piece of GraphQL syntax the sandbox knows stays in this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox.pluvo.errors import GraphQLError
from airflow_provider_lms.sandbox.pluvo.pagination import encode_cursor, page
from airflow_provider_lms.sandbox.pluvo.views import training_json, user_json

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pluvo.state import PluvoState

__all__ = ["Field", "execute", "parse_graphql"]

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
    """One selected field: its name, the key it answers under, its arguments and sub-selections."""

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


# -- the sandbox's own schema: two object types, each a list and a single-record root field --------------
@dataclass(frozen=True)
class _ObjectType:
    name: str
    fields: frozenset[str]
    render: Callable[[Any], dict[str, Any]]
    records: Callable[[PluvoState], Sequence[Any]]
    find: Callable[[PluvoState, str], Any]


_USER = _ObjectType(
    name="User",
    fields=frozenset({"id", "ref", "name", "email", "isActive", "extraFields", "__typename"}),
    render=user_json,
    records=lambda state: state.users,
    find=lambda state, record_id: state.find_user(record_id),
)
_TRAINING = _ObjectType(
    name="Training",
    fields=frozenset(
        {
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
    ),
    render=training_json,
    records=lambda state: state.trainings,
    find=lambda state, record_id: state.find_training(record_id),
)
_CONNECTIONS = {"users": _USER, "trainings": _TRAINING}
_SINGLE = {"user": _USER, "training": _TRAINING}


def _project(record: dict[str, Any], fields: list[Field], allowed: Collection[str], type_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name not in allowed:
            raise GraphQLError(f"Cannot query field '{f.name}' on type '{type_name}'.")
        out[f.alias] = type_name if f.name == "__typename" else record.get(f.name)
    return out


def _edges(items: list[tuple[int, Any]], sub: Field, node: _ObjectType) -> list[dict[str, Any]]:
    edges = []
    for index, record in items:
        edge: dict[str, Any] = {}
        for part in sub.selections:
            if part.name == "cursor":
                edge[part.alias] = encode_cursor(index)
            elif part.name == "node":
                edge[part.alias] = _project(node.render(record), part.selections, node.fields, node.name)
            else:
                raise GraphQLError(f"Cannot query field '{part.name}' on type '{node.name}Edge'.")
        edges.append(edge)
    return edges


def _connection(records: Sequence[Any], field: Field, node: _ObjectType) -> dict[str, Any]:
    window = page(records, field.args.get("first"), field.args.get("after"))
    out: dict[str, Any] = {}
    for sub in field.selections:
        if sub.name == "edges":
            out[sub.alias] = _edges(window.items, sub, node)
        elif sub.name == "nodes":
            out[sub.alias] = [_project(node.render(r), sub.selections, node.fields, node.name) for _, r in window.items]
        elif sub.name == "pageInfo":
            info = window.page_info()
            out[sub.alias] = _project(info, sub.selections, set(info), "PageInfo")
        elif sub.name == "totalCount":
            out[sub.alias] = window.total
        else:
            raise GraphQLError(f"Cannot query field '{sub.name}' on type '{node.name}Connection'.")
    return out


def _root_field(state: PluvoState, f: Field) -> Any:
    if f.name == "__typename":
        return "Query"
    if f.name in _CONNECTIONS:
        node = _CONNECTIONS[f.name]
        return _connection(node.records(state), f, node)
    if f.name in _SINGLE:
        node = _SINGLE[f.name]
        record = node.find(state, str(f.args.get("id")))
        return None if record is None else _project(node.render(record), f.selections, node.fields, node.name)
    raise GraphQLError(f"Cannot query field '{f.name}' on type 'Query'.")


def execute(state: PluvoState, query: str, variables: dict[str, Any] | None) -> dict[str, Any]:
    """Run a document of the subset against the state; the GraphQL answer body."""
    try:
        kind, fields = parse_graphql(query, variables)
        if kind != "query":
            raise GraphQLError(f"the sandbox's GraphQL subset has no {kind} type")
        data = {f.alias: _root_field(state, f) for f in fields}
    except GraphQLError as exc:
        return {"data": None, "errors": [{"message": str(exc)}]}
    return {"data": data}
