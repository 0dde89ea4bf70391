"""Airflow finds the provider through its entry point and builds the five connection forms."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from airflow.providers_manager import ProvidersManager

CONN_TYPES = {"eduframe", "anewspring", "pluvo", "pynter", "lara"}


def _cli(*args: str, tmp_path, env: dict[str, str] | None = None) -> str:
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def manager() -> ProvidersManager:
    pm = ProvidersManager()
    pm.initialize_providers_hooks()
    return pm


def test_airflow_providers_list_shows_the_package(tmp_path):
    listed = json.loads(_cli("providers", "list", "-o", "json", tmp_path=tmp_path))
    ours = [p for p in listed if p["package_name"] == "airflow-provider-lms"]
    assert ours and ours[0]["version"] == "0.1.0"


def test_airflow_providers_hooks_has_the_five_connection_types(tmp_path):
    hooks = json.loads(_cli("providers", "hooks", "-o", "json", tmp_path=tmp_path))
    ours = {h["connection_type"]: h for h in hooks if h.get("package_name") == "airflow-provider-lms"}
    assert set(ours) == CONN_TYPES
    assert ours["eduframe"]["class"] == "airflow_provider_lms.hooks.eduframe.EduframeHook"
    assert all(h["conn_id_attribute_name"] == "lms_conn_id" for h in ours.values())


def test_connection_forms_have_labelled_fields_and_hide_secrets(manager):
    widgets = manager.connection_form_widgets
    base = widgets["extra__eduframe__base_url"]
    assert base.field["schema"]["title"] == "Base URL"
    assert base.field["value"] == "https://api.eduframe.nl/api/v1"
    for conn_type in CONN_TYPES:
        assert f"extra__{conn_type}__base_url" in widgets
        assert f"extra__{conn_type}__max_retries" in widgets
        assert f"extra__{conn_type}__rate_limit_requests" in widgets
    # Lära's credentials are the standard Login/Password fields now, not extras.
    assert "extra__lara__credential_1_secret" not in widgets
    assert widgets["extra__lara__portal_timezone"].field["value"] == "America/Toronto"
    assert widgets["extra__pluvo__scopes"].field["schema"]["title"] == "Scopes"


def test_field_behaviour_relabels_the_standard_fields(manager):
    behaviours = manager.field_behaviours
    assert behaviours["eduframe"]["relabeling"] == {"password": "API key"}
    assert "host" in behaviours["eduframe"]["hidden_fields"]
    assert behaviours["pluvo"]["relabeling"] == {"login": "OAuth2 client id", "password": "OAuth2 client secret"}
    assert "password" not in behaviours["lara"]["hidden_fields"]
    assert behaviours["lara"]["relabeling"] == {"login": "Credential header names", "password": "Credential values"}


def test_airflow_connections_get_shows_each_type_with_its_extras(tmp_path):
    from airflow_provider_lms.testing import sandbox_connection_env

    env = sandbox_connection_env("http://127.0.0.1:9")
    for conn_type in sorted(CONN_TYPES):
        expected = json.loads(env[f"AIRFLOW_CONN_{conn_type.upper()}_DEFAULT"])
        output = _cli("connections", "get", f"{conn_type}_default", "-o", "json", tmp_path=tmp_path, env=env)
        # Airflow 3.2 logs its start-up on stdout before the JSON.
        [shown] = json.loads(output[output.index("[{") :])
        assert shown["conn_type"] == conn_type
        assert shown["extra_dejson"] == expected["extra"]
        assert shown["extra_dejson"]["base_url"].startswith("http://127.0.0.1:9/")
