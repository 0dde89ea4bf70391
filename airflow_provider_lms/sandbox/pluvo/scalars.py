"""The custom scalars of ``schema.graphql`` with real parse and serialize functions.

Pluvo is a Django/graphene service (its ids are UUIDs, its mutations return graphene-style payloads), so
each scalar behaves as graphene's of the same name: ``UUID`` must be a UUID, ``DateTime``/``Date`` are ISO
8601, ``JSONString`` travels as a JSON *string*, ``Decimal`` as a decimal string. A value that does not
parse fails as a GraphQL error before any resolver runs (graphql-core turns the
``ValueError`` raised here into one, with the value's location), the way the real server refuses it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    FloatValueNode,
    GraphQLScalarType,
    GraphQLSchema,
    IntValueNode,
    StringValueNode,
    ValueNode,
)
from graphql.pyutils import Undefined

__all__ = ["install_scalars"]


def _uuid(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"UUID cannot represent value: {value!r}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("badly formed hexadecimal UUID string") from None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"DateTime cannot represent value: {value!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"DateTime cannot represent value: {value!r}") from None


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"Date cannot represent value: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Date cannot represent value: {value!r}") from None


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"JSONString cannot represent value: {value!r}")
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(f"JSONString cannot represent value: {value!r}") from None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"Decimal cannot represent value: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"Decimal cannot represent value: {value!r}") from None


def _serialize_datetime(value: Any) -> str:
    return _datetime(value).isoformat()


def _serialize_date(value: Any) -> str:
    return _date(value).isoformat()


def _serialize_json(value: Any) -> str:
    # graphene's JSONString is serialized as a JSON text, not as a nested object.
    return value if isinstance(value, str) else json.dumps(value)


def _serialize_decimal(value: Any) -> str:
    return str(_decimal(value))


def _literal(parse: Callable[[Any], Any], *, numbers: bool = False) -> Callable[..., Any]:
    """A ``parse_literal`` that accepts string literals (and number literals when ``numbers``)."""
    kinds: tuple[type[ValueNode], ...] = (
        (StringValueNode, IntValueNode, FloatValueNode) if numbers else (StringValueNode,)
    )

    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, kinds):
            return Undefined  # graphql-core reports "Expected value of type ..."
        return parse(getattr(node, "value", None))

    return parse_literal


#: name -> (serialize, parse a variable's value, parse a literal in the document).
_SCALARS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "UUID": (_uuid, _uuid),
    "DateTime": (_serialize_datetime, _datetime),
    "Date": (_serialize_date, _date),
    "JSONString": (_serialize_json, _json),
    "Decimal": (_serialize_decimal, _decimal),
}


def install_scalars(schema: GraphQLSchema) -> None:
    """Give the schema's custom scalars (declared ``scalar X`` in the SDL) their behaviour."""
    for name, (serialize, parse) in _SCALARS.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType), name
        literal = _literal(parse, numbers=name == "Decimal")
        # graphql-core 3.3 reads coerce_*; 3.2 reads serialize/parse_*: both are set, so either works.
        behaviour = {
            "serialize": serialize,
            "coerce_output_value": serialize,
            "parse_value": parse,
            "coerce_input_value": parse,
            "parse_literal": literal,
            "coerce_input_literal": literal,
        }
        for attribute, function in behaviour.items():
            setattr(scalar, attribute, function)
