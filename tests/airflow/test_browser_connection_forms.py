"""The five connection forms in a real browser, as a DAG author meets them in the Airflow UI.

A real Airflow API server (SQLite, a user and password of the simple auth manager, the Test button enabled)
serves the UI; headless Chromium from Debian, driven by Playwright, logs in. For each platform it:

- opens *Add Connection* and picks the connection type;
- finds our fields with their labels and placeholders, and secret fields as password inputs (Lära's
  credential header names and values are the standard Login and Password, relabelled);
- fills the form with the sandbox's address and credentials and saves it;
- presses **Test** and sees the success message.

A second connection with a wrong secret gets a readable failure that does not contain the secret. The
screenshots go to ``artifacts/screenshots/connections/``. The saved connections are read back with
``airflow connections get``. The API server runs with ``[lms] patch_connection_test = True``: Airflow 3.3.2
and older refuse the Test button for port-less connections otherwise (apache/airflow#73298, compat.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import airflow
import pytest

from airflow_provider_lms.provider_info import get_provider_info
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.testing import sandbox_connection_env
from tests.airflow.browser import artifacts_dir, chromium, chromium_path, open_airflow
from tests.airflow.live import LiveAirflow, live_airflow

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.airflow

USER = ("ui-admin", "ui-admin-pw-4f7d2a")
WRONG_SECRET = "wrong-secret-5b9e1c7a"
CONN_TYPES = ["eduframe", "anewspring", "pluvo", "pynter", "lara"]
AIRFLOW_VERSION = tuple(int(p) for p in airflow.__version__.split(".")[:2])
CONNECTION_TYPES = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
SHOTS = "connections"


@dataclass
class PressedTest:
    ok: bool
    message: str
    toast: str
    page_text: str


@dataclass
class FormResult:
    conn_type: str
    standard_labels: dict[str, str | None] = field(default_factory=dict)  # label -> input type
    standard_placeholders: dict[str, str | None] = field(default_factory=dict)  # field name -> placeholder shown
    extra_labels: dict[str, str | None] = field(default_factory=dict)  # field name -> the label shown
    extra_types: dict[str, str | None] = field(default_factory=dict)  # field name -> input type
    absent_standard: list[str] = field(default_factory=list)
    saved: bool = False
    # What the Edit form shows afterwards in the secret fields (password and format=password extras).
    shown_again: list[str] = field(default_factory=list, repr=False)
    right: PressedTest | None = None
    wrong: PressedTest | None = None


@dataclass
class Session:
    live: LiveAirflow
    forms: dict[str, FormResult]
    secrets: dict[str, list[str]] = field(repr=False)  # never in a failure message


def _sandbox_connection(sandbox_url: str, conn_type: str) -> dict[str, Any]:
    env = sandbox_connection_env(sandbox_url)
    conn: dict[str, Any] = json.loads(env[f"AIRFLOW_CONN_{conn_type.upper()}_DEFAULT"])
    if conn_type == "lara":
        # What the Lära form asks for: the header names in Login, their values in Password (same order).
        extra = conn["extra"]
        names = [extra.pop(f"credential_{n}_header") for n in (1, 2)]
        values = [extra.pop(f"credential_{n}_secret") for n in (1, 2)]
        conn["login"], conn["password"] = ", ".join(names), ", ".join(values)
    return conn


def _secrets_of(conn: dict[str, Any], conn_type: str) -> list[str]:
    """Every secret of a connection, each Lära value on its own as well as the whole Password."""
    found = [conn.get("password"), *(conn["extra"].get(f) for f in _secret_fields(conn_type))]
    if conn_type == "lara":
        found += [part.strip() for part in str(conn["password"]).split(",")]
    return [str(v) for v in found if v]


def _secret_fields(conn_type: str) -> list[str]:
    """The extras this connection type declares as secret (``format: password``)."""
    fields = CONNECTION_TYPES[conn_type]["conn-fields"]
    return [name for name, spec in fields.items() if spec["schema"].get("format") == "password"]


def _with_wrong_secret(conn: dict[str, Any], conn_type: str) -> dict[str, Any]:
    wrong = json.loads(json.dumps(conn))
    if conn_type == "lara":
        # A well-formed Password whose second value the platform refuses (not a form error of ours).
        wrong["password"] = f"{conn['password'].split(',')[0].strip()}, {WRONG_SECRET}"
    elif "password" in wrong:
        wrong["password"] = WRONG_SECRET
    else:
        wrong["extra"][_secret_fields(conn_type)[0]] = WRONG_SECRET
    return wrong


def _field(dialog: Locator, name: str) -> tuple[Locator, str | None, str | None]:
    """An extra field's input, the text of its label and the input's type (None, None when absent)."""
    # Chakra renders each field as a role=group holding its label; the label is not tied to the input by id.
    box = dialog.locator(f"input[name='element_{name}']")
    if box.count() != 1:
        return box, None, None
    label = box.locator("xpath=ancestor::*[@role='group'][1]//label").first.inner_text()
    return box, label.replace("*", "").strip(), box.get_attribute("type")


def _fill_form(page: Page, conn_id: str, conn_type: str, conn: dict[str, Any], result: FormResult | None) -> None:
    spec = CONNECTION_TYPES[conn_type]
    behaviour = spec["ui-field-behaviour"]
    relabel = behaviour.get("relabeling", {})
    page.get_by_role("button", name="Add Connection").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Connection ID").fill(conn_id)
    dialog.get_by_role("combobox").first.fill(spec["hook-name"])
    page.keyboard.press("Enter")
    dialog.get_by_text("Standard Fields", exact=True).wait_for()

    # Standard fields: ours relabelled (e.g. "API key"), the ones we hide absent.
    for name in ("login", "password"):
        if name in behaviour.get("hidden-fields", []):
            continue
        label = relabel.get(name, name.capitalize())
        box = dialog.get_by_label(label, exact=True)
        if result is not None:
            result.standard_labels[label] = box.get_attribute("type")
            result.standard_placeholders[name] = box.get_attribute("placeholder")
        if conn.get(name):
            box.fill(conn[name])
    if result is not None:
        for hidden in ("Host", "Port", "Schema", "Login", "Password"):
            if dialog.get_by_label(hidden, exact=True).count() == 0:
                result.absent_standard.append(hidden)

    dialog.get_by_text("Extra Fields", exact=True).click()
    for name in spec["conn-fields"]:
        box, label, input_type = _field(dialog, name)
        if result is not None:
            result.extra_labels[name], result.extra_types[name] = label, input_type
        value = conn.get("extra", {}).get(name)
        if value is not None:
            box.fill(str(value))
    page.screenshot(path=str(artifacts_dir(SHOTS) / f"{conn_id}_form.png"), full_page=True)
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="detached")
    page.get_by_role("row").filter(has_text=conn_id).wait_for()
    if result is not None:
        result.saved = True
        result.shown_again = _secrets_shown_on_edit(page, conn_id, conn_type)


def _secrets_shown_on_edit(page: Page, conn_id: str, conn_type: str) -> list[str]:
    """Reopen the saved connection: the values its secret fields show (the stored secret must not be one)."""
    row = page.get_by_role("row").filter(has=page.get_by_text(conn_id, exact=True))
    row.get_by_label("Edit Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Standard Fields", exact=True).wait_for()
    shown = [box.input_value() for box in dialog.locator("input[name='password']").all()]
    dialog.get_by_text("Extra Fields", exact=True).click()
    for name in _secret_fields(conn_type):
        shown.append(dialog.locator(f"input[name='element_{name}']").input_value())
    page.screenshot(path=str(artifacts_dir(SHOTS) / f"{conn_id}_edit.png"), full_page=True)
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    return shown


def _press_test(page: Page, conn_id: str) -> PressedTest:
    row = page.get_by_role("row").filter(has=page.get_by_text(conn_id, exact=True))
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_label("Test Connection").click()
    response = answer.value
    body = response.json() if response.status == 200 else {"status": False, "message": response.text()}
    toast = page.get_by_role("status").filter(has_text="Test Connection").last
    toast.wait_for()
    outcome = PressedTest(
        ok=bool(body.get("status")), message=str(body.get("message")), toast=toast.inner_text(), page_text=""
    )
    outcome.page_text = page.inner_text("body")
    page.wait_for_timeout(300)  # the toast slides in: let the screenshot show all of it
    page.screenshot(path=str(artifacts_dir(SHOTS) / f"{conn_id}_test.png"))
    toast.wait_for(state="detached", timeout=30_000)  # gone, so that the next Test's toast is the one we read
    return outcome


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    chromium_path()  # fail fast, before starting Airflow, when there is no browser
    forms: dict[str, FormResult] = {}
    secrets: dict[str, list[str]] = {}
    with (
        SandboxServer() as sandbox,
        live_airflow(
            tmp_path_factory.mktemp("dags"),
            tmp_path_factory.mktemp("airflow-home"),
            tmp_path_factory.mktemp("logs"),
            components=("api-server",),
            env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled", "AIRFLOW__LMS__PATCH_CONNECTION_TEST": "True"},
            credentials=USER,
        ) as live,
    ):
        with chromium() as browser:
            page = open_airflow(browser, live)
            page.screenshot(path=str(artifacts_dir(SHOTS) / "logged_in.png"))
            page.goto(f"{live.url}/connections")
            for conn_type in CONN_TYPES:
                conn = _sandbox_connection(sandbox.url, conn_type)
                secrets[conn_type] = _secrets_of(conn, conn_type)
                result = forms[conn_type] = FormResult(conn_type)
                _fill_form(page, f"ui_{conn_type}", conn_type, conn, result)
                result.right = _press_test(page, f"ui_{conn_type}")
                _fill_form(page, f"ui_{conn_type}_wrong", conn_type, _with_wrong_secret(conn, conn_type), None)
                result.wrong = _press_test(page, f"ui_{conn_type}_wrong")
            page.screenshot(path=str(artifacts_dir(SHOTS) / "connection_list.png"), full_page=True)
        yield Session(live, forms, secrets)


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_the_form_shows_our_fields_with_their_labels_and_hides_secrets(session: Session, conn_type: str):
    form = session.forms[conn_type]
    spec = CONNECTION_TYPES[conn_type]
    secret_extras = set(_secret_fields(conn_type))
    # Every declared field is on the form under its label; secret ones are password inputs, the rest are not.
    for name, field_spec in spec["conn-fields"].items():
        assert form.extra_labels[name] == field_spec["label"], (name, form.extra_labels)
        input_type = form.extra_types[name]
        if name not in secret_extras:
            assert input_type != "password", (name, input_type)
        elif AIRFLOW_VERSION >= (3, 3):
            assert input_type == "password", (name, input_type)
        # Airflow 3.2's form has no password widget for extras (3.3 added `format: password`): there the
        # value shows while it is typed, and is only redacted once saved (checked below). README says so.
    # Once saved, no secret is shown again: the Edit form holds a mask, never the stored value.
    assert form.shown_again, "no secret field on the Edit form"
    for value in form.shown_again:
        assert value not in session.secrets[conn_type], f"{conn_type}: the Edit form shows a stored secret"
    # The standard fields are relabelled for the platform; the password one is hidden as you type.
    relabel = spec["ui-field-behaviour"].get("relabeling", {})
    for name, label in relabel.items():
        assert label in form.standard_labels, (label, form.standard_labels)
        assert (form.standard_labels[label] == "password") == (name == "password"), (label, form.standard_labels)
    # Placeholders declared for the standard fields are shown (Lära's: example header names).
    for name, placeholder in spec["ui-field-behaviour"].get("placeholders", {}).items():
        assert form.standard_placeholders.get(name) == placeholder, (name, form.standard_placeholders)
    assert {"Host", "Port", "Schema"} <= set(form.absent_standard)
    assert form.saved


def test_the_lara_credentials_are_standard_fields_not_extras(session: Session):
    form = session.forms["lara"]
    # Shown in the standard section under the platform's words; the values are typed into a password input.
    assert set(form.standard_labels) == {"Credential header names", "Credential values"}
    assert form.standard_labels["Credential values"] == "password"
    assert form.standard_labels["Credential header names"] != "password"
    assert "X-Lara-Api-Key" in (form.standard_placeholders["login"] or "")
    assert not any(name.startswith("credential_") for name in form.extra_labels)


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_pressing_test_succeeds_against_the_sandbox(session: Session, conn_type: str):
    right = session.forms[conn_type].right
    assert right is not None and right.ok, right
    assert "Test Connection Successful" in right.toast
    assert right.message and right.message in right.toast


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_a_wrong_secret_fails_readably_without_showing_it(session: Session, conn_type: str):
    wrong = session.forms[conn_type].wrong
    assert wrong is not None and not wrong.ok, wrong
    assert "Test Connection Failed" in wrong.toast
    # Readable: one line that says what was rejected, not a traceback.
    assert re.search(r"unauthori[sz]ed|rejected|invalid|password", wrong.message, re.IGNORECASE), wrong.message
    assert "Traceback" not in wrong.message and len(wrong.message) < 300
    for text in (wrong.message, wrong.toast, wrong.page_text):
        assert WRONG_SECRET not in text
        for secret in session.secrets[conn_type]:
            assert secret not in text


def test_screenshots_are_saved_for_every_form_and_test():
    folder = artifacts_dir(SHOTS)
    for conn_type in CONN_TYPES:
        for suffix in ("form", "test"):
            for conn_id in (f"ui_{conn_type}", f"ui_{conn_type}_wrong"):
                shot = folder / f"{conn_id}_{suffix}.png"
                assert shot.exists() and shot.stat().st_size > 10_000, shot


def test_airflow_connections_get_reads_back_what_the_form_saved(session: Session):
    done = session.live.airflow.airflow("connections", "get", "ui_eduframe", "-o", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    [conn] = _json_output(done.stdout)
    assert conn["conn_type"] == "eduframe"
    assert conn["extra_dejson"]["base_url"].endswith("/eduframe/api/v1")
    done = session.live.airflow.airflow("connections", "get", "ui_lara", "-o", "json")
    [lara] = _json_output(done.stdout)
    assert lara["conn_type"] == "lara"
    assert lara["login"] == "X-Lara-Api-Key, X-Lara-Api-Secret"
    assert not any(key.startswith("credential_") for key in lara["extra_dejson"])
    assert lara["extra_dejson"]["portal_timezone"] == "America/Toronto"


def _json_output(stdout: str) -> Any:
    # Airflow 3.2 prints start-up log lines on stdout before the JSON.
    return json.loads(stdout[stdout.index("\n[") + 1 :] if not stdout.startswith("[") else stdout)
