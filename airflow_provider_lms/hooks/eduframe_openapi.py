"""Check an Eduframe call against the bundled OpenAPI document before it is sent.

:class:`EduframeOperations` reads ``eduframe-openapi-v1.json`` (through :func:`load_eduframe_openapi`, which
handles the document's quirks once) into one :class:`Operation` per ``operationId`` and turns a call
``(operation_id, path=..., query=..., body=...)`` into a :class:`PreparedCall`: the method, the URL path with
its parameters filled in and escaped, the query as ``(name, value)`` pairs and the JSON body. Anything the
document does not allow is an :class:`LmsInputError` naming the parameter the way the caller wrote it
(``path.id``, ``query.status``, ``body.student_ids[0]``), so no request leaves with it.

What is checked: the operation id (unknown ones get the closest names), every path parameter and required
query parameter, unknown parameters, the JSON types, ``enum``, ``format`` (date, date-time, e-mail),
``minimum``/``maximum``, lengths, ``pattern``, ``required`` and ``additionalProperties: false`` of bodies,
``nullable``, ``allOf``/``anyOf``/``oneOf`` and ``readOnly`` properties (a client must not send them).

Path and query parameters travel as text in a URL, so an integer parameter also takes ASCII digits as text
(what a templated operator field renders to) and a text parameter an integer; a body is JSON and is held to
the document's types exactly.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import bad_character, shown
from airflow_provider_lms.specs import load_eduframe_openapi

__all__ = ["EduframeOperations", "Operation", "Parameter", "PreparedCall", "eduframe_operations"]

_METHODS = ("get", "post", "put", "patch", "delete")
#: A body nested deeper than this is refused: no Eduframe schema comes close, and recursion must stop somewhere.
_MAX_DEPTH = 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_INT64 = 2**63 - 1


@dataclass(frozen=True)
class Parameter:
    """One path or query parameter of an operation.

    :param name: its name in the URL.
    :param location: ``"path"`` or ``"query"``.
    :param required: whether the document requires it (path parameters always are).
    :param schema: its schema, ``$ref`` resolved.
    :param explode: for an array in the query: one ``name=value`` pair per item (form style, the default).
    """

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    explode: bool = True


@dataclass(frozen=True)
class Operation:
    """One operation of the document.

    :param operation_id: the document's ``operationId``, e.g. ``"get_users"``.
    :param method: the HTTP method, upper case.
    :param path: the path template, e.g. ``"/users/{id}"``.
    :param tags: the document's tags of it.
    :param parameters: path and query parameters by location, then name.
    :param body_schema: the JSON request body's schema, if the operation takes one.
    :param body_required: whether a body must be sent.
    :param returns_list: a ``GET`` whose success answer is a JSON array: its pages are followed through ``Link``.
    :param paged: it takes the ``cursor``/``per_page`` parameters.
    """

    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    parameters: Mapping[str, Mapping[str, Parameter]]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    returns_list: bool
    paged: bool

    @property
    def path_parameters(self) -> Mapping[str, Parameter]:
        """The path parameters by name."""
        return self.parameters.get("path", {})

    @property
    def query_parameters(self) -> Mapping[str, Parameter]:
        """The query parameters by name."""
        return self.parameters.get("query", {})


@dataclass(frozen=True)
class PreparedCall:
    """A call that passed every check: what the hook sends.

    :param operation: the operation it calls.
    :param url_path: the path with its parameters filled in (escaped), relative to the API's base URL.
    :param query: the query as ``(name, value)`` pairs (an exploded array repeats its name).
    :param body: the JSON body, or None.
    """

    operation: Operation
    url_path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None


class EduframeOperations:
    """The operations of an Eduframe OpenAPI document, and the checks of a call against them.

    :param document: the OpenAPI document as published (``load_eduframe_openapi("requests")``).
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            shared = [self._deref(p) for p in item.get("parameters", [])]
            for method in _METHODS:
                if method in item:
                    op = self._operation(path, method, item[method], shared)
                    self.operations[op.operation_id] = op

    # -- reading the document ---------------------------------------------------------------------------
    def _deref(self, node: Any) -> Any:
        """Follow ``$ref`` (local ones: the document has no others) until a real node."""
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > _MAX_DEPTH:
                raise ValueError(f"$ref loop at {ref!r}")
        return node

    def _operation(self, path: str, method: str, spec: Mapping[str, Any], shared: list[Any]) -> Operation:
        by_place: dict[str, dict[str, Parameter]] = {}
        # Operation-level parameters override path-level ones of the same name and place.
        for raw in [*shared, *(self._deref(p) for p in spec.get("parameters", []))]:
            location = raw["in"]
            if location not in ("path", "query"):
                continue  # header and cookie parameters: the hook sets its own headers
            schema = dict(self._deref(raw.get("schema", {})))
            if "items" in schema:
                schema["items"] = self._deref(schema["items"])
            by_place.setdefault(location, {})[raw["name"]] = Parameter(
                name=raw["name"],
                location=location,
                required=bool(raw.get("required")) or location == "path",
                schema=schema,
                explode=raw.get("explode", raw.get("style", "form") == "form"),
            )
        body_schema: Mapping[str, Any] | None = None
        body_required = False
        request_body = self._deref(spec.get("requestBody")) if spec.get("requestBody") else None
        if request_body:
            content = request_body.get("content", {})
            media: Mapping[str, Any] = content.get("application/json") or next(iter(content.values()), {})
            body_schema = self._deref(media.get("schema", {}))
            body_required = bool(request_body.get("required"))
        answer = self._success_schema(spec)
        query = by_place.get("query", {})
        return Operation(
            operation_id=str(spec.get("operationId") or f"{method}_{path}"),
            method=method.upper(),
            path=path,
            tags=tuple(spec.get("tags", ())),
            parameters=by_place,
            body_schema=body_schema,
            body_required=body_required,
            returns_list=method == "get" and answer is not None and answer.get("type") == "array",
            paged="cursor" in query or "per_page" in query,
        )

    def _success_schema(self, spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
        for status, response in spec.get("responses", {}).items():
            if str(status).startswith("2"):
                content = self._deref(response).get("content", {})
                media = content.get("application/json")
                if media and "schema" in media:
                    return self._deref(media["schema"])
        return None

    # -- looking up ---------------------------------------------------------------------------------------
    def operation(self, operation_id: Any) -> Operation:
        """The operation with this id; an unknown id is an error that names the closest ones."""
        if not isinstance(operation_id, str) or not operation_id.strip():
            raise LmsInputError("operation", f"must be an Eduframe operationId, got {shown(operation_id)}")
        found = self.operations.get(operation_id.strip())
        if found is not None:
            return found
        close = difflib.get_close_matches(operation_id.strip(), list(self.operations), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else " (see the operationIds of eduframe-openapi-v1.json)"
        raise LmsInputError("operation", f"{shown(operation_id)} is not an operation of the Eduframe API{hint}")

    # -- checking a call --------------------------------------------------------------------------------
    def prepare(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> PreparedCall:
        """Check a call against the document and build what is sent; raises :class:`LmsInputError`.

        :param operation_id: the ``operationId``.
        :param path: the path parameters by name.
        :param query: the query parameters by name; an array parameter takes a list.
        :param body: the JSON body (a mapping for every body the document has).
        """
        op = self.operation(operation_id)
        path_values = _mapping("path", path)
        query_values = _mapping("query", query)
        url_path = op.path
        for name in path_values:
            if name not in op.path_parameters:
                raise LmsInputError(f"path.{name}", _unknown(op, "path", name))
        for name, path_param in op.path_parameters.items():
            if name not in path_values or path_values[name] is None:
                raise LmsInputError(f"path.{name}", f"is required by {op.operation_id} ({op.method} {op.path})")
            text = _url_value(f"path.{name}", path_param.schema, path_values[name])
            if text == "":
                raise LmsInputError(f"path.{name}", "is empty")
            # Escaped whole: a '/' or '?' in an id must not reach another endpoint.
            url_path = url_path.replace("{" + name + "}", quote(text, safe=""))
        pairs: list[tuple[str, str]] = []
        for name, value in query_values.items():
            param = op.query_parameters.get(name)
            if param is None:
                raise LmsInputError(f"query.{name}", _unknown(op, "query", name))
            if value is None:
                continue  # not given
            pairs.extend(_query_pairs(param, value))
        for name, param in op.query_parameters.items():
            if param.required and query_values.get(name) is None:
                raise LmsInputError(f"query.{name}", f"is required by {op.operation_id}")
        if op.body_schema is None:
            if body is not None:
                raise LmsInputError("body", f"{op.operation_id} ({op.method} {op.path}) takes no body")
        elif body is None:
            if op.body_required:
                raise LmsInputError("body", f"is required by {op.operation_id} ({op.method} {op.path})")
        else:
            self.check_value("body", op.body_schema, body)
        return PreparedCall(operation=op, url_path=url_path, query=pairs, body=body)

    def check_value(self, where: str, schema: Mapping[str, Any], value: Any, depth: int = 0) -> None:
        """Check a JSON ``value`` against ``schema`` as a request; raise naming ``where`` (``body.x[0].y``)."""
        if depth > _MAX_DEPTH:
            raise LmsInputError(where, f"is nested deeper than {_MAX_DEPTH} levels")
        schema = self._deref(schema)
        if value is None:
            if schema.get("nullable") or (schema.get("enum") and None in schema["enum"]):
                return
            if not schema or ("type" not in schema and not _combines(schema)):
                return  # an open schema ({}) takes anything
            raise LmsInputError(where, "must not be null")
        for member in schema.get("allOf", ()):
            self.check_value(where, self._open(member), value, depth + 1)
        if "allOf" in schema:
            self._check_closed_all_of(where, schema["allOf"], value)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                self._check_one_of(where, schema[keyword], value, depth)
        kind = schema.get("type")
        if kind is not None:
            _check_type(where, kind, value)
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(repr(v) for v in schema["enum"] if v is not None)
            raise LmsInputError(where, f"{shown(value)} is not one of {allowed}")
        if isinstance(value, str):
            _check_string(where, schema, value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            _check_number(where, schema, value)
        elif isinstance(value, list):
            items = schema.get("items")
            for i, item in enumerate(value):
                if items is not None:
                    self.check_value(f"{where}[{i}]", items, item, depth + 1)
            if "minItems" in schema and len(value) < schema["minItems"]:
                raise LmsInputError(where, f"needs at least {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                raise LmsInputError(where, f"takes at most {schema['maxItems']} items")
        elif isinstance(value, Mapping):
            self._check_object(where, schema, value, depth)

    def _open(self, schema: Any) -> Mapping[str, Any]:
        # An allOf member's additionalProperties: false would reject the other members' properties; the
        # combined check below applies it to the union instead (what the document's authors meant).
        resolved = self._deref(schema)
        return {k: v for k, v in resolved.items() if k != "additionalProperties"} if resolved else resolved

    def _check_closed_all_of(self, where: str, members: Sequence[Any], value: Any) -> None:
        if not isinstance(value, Mapping):
            return
        resolved = [self._deref(m) for m in members]
        if not any(m.get("additionalProperties") is False for m in resolved):
            return
        known = {name for m in resolved for name in m.get("properties", {})}
        for name in value:
            if name not in known:
                raise LmsInputError(f"{where}.{name}", f"is not a property here (known: {', '.join(sorted(known))})")

    def _check_one_of(self, where: str, options: Sequence[Any], value: Any, depth: int) -> None:
        first: LmsInputError | None = None
        for option in options:
            try:
                self.check_value(where, option, value, depth + 1)
            except LmsInputError as exc:
                first = first or exc
            else:
                return
        if first is not None:
            raise first

    def _check_object(self, where: str, schema: Mapping[str, Any], value: Mapping[str, Any], depth: int) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise LmsInputError(f"{where}.{name}", "is required")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if not isinstance(name, str):
                raise LmsInputError(where, f"has a key that is not text: {shown(name)}")
            inner = f"{where}.{name}"
            if name in properties:
                prop = self._deref(properties[name])
                if prop.get("readOnly"):
                    raise LmsInputError(inner, "is read-only: Eduframe sets it")
                self.check_value(inner, prop, item, depth + 1)
            elif extra is False:
                known = ", ".join(sorted(properties)) or "none"
                raise LmsInputError(inner, f"is not a property here (known: {known})")
            elif isinstance(extra, Mapping):
                self.check_value(inner, extra, item, depth + 1)


def _combines(schema: Mapping[str, Any]) -> bool:
    return any(k in schema for k in ("allOf", "anyOf", "oneOf", "enum", "properties"))


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (Mapping,),
}


def _check_type(where: str, kind: str, value: Any) -> None:
    expected = _JSON_TYPES.get(kind)
    if expected is None:
        return
    # bool is an int in Python but never a JSON number; a float with no fraction is not a JSON integer here.
    wrong = (isinstance(value, bool) and kind != "boolean") or not isinstance(value, expected)
    if wrong:
        article = "an" if kind[0] in "aeiou" else "a"
        raise LmsInputError(where, f"must be {article} {kind}, got {type(value).__name__} {shown(value)}")
    if kind in ("integer", "number") and isinstance(value, int) and abs(value) > _MAX_INT64:
        raise LmsInputError(where, f"is out of range: {shown(value)}")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise LmsInputError(where, f"must be a finite number, got {shown(value)}")


def _check_string(where: str, schema: Mapping[str, Any], value: str) -> None:
    problem = bad_character(value, multiline=True)
    if problem:
        raise LmsInputError(where, f"contains {problem}: {shown(value)}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise LmsInputError(where, f"is shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise LmsInputError(where, f"is longer than {schema['maxLength']} characters")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        raise LmsInputError(where, f"{shown(value)} does not match {schema['pattern']!r}")
    fmt = schema.get("format")
    try:
        if fmt == "date":
            date.fromisoformat(value)
        elif fmt == "date-time":
            # RFC 3339 wants a date, a 'T' (or space) and a time; fromisoformat alone also takes a bare date.
            if len(value) < 16 or value[10] not in "Tt ":
                raise ValueError(value)
            datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)
    except ValueError:
        raise LmsInputError(where, f"{shown(value)} is not an ISO 8601 {fmt}") from None
    if fmt == "email" and _EMAIL.match(value) is None:
        raise LmsInputError(where, f"{shown(value)} is not an e-mail address")


def _check_number(where: str, schema: Mapping[str, Any], value: float) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise LmsInputError(where, f"must be at least {schema['minimum']}, got {shown(value)}")
    if "maximum" in schema and value > schema["maximum"]:
        raise LmsInputError(where, f"must be at most {schema['maximum']}, got {shown(value)}")


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LmsInputError(where, f"must be a mapping of parameter names to values, got {type(value).__name__}")
    for name in value:
        if not isinstance(name, str):
            raise LmsInputError(where, f"has a parameter name that is not text: {shown(name)}")
    return value


def _unknown(op: Operation, location: str, name: str) -> str:
    known = sorted(op.parameters.get(location, {}))
    listed = ", ".join(known) if known else "none"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"is not a {location} parameter of {op.operation_id} (known: {listed}){hint}"


def _url_value(where: str, schema: Mapping[str, Any], value: Any) -> str:
    """One scalar for a URL, checked against its schema; integers and booleans may come as text."""
    kind = schema.get("type")
    if isinstance(value, bytes | bytearray | Mapping | list | tuple | set):
        raise LmsInputError(where, f"must be a single {kind or 'value'}, got {type(value).__name__}")
    if kind == "integer":
        number: Any = value
        if isinstance(value, str):
            text = value.strip()
            signless = text[1:] if text[:1] in "+-" else text
            # ASCII digits only: str.isdigit() takes full-width and Arabic-Indic digits, which int() turns
            # into another record's id.
            if not (signless.isascii() and signless.isdigit() and len(signless) <= 19):
                raise LmsInputError(where, f"must be an integer, got {shown(value)}")
            number = int(text)
        if isinstance(number, bool) or not isinstance(number, int):
            raise LmsInputError(where, f"must be an integer, got {type(value).__name__} {shown(value)}")
        if abs(number) > _MAX_INT64:
            raise LmsInputError(where, f"is out of range: {shown(value)}")
        _check_number(where, schema, number)
        _check_enum(where, schema, number)
        return str(number)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise LmsInputError(where, f"must be a number, got {type(value).__name__} {shown(value)}")
        try:
            parsed = float(value)
        except ValueError:
            raise LmsInputError(where, f"must be a number, got {shown(value)}") from None
        if parsed != parsed or parsed in (float("inf"), float("-inf")):
            raise LmsInputError(where, f"must be a finite number, got {shown(value)}")
        _check_number(where, schema, parsed)
        return str(value).strip()
    if kind == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower()
        raise LmsInputError(where, f"must be true or false, got {shown(value)}")
    if isinstance(value, int) and not isinstance(value, bool) and "enum" not in schema:
        # A URL carries text anyway: an integer id in a text parameter (planned_course_id of
        # /planned_courses/{planned_course_id}/meetings) is its decimal form.
        value = str(value)
    if not isinstance(value, str):
        raise LmsInputError(where, f"must be text, got {type(value).__name__} {shown(value)}")
    problem = bad_character(value, multiline=False)
    if problem:
        raise LmsInputError(where, f"contains {problem}: {shown(value)}")
    _check_enum(where, schema, value)
    _check_string(where, schema, value)
    return value


def _check_enum(where: str, schema: Mapping[str, Any], value: Any) -> None:
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"] if v is not None)
        raise LmsInputError(where, f"{shown(value)} is not one of {allowed}")


def _query_pairs(param: Parameter, value: Any) -> Iterator[tuple[str, str]]:
    where = f"query.{param.name}"
    if param.schema.get("type") != "array":
        yield param.name, _url_value(where, param.schema, value)
        return
    items = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
    if not isinstance(items, list | tuple):
        raise LmsInputError(where, f"must be a list of values, got {type(value).__name__} {shown(value)}")
    item_schema = param.schema.get("items", {})
    texts = [_url_value(f"{where}[{i}]", item_schema, item) for i, item in enumerate(items)]
    if param.explode:
        for text in texts:
            yield param.name, text
    else:
        yield param.name, ",".join(texts)


@cache
def eduframe_operations() -> EduframeOperations:
    """The operations of the bundled Eduframe document (read once per process)."""
    return EduframeOperations(load_eduframe_openapi("requests"))
