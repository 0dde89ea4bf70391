"""The webhook receiver: a FastAPI app that turns signed platform deliveries into Airflow asset events.

Mounted by :mod:`airflow_provider_lms.webhooks.plugin` at ``/lms-webhooks`` in the Airflow API server:

==========================================  ===============================================================
``POST /lms-webhooks/pluvo``                 ``X-Signature`` + ``X-Signature-Salt``; asset ``lms://pluvo/<event>``
``POST /lms-webhooks/anewspring``            ``X-WebHook-Signature``; asset ``lms://anewspring/<event>``
``POST /lms-webhooks/eduframe``              token in ``X-LMS-Webhook-Token`` (preferred); asset
                                             ``lms://eduframe/<event>``
``POST /lms-webhooks/eduframe/<token>``      token in the URL, for when nothing can add the header
``GET /lms-webhooks/health``                 liveness, no secrets
==========================================  ===============================================================

Eduframe signs nothing and its webhook settings take only a URL, so the secret is a token of our own.
The header form is preferred wherever a proxy in front of Airflow can add the header: a URL is copied
into proxy and load-balancer logs that this app cannot reach. The receiver never logs the token, and
it replaces the token in the request path (``/eduframe/redacted``) before Airflow's or uvicorn's access log
reads it.

Every delivery goes through the same steps, cheapest and least trusting first: platform configured (else
404), a JSON content type when one is declared (else 415), body at most ``max_body_bytes`` (else 413, read
no further; and within ``body_read_timeout`` seconds, else 408), signature (else 401; the body is not parsed
before it is authenticated), a strict JSON object (no NaN, Infinity, overflowing numbers, duplicate keys or
nesting deeper than ``max_json_depth``; else 400), the platform's event model (else 422), then one asset
event per delivery (a replay answers 200 ``duplicate`` and records nothing; so does a delivery whose own
timestamp is older than ``max_delivery_age``, with ``stale``: see :func:`_sent_at`). Airflow does not authenticate
plugin apps, which is why every route checks its own secret. Answers never echo a secret, a header or the
body; the work is one small database transaction, far inside the platforms' 10-second timeouts.

The asset event's ``extra`` is ``{"platform", "event", "delivery_key", "payload"}``, with the body as
received in ``payload``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
from fastapi import FastAPI, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_lms.models.pluvo import parse_pluvo_event
from airflow_provider_lms.webhooks.bodies import Rejected as _Rejected
from airflow_provider_lms.webhooks.bodies import read_body, strict_json_object
from airflow_provider_lms.webhooks.config import (
    AirflowConnectionSecrets,
    SecretSource,
    body_read_timeout,
    max_body_bytes,
    max_delivery_age,
    max_json_depth,
)
from airflow_provider_lms.webhooks.signatures import tokens_match, verify_anewspring, verify_pluvo
from airflow_provider_lms.webhooks.store import AirflowAssetRecorder, EventRecorder, Outcome

__all__ = ["EDUFRAME_TOKEN_HEADER", "asset_uri", "create_webhook_app", "delivery_key"]

log = logging.getLogger(__name__)

EDUFRAME_TOKEN_HEADER = "X-LMS-Webhook-Token"  # noqa: S105 - a header name
#: Event names that may become part of an asset URI (Eduframe's are like ``enrollment.updated``).
_EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")
#: Fields that may differ between two copies of one delivery. Pluvo stamps ``sentDate`` when it sends;
#: whether a retry keeps the first stamp is not documented, so it is left out of the key (two events
#: equal in everything but ``sentDate`` carry the same information anyway).
_VOLATILE_FIELDS: dict[str, frozenset[str]] = {"pluvo": frozenset({"sentDate"})}


def asset_uri(platform: str, event: str) -> str:
    """The asset a platform's event is recorded on, e.g. ``lms://pluvo/TRAINING_FINISHED``."""
    return f"lms://{platform}/{event}"


def delivery_key(platform: str, payload: dict[str, Any]) -> str:
    """What identifies one delivery across retries: SHA-256 of the canonical JSON body.

    None of the three platforms documents a delivery id header, so the body is the identity (minus the
    fields in ``_VOLATILE_FIELDS``). Canonical JSON (sorted keys, no whitespace) makes the key independent
    of how the platform formats a retry.
    """
    volatile = _VOLATILE_FIELDS.get(platform, frozenset())
    stable = {k: v for k, v in payload.items() if k not in volatile}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_content_type(value: str | None) -> None:
    """Refuse a body declared as something other than JSON (415), before reading it.

    # ASSUMPTION: none of the three documents names the Content-Type of a delivery; every platform sends
    # JSON, so ``application/json`` and ``*/*+json`` (any parameters) pass, and so does a delivery without
    # the header (the body is still parsed as JSON after its signature is checked).
    """
    if value is None or not value.strip():
        return
    media = value.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise _Rejected(415, "content-type must be application/json")


def _event_name(payload: dict[str, Any]) -> str:
    name = payload.get("event")
    if not isinstance(name, str) or not _EVENT_NAME.match(name):
        raise _Rejected(422, "'event' must name the event")
    return name


def _pluvo_event(payload: dict[str, Any]) -> str:
    try:
        event = parse_pluvo_event(payload)
    except ValidationError as exc:
        # Locations and messages only: pydantic's error text would echo the offending values.
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        raise _Rejected(422, f"not a valid Pluvo {payload.get('event')} event: {problems}"[:500]) from None
    except ValueError as exc:
        raise _Rejected(422, str(exc)) from None
    return event.event


def _sent_at(platform: str, payload: dict[str, Any]) -> datetime | None:
    """When the platform says it sent this delivery, if its body says so.

    Replay protection must outlast the dedupe table's retention: a signed delivery captured once could
    otherwise be replayed after its key was purged. Only Pluvo stamps its bodies (``sentDate``, a signed
    part of the body); Eduframe's and aNewSpring's documented bodies carry no send time, so for them the
    dedupe table (7 days) is the only replay protection, and the README says so.
    """
    if platform != "pluvo":
        return None
    value = payload.get("sentDate")
    if not isinstance(value, str):
        return None
    try:
        sent = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # the event model has already refused a malformed sentDate
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=timezone.utc)


Verifier = Callable[[bytes, str], bool]

#: The Eduframe URL form's token segment, in ``scope["path"]`` (str) and ``scope["raw_path"]`` (bytes).
_PATH_TOKEN = re.compile(r"(/eduframe/)[^/]+")
_RAW_PATH_TOKEN = re.compile(rb"(/eduframe/)[^/]+")
REDACTED = "redacted"


class _RedactPathToken:
    """ASGI middleware that blanks the Eduframe token in the request path once the route is chosen.

    The scope is one dict shared with everything around the app, and the access logs read its
    ``path`` when the answer goes out: uvicorn's at the response start, Airflow's
    ``HttpAccessLogMiddleware`` after the app returns. Rewriting it before the first ``send`` (and
    again on the way out, for an answer an outer layer sends after an exception) keeps the token out of
    both, for every answer: accepted, refused, 404 or 500.

    :param app: the app to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def redacting_send(message: Message) -> None:
            _redact(scope)
            await send(message)

        try:
            await self.app(scope, receive, redacting_send)
        finally:
            _redact(scope)


def _redact(scope: Scope) -> None:
    scope["path"] = _PATH_TOKEN.sub(rf"\g<1>{REDACTED}", scope["path"])
    if isinstance(scope.get("raw_path"), bytes):
        scope["raw_path"] = _RAW_PATH_TOKEN.sub(rb"\g<1>" + REDACTED.encode(), scope["raw_path"])


class _Receiver:
    """The steps every delivery goes through (see the module docstring), for any platform.

    :param secret_for: ``platform -> secret or None``.
    :param events: records asset events.
    :param limit: the largest body accepted, in bytes.
    :param max_depth: the deepest nesting of JSON arrays and objects accepted.
    :param deadline: seconds allowed for receiving the whole body.
    :param max_age: seconds after its own timestamp that a delivery is still recorded.
    """

    def __init__(
        self,
        secret_for: SecretSource,
        events: EventRecorder,
        limit: int,
        max_depth: int,
        deadline: float,
        max_age: float,
    ) -> None:
        self.secret_for = secret_for
        self.events = events
        self.limit = limit
        self.max_depth = max_depth
        self.deadline = deadline
        self.max_age = timedelta(seconds=max_age)

    async def __call__(
        self, request: Request, platform: str, verify: Verifier, parse: Callable[[dict[str, Any]], str]
    ) -> JSONResponse:
        try:
            secret = await anyio.to_thread.run_sync(self.secret_for, platform)
            if not secret:
                raise _Rejected(404, f"{platform} webhooks are not configured on this Airflow")
            _check_content_type(request.headers.get("content-type"))
            body = await read_body(request, self.limit, self.deadline)
            if not verify(body, secret):
                raise _Rejected(401, "invalid or missing signature")
            payload = strict_json_object(body, self.max_depth)
            event = parse(payload)
            key = delivery_key(platform, payload)
            uri = asset_uri(platform, event)
            sent = _sent_at(platform, payload)
            if sent is not None and datetime.now(timezone.utc) - sent > self.max_age:
                # 200, not 4xx: a platform retries a 4xx, and no retry of this delivery can become acceptable.
                log.warning("%s webhook %s refused as a replay: sent %s (delivery %s)", platform, event, sent, key[:12])
                return JSONResponse(
                    {"status": "stale", "asset": uri, "detail": "the delivery is older than max_delivery_age"},
                    status_code=200,
                )
            outcome = await self._record(platform, event, key, uri, payload)
        except _Rejected as rejected:
            log.warning("%s webhook rejected: %s %s", platform, rejected.status, rejected.detail)
            return JSONResponse({"detail": rejected.detail}, status_code=rejected.status)
        log.info("%s webhook %s: %s (delivery %s)", platform, event, outcome, key[:12])
        answer: dict[str, Any] = {"status": outcome, "asset": uri}
        if outcome == "no_asset":
            answer["detail"] = "no DAG is scheduled on this asset; nothing was recorded"
        return JSONResponse(answer, status_code=200)

    async def _record(self, platform: str, event: str, key: str, uri: str, payload: dict[str, Any]) -> Outcome:
        extra = {"platform": platform, "event": event, "delivery_key": key, "payload": payload}
        try:
            return await anyio.to_thread.run_sync(self.events.record, platform, key, uri, extra)
        except Exception:
            log.exception("recording %s %s failed", platform, event)
            # 503 makes the platform deliver again later; the key was rolled back with the event.
            raise _Rejected(503, "could not record the event; retry later") from None


# long function: the app's routes, one small handler per platform, read best side by side.
def create_webhook_app(
    *,
    secrets: SecretSource | None = None,
    recorder: EventRecorder | None = None,
    body_limit: int | Callable[[], int] = max_body_bytes,
    json_depth: int | Callable[[], int] = max_json_depth,
    body_timeout: float | Callable[[], float] = body_read_timeout,
    delivery_age: float | Callable[[], float] = max_delivery_age,
) -> FastAPI:
    """Build the receiver app.

    :param secrets: ``platform -> secret or None``; default: the ``lms_webhook_<platform>`` connections.
    :param recorder: records asset events; default: Airflow's metadata database, deduplicated.
    :param body_limit: the largest body accepted, in bytes (or a callable read at startup).
    :param json_depth: the deepest nesting of JSON arrays and objects accepted (or a callable).
    :param body_timeout: seconds allowed for receiving a whole body (or a callable).
    :param delivery_age: seconds after its own timestamp that a delivery is recorded (or a callable).
    """
    receive = _Receiver(
        secrets or AirflowConnectionSecrets(),
        recorder or AirflowAssetRecorder(),
        body_limit() if callable(body_limit) else body_limit,
        json_depth() if callable(json_depth) else json_depth,
        body_timeout() if callable(body_timeout) else body_timeout,
        delivery_age() if callable(delivery_age) else delivery_age,
    )
    # No OpenAPI schema or docs pages: Airflow does not authenticate plugin apps, so they would be
    # public, and they would tell a scanner every route and header the receiver checks.
    app = FastAPI(
        title="LMS webhook receiver",
        description="Receives Pluvo, aNewSpring and Eduframe webhooks and records them as Airflow asset events.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(_RedactPathToken)
    # Starlette answers a path with a trailing slash by redirecting to the path without it, and the
    # Location header would repeat the Eduframe token to whatever logs redirects. Serve both spellings
    # instead (a platform configured with ".../pluvo/" keeps working) and never redirect.
    app.router.redirect_slashes = False

    @app.get("/health/", include_in_schema=False)
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/pluvo/", include_in_schema=False)
    @app.post("/pluvo")
    async def pluvo(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return verify_pluvo(
                body, request.headers.get("X-Signature"), request.headers.get("X-Signature-Salt"), secret
            )

        return await receive(request, "pluvo", verify, _pluvo_event)

    @app.post("/anewspring/", include_in_schema=False)
    @app.post("/anewspring")
    async def anewspring(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return verify_anewspring(body, request.headers.get("X-WebHook-Signature"), secret)

        return await receive(request, "anewspring", verify, _event_name)

    @app.post("/eduframe/", include_in_schema=False)
    @app.post("/eduframe")
    async def eduframe_header(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return tokens_match(request.headers.get(EDUFRAME_TOKEN_HEADER), secret)

        return await receive(request, "eduframe", verify, _event_name)

    @app.post("/eduframe/{token}/", include_in_schema=False)
    @app.post("/eduframe/{token}")
    async def eduframe_path(request: Request, token: str) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return tokens_match(token, secret)

        return await receive(request, "eduframe", verify, _event_name)

    return app
