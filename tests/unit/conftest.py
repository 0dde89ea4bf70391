from __future__ import annotations

import json

import pytest

from airflow_provider_lms.http import ClientSettings, LmsHttpClient
from airflow_provider_lms.http.ratelimit import _registry

EDUFRAME_URL = "https://eduframe.test/api/v1"
SECRET = "unit-secret-key-7f3a9"


def conn_json(conn_type: str, *, password: str = SECRET, login: str | None = None, **extra: object) -> str:
    return json.dumps({"conn_type": conn_type, "password": password, "login": login, "extra": extra})


@pytest.fixture(autouse=True)
def _fresh_limiters():
    _registry.clear()
    yield
    _registry.clear()


@pytest.fixture
def eduframe_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    """An Eduframe connection pointing at a respx-mocked host, with fast retries."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_EDU",
        conn_json("eduframe", base_url=EDUFRAME_URL, backoff_base=0.001, rate_limit_requests=100000),
    )
    return "edu"


def fast_client(base_url: str = "https://api.test", **overrides: object) -> LmsHttpClient:
    settings = ClientSettings(base_url=base_url, backoff_base=0.001, **overrides)  # type: ignore[arg-type]
    return LmsHttpClient(settings, platform="Test")
