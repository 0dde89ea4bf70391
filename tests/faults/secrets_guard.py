"""A pytest plugin that fails the run when a secret the suite uses shows up in anything a test produced.

Registered for every run from ``tests/conftest.py``. It knows every secret the suite uses:

* the sandbox's credentials, read from the connections the sandbox hands out (API keys, passwords, Lära's
  credential pair, the Pluvo client secret);
* every secret written in the tests themselves, found by parsing ``tests/**/*.py`` (and the JSON fixtures):
  string literals bound to a name, keyword, dict key or parameter called like a secret (``*_SECRET``,
  ``password=``, ``"access_token": ...``, ``WEBHOOK_SECRETS = {...}``), and literals that read like one
  (``wrong-eduframe-key-4411``), so a secret a new test adds is guarded without registering it here;
* the OAuth tokens the sandbox's Pluvo issues at run time (recorded as they are issued).

What is checked, and where a leak is reported:

* each test's captured stdout, stderr and log, in every phase, and its failure text (source lines of the
  traceback are skipped: a test may hold a secret as *input*; what it produced must not);
* the output of every Airflow command a test runs through ``AirflowRunner`` (with ``airflow dags test``
  that output is the task log);
* at the end of the session, under pytest's ``basetemp``: every ``*.log`` file and every file in a
  ``logs`` folder (Airflow task logs, API server and scheduler logs), and in every SQLite database the
  tables where task output lands (``xcom``, ``rendered_task_instance_fields``, ``trigger``,
  ``asset_event``).

A leak fails the session (exit status 1) with the test or file and the secret's *name*; the secret itself
is never printed.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The tests folder; its sources are where the suite's own secrets are written.
TESTS_ROOT = Path(__file__).resolve().parents[1]
#: Shorter values match too much ordinary text to be told apart from a leak.
MIN_SECRET_LENGTH = 6
#: A name (variable, attribute, keyword, dict key, parameter) whose string value is a secret.
_SECRET_NAME = re.compile(r"(?i)(secret|passw|api[-_]?key|(^|_)key$|token|credential|(^|_)pw$|whsec)")
#: ...unless it names something about a secret rather than the secret (a header, a URL, a field name).
_NOT_A_SECRET_NAME = re.compile(r"(?i)_(url|uri|headers?|fields?|names?|prefix|id|path|type)$")
#: A value bound to a secret name: one token, no spaces or URL, and not a plain word (``"changed"``,
#: ``"revoked"`` cannot be told apart from ordinary text, so they are not guarded).
_SECRET_VALUE = re.compile(r"^(?=.*[\d_-])[^\s/:]+$")
#: A literal that reads like a secret wherever it stands: hyphenated, with a secret-ish component
#: (``wrong-pluvo-secret-5590``, ``second-key``); header names (``X-API-Key``) are not.
_SECRET_LOOKING = re.compile(
    r"(?i)^(?!x-)(?=[\w.-]{10,}$)(?=.*-)(?:.*[-_.])?(secret|key|pass|pw|token|whsec)([-_.].*)?$"
)
#: Tables of the metadata database where what a task produced is kept.
DB_TABLES = ("xcom", "rendered_task_instance_fields", "trigger", "asset_event")


@dataclass
class Leak:
    """One secret found where it must not be.

    :param where: the test (node id) or file, and the part of it.
    :param secret: the secret's name (never its value).
    """

    where: str
    secret: str


@dataclass
class SecretRegistry:
    """The secrets to look for, by value, each with a name that can be printed."""

    names: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, value: Any, name: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or value in self.names:
            return
        with self._lock:
            self.names.setdefault(value, name)
            self._pattern = None

    def find(self, text: str) -> set[str]:
        """The names of the secrets in ``text``."""
        if not text or not self.names:
            return set()
        pattern = self._pattern
        if pattern is None:
            with self._lock:
                # Longest first, so a secret that contains another is reported as itself.
                values = sorted(self.names, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, values)))
        return {self.names[m.group(0)] for m in pattern.finditer(text)}


# -- finding the suite's secrets ------------------------------------------------------------------------------


def _is_secret_name(name: object) -> bool:
    return isinstance(name, str) and bool(_SECRET_NAME.search(name)) and not _NOT_A_SECRET_NAME.search(name)


def _strings(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            yield from _strings(element)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value)


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        return str(target.slice.value)
    return None


def _bindings(node: ast.AST) -> Iterator[tuple[str | None, ast.AST]]:
    """(name, value) pairs a node binds: assignments, keywords, dict entries, parameter defaults."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            yield _target_name(target), node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        yield _target_name(node.target), node.value
    elif isinstance(node, ast.keyword):
        yield node.arg, node.value
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, value
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        args = node.args
        positional = args.posonlyargs + args.args
        with_defaults = positional[len(positional) - len(args.defaults) :]
        yield from ((a.arg, d) for a, d in zip(with_defaults, args.defaults, strict=True))
        yield from ((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None)


def secrets_in_source(path: Path, label: str) -> Iterator[tuple[str, str]]:
    """``(value, name)`` for every secret written in one Python source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        for name, value in _bindings(node):
            if _is_secret_name(name):
                for text in _strings(value):
                    if _SECRET_VALUE.match(text):
                        yield text, f"{label}:{getattr(value, 'lineno', '?')} ({name})"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SECRET_LOOKING.match(node.value):
            yield node.value, f"{label}:{node.lineno}"


def secrets_in_json(path: Path, label: str) -> Iterator[tuple[str, str]]:
    """``(value, name)`` for every string under a secret-named key of a JSON fixture."""

    def walk(value: Any, name: str | None) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from walk(inner, key)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner, name)
        elif isinstance(value, str) and _is_secret_name(name) and _SECRET_VALUE.match(value):
            yield value, f"{label} ({name})"

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return
    yield from walk(data, None)


def sandbox_secrets() -> Iterator[tuple[str, str]]:
    """The credentials in the connections the sandbox hands out, per platform."""
    from airflow_provider_lms.sandbox.app import PLATFORMS

    for mount in PLATFORMS:
        if mount.connection_factory is None:
            continue
        conn = mount.connection_factory("http://sandbox.invalid")
        fields = {"password": conn.get("password"), **conn.get("extra", {})}
        for key, value in fields.items():
            if _is_secret_name(key) and isinstance(value, str):
                yield value, f"sandbox {mount.name} connection {key}"


def build_registry(tests_root: Path = TESTS_ROOT) -> SecretRegistry:
    """Every secret the suite uses that is known before it runs."""
    registry = SecretRegistry()
    for value, name in sandbox_secrets():
        registry.add(value, name)
    base = tests_root.parent
    for path in sorted(tests_root.rglob("*.py")):
        if path.resolve() == Path(__file__).resolve():
            continue  # this file's literals are patterns and labels, not secrets
        for value, name in secrets_in_source(path, str(path.relative_to(base))):
            registry.add(value, name)
    for path in sorted(tests_root.rglob("*.json")):
        for value, name in secrets_in_json(path, str(path.relative_to(base))):
            registry.add(value, name)
    return registry


# -- what a test produced -----------------------------------------------------------------------------------


def _failure_text(report: pytest.TestReport) -> str:
    """The failure text without the traceback's source lines (indented, or marked ``>``)."""
    if not report.failed or report.longrepr is None:
        return ""
    return "\n".join(line for line in report.longreprtext.splitlines() if line and line[0] not in " \t>")


def _files_to_scan(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and (path.suffix == ".log" or "logs" in path.relative_to(root).parts[:-1]):
            yield path


def _sqlite_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*.db"):
        if path.is_file():
            with path.open("rb") as handle:
                if handle.read(16) == b"SQLite format 3\x00":
                    yield path


def _db_texts(path: Path) -> Iterator[tuple[str, str, int]]:
    """``(table, text, rows)`` of the tables in :data:`DB_TABLES` that the database has."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in DB_TABLES:
            if table not in present:
                continue
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - names from DB_TABLES
            text = "\n".join(
                " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row) for row in rows
            )
            yield table, text, len(rows)
    finally:
        db.close()


class SecretsGuard:
    """The plugin object: collects leaks during the run and fails the session if there are any.

    :param registry: the secrets to look for.
    """

    def __init__(self, registry: SecretRegistry) -> None:
        self.registry = registry
        self.leaks: list[Leak] = []
        self.current = "(outside any test)"
        self.scanned: dict[str, int] = dict.fromkeys(
            ("test reports", "Airflow command outputs", "files", "database rows"), 0
        )
        self._undo: list[tuple[type, str, Any]] = []

    # -- scanning -------------------------------------------------------------------------------------
    def check(self, where: str, text: str) -> None:
        for name in sorted(self.registry.find(text)):
            leak = Leak(where, name)
            if leak not in self.leaks:
                self.leaks.append(leak)

    def scan_tree(self, root: Path) -> None:
        for path in _files_to_scan(root):
            self.scanned["files"] += 1
            self.check(str(path), path.read_text(encoding="utf-8", errors="replace"))
        for path in _sqlite_files(root):
            try:
                for table, text, rows in _db_texts(path):
                    self.scanned["database rows"] += rows
                    self.check(f"{path} (table {table})", text)
            except sqlite3.Error:
                # Unreadable as a database (locked, damaged): then the raw bytes are searched instead.
                self.scanned["files"] += 1
                self.check(str(path), path.read_bytes().decode("utf-8", "replace"))

    # -- wrapping what produces secrets or output outside pytest's capture ---------------------------------
    def _wrap(self, owner: type, attribute: str, make: Any) -> None:
        original = getattr(owner, attribute)
        self._undo.append((owner, attribute, original))
        setattr(owner, attribute, make(original))

    def install(self) -> None:
        from airflow_provider_lms.sandbox.pluvo import PluvoState
        from airflow_provider_lms.testing import AirflowRunner

        registry, guard = self.registry, self

        def issue_token(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(state: Any, *args: Any, **kwargs: Any) -> str:
                token: str = original(state, *args, **kwargs)
                registry.add(token, "a Pluvo OAuth token the sandbox issued")
                return token

            return wrapper

        def airflow(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(runner: Any, *args: str, **kwargs: Any) -> Any:
                done = original(runner, *args, **kwargs)
                command = " ".join(args[:2])
                if command == "connections get":
                    # Airflow's own admin command prints the stored connection, password included, by
                    # design: what it shows is the test's input read back, not something we leaked.
                    return done
                guard.scanned["Airflow command outputs"] += 1
                guard.check(f"{guard.current}: output of `airflow {command}`", f"{done.stdout}\n{done.stderr}")
                return done

            return wrapper

        self._wrap(PluvoState, "issue_token", issue_token)
        self._wrap(AirflowRunner, "airflow", airflow)

    def uninstall(self) -> None:
        while self._undo:
            owner, attribute, original = self._undo.pop()
            setattr(owner, attribute, original)

    # -- pytest hooks -----------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.current = item.nodeid
        try:
            return (yield)
        finally:
            self.current = "(outside any test)"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.scanned["test reports"] += 1
        # Sections accumulate over setup, call and teardown; check() reports each leak once.
        for title, content in report.sections:
            self.check(f"{report.nodeid}: {title.lower()}", content)
        self.check(f"{report.nodeid}: failure text ({report.when})", _failure_text(report))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # pytest's own factory (no public accessor); None when no test asked for a temporary path.
        factory = getattr(session.config, "_tmp_path_factory", None)
        basetemp = getattr(factory, "_basetemp", None)
        if basetemp is not None and Path(basetemp).is_dir():
            self.scan_tree(Path(basetemp))
        if self.leaks and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        scanned = ", ".join(f"{n} {what}" for what, n in self.scanned.items())
        if not self.leaks:
            terminalreporter.write_line(f"secrets guard: {len(self.registry.names)} secrets, none found in {scanned}")
            return
        terminalreporter.write_sep("=", "secrets guard: SECRETS LEAKED", red=True)
        for leak in self.leaks:
            terminalreporter.write_line(f"{leak.secret} appears in {leak.where}", red=True)
        terminalreporter.write_line(f"(checked {len(self.registry.names)} secrets in {scanned})")


PLUGIN_NAME = "lms-secrets-guard"


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.has_plugin(PLUGIN_NAME):
        return
    guard = SecretsGuard(build_registry())
    guard.install()
    config.pluginmanager.register(guard, PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if isinstance(guard, SecretsGuard):
        guard.uninstall()
        config.pluginmanager.unregister(guard, PLUGIN_NAME)
