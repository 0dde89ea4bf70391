"""The webhook receiver: a FastAPI app that turns signed platform deliveries into Airflow asset events.

Mounted by :mod:`airflow_provider_lms.webhooks.plugin` at ``/lms-webhooks`` in the Airflow API server:

==========================================  ===============================================================
``POST /lms-webhooks/pluvo``                 ``X-Signature`` + ``X-Signature-Salt``; asset ``lms://pluvo/<event>``
``POST /lms-webhooks/anewspring``            ``X-WebHook-Signature``; asset ``lms://anewspring/<event>``
``POST /lms-webhooks/eduframe/<token>``      token in the URL (or ``X-LMS-Webhook-Token`` on
                                             ``POST /lms-webhooks/eduframe``); asset ``lms://eduframe/<event>``
``GET /lms-webhooks/health``                 liveness, no secrets
==========================================  ===============================================================

Every delivery goes through the same steps, cheapest and least trusting first: platform configured (else
404), a JSON content type when one is declared (else 415), body at most ``max_body_bytes`` (else 413,
read no further), signature (else 401; the body is not parsed before it is authenticated), JSON object
(else 400), the platform's event model (else 422), then one asset event per delivery (a replay answers
200 ``duplicate`` and records nothing). Airflow does not authenticate plugin apps, which is why every
route checks its own secret. Answers never echo a secret, a header or the body; the work is one small
database transaction, far inside the platforms' 10-second timeouts.

The asset event's ``extra`` is ``{"platform", "event", "delivery_key", "payload"}``, with the body as
received in ``payload``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import FastAPI, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse

from airflow_provider_lms.models.pluvo import parse_pluvo_event
from airflow_provider_lms.webhooks.config import AirflowConnectionSecrets, SecretSource, max_body_bytes
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


class _Rejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _Rejected(413, f"body larger than {limit} bytes")
        except ValueError:
            raise _Rejected(400, "invalid Content-Length") from None
    # Chunked bodies carry no length: count while reading and stop at the limit.
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Rejected(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Rejected(400, "body is not valid UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise _Rejected(400, "body must be a JSON object")
    return payload


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


Verifier = Callable[[bytes, str], bool]


class _Receiver:
    """The steps every delivery goes through (see the module docstring), for any platform.

    :param secret_for: ``platform -> secret or None``.
    :param events: records asset events.
    :param limit: the largest body accepted, in bytes.
    """

    def __init__(self, secret_for: SecretSource, events: EventRecorder, limit: int) -> None:
        self.secret_for = secret_for
        self.events = events
        self.limit = limit

    async def __call__(
        self, request: Request, platform: str, verify: Verifier, parse: Callable[[dict[str, Any]], str]
    ) -> JSONResponse:
        try:
            secret = await anyio.to_thread.run_sync(self.secret_for, platform)
            if not secret:
                raise _Rejected(404, f"{platform} webhooks are not configured on this Airflow")
            _check_content_type(request.headers.get("content-type"))
            body = await _read_body(request, self.limit)
            if not verify(body, secret):
                raise _Rejected(401, "invalid or missing signature")
            payload = _json_object(body)
            event = parse(payload)
            key = delivery_key(platform, payload)
            uri = asset_uri(platform, event)
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


def create_webhook_app(
    *,
    secrets: SecretSource | None = None,
    recorder: EventRecorder | None = None,
    body_limit: int | Callable[[], int] = max_body_bytes,
) -> FastAPI:
    """Build the receiver app.

    :param secrets: ``platform -> secret or None``; default: the ``lms_webhook_<platform>`` connections.
    :param recorder: records asset events; default: Airflow's metadata database, deduplicated.
    :param body_limit: the largest body accepted, in bytes (or a callable read at startup).
    """
    limit = body_limit() if callable(body_limit) else body_limit
    receive = _Receiver(secrets or AirflowConnectionSecrets(), recorder or AirflowAssetRecorder(), limit)
    app = FastAPI(
        title="LMS webhook receiver",
        description="Receives Pluvo, aNewSpring and Eduframe webhooks and records them as Airflow asset events.",
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/pluvo")
    async def pluvo(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return verify_pluvo(
                body, request.headers.get("X-Signature"), request.headers.get("X-Signature-Salt"), secret
            )

        return await receive(request, "pluvo", verify, _pluvo_event)

    @app.post("/anewspring")
    async def anewspring(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return verify_anewspring(body, request.headers.get("X-WebHook-Signature"), secret)

        return await receive(request, "anewspring", verify, _event_name)

    @app.post("/eduframe")
    async def eduframe_header(request: Request) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return tokens_match(request.headers.get(EDUFRAME_TOKEN_HEADER), secret)

        return await receive(request, "eduframe", verify, _event_name)

    @app.post("/eduframe/{token}")
    async def eduframe_path(request: Request, token: str) -> JSONResponse:
        def verify(body: bytes, secret: str) -> bool:
            return tokens_match(token, secret)

        return await receive(request, "eduframe", verify, _event_name)

    return app
