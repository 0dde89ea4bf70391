"""The backport that lets the UI's Test button reach port-less connections (apache/airflow#73298)."""

from __future__ import annotations

import sys
import types

import pytest

from airflow_provider_lms import compat


def test_the_ui_port_zero_counts_as_no_port_and_real_differences_still_count():
    assert compat._same_endpoint(0, None)  # the UI's Number(null) against a stored NULL
    assert compat._same_endpoint("", None)
    assert compat._same_endpoint(None, None)
    assert compat._same_endpoint(8443, 8443)
    assert not compat._same_endpoint(8443, None)  # a real port where none is stored: another destination
    assert not compat._same_endpoint(8443, 443)
    assert not compat._same_endpoint("evil.example", "api.eduframe.nl")


@pytest.fixture
def fake_routes(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Stands in for Airflow's connection routes, with the comparison as released in 3.3.2."""
    routes = types.ModuleType(compat._ROUTES)

    def released(requested: object, stored: object) -> bool:
        norm = lambda v: None if v is None or v == "" else v  # noqa: E731 - as released
        return norm(requested) == norm(stored)

    routes._same_endpoint = released  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, compat._ROUTES, routes)
    return routes


def test_applied_in_the_api_server_when_airflow_still_has_the_bug(fake_routes, monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow.api_fastapi.app", types.ModuleType("airflow.api_fastapi.app"))
    assert compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint(0, None)
    assert not fake_routes._same_endpoint(8443, None)
    assert not compat.backport_portless_test_connection_fix()  # once is enough


def test_left_alone_outside_the_api_server(fake_routes, monkeypatch):
    monkeypatch.delitem(sys.modules, "airflow.api_fastapi.app", raising=False)
    assert not compat.backport_portless_test_connection_fix()
    assert not fake_routes._same_endpoint(0, None)


def test_left_alone_when_airflow_has_the_fix(fake_routes, monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow.api_fastapi.app", types.ModuleType("airflow.api_fastapi.app"))
    upstream = lambda requested, stored: requested in (0, "", None) and stored in (0, "", None)  # noqa: E731
    fake_routes._same_endpoint = upstream
    assert not compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint is upstream
