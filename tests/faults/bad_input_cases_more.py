"""The bad-input corpus, continued: Lära, Pynter, and the connections of every platform but Pluvo."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.models.pynter import PynterEmployee
from airflow_provider_lms.operators.lara import (
    LaraChangeCurrentMemberStatusOperator,
    LaraCycleComplianceOperator,
    LaraUpdateMemberStatusesOperator,
    LaraUpdateMemberStatusOperator,
)
from airflow_provider_lms.operators.pynter import (
    PynterRecordEticketAttendanceOperator,
    PynterSyncCompletionsOperator,
    PynterUpsertEmployeesOperator,
)
from airflow_provider_lms.sensors.lara import LaraCyclePeriodEndedSensor
from tests.faults.bad_input_cases import (
    BAD_DATES,
    BAD_ID_TYPES,
    BAD_MOMENTS,
    BAD_TEXT,
    HUGE_INT,
    HUGE_TEXT,
    PLATFORM_NAMES,
    Case,
    Env,
    _hook,
    _op,
)


def lara_cases() -> list[Case]:
    cases: list[Case] = []
    change = LaraChangeCurrentMemberStatusOperator
    members = {**BAD_TEXT, "long": "m" * 257, "huge": HUGE_TEXT, "blank-inside": "a b", "empty": ""}
    members |= {k: BAD_ID_TYPES[k] for k in ("true", "bytes", "float", "huge-int", "set")}
    for name, bad in members.items():
        cases.append((f"lara-change-member-{name}", _op(change, "lara", members=[bad], status="Membre"), "members[0]"))
    for name, bad in BAD_TEXT.items():
        custom = {"customFieldAPIName": "licence", "customFieldValue": f"v{bad}"}
        cases.append(
            (f"lara-custom-value-{name}", _op(change, "lara", members=[custom], status="Membre"), "customFieldValue")
        )
    cases.append(("lara-members-bytes", _op(change, "lara", members=b"abc", status="Membre"), "members"))
    statuses = {**BAD_TEXT, "long": "S" * 101, "empty": "", "blank": "  "}
    for name, bad in statuses.items():
        cases.append((f"lara-change-status-{name}", _op(change, "lara", members=["a"], status=bad), "status"))
    for name, bad in {"int": 5, "bool": True, "bytes": b"Membre", "list": ["Membre"]}.items():
        cases.append((f"lara-change-status-type-{name}", _op(change, "lara", members=["a"], status=bad), "status"))
    for name, (status, field) in {
        "active-text": ({"status": "Membre", "isActiveMember": "yes"}, "isActiveMember"),
        "active-int": ({"status": "Membre", "isActiveMember": 1}, "isActiveMember"),
        "unknown-key": ({"status": "Membre", "colour": "red"}, "colour"),
        "key-surrogate": ({"status": "Membre", "x\udc00": 1}, "status"),
        "key-int": ({"status": "Membre", 5: 1}, "status"),
        "start-number": ({"status": "Membre", "startDate": 1e9}, "startDate"),
        "end-before-start": (
            {"status": "Membre", "startDate": "2026-03-01", "endDate": "2026-02-01"},
            "status.endDate",
        ),
    }.items():
        cases.append((f"lara-status-{name}", _op(change, "lara", members=["a"], status=status), field))
    for i, bad in enumerate([*BAD_DATES[:4], "P1D", True]):
        kwargs = {"members": ["a"], "status": "Membre", "status_start_date": bad}
        cases.append((f"lara-change-start-{i}", _op(change, "lara", **kwargs), "status_start_date"))
    # The end is the wrong one in both cases: the error names the parameter the DAG author gave for it.
    ends = {
        "end-override": (
            {"status": "Membre", "status_start_date": "2026-03-01", "status_end_date": "2026-02-01"},
            "status_end_date",
        ),
        "end-in-status": (
            {"status": {"status": "M", "endDate": "2026-02-01"}, "status_start_date": "2026-03-01"},
            "status_start_date",
        ),
        "end-bad": ({"status": "Membre", "status_end_date": "2026-02-30"}, "status_end_date"),
    }
    for name, (kwargs, field) in ends.items():
        cases.append((f"lara-change-{name}", _op(change, "lara", members=["a"], **kwargs), field))
    for i, bad in enumerate([[], "Membre", None, b"Membre", [{"status": "X", "startDate": "2026-02-30"}]]):
        make = _op(LaraUpdateMemberStatusesOperator, "lara", members=["a"], statuses=bad)
        cases.append((f"lara-update-statuses-{i}", make, "statuses"))
    one = LaraUpdateMemberStatusOperator
    for name, bad in {"nul": "e\x00", "bool": True, "long": "e" * 257, "bytes": b"e"}.items():
        cases.append((f"lara-update-entry-{name}", _op(one, "lara", member="a", entry_id=bad, status="M"), "entry_id"))
    comply = LaraCycleComplianceOperator
    for name, bad in {"nul": "c\x00", "int": 5, "blank": "c d", "surrogate": "c\udc00", "long": "c" * 300}.items():
        make = _op(comply, "lara", cycle_id=bad, cycle_period_id="p", members=["a"])
        cases.append((f"lara-compliance-cycle-{name}", make, "cycle_id"))
        make = _op(comply, "lara", cycle_id="c", cycle_period_id=bad, members=["a"])
        cases.append((f"lara-compliance-period-{name}", make, "cycle_period_id"))
    make = _op(comply, "lara", cycle_id="c", cycle_period_id="p", members=["a"], count_exempted="no")
    cases.append(("lara-compliance-count-exempted", make, "count_exempted"))
    sensor = LaraCyclePeriodEndedSensor
    for name, bad in {"nul": "c\x00", "int": 7, "bytes": b"c", "ls": "c\u2028"}.items():
        cases.append(
            (f"lara-sensor-cycle-{name}", _op(sensor, "lara", cycle_id=bad, poke_interval=1, timeout=5), "cycle_id")
        )
    for name, bad in BAD_MOMENTS.items():
        make = _op(sensor, "lara", cycle_id="c", reference_time=bad, poke_interval=1, timeout=5)
        cases.append((f"lara-sensor-reference-{name}", make, "reference_time"))
    for name, bad in {"bool": True, "nan": float("nan"), "zero": 0}.items():
        cases.append((f"lara-sensor-max-sleep-{name}", _op(sensor, "lara", cycle_id="c", max_sleep=bad), "max_sleep"))
    hook_calls: dict[str, tuple[Callable[[LaraHook], Any], str]] = {
        "periods-int": (lambda h: h.list_periods(5), "cycle_id"),  # type: ignore[arg-type]
        "periods-filter-duration": (lambda h: h.list_periods("c", filter_date="P1D"), "filter_date"),
        "periods-filter-bool": (lambda h: h.list_periods("c", filter_date=True), "filter_date"),  # type: ignore[arg-type]
        "period-at": (lambda h: h.get_period("c", at="10:00"), "at"),  # type: ignore[arg-type]
        "statuses-member-nul": (lambda h: h.get_member_statuses("a\x00"), "member"),
        "statuses-member-dict": (lambda h: h.get_member_statuses({"userId": "a\x85"}), "member.userId"),
        "update-statuses-text": (lambda h: h.update_member_statuses("a", "Membre"), "statuses"),
        "update-status-entry": (lambda h: h.update_member_status("a", "e\u2029", {"status": "M"}), "entry_id"),
        "change-status-long": (lambda h: h.change_current_member_status("a", {"status": "S" * 101}), "status"),
        "progress-period": (lambda h: h.get_user_progress("p\x00", "a"), "cycle_period_id"),
        "member-progress-exempted": (lambda h: h.member_progress("p", "a", count_exempted="yes"), "count_exempted"),  # type: ignore[arg-type]
    }
    for name, (call, field) in hook_calls.items():
        cases.append((f"lara-hook-{name}", _hook(LaraHook, "lara", call), field))
    return cases


def pynter_cases() -> list[Case]:
    base = {"external_id": "E1", "first_name": "A", "family_name": "B", "email": "a@b.example"}
    cases: list[Case] = []
    upsert = PynterUpsertEmployeesOperator
    for name, bad in BAD_TEXT.items():
        key = "first_name" if name < "m" else "function_name"
        make = _op(upsert, "pynter", employees=[{**base, key: bad}])
        cases.append((f"pynter-upsert-{key}-{name}", make, f"employees[0].{key}"))
    for name, (change, field) in {
        "empty-id": ({"external_id": ""}, "external_id"),
        "email": ({"email": "nope"}, "email"),
        "contract": ({"contract_start": "2026-02-30"}, "contract_start"),
        "blocked": ({"blocked": "maybe"}, "blocked"),
        "long": ({"family_name": "x" * 5000}, "family_name"),
        "bytes-name": ({"first_name": b"A"}, "first_name"),
    }.items():
        cases.append((f"pynter-upsert-{name}", _op(upsert, "pynter", employees=[{**base, **change}]), field))
    conflict = [base, {**base, "first_name": "Z"}]
    cases.append(("pynter-upsert-conflict", _op(upsert, "pynter", employees=conflict), "employees[1]"))
    cases.append(("pynter-upsert-bytes", _op(upsert, "pynter", employees=b"[]"), "employees"))
    tickets = {k: BAD_TEXT[k] for k in ("nul", "nel", "rlo", "surrogate")}
    tickets |= {"huge": HUGE_TEXT, "empty": "", "true": True, "bytes": b"ET", "huge-int": HUGE_INT}
    for name, bad in tickets.items():
        make = _op(PynterRecordEticketAttendanceOperator, "pynter", ticket_hashes=[bad])
        cases.append((f"pynter-eticket-{name}", make, "ticket_hashes[0]"))
    sync = PynterSyncCompletionsOperator
    for name, bad in BAD_MOMENTS.items():
        cases.append((f"pynter-sync-since-{name}", _op(sync, "pynter", since=bad), "since"))
    for name, bad in {"duration": "P1D", "bool": False, "feb-30": "2026-02-30"}.items():
        cases.append((f"pynter-sync-until-{name}", _op(sync, "pynter", since="2026-01-01", until=bad), "until"))
    windows = {
        "naive": (dt.datetime(2026, 3, 1), dt.datetime(2026, 2, 1)),
        "dates": (dt.date(2026, 3, 1), dt.date(2026, 2, 1)),
        "mixed": (dt.date(2026, 3, 1), "2026-02-01T00:00:00+00:00"),
        "text": ("2026-03-01", "2026-02-01"),
    }
    for name, (since, until) in windows.items():
        cases.append((f"pynter-sync-until-before-since-{name}", _op(sync, "pynter", since=since, until=until), "until"))
    for name, bad in {"arabic": ["\u0661"], "bool": [True], "huge": ["9" * 50], "bytes": b"12", "zero": [0]}.items():
        cases.append(
            (f"pynter-sync-courses-{name}", _op(sync, "pynter", since="2026-01-01", course_ids=bad), "course_ids")
        )
    cases.append(("pynter-sync-latest-only", _op(sync, "pynter", since="2026-01-01", latest_only="no"), "latest_only"))
    cases.append(("pynter-sync-csv-nul", _op(sync, "pynter", since="2026-01-01", csv_path="/tmp/a\x00b"), "csv_path"))
    employee = PynterEmployee(**base)
    hook_calls: dict[str, tuple[Callable[[PynterHook], Any], str]] = {
        "person-nul": (lambda h: h.get_person("E\x00"), "external_id"),
        "person-bool": (lambda h: h.get_person(True), "external_id"),  # type: ignore[arg-type]
        "person-long": (lambda h: h.get_person("E" * 101), "external_id"),
        "qualifications-nel": (lambda h: h.qualifications("E\x85"), "external_id"),
        "codes-nul": (lambda h: h.qualifications_by_codes("E1", ["C\x00"]), "codes[0]"),
        "method-injection": (lambda h: h.call("GetCatalog><x"), "method"),
        "param-injection": (lambda h: h.call("GetCatalog", **{"a b": 1}), "parameter"),
        "eticket-bytes": (lambda h: h.validate_eticket(b"ET"), "ticket_hash"),  # type: ignore[arg-type]
        "completed-window": (lambda h: h.completed_courses(dt.date(2026, 3, 1), dt.date(2026, 2, 1)), "end"),
        "completed-duration": (lambda h: h.completed_courses("P1D", dt.date(2026, 2, 1)), "start"),  # type: ignore[arg-type]
        "planning-arabic": (lambda h: h.get_mandatory_planning("\u0661\u0662"), "module_id"),
        "planning-huge": (lambda h: h.get_mandatory_planning("9" * 5000), "module_id"),
        "class-name-nul": (lambda h: h.insert_class(1, "A\x00", dt.date(2026, 1, 1)), "name"),
        "class-end-before-start": (lambda h: h.insert_class(1, "A", dt.date(2026, 2, 1), dt.date(2026, 1, 1)), "end"),
        "class-size-bool": (
            lambda h: h.insert_class(1, "A", dt.date(2026, 1, 1), max_participants=True),
            "max_participants",
        ),
        "ensure-class-name": (lambda h: h.ensure_class(1, "A\u2028", dt.date(2026, 1, 1)), "name"),
        "employee-nel": (
            lambda h: h.upsert_employee(employee.model_copy(update={"first_name": "A\x85"})),
            "first_name",
        ),
        "enrollment-bytes": (lambda h: h.parse_enrollment_id("enrollment_id", b"E1:1"), "enrollment_id"),
    }
    for name, (call, field) in hook_calls.items():
        cases.append((f"pynter-hook-{name}", _hook(PynterHook, "pynter", call), field))
    return cases


#: Where each platform's secret lives in its connection, for the secret cases: (the field's name, in extra?).
SECRET_FIELDS = {
    "eduframe": ("password", False),
    "anewspring": ("password", False),
    "lara": ("credential_1_secret", True),
    "pynter": ("password", False),
}
#: A password put into URLs by the URL cases: no message may show it.
URL_PASSWORD = "corpus-pw-5ecret"

Change = Callable[[dict[str, Any]], dict[str, Any]]


def _check(platform: str, change: Change) -> Callable[[Env], Any]:
    """A case that changes the sandbox's connection (``change(base) -> changes``) and makes the Test-button call.

    The platform's real secret and :data:`URL_PASSWORD` are recorded in ``env.hidden``: no message may show them.
    """

    def make(env: Env) -> Any:
        base = env.base(platform)
        field, in_extra = SECRET_FIELDS[platform]
        env.hidden = [base["extra"][field] if in_extra else base["password"], URL_PASSWORD]
        return get_lms_hook(env.custom(platform, **change(base))).check_connection

    return make


def _url(base: dict[str, Any]) -> str:
    return str(base["extra"]["base_url"])


def _secret(platform: str, spoil: Callable[[str], str]) -> Change:
    field, in_extra = SECRET_FIELDS[platform]
    if in_extra:
        return lambda base: {"extra": {field: spoil(base["extra"][field])}}
    return lambda base: {field: spoil(base[field])}


SECRET_SPOILERS: dict[str, Callable[[str], str]] = {
    "newline": lambda s: s + "\n",
    "crlf": lambda s: s + "\r\n",
    "leading-blank": lambda s: " " + s,
    "nul": lambda s: s[:4] + "\x00" + s[4:],
    "esc": lambda s: s[:4] + "\x1b" + s[4:],
    "nel": lambda s: s[:4] + "\x85" + s[4:],
}
#: Not for Pynter, whose password travels in the XML body, where non-ASCII is fine.
HEADER_SPOILERS: dict[str, Callable[[str], str]] = {
    "non-ascii": lambda s: s[:4] + "\u00e9" + s[4:],
    "emoji": lambda s: s + "\U0001f511",
}
URL_SPOILERS: dict[str, Callable[[str], Any]] = {
    "userinfo": lambda u: u.replace("://", f"://corpus-user:{URL_PASSWORD}@"),
    "user-only": lambda u: u.replace("://", f"://{URL_PASSWORD}@"),
    "dot-dot": lambda u: u + "/../admin",
    "dot": lambda u: u + "/./x",
    "pct-dot-dot": lambda u: u + "/%2e%2E/admin",
    "backslash": lambda u: u + "\\..\\admin",
    "query": lambda u: u + f"?api_key={URL_PASSWORD}",
    "fragment": lambda u: u + f"#{URL_PASSWORD}",
    "inner-blank": lambda u: u + "/a b",
    "inner-newline": lambda u: u + "\n/x",
    "no-scheme": lambda u: u.split("://", 1)[1],
    "ftp": lambda u: "ftp://" + u.split("://", 1)[1],
    "bad-port": lambda u: "http://" + u.split("/", 3)[2] + ":99999/x",
    "not-text": lambda u: 5,
}
EXTRA_SPOILERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "truncated": lambda e: json.dumps(e)[:-1],
    "single-quotes": lambda e: str(e),
    "trailing-comma": lambda e: json.dumps(e)[:-1] + ",}",
    "array": lambda e: json.dumps([e]),
    "string": lambda e: json.dumps(json.dumps(e)),
    "null": lambda e: "null",
}


def _extra(extra: dict[str, Any]) -> Change:
    return lambda base: {"extra": extra}


def _base_url(spoil: Callable[[str], Any]) -> Change:
    return lambda base: {"extra": {"base_url": spoil(_url(base))}}


def _raw_extra(spoil: Callable[[dict[str, Any]], str]) -> Change:
    return lambda base: {"raw_extra": spoil(base["extra"])}


def _host_userinfo(base: dict[str, Any]) -> dict[str, Any]:
    return {"host": URL_SPOILERS["userinfo"](_url(base)), "drop_extra": ["base_url"]}


def connection_cases() -> list[Case]:
    """Connections that must fail when the hook parses them, naming the field and showing no secret."""
    cases: list[Case] = []
    for platform in PLATFORM_NAMES:
        field = SECRET_FIELDS[platform][0]
        spoilers = SECRET_SPOILERS | ({} if platform == "pynter" else HEADER_SPOILERS)
        for name, spoil in spoilers.items():
            cases.append((f"conn-{platform}-secret-{name}", _check(platform, _secret(platform, spoil)), field))
        for name, bad_url in URL_SPOILERS.items():
            cases.append((f"conn-{platform}-url-{name}", _check(platform, _base_url(bad_url)), "base_url"))
        cases.append((f"conn-{platform}-host-userinfo", _check(platform, _host_userinfo), "host"))
        for name, raw in EXTRA_SPOILERS.items():
            cases.append((f"conn-{platform}-extra-{name}", _check(platform, _raw_extra(raw)), "extra"))
        typos = {
            "timout": 5,
            "Base_URL": "http://127.0.0.1:9",
            "max_retry": 1,
            "verify-ssl": False,
            "rate_limit_request": 5,
        }
        typos |= {"timeout": True}  # a bool is not a number of seconds
        for name, value in typos.items():
            cases.append((f"conn-{platform}-typo-{name}", _check(platform, _extra({name: value})), name))
    own_typos = {"eduframe": "order_creator", "lara": "portal_time_zone", "pynter": "param_name"}
    for platform, name in own_typos.items():
        cases.append((f"conn-{platform}-typo-{name}", _check(platform, _extra({name: "x"})), name))
    lara: dict[str, tuple[dict[str, Any], str]] = {
        "header-blank": ({"credential_1_header": "X Key"}, "credential_1_header"),
        "header-colon": ({"credential_1_header": "X-Key:"}, "credential_1_header"),
        "header-host": ({"credential_1_header": "Host"}, "credential_1_header"),
        "header-non-ascii": ({"credential_1_header": "X-Cl\u00e9"}, "credential_1_header"),
        "header-newline": ({"credential_1_header": "X-Key\n"}, "credential_1_header"),
        "header-twice": ({"credential_2_header": "x-lara-api-key"}, "credential_2_header"),
        "half-header": ({"credential_2_header": ""}, "credential_2_header"),
        "half-secret": ({"credential_2_secret": ""}, "credential_2_secret"),
        "timezone": ({"portal_timezone": "Mars/Olympus"}, "portal_timezone"),
        "timezone-nul": ({"portal_timezone": "UTC\x00"}, "portal_timezone"),
    }
    for name, (extra, field) in lara.items():
        cases.append((f"conn-lara-{name}", _check("lara", _extra(extra)), field))
    renames = {"element": {"CompletedCourses": {"startDate": "a b"}}, "method": {"Bad Method": {}}, "json": "{"}
    for name, value in renames.items():
        cases.append(
            (f"conn-pynter-param-names-{name}", _check("pynter", _extra({"param_names": value})), "param_names")
        )
    cases.append(("conn-pynter-login-nul", _check("pynter", lambda base: {"login": "api\x00user"}), "username"))
    return cases
