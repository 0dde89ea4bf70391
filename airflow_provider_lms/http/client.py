"""The one HTTP core: every platform hook sends its requests through :class:`LmsHttpClient`.

It owns what a hook must never write for itself: timeouts, retries (``Retry-After``, exponential
backoff with full jitter, capped attempts and capped total wait), the client-side rate limit, the
mapping of failures onto :mod:`airflow_provider_lms.http.errors`, and Link-header pagination. The
sync (`httpx.Client`) and async (`httpx.AsyncClient`) sides are built from the same settings and
behave the same; the async side serves deferrable triggers.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import http.cookiejar
import logging
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import tenacity

from airflow_provider_lms.http.breaker import CircuitBreaker, current_breaker
from airflow_provider_lms.http.config import ClientSettings
from airflow_provider_lms.http.deadline import (
    AnswerTooLarge,
    DeadlinePassed,
    aread_limited,
    deadline_transport,
    read_limited,
    request_deadline,
)
from airflow_provider_lms.http.errors import (
    LmsError,
    LmsRateLimitedError,
    LmsResponseTooLargeError,
    LmsServerError,
    LmsTransportError,
    error_class_for_status,
)
from airflow_provider_lms.http.failures import parse_reason, transport_kind
from airflow_provider_lms.http.ratelimit import SlidingWindowLimiter, limiter_for
from airflow_provider_lms.http.retrylog import log_retry
from airflow_provider_lms.http.shared import SharedLimitStore, SharedWindowLimiter, shared_store_for

__all__ = [
    "IDEMPOTENT_METHODS",
    "LmsHttpClient",
    "PlatformError",
    "RetryRecorder",
    "parse_retry_after",
    "quiet_retries",
    "recording_retries",
]

log = logging.getLogger("airflow_provider_lms.http")
T = TypeVar("T")

#: Methods whose repetition cannot change the outcome (RFC 9110 section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass
class PlatformError:
    """What a platform said in an error answer, as parsed by its hook."""

    message: str | None = None
    code: str | int | None = None
    field_errors: dict[str, Any] = field(default_factory=dict)


ErrorParser = Callable[[httpx.Response], PlatformError]


def _default_error_parser(response: httpx.Response) -> PlatformError:
    text = response.text.strip()
    return PlatformError(message=text[:300] or None)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given as seconds or as an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class RetryRecorder:
    """Counts the retries made while it is active, by reason (e.g. ``"429"``, ``"503"``, ``"transport"``).

    The bulk runner activates one per item, so that its summary can say what was retried, and whether
    the item sent any request at all (``requests``: an item the circuit stopped before it sent one was
    not attempted).
    """

    def __init__(self) -> None:
        self.reasons: dict[str, int] = {}
        self.requests = 0
        self._lock = threading.Lock()

    def note_request(self) -> None:
        with self._lock:
            self.requests += 1

    def record(self, reason: str) -> None:
        with self._lock:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.reasons.values())


_recorder: ContextVar[RetryRecorder | None] = ContextVar("lms_retry_recorder", default=None)


class recording_retries:
    """Context manager that makes the client count retries into a fresh :class:`RetryRecorder`."""

    def __init__(self, recorder: RetryRecorder | None = None) -> None:
        self.recorder = recorder or RetryRecorder()

    def __enter__(self) -> RetryRecorder:
        self._token = _recorder.set(self.recorder)
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        _recorder.reset(self._token)


_quiet: ContextVar[bool] = ContextVar("lms_quiet_retries", default=False)


@contextlib.contextmanager
def quiet_retries() -> Iterator[None]:
    """Log the client's retries at DEBUG inside the block: a wait that reports its outages itself
    (once when one starts, once when it ends) would otherwise repeat them on every poll."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _retry_reason(exc: BaseException) -> str:
    if isinstance(exc, LmsTransportError):
        return "transport"
    status = getattr(exc, "status", None)
    return str(status) if status else type(exc).__name__


#: Most connections one sync pool holds; more are split over several pools (``LmsHttpClient._borrow_sync_client``).
CONNECTIONS_PER_POOL = 4


def _pool_sizes(max_connections: int) -> list[int]:
    """Split ``max_connections`` over pools of at most :data:`CONNECTIONS_PER_POOL`, sizes differing by one."""
    pools = -(-max_connections // CONNECTIONS_PER_POOL)
    base, extra = divmod(max_connections, pools)
    return [base + 1 if i < extra else base for i in range(pools)]


@functools.lru_cache(maxsize=1)
def _shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client in the process.

    httpx builds a fresh context (loading the whole CA bundle) per client when given ``verify=True``:
    about 20 ms of CPU and 1 MB each. A triggerer runs a client per deferred sensor, so 1,000 waits
    paid that 1,000 times (benchmarks/scenario_waiting.py); a shared, read-only context costs it once.
    """
    return httpx.create_ssl_context()


def _unlink_stream(response: httpx.Response) -> None:
    """Break the cycle between a read response and its stream, so that refcounting frees it at once.

    httpx binds each response's stream to the response (``BoundSyncStream``), a reference cycle that holds
    the body and ~45 objects per request until the cyclic GC runs; with Airflow's large heap, full
    collections are rare, so paging 500,000 records grew the client's peak heap with the page count
    (benchmarks/RESULTS.md). The body is already read (``response.content``), so the stream is spent.
    """
    if response.is_stream_consumed and response.is_closed:
        response.stream = httpx.ByteStream(response.content)


class LmsHttpClient:
    """Sync and async HTTP access to one platform, with retries, rate limit and error mapping.

    :param settings: timeouts, retry and rate-limit settings and the base URL.
    :param platform: the platform's display name, used in errors and logs.
    :param auth: an ``httpx.Auth`` that adds the credentials.
    :param headers: headers sent with every request (e.g. ``Accept``).
    :param error_parser: turns the platform's error answer into a :class:`PlatformError`.
    :param limiter_key: requests of clients with the same key share one rate limit (use the conn id); it is
        also the key of this connection's circuit in a bulk run's breaker.
    :param transport: an httpx transport for the sync client (tests may inject one).
    :param async_transport: an httpx transport for the async client.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        platform: str,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        error_parser: ErrorParser | None = None,
        limiter_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.platform = platform
        self.base_url = httpx.URL(settings.base_url + "/")
        self._auth = auth
        self._headers = {"User-Agent": "airflow-provider-lms", **(headers or {})}
        self._error_parser = error_parser or _default_error_parser
        self._transport = transport
        self._async_transport = async_transport
        # Several small sync pools instead of one big one: httpcore checks every pooled connection
        # (a poll() syscall each, and an O(n^2) idle count) twice per request, under the pool's lock, so
        # one pool of 32 connections cost ~1.2 ms of CPU per request against ~0.6 ms for a pool of 4
        # (benchmarks/RESULTS.md). An injected transport gets one pool.
        sizes = [settings.max_connections] if transport is not None else _pool_sizes(settings.max_connections)
        self._pool_sizes = sizes
        self._clients: list[httpx.Client | None] = [None] * len(sizes)
        # Requests in flight per pool. A request only goes to a pool with a free connection, so httpcore never
        # queues one: with requests queued, httpcore 1.0 can close a connection it has just handed to another
        # thread ("Bad file descriptor", read timeouts), which more threads than connections used to trigger.
        self._in_flight = [0] * len(sizes)
        self._slots = threading.Condition(threading.Lock())
        # One cookie jar for every pool, so they behave as one client would.
        self._cookies = http.cookiejar.CookieJar()
        self._aclient: httpx.AsyncClient | None = None
        self.limiter: SlidingWindowLimiter | SharedWindowLimiter | None = None
        #: The key of this connection's circuit in a bulk run's breaker (``http/breaker.py``).
        self.circuit_key = limiter_key or settings.base_url
        port = f":{self.base_url.port}" if self.base_url.port else ""
        self._where = f"{self.base_url.host}{port}"
        #: The Redis store every process with this connection shares (``shared_limit_url``), or None.
        self.shared_store: SharedLimitStore | None = None
        key = limiter_key or settings.base_url
        if settings.shared_limit_url:
            # One window, one pause and one circuit for every task, worker and triggerer with this credential.
            self.shared_store = shared_store_for(settings.shared_limit_url, trip_ttl=settings.shared_trip_ttl)
            self.limiter = SharedWindowLimiter(
                self.shared_store,
                key,
                settings.rate_limit_requests,
                settings.rate_limit_period,
                slack=settings.rate_limit_slack,
            )
        elif settings.rate_limit_requests:
            self.limiter = limiter_for(
                key, settings.rate_limit_requests, settings.rate_limit_period, slack=settings.rate_limit_slack
            )

    # -- clients -----------------------------------------------------------------------------------
    def _client_kwargs(self, max_connections: int | None = None) -> dict[str, Any]:
        s = self.settings
        size = s.max_connections if max_connections is None else max_connections
        return {
            "auth": self._auth,
            "headers": self._headers,
            "timeout": httpx.Timeout(s.timeout, connect=s.connect_timeout),
            "limits": httpx.Limits(max_connections=size, max_keepalive_connections=size),
            "verify": _shared_ssl_context() if s.verify_ssl else False,
            # Never follow redirects: a redirect to another host would carry our credentials along.
            "follow_redirects": False,
        }

    def _pool_client(self, index: int) -> httpx.Client:
        """Pool ``index``'s client, created on first use (call with ``self._slots`` held)."""
        client = self._clients[index]
        if client is None:
            kwargs = self._client_kwargs(self._pool_sizes[index])
            # Our own transport (httpx's, with the request deadline in its network backend) unless a test
            # injected one; it gets the pool size and TLS settings the client would have given its own.
            transport = self._transport or deadline_transport(verify=kwargs["verify"], limits=kwargs["limits"])
            client = self._clients[index] = httpx.Client(transport=transport, cookies=self._cookies, **kwargs)
        return client

    @contextlib.contextmanager
    def _borrow_sync_client(self) -> Iterator[httpx.Client]:
        """A sync client with a free connection, held for one request.

        Waits up to the pool timeout (``settings.timeout``) when all ``max_connections`` are busy, then
        raises ``httpx.PoolTimeout`` as httpx itself would.
        """
        with self._slots:
            deadline: float | None = None
            while True:
                index = next((i for i, n in enumerate(self._in_flight) if n < self._pool_sizes[i]), None)
                if index is not None:
                    break
                now = time.monotonic()
                deadline = now + self.settings.timeout if deadline is None else deadline
                if now >= deadline:
                    raise httpx.PoolTimeout("no free connection within the pool timeout")
                self._slots.wait(deadline - now)
            self._in_flight[index] += 1
            client = self._pool_client(index)
        try:
            yield client
        finally:
            with self._slots:
                self._in_flight[index] -= 1
                self._slots.notify()

    @property
    def async_client(self) -> httpx.AsyncClient:
        """The pooled async client, created on first use (use it from one event loop)."""
        if self._aclient is None:
            self._aclient = httpx.AsyncClient(transport=self._async_transport, **self._client_kwargs())
        return self._aclient

    def close(self) -> None:
        """Close the sync clients' connections."""
        with self._slots:
            clients, self._clients = self._clients, [None] * len(self._pool_sizes)
        for client in clients:
            if client is not None:
                client.close()

    async def aclose(self) -> None:
        """Close the async client's connections."""
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None

    # -- URLs ---------------------------------------------------------------------------------------
    def url(self, path: str) -> httpx.URL:
        """The absolute URL for ``path``; an absolute URL (a Link header's) must stay on our host."""
        if path.startswith(("http://", "https://")):
            target = httpx.URL(path)
            if (target.scheme, target.host, target.port) != (
                self.base_url.scheme,
                self.base_url.host,
                self.base_url.port,
            ):
                # Following it would send the API key to a host the user never configured.
                raise LmsTransportError(
                    f"refusing to follow a link to another host ({target.host})", platform=self.platform
                )
            return target
        return self.base_url.join(path.lstrip("/"))

    # -- retry policy -------------------------------------------------------------------------------
    def _is_retryable(self, exc: BaseException, idempotent: bool) -> bool:
        if isinstance(exc, LmsError) and exc.opened_circuit:
            return False  # the run's circuit is open: nothing more is sent
        if isinstance(exc, LmsRateLimitedError):
            # Safe even for creates: a 429 means the platform refused the request without acting on it.
            return True
        if isinstance(exc, LmsTransportError):
            # A request that never left (connect error) cannot have been carried out; one that did
            # may have been, so only an idempotent request is sent again blindly. An answer over the size
            # limit is never fetched again: it would be as large the next time.
            return exc.retryable and ((not exc.sent) or idempotent)
        if isinstance(exc, LmsServerError):
            # 500 too: a read or an absolute update that failed can be asked again; a create is not resent
            # here (create_once looks first).
            return idempotent and exc.status in (500, 502, 503, 504)
        return False

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, LmsRateLimitedError) and exc.retry_after is not None:
            return exc.retry_after
        step = self.settings.backoff_base * (2 ** (state.attempt_number - 1))
        return tenacity.wait_random(0, min(self.settings.backoff_max, step))(state)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        """Whether to give up. 429s have a budget of their own (``rate_limit_budget``, at least the platform's
        window): a task that starts after another spent the window must wait it out, not fail."""
        s = self.settings
        exc = state.outcome.exception() if state.outcome else None
        # Per request (tenacity makes one state per call): the 429s so far and the seconds waited after them.
        limited: int = getattr(state, "lms_limited", 0)
        limited_wait: float = getattr(state, "lms_limited_wait", 0.0)
        if isinstance(exc, LmsRateLimitedError):
            limited += 1
            if limited > s.max_rate_limit_retries or limited_wait + state.upcoming_sleep > s.rate_limit_budget:
                return True
            state.lms_limited = limited  # type: ignore[attr-defined]
            state.lms_limited_wait = limited_wait + state.upcoming_sleep  # type: ignore[attr-defined]
            return False
        if state.attempt_number - limited > s.max_retries:
            return True
        return state.idle_for - limited_wait + state.upcoming_sleep > s.max_retry_wait

    def _before_sleep(self, method: str, path: str) -> Callable[[tenacity.RetryCallState], None]:
        def hook(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = _retry_reason(exc) if exc else "unknown"
            recorder = _recorder.get()
            if recorder is not None:
                recorder.record(reason)
            # INFO for a single call; DEBUG inside a bulk item (its run sums them up) or a quiet wait.
            log_retry(
                log,
                quiet=_quiet.get(),
                platform=self.platform,
                method=method,
                path=path,
                reason=reason,
                attempt=state.attempt_number,
                max_retries=self.settings.max_retries,
                sleep=state.upcoming_sleep,
            )

        return hook

    def _retrying_kwargs(
        self, method: str, path: str, idempotent: bool, breaker: CircuitBreaker | None, *, for_async: bool = False
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "retry": tenacity.retry_if_exception(lambda e: self._is_retryable(e, idempotent)),
            "wait": self._wait,
            "stop": self._stop,
            "before_sleep": self._before_sleep(method, path),
            "reraise": True,
        }
        if breaker is not None:
            # A backoff ends early when the run's circuit opens: the next attempt is then refused at once.
            kwargs["sleep"] = breaker.asleep if for_async else breaker.sleep
        return kwargs

    # -- one attempt ----------------------------------------------------------------------------------
    def _transport_error(
        self, exc: BaseException, method: str, path: str, deadline: float | None = None
    ) -> LmsTransportError:
        """The :class:`LmsTransportError` for an httpx failure, or for the deadline or size limit."""
        where: dict[str, Any] = {"platform": self.platform, "method": method, "path": path}
        if isinstance(exc, AnswerTooLarge):
            limit = self.settings.max_response_bytes
            return LmsResponseTooLargeError(
                f"answer larger than the {limit}-byte limit (connection extra max_response_bytes); reading stopped",
                limit=limit,
                **where,
            )
        # A request that never got a connection certainly was not carried out (safe to send again).
        sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        late = deadline is not None and time.monotonic() >= deadline - 0.05
        if isinstance(exc, DeadlinePassed | asyncio.TimeoutError) or (isinstance(exc, httpx.TimeoutException) and late):
            return LmsTransportError(
                f"no complete answer within the {self.settings.request_deadline:g}s request deadline",
                sent=sent,
                kind="timeout",
                **where,
            )
        assert isinstance(exc, httpx.HTTPError)
        kind = transport_kind(exc)
        if isinstance(exc, httpx.TimeoutException):
            what = f"timed out ({type(exc).__name__})"
        elif kind == "dns":
            what = f"the host name {self.base_url.host!r} does not resolve"
        else:
            what = f"connection failed ({type(exc).__name__})"
        if isinstance(exc, httpx.PoolTimeout):
            kind = "other"  # our own pool was busy: says nothing about the platform
        return LmsTransportError(what, sent=sent, kind=kind, **where)

    def raise_for_response(self, response: httpx.Response, method: str, path: str) -> None:
        """Raise the mapped :class:`LmsError` for an error status; do nothing for 1xx-3xx."""
        status = response.status_code
        if status < 400:
            return
        try:
            parsed = self._error_parser(response)
        except Exception:  # a garbled error body must not hide the status
            parsed = PlatformError()
        cls = error_class_for_status(status)
        kwargs: dict[str, Any] = {
            "status": status,
            "code": parsed.code,
            "platform_message": parsed.message,
            "platform": self.platform,
            "method": method,
            "path": path,
            "field_errors": parsed.field_errors,
        }
        reason = response.reason_phrase or "error"
        if cls is LmsRateLimitedError:
            raise LmsRateLimitedError(
                "rate limited", retry_after=parse_retry_after(response.headers.get("Retry-After")), **kwargs
            )
        raise cls(reason.lower(), **kwargs)

    def _finish(self, response: httpx.Response, method: str, path: str, parse: Callable[[httpx.Response], T] | None):
        _unlink_stream(response)
        self.raise_for_response(response, method, path)
        if parse is None:
            return response
        try:
            return parse(response)
        except LmsError:
            raise
        except ValueError as exc:
            # A truncated or non-JSON body: the request may have been carried out, so this is
            # treated like a dropped connection (retried only when idempotent). The parser's reason is
            # kept (on one line, truncated), so that a reader can tell a maintenance page from a bug.
            raise LmsTransportError(
                f"malformed answer: {parse_reason(exc)}",
                kind="malformed",
                status=response.status_code,
                platform=self.platform,
                method=method,
                path=path,
            ) from None

    def _plan(
        self, method: str, path: str, idempotent: bool | None, *, for_async: bool = False
    ) -> tuple[str, httpx.URL, dict[str, Any], CircuitBreaker | None]:
        """The method, absolute URL, tenacity settings and breaker of one logical request (sync or async)."""
        method = method.upper()
        url = self.url(path)
        idem = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        breaker = current_breaker()
        return method, url, self._retrying_kwargs(method, url.path, idem, breaker, for_async=for_async), breaker

    def _before_send(self, breaker: CircuitBreaker | None) -> None:
        """Refuse at once when the run's circuit is open; count the item's request."""
        if breaker is not None:
            breaker.check(self.circuit_key, platform=self.platform, store=self.shared_store)
        recorder = _recorder.get()
        if recorder is not None:
            recorder.note_request()

    def _record(self, breaker: CircuitBreaker | None, error: BaseException | None) -> None:
        if isinstance(error, LmsRateLimitedError) and error.retry_after and self.limiter is not None:
            # The platform's answer is the ground truth: every request of this limiter (with a shared limit,
            # of every process) waits until then, not only the one that was refused.
            self.limiter.pause(error.retry_after)
        if breaker is not None:
            breaker.record(
                self.circuit_key,
                self._where,
                error,
                threshold=self.settings.circuit_failures,
                store=self.shared_store,
            )

    def _send_sync(self, method: str, url: httpx.URL, send: dict[str, Any]) -> httpx.Response:
        """One attempt: send, then read the body within the deadline and the size limit."""
        with request_deadline(self.settings.request_deadline) as deadline:
            try:
                with self._borrow_sync_client() as client:
                    response = client.send(client.build_request(method, url, **send), stream=True)
                    try:
                        read_limited(response, self.settings.max_response_bytes, deadline)
                    finally:
                        response.close()
            except (httpx.HTTPError, AnswerTooLarge, DeadlinePassed) as exc:
                raise self._transport_error(exc, method, url.path, deadline) from None
        return response

    async def _send_async(self, method: str, url: httpx.URL, send: dict[str, Any]) -> httpx.Response:
        """The async twin of :meth:`_send_sync`; the deadline is a timeout around the whole exchange."""
        client = self.async_client

        async def exchange() -> httpx.Response:
            response = await client.send(client.build_request(method, url, **send), stream=True)
            try:
                await aread_limited(response, self.settings.max_response_bytes)
            finally:
                await response.aclose()
            return response

        try:
            # wait_for rather than asyncio.timeout: the provider supports Python 3.10.
            return await asyncio.wait_for(exchange(), self.settings.request_deadline)
        except (httpx.HTTPError, AnswerTooLarge, asyncio.TimeoutError) as exc:
            raise self._transport_error(exc, method, url.path) from None

    # -- public request API ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        parse: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        """Send a request with retries; return ``parse(response)`` or the response.

        :param idempotent: whether sending it twice is harmless; defaults to the method's semantics.
            Pass True only for a request whose repetition provably cannot change anything.
        :param parse: turns the response into the result; a ``ValueError`` from it counts as a
            malformed answer (a transport error), so idempotent requests are retried on it.
        """
        method, url, retrying, breaker = self._plan(method, path, idempotent)
        send = {"params": params, "json": json, "data": data, "content": content, "headers": headers}
        for attempt in tenacity.Retrying(**retrying):
            with attempt:
                # The circuit is checked before the rate limit: a run that has stopped spends none of it.
                self._before_send(breaker)
                if self.limiter is not None and self.limiter.acquire() and breaker is not None:
                    # It may have opened meanwhile.
                    breaker.check(self.circuit_key, platform=self.platform, store=self.shared_store)
                try:
                    result = self._finish(self._send_sync(method, url, send), method, url.path, parse)
                except LmsError as exc:
                    self._record(breaker, exc)
                    raise
                self._record(breaker, None)
                return result
        raise AssertionError("unreachable")  # pragma: no cover - tenacity re-raises

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        parse: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        """The async twin of :meth:`request`, with the same retry policy."""
        method, url, retrying, breaker = self._plan(method, path, idempotent, for_async=True)
        send = {"params": params, "json": json, "data": data, "content": content, "headers": headers}
        async for attempt in tenacity.AsyncRetrying(**retrying):
            with attempt:
                self._before_send(breaker)
                if self.limiter is not None and await self.limiter.aacquire() and breaker is not None:
                    breaker.check(self.circuit_key, platform=self.platform, store=self.shared_store)
                try:
                    result = self._finish(await self._send_async(method, url, send), method, url.path, parse)
                except LmsError as exc:
                    self._record(breaker, exc)
                    raise
                self._record(breaker, None)
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    # -- pagination ---------------------------------------------------------------------------------------
    @staticmethod
    def _json_list_page(response: httpx.Response) -> tuple[list[Any], str | None]:
        body = response.json()
        if not isinstance(body, list):
            raise ValueError("expected a JSON array")
        return body, response.links.get("next", {}).get("url")

    def iter_link_pages(self, path: str, params: Any = None) -> Iterator[list[Any]]:
        """Yield the pages of a list endpoint that paginates with ``Link: <...>; rel="next"``.

        Only one page is held at a time, so memory stays flat however long the list is. The next
        link is followed as given (it carries the cursor and the original filters).
        """
        next_path: str | None = path
        next_params = params
        while next_path is not None:
            items, next_path = self.request("GET", next_path, params=next_params, parse=self._json_list_page)
            next_params = None
            yield items

    def iter_link_items(self, path: str, params: Any = None) -> Iterator[Any]:
        """Yield the records of a Link-paginated list endpoint one by one, lazily."""
        for page in self.iter_link_pages(path, params):
            yield from page

    async def aiter_link_items(self, path: str, params: Any = None) -> AsyncIterator[Any]:
        """The async twin of :meth:`iter_link_items`."""
        next_path: str | None = path
        next_params = params
        while next_path is not None:
            items, next_path = await self.arequest("GET", next_path, params=next_params, parse=self._json_list_page)
            next_params = None
            for item in items:
                yield item
