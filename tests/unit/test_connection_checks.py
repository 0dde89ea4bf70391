"""Connections are checked once, when the hook parses them: secrets, header names, base URLs and extras."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.http.errors import LmsInputError

KEY = "unit-conn-check-key-1234"


def edu(extra: Any = None, **fields: Any) -> EduframeHook:
    raw = extra if isinstance(extra, str) or extra is None else json.dumps(extra)
    conn = Connection(conn_id="c", conn_type="eduframe", password=fields.pop("password", KEY), extra=raw, **fields)
    return EduframeHook("c", connection=conn)


def refused(hook: Any) -> LmsInputError:
    with pytest.raises(LmsInputError) as info:
        hook.connection_config  # noqa: B018
    assert KEY not in str(info.value)
    return info.value


def test_extras_that_are_not_json_fail_instead_of_falling_back_to_the_production_url() -> None:
    hook = edu('{"base_url": "http://127.0.0.1:9/api/v1"')
    error = refused(hook)
    assert "extra" in error.field and "not valid JSON" in str(error)
    # The fallback it prevents: without extras, the hook would send the key to the default URL.
    assert edu(None).connection_config.base_url == "https://api.eduframe.nl/api/v1"


@pytest.mark.parametrize("raw", ["[1]", '"text"', "null", "{'a': 1}", "{,}"])
def test_extras_must_be_a_json_object(raw: str) -> None:
    assert "extra" in refused(edu(raw)).field


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (KEY + "\n", "line break at its end"),
        (" " + KEY, "blank at its start"),
        (KEY[:3] + "\u00e9" + KEY[3:], "non-ASCII character at position 4"),
        (KEY[:3] + "\x00" + KEY[3:], "control character at position 4"),
    ],
)
def test_a_secret_http_cannot_carry_fails_once_naming_the_field_and_never_shows_it(secret: str, words: str) -> None:
    error = refused(edu({"base_url": "http://127.0.0.1:9/api"}, password=secret))
    assert "password" in error.field and words in str(error)
    assert KEY[4:] not in str(error)


def test_a_body_secret_may_be_non_ascii_but_not_carry_control_characters() -> None:
    def pynter(password: str) -> PynterHook:
        conn = Connection(
            conn_id="p", conn_type="pynter", login="api", password=password, extra='{"base_url": "http://x.example"}'
        )
        return PynterHook("p", connection=conn)

    assert pynter("w\u00e9chtwoord").connection_config.password == "w\u00e9chtwoord"
    with pytest.raises(LmsInputError, match="password"):
        pynter("wacht\x0bwoord").connection_config  # noqa: B018
    with pytest.raises(LmsInputError, match="password"):
        pynter("wacht\ud800woord").connection_config  # noqa: B018


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://user:s3cr3t-pw@127.0.0.1:9/api", "user name or password"),
        ("http://127.0.0.1:9/api/../admin", "'.' or '..'"),
        ("http://127.0.0.1:9/api/%2E%2e/admin", "'.' or '..'"),
        ("http://127.0.0.1:9/api?key=s3cr3t-pw", "query string"),
        ("http://127.0.0.1:9/a\\b", "backslash"),
        ("127.0.0.1:9/api", "scheme"),
        ("http://127.0.0.1:99999/api", "not a URL"),
    ],
)
def test_base_urls_with_userinfo_dot_segments_or_a_query_are_refused_without_showing_them(url: str, words: str) -> None:
    error = refused(edu({"base_url": url}))
    assert "base_url" in error.field and words in str(error)
    assert "s3cr3t-pw" not in str(error)


def test_the_test_button_never_shows_a_password_from_the_url() -> None:
    ok, message = edu({"base_url": "http://user:s3cr3t-pw@127.0.0.1:9/api"}).test_connection()
    assert not ok and "base_url" in message and "s3cr3t-pw" not in message and "***@" in message


def test_a_misspelt_extra_is_an_error_naming_the_key_it_resembles() -> None:
    error = refused(edu({"base_url": "http://127.0.0.1:9/api", "timout": 5}))
    assert "'timout'" in str(error) and "did you mean 'timeout'" in str(error)
    error = refused(edu({"base_url": "http://127.0.0.1:9/api", "order_creator": 5}))
    assert "order_creator_id" in str(error)


def test_an_unrelated_extra_is_only_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config = edu({"base_url": "http://127.0.0.1:9/api", "note": "owned by team X"}).connection_config
    assert config.base_url == "http://127.0.0.1:9/api"
    assert "'note'" in caplog.text


def test_a_bool_is_not_a_number_of_seconds() -> None:
    assert "timeout" in refused(edu({"base_url": "http://127.0.0.1:9/api", "timeout": True})).field


def lara(**extra: Any) -> LaraHook:
    base = {"base_url": "http://127.0.0.1:9", "credential_1_header": "X-Key", "credential_1_secret": KEY}
    conn = Connection(conn_id="l", conn_type="lara", extra=json.dumps({**base, **extra}))
    return LaraHook("l", connection=conn)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"credential_1_header": "X Key"}, "credential_1_header"),
        ({"credential_1_header": "Content-Length"}, "credential_1_header"),
        ({"credential_1_header": "X-Cl\u00e9"}, "credential_1_header"),
        ({"credential_2_header": "X-Other"}, "credential_2_secret"),
        ({"credential_2_secret": "s"}, "credential_2_header"),
        ({"credential_2_header": "x-key", "credential_2_secret": "s"}, "credential_2_header"),
        ({"credential_1_secret": KEY + "\r\n"}, "credential_1_secret"),
    ],
)
def test_lara_header_names_are_tokens_and_credentials_come_in_pairs(extra: dict[str, Any], field: str) -> None:
    assert field in refused(lara(**extra)).field


def test_a_good_connection_still_parses() -> None:
    assert lara().connection_config.credential_headers == {"X-Key": KEY}
    conn = Connection(conn_id="a", conn_type="anewspring", password=KEY, extra='{"base_url": "https://e.example/api"}')
    assert ANewSpringHook("a", connection=conn).connection_config.base_url == "https://e.example/api"
