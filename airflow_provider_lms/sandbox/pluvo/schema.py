"""Pluvo's published schema (``schema.graphql``), built with graphql-core and wired to the double's state.

The SDL ships as package data and is read with ``importlib.resources``; ``build_schema`` turns it into a
schema, ``scalars.py`` gives the custom scalars their behaviour, and the resolvers of ``resolvers.py`` are
attached to their fields. Every other field is read off the record (or dict) its parent resolved to, by
its name in snake case (``startDate`` → ``start_date``). A request runs through graphql-core's parser,
validator and executor, so a field or argument Pluvo does not have fails validation as it would there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)

from airflow_provider_lms.sandbox.pluvo.resolvers import MUTATION, OBJECT_FIELDS, QUERY
from airflow_provider_lms.sandbox.pluvo.scalars import install_scalars

__all__ = ["load_sdl", "pluvo_schema", "run_graphql"]

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def load_sdl() -> str:
    """The text of ``schema.graphql`` (package data)."""
    return resources.files("airflow_provider_lms.sandbox.pluvo").joinpath("schema.graphql").read_text("utf-8")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def resolve_field(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
    """The default resolver: a dict's key, or a record's attribute named in snake case."""
    if isinstance(source, Mapping):
        return source.get(info.field_name)
    return getattr(source, _snake(info.field_name), None)


def _object(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    found = schema.type_map[name]
    assert isinstance(found, GraphQLObjectType), name
    return found


@lru_cache(maxsize=1)
def pluvo_schema() -> GraphQLSchema:
    """The schema with scalars and resolvers attached (built once; it holds no state)."""
    schema = build_schema(load_sdl())
    install_scalars(schema)
    for type_name, resolvers in (("Query", QUERY), ("Mutation", MUTATION)):
        fields = _object(schema, type_name).fields
        missing = set(fields) ^ set(resolvers)
        assert not missing, f"{type_name} fields without a resolver, or resolvers without a field: {missing}"
        for name, resolve in resolvers.items():
            fields[name].resolve = resolve
    for (type_name, field_name), resolve in OBJECT_FIELDS.items():
        _object(schema, type_name).fields[field_name].resolve = resolve
    return schema


def run_graphql(
    context: Any, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> tuple[ExecutionResult, bool]:
    """Parse, validate and execute one request; ``(result, executed)``.

    ``executed`` is false when the document did not get as far as execution (a syntax or validation error,
    or variables that do not fit), which is when graphene-style servers may answer with another status.
    """
    schema = pluvo_schema()
    try:
        document = parse(query)
    except GraphQLError as error:
        return ExecutionResult(data=None, errors=[error]), False
    errors = validate(schema, document)
    if errors:
        return ExecutionResult(data=None, errors=errors), False
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=resolve_field,
    )
    assert isinstance(result, ExecutionResult)  # every resolver is synchronous
    return result, result.data is not None
