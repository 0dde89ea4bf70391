"""The Lära form's credentials in the standard section: header names in Login, their values in Password.

Connections saved before (credentials in the extras ``credential_N_header`` / ``credential_N_secret``) are
still read; a connection with both uses Login and Password and says which extras it ignores.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from airflow.sdk import Connection

from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsInputError
from airflow_provider_lms.provider_info import get_provider_info
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.lara import LARA_PREFIX, LaraSeed
from airflow_provider_lms.sandbox.lara.seed import LARA_CREDENTIALS

SECRET_A = "lara-form-secret-a-3f9c"
SECRET_B = "lara-form-secret-b-81d2"


def hook(login: str | None = None, password: str | None = None, **extra: Any) -> LaraHook:
    extras = {"base_url": "http://127.0.0.1:9", **extra}
    conn = Connection(conn_id="lf", conn_type="lara", login=login, password=password, extra=json.dumps(extras))
    return LaraHook("lf", connection=conn)


def refused(h: LaraHook) -> LmsInputError:
    with pytest.raises(LmsInputError) as info:
        h.connection_config  # noqa: B018 - parsing is what is tested
    for secret in (SECRET_A, SECRET_B):
        assert secret not in str(info.value)
    return info.value


def test_two_header_names_in_login_and_their_values_in_password():
    config = hook("X-Lara-Api-Key, X-Lara-Api-Secret", f"{SECRET_A}, {SECRET_B}").connection_config
    assert dict(config.credential_headers) == {"X-Lara-Api-Key": SECRET_A, "X-Lara-Api-Secret": SECRET_B}
    assert SECRET_A not in repr(config)


def test_one_header_takes_the_whole_password_commas_included():
    config = hook("X-Api-Key", f"{SECRET_A},{SECRET_B}").connection_config
    assert dict(config.credential_headers) == {"X-Api-Key": f"{SECRET_A},{SECRET_B}"}


@pytest.mark.parametrize(
    ("login", "password", "field"),
    [
        ("X-A, X-B", SECRET_A, "password"),  # two names, one value
        ("X-A", "", "password"),
        (None, SECRET_A, "login"),
        ("X-A, X-B, X-C", f"{SECRET_A},{SECRET_B},c", "login"),
        ("X A", SECRET_A, "login"),
        ("X-A, x-a", f"{SECRET_A},{SECRET_B}", "login"),
        ("Host", SECRET_A, "login"),
        ("X-A, X-B", f"{SECRET_A},", "password"),  # an empty second value
        ("X-A", f"{SECRET_A}\u00e9", "password"),  # not printable ASCII: a header cannot carry it
    ],
)
def test_bad_standard_credentials_are_refused_naming_the_field_never_the_value(login, password, field):
    error = refused(hook(login, password))
    assert error.field.startswith(f"connection 'lf' {field}"), error.field


def test_old_connections_with_the_credentials_in_the_extras_still_work():
    old = hook(
        credential_1_header="X-A", credential_1_secret=SECRET_A, credential_2_header="X-B", credential_2_secret=SECRET_B
    )
    assert dict(old.connection_config.credential_headers) == {"X-A": SECRET_A, "X-B": SECRET_B}


def test_login_and_password_win_over_old_extras_and_the_log_says_which_are_ignored(caplog):
    both = hook("X-New", SECRET_B, credential_1_header="X-Old", credential_1_secret=SECRET_A)
    with caplog.at_level(logging.WARNING):
        assert dict(both.connection_config.credential_headers) == {"X-New": SECRET_B}
    assert "credential_1_header" in caplog.text and "credential_1_secret" in caplog.text
    assert SECRET_A not in caplog.text and SECRET_B not in caplog.text


def test_no_credentials_at_all_says_where_they_go():
    error = refused(hook())
    assert "Login" in str(error) and "Password" in str(error)


def test_the_form_shows_the_credentials_as_standard_fields_with_example_header_names():
    lara = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == "lara")
    behaviour = lara["ui-field-behaviour"]
    assert "login" not in behaviour["hidden-fields"] and "password" not in behaviour["hidden-fields"]
    assert behaviour["relabeling"] == {"login": "Credential header names", "password": "Credential values"}
    assert "X-Lara-Api-Key" in behaviour["placeholders"]["login"]
    assert not any(name.startswith("credential_") for name in lara["conn-fields"])


def _standard(sandbox: SandboxServer, password: str) -> str:
    names = ", ".join(LARA_CREDENTIALS)
    conn = {
        "conn_type": "lara",
        "login": names,
        "password": password,
        "extra": {"base_url": f"{sandbox.url}{LARA_PREFIX}", "portal_timezone": "America/Toronto"},
    }
    return json.dumps(conn)


def test_the_standard_form_authenticates_against_the_sandbox(sandbox: SandboxServer, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LARA_FORM", _standard(sandbox, ", ".join(LARA_CREDENTIALS.values())))
    ok, message = LaraHook("lara_form").test_connection()
    assert ok, message
    assert LaraHook("lara_form").get_member_statuses(LaraSeed.MEMBER_IDS[0])[0].status == "Membre"
    # The values went in the named headers: a wrong second value is refused by the platform.
    first = next(iter(LARA_CREDENTIALS.values()))
    monkeypatch.setenv("AIRFLOW_CONN_LARA_FORM_BAD", _standard(sandbox, f"{first}, wrong-{SECRET_B}"))
    with pytest.raises(LmsAuthenticationError):
        LaraHook("lara_form_bad").list_cycles()
    logged = httpx.get(f"{sandbox.control_url}/requests").text
    assert SECRET_B not in logged and first not in logged
