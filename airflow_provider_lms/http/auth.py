"""Authentication as ``httpx.Auth`` flows, so that no hook glues credentials onto requests by hand."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Generator, Mapping
from contextlib import AbstractContextManager
from typing import Any

import httpx

from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsTransportError

__all__ = ["BearerAuth", "HeaderAuth", "OAuth2ClientCredentials", "mask"]


def mask(secret: str | None) -> None:
    """Register a secret obtained at run time with Airflow's log masker.

    Airflow masks a connection's password and extras by itself, but not a token we fetch later.
    Outside a task (unit tests, the sandbox) the masker may be unavailable; masking is then moot.
    """
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a hard dependency, this is belt and braces
        return
    # No lock here, though the call talks to the supervisor: in the triggerer it suspends this trigger and
    # lets the others run on the same thread, so a thread lock held across it deadlocks the event loop
    # (seen: "TriggerRunner subprocess event loop appears deadlocked"). Bulk threads never get here at the
    # same time: their connection is read once, up front (LmsBulkOperator.prepare_hook), and a token is
    # fetched by one thread at a time (OAuth2ClientCredentials._fetch_guard).
    mask_secret(secret)


class HeaderAuth(httpx.Auth):
    """Send fixed credential headers with every request (aNewSpring's ``X-API-Key``, Lära's values).

    :param headers: header name to secret value.
    """

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._headers)
        yield request


class BearerAuth(HeaderAuth):
    """Send ``Authorization: Bearer <token>`` (Eduframe's API key).

    :param token: the API key or token.
    """

    def __init__(self, token: str) -> None:
        super().__init__({"Authorization": f"Bearer {token}"})


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth2 client-credentials grant with a cached token (Pluvo).

    The token is fetched on first use, masked, reused until shortly before it expires, and fetched
    again once when the platform answers 401 (a token revoked early). The token request is sent
    form-encoded, as RFC 6749 section 4.4 prescribes.

    :param token_url: the token endpoint.
    :param client_id: the OAuth2 client id.
    :param client_secret: the OAuth2 client secret.
    :param scope: space-separated scopes, or ``None``.
    :param refresh_margin: seconds before expiry at which a new token is fetched.
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        refresh_margin: float = 300.0,
    ) -> None:
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._refresh_margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self.tokens_fetched = 0

    def _token_request(self) -> httpx.Request:
        form: dict[str, Any] = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._scope:
            form["scope"] = self._scope
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> str:
        if response.status_code in (400, 401, 403):
            raise LmsAuthenticationError(
                "the OAuth2 token endpoint rejected the client id or secret",
                status=response.status_code,
                path=httpx.URL(self.token_url).path,
            )
        if response.status_code != 200:
            raise LmsTransportError(
                "the OAuth2 token endpoint failed",
                status=response.status_code,
                path=httpx.URL(self.token_url).path,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise LmsTransportError(
                "the OAuth2 token endpoint sent no access_token", status=response.status_code
            ) from None
        mask(token)
        with self._lock:
            self._token = token
            self._expires_at = time.monotonic() + max(0.0, expires_in - self._refresh_margin)
            self.tokens_fetched += 1
        return token

    def _valid_token(self) -> str | None:
        with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            return None

    def invalidate(self) -> None:
        """Forget the cached token, so that the next request fetches a new one."""
        with self._lock:
            self._token = None

    def _fetch_guard(self) -> AbstractContextManager[Any]:
        """What a token fetch holds: in threads, one lock, so that one thread fetches and the others reuse it.

        Bulk threads that find no token at once must not all fetch one: each fetch also masks the token
        through the task supervisor's channel, which Airflow 3.2 does not guard against two threads writing
        at once (seen: two bulk threads blocked for good in ``mask_secret``). On an event loop (the
        triggerer) a thread lock held across the fetch would block the loop, so there is none.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._fetch_lock
        return contextlib.nullcontext()

    def _fetch(self, refused: str | None = None) -> Generator[httpx.Request, httpx.Response, str]:
        with self._fetch_guard():
            with self._lock:
                if refused is not None and self._token == refused:
                    self._token = None  # only the token that was refused: another thread may have a new one
            token = self._valid_token()
            if token is None:
                token = self._store((yield self._token_request()))
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = yield from self._fetch()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # A token can be revoked before its expiry; one fresh token is worth one more try.
            token = yield from self._fetch(refused=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
