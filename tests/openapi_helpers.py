"""Validate HTTP exchanges against the platforms' published OpenAPI documents (openapi-core).

``validate_eduframe_exchange(request, response)`` checks an ``httpx`` request/response pair against
Eduframe's OpenAPI document, bundled in the package (``airflow_provider_lms/specs``): the request against
the document as published, the response against the copy relaxed for answers. The document's quirks are
handled by the package's loader (``load_eduframe_openapi``), not here.

The document's server is ``https://api.eduframe.nl/api/v1``; a request to any base URL (the sandbox's
``http://127.0.0.1:<port>/eduframe/api/v1``, a proxy) is mapped onto it by the ``/api/v1`` in its path.

"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from airflow_provider_lms.specs import load_eduframe_openapi

EDUFRAME_SERVER_HOST = "https://api.eduframe.nl"
EDUFRAME_SERVER_PATH = "/api/v1"


@lru_cache(maxsize=1)
def eduframe_request_openapi() -> OpenAPI:
    """The document as published (its null ``info.description`` fixed): for validating requests."""
    return OpenAPI.from_dict(load_eduframe_openapi("requests"))


@lru_cache(maxsize=1)
def eduframe_response_openapi() -> OpenAPI:
    """The document relaxed for answers (no ``additionalProperties: false``, ``null`` in nullable enums)."""
    return OpenAPI.from_dict(load_eduframe_openapi("answers"))


class HttpxOpenAPIRequest:
    """An ``httpx.Request`` seen through openapi-core's ``Request`` protocol, re-based onto the spec's server.

    :param request: The request as sent.
    :param server_host: Scheme and host of the document's server.
    :param server_path: Path of the document's server; the request path from its first occurrence on is
        kept, whatever came before (e.g. the sandbox's ``/eduframe``) is dropped.
    """

    def __init__(self, request: httpx.Request, server_host: str, server_path: str) -> None:
        self.request = request
        url = urlsplit(str(request.url))
        position = url.path.find(server_path)
        if position < 0:
            raise AssertionError(f"{request.url} does not contain the API base path {server_path!r}")
        self._host_url = server_host
        self._path = url.path[position:]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query, keep_blank_values=True)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return self._host_url

    @property
    def path(self) -> str:
        return self._path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        try:
            content = self.request.content
        except httpx.RequestNotRead:
            content = self.request.read()
        return content or None

    @property
    def content_type(self) -> str:
        return str(self.request.headers.get("content-type", ""))


class HttpxOpenAPIResponse:
    """An ``httpx.Response`` seen through openapi-core's ``Response`` protocol.

    :param response: The response as received (its body must have been read).
    """

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def data(self) -> bytes:
        return self.response.content

    @property
    def status_code(self) -> int:
        return int(self.response.status_code)

    @property
    def content_type(self) -> str:
        return str(self.response.headers.get("content-type", ""))

    @property
    def headers(self) -> Headers:
        return Headers(dict(self.response.headers))


def _describe(exc: BaseException) -> str:
    """Flatten openapi-core's nested errors (cause chain, schema errors) into readable lines."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__name__}: {current}")
        for schema_error in getattr(current, "schema_errors", None) or []:
            where = "/".join(str(p) for p in getattr(schema_error, "absolute_path", []))
            lines.append(f"  - at /{where}: {getattr(schema_error, 'message', schema_error)}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


def validate_eduframe_exchange(request: httpx.Request, response: httpx.Response, validate_request: bool = True) -> None:
    """Assert that an Eduframe request and its response conform to ``eduframe-openapi-v1.json``.

    :param request: The request as sent (``response.request`` works).
    :param response: The response received (status, headers and body are checked).
    :param validate_request: Also check the request (path, method, parameters, security, body) against
        the unmodified document; turn off for deliberately bad requests such as a missing API key.
    :raises AssertionError: naming the operation and every violation found.
    """
    oa_request = HttpxOpenAPIRequest(request, EDUFRAME_SERVER_HOST, EDUFRAME_SERVER_PATH)
    where = f"{request.method} {oa_request.path}"
    if validate_request:
        try:
            eduframe_request_openapi().validate_request(oa_request)
        except Exception as exc:
            raise AssertionError(f"request {where} violates the Eduframe OpenAPI document:\n{_describe(exc)}") from exc
    try:
        eduframe_response_openapi().validate_response(oa_request, HttpxOpenAPIResponse(response))
    except Exception as exc:
        raise AssertionError(
            f"response {response.status_code} to {where} violates the Eduframe OpenAPI document:\n"
            f"{_describe(exc)}\nbody: {response.text[:2000]}"
        ) from exc


def exchange_from_log(entry: dict[str, Any], base_url: str) -> tuple[httpx.Request, httpx.Response]:
    """Rebuild an httpx request/response pair from a sandbox request-log entry.

    The log never records headers, so the request gets a placeholder Bearer token (the document's
    security scheme requires one) and the JSON content type when it had a JSON body.
    """
    url = f"{base_url}{entry['path']}" + (f"?{entry['query']}" if entry.get("query") else "")
    headers = {"Authorization": "Bearer redacted-in-log"}
    content = None
    if entry.get("json") is not None:
        headers["Content-Type"] = "application/json"
        content = json.dumps(entry["json"]).encode()
    request = httpx.Request(entry["method"], url, headers=headers, content=content)
    response = httpx.Response(
        entry["status"],
        headers={"Content-Type": entry.get("response_content_type") or "application/json"},
        content=(entry.get("response_body") or "").encode(),
        request=request,
    )
    return request, response


def validate_logged_eduframe_exchanges(entries: list[dict[str, Any]], base_url: str) -> int:
    """Validate every logged Eduframe exchange; return how many were checked."""
    checked = 0
    for entry in entries:
        if entry["path"].startswith("/eduframe/") and not entry.get("fault"):
            validate_eduframe_exchange(*exchange_from_log(entry, base_url))
            checked += 1
    return checked
