"""The opt-in fix of the UI's Test button for port-less connections (apache/airflow#73298).

Importing the provider changes nothing in Airflow; only ``[lms] patch_connection_test = True`` lets its
API-server plugin apply the fix, and only where the running Airflow still has the bug.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from airflow_provider_lms import compat
from airflow_provider_lms.provider_info import get_provider_info

ENV = "AIRFLOW__LMS__PATCH_CONNECTION_TEST"
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "airflow.api_fastapi.app", types.ModuleType("airflow.api_fastapi.app"))


def test_applied_when_the_setting_asks_in_the_api_server_of_an_airflow_with_the_bug(
    fake_routes, api_server, monkeypatch
):
    monkeypatch.setenv(ENV, "True")
    assert compat.patch_connection_test_enabled()
    assert compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint(0, None)
    assert not fake_routes._same_endpoint(8443, None)
    assert not compat.backport_portless_test_connection_fix()  # once is enough


@pytest.mark.parametrize("value", [None, "False", "0"])
def test_left_alone_unless_the_setting_asks(fake_routes, api_server, monkeypatch, caplog, value):
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    released = fake_routes._same_endpoint
    with caplog.at_level(logging.INFO, logger="airflow_provider_lms.compat"):
        assert not compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint is released
    # The API server's log says what the setting would do, since this Airflow has the bug.
    assert "patch_connection_test = True" in caplog.text


def test_a_setting_that_is_not_a_boolean_changes_nothing(fake_routes, api_server, monkeypatch, caplog):
    monkeypatch.setenv(ENV, "perhaps")
    released = fake_routes._same_endpoint
    with caplog.at_level(logging.WARNING, logger="airflow_provider_lms.compat"):
        assert not compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint is released
    assert "not a boolean" in caplog.text


def test_left_alone_outside_the_api_server_even_when_asked(fake_routes, monkeypatch):
    monkeypatch.setenv(ENV, "True")
    monkeypatch.delitem(sys.modules, "airflow.api_fastapi.app", raising=False)
    assert not compat.backport_portless_test_connection_fix()
    assert not fake_routes._same_endpoint(0, None)


def test_left_alone_when_airflow_has_the_fix_even_when_asked(fake_routes, api_server, monkeypatch):
    monkeypatch.setenv(ENV, "True")
    upstream = lambda requested, stored: requested in (0, "", None) and stored in (0, "", None)  # noqa: E731
    fake_routes._same_endpoint = upstream
    assert not compat.backport_portless_test_connection_fix()
    assert fake_routes._same_endpoint is upstream


def test_the_setting_is_declared_in_provider_info():
    option = get_provider_info()["config"][compat.CONFIG_SECTION]["options"][compat.CONFIG_OPTION]
    assert option["type"] == "boolean" and option["default"] == "False"
    assert "73298" in option["description"]


#: Run in a fresh interpreter that has loaded what the API server loads: snapshot every loaded Airflow module
#: (each attribute's identity, and the size of dicts, lists and sets), import every module of the provider
#: (hooks, operators, sensors, triggers, the webhooks plugin, the sandbox...), and list what differs.
SNAPSHOT = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, types
    import airflow.api_fastapi.app  # noqa: F401  (what the API server has loaded before its plugins)
    import airflow.api_fastapi.core_api.routes.public.connections as routes

    def snapshot():
        snap = {}
        for name, mod in list(sys.modules.items()):
            if (name == "airflow" or name.startswith("airflow.")) and isinstance(mod, types.ModuleType):
                snap[name] = {
                    k: (id(v), len(v) if isinstance(v, (dict, list, set)) else None)
                    for k, v in list(vars(mod).items())
                }
        return snap

    before = snapshot()
    held = [dict(vars(sys.modules[n])) for n in before]  # keeps the old objects alive: their ids stay unique
    check = getattr(routes, "_same_endpoint", None)  # Airflow 3.2.0 has no such check (and no such bug)
    had_bug = check is not None and not check(0, None)
    import airflow_provider_lms
    imported = []
    for info in pkgutil.walk_packages(airflow_provider_lms.__path__, "airflow_provider_lms."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            importlib.import_module(info.name)
            imported.append(info.name)
    after = snapshot()
    changed = sorted(
        f"{m}.{k}" for m, attrs in before.items() for k, v in attrs.items()
        if k != "__warningregistry__" and after.get(m, {}).get(k) != v
    )
    with open(sys.argv[1], "w") as out:
        json.dump({"imported": imported, "changed": changed, "had_bug": had_bug}, out)
    """
)


def test_importing_every_provider_module_changes_nothing_in_airflow_unless_the_setting_asks(tmp_path: Path):
    script = tmp_path / "snapshot.py"
    script.write_text(SNAPSHOT, encoding="utf-8")
    runs = {}
    for name, setting in (("default", None), ("asked", "True")):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__LMS__")}
        env.update({"AIRFLOW_HOME": str(tmp_path / f"home-{name}"), "PYTHONPATH": str(ROOT)})
        if setting:
            env[ENV] = setting
        out = tmp_path / f"{name}.json"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(out)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        runs[name] = (proc, out)
    results = {}
    for name, (proc, out) in runs.items():
        output, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, output[-3000:]
        results[name] = json.loads(out.read_text(encoding="utf-8"))

    default, asked = results["default"], results["asked"]
    assert "airflow_provider_lms.webhooks.plugin" in default["imported"]
    assert {"airflow_provider_lms.hooks.lara", "airflow_provider_lms.operators.members"} <= set(default["imported"])
    assert default["changed"] == [], "importing the provider changed Airflow without being asked"
    # Asked: the one comparison is replaced, and only where this Airflow still has the bug.
    expected = [f"{compat._ROUTES}._same_endpoint"] if asked["had_bug"] else []
    assert asked["changed"] == expected
