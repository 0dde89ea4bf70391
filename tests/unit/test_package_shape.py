"""The package's shape, checked: no import cycles, readable sizes, a sandbox that shares nothing with the client,
and a wheel and an sdist that carry everything a user needs.

The source checks read the source with ``ast``; nothing is imported. A failure names the modules, functions or
lines to look at, because the point is to keep the code easy to change, not to count. The distribution checks
build the sdist and the wheel once per session (``tests/package/distributions.py``) and read what they carry.
"""

from __future__ import annotations

import ast
import email
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.package.distributions import Distributions, build_distributions

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_provider_lms"
EXAMPLES = ROOT / "example_dags"
SANDBOX = PACKAGE / "sandbox"
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
#: A function may be longer when the comment line right above it (or above its decorators) says why.
LONG_FUNCTION_MARK = "# long function:"
PLATFORM_NAME = re.compile(r"\b(eduframe|anewspring|pluvo|pynter|l[aä]ra)\b", re.IGNORECASE)
#: The client side: a double that imports any of it shares the client's misunderstandings.
CLIENT_PACKAGES = ("hooks", "http", "models", "webhooks", "operators", "sensors", "triggers")
CLIENT_MODULES = ("soap", "testing", "compat", "provider_info")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, lazy ones inside functions included; ``if TYPE_CHECKING:`` blocks left out."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str) -> set[str]:
    """The package's own modules that module ``name`` imports (a ``from pkg import sub`` counts as ``sub``)."""
    path = MODULES[name]
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        found.update(t for t in targets if t in MODULES and t != name)
    return found


def import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {name: imports_of(name) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    return cycles


def test_the_package_has_no_import_cycle() -> None:
    assert import_cycles() == []


def test_the_cycle_check_sees_lazy_imports() -> None:
    # The checker itself: a lazy import inside a function is still an edge, a TYPE_CHECKING one is not.
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
    tree = ast.parse(source + "def f():\n    import b\n    from c import d\n")
    seen = {alias.name for node in _import_nodes(tree) if isinstance(node, ast.Import) for alias in node.names}
    seen |= {node.module for node in _import_nodes(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert seen == {"b", "c", "typing"}


def test_no_module_is_longer_than_the_limit() -> None:
    too_long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}, f"modules over {MAX_MODULE_LINES} lines"


def _long_functions(path: Path) -> Iterator[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        explained = first >= 2 and lines[first - 2].strip().lower().startswith(LONG_FUNCTION_MARK)
        if length > MAX_FUNCTION_LINES and not explained:
            yield f"{module_name(path)}.{node.name} ({length} lines, line {node.lineno})"


def test_no_function_is_longer_than_the_limit_unless_a_comment_says_why() -> None:
    offenders = [entry for path in MODULES.values() for entry in _long_functions(path)]
    assert offenders == [], f"functions over {MAX_FUNCTION_LINES} lines without a '{LONG_FUNCTION_MARK}' comment"


def _sandbox_generic_modules() -> list[Path]:
    # The sandbox's own machinery: plain modules directly in sandbox/; platforms are subpackages.
    return sorted(p for p in SANDBOX.glob("*.py"))


def test_the_sandbox_has_platform_packages_and_generic_modules() -> None:
    platforms = sorted(p.name for p in SANDBOX.iterdir() if (p / "__init__.py").is_file())
    assert platforms == ["anewspring", "eduframe", "lara", "pluvo", "pynter"]
    assert {p.stem for p in _sandbox_generic_modules()} >= {"app", "server", "control", "faults", "state"}


@pytest.mark.parametrize("path", _sandbox_generic_modules(), ids=lambda p: p.name)
def test_the_sandbox_generic_modules_name_no_platform(path: Path) -> None:
    hits = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PLATFORM_NAME.search(line)
    ]
    assert hits == []


def _sandbox_modules() -> list[str]:
    return [name for name in MODULES if name.startswith("airflow_provider_lms.sandbox")]


def _client_side(target: str) -> bool:
    parts = target.split(".")
    return len(parts) > 1 and (parts[1] in CLIENT_PACKAGES or parts[1] in CLIENT_MODULES)


@pytest.mark.parametrize("name", _sandbox_modules())
def test_the_sandbox_imports_nothing_from_the_client(name: str) -> None:
    path = MODULES[name]
    imported = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif node.module and not node.level:
            imported.add(node.module)
    client = sorted(t for t in imported if t.startswith("airflow_provider_lms.") and _client_side(t))
    assert client == []
    # Nor does one platform's double lean on another's.
    own = _platform_of(name)
    others = sorted(t for t in imports_of(name) if _platform_of(t) not in (None, own))
    assert others == []


def _platform_of(name: str) -> str | None:
    """The platform package a sandbox module belongs to; ``None`` for generic modules and the rest."""
    relative = MODULES[name].relative_to(PACKAGE).parts
    return relative[1] if len(relative) > 2 and relative[0] == "sandbox" else None


# -- the distributions -----------------------------------------------------------------------------------


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_lists_every_subpackage_and_ships_the_example_dags_as_one() -> None:
    # The packages are listed (discovery cannot map example_dags/ into the package): a new subpackage
    # missing from the list would be missing from the wheel.
    setuptools = _pyproject()["tool"]["setuptools"]
    in_tree = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    examples = {"airflow_provider_lms.examples.dags", "airflow_provider_lms.examples.dags.data"}
    assert set(setuptools["packages"]) == in_tree | examples, "add the new package to pyproject.toml's packages"
    assert setuptools["package-dir"] == {"airflow_provider_lms.examples.dags": "example_dags"}


def test_one_version_for_the_wheel_and_the_provider_info() -> None:
    from airflow_provider_lms import __version__
    from airflow_provider_lms.provider_info import get_provider_info

    project = _pyproject()
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "airflow_provider_lms.__version__"}
    info = get_provider_info()
    assert info["package-name"] == project["project"]["name"]
    assert info["versions"][0] == __version__


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    return build_distributions(tmp_path_factory.mktemp("dists"))


def _shipped_examples() -> list[str]:
    return sorted(
        str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


def test_the_wheel_carries_every_module_the_examples_the_data_and_the_license(dists: Distributions) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        license_text = next(wheel.read(n) for n in names if n.endswith(".dist-info/licenses/LICENSE")).decode()
    modules = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")}
    assert sorted(modules - names) == []
    examples = {f"airflow_provider_lms/examples/dags/{name}" for name in _shipped_examples()}
    assert sorted(examples - names) == []
    assert "airflow_provider_lms/examples/dags/data/pluvo_hr_export.csv" in examples
    for data in (
        "airflow_provider_lms/py.typed",
        "airflow_provider_lms/specs/eduframe-openapi-v1.json",
        "airflow_provider_lms/sandbox/pluvo/schema.graphql",
    ):
        assert data in names
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    # Nothing of the checkout that is not the package: no tests, no top-level example_dags/, no caches.
    assert [n for n in names if n.startswith(("tests/", "example_dags/", "scripts/")) or "__pycache__" in n] == []


def test_the_wheel_metadata_declares_license_classifiers_bounds_and_extras(dists: Distributions) -> None:
    from airflow_provider_lms import __version__

    with zipfile.ZipFile(dists.wheel) as wheel:
        meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        entry_points = wheel.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
        metadata = email.message_from_bytes(wheel.read(meta_name))
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = set(metadata.get_all("Classifier") or [])
    for wanted in (
        "Framework :: Apache Airflow :: Provider",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.11",
        "Typing :: Typed",
    ):
        assert wanted in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert any(c.startswith("Topic ::") for c in classifiers)
    requires = metadata.get_all("Requires-Dist") or []
    # deadline.py sets private attributes of httpx's pool and httpcore's: both capped below the next minor.
    assert any(re.match(r"httpcore\b.*<1\.1", r) for r in requires), requires
    assert any(re.match(r"httpx\b.*<0\.29", r) for r in requires), requires
    assert {"test", "lint", "bench"} <= set(metadata.get_all("Provides-Extra") or [])
    lint = [r for r in requires if 'extra == "lint"' in r]
    assert any(r.startswith("ruff") for r in lint) and any(r.startswith("mypy") for r in lint)
    assert "[apache_airflow_provider]" in entry_points and "get_provider_info" in entry_points


def test_the_sdist_carries_the_example_dags_license_and_changelog(dists: Distributions) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for wanted in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"):
        assert wanted in names
    assert sorted({f"example_dags/{name}" for name in _shipped_examples()} - names) == []


def test_the_examples_command_of_the_wheel_works_without_the_source_tree(dists: Distributions, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(dists.wheel) as wheel:
        wheel.extractall(unpacked)  # noqa: S202 - the wheel this session built
    # -S: no site-packages, so not this venv's editable install either; only the unpacked wheel.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(unpacked)}
    dags = tmp_path / "dags"
    done = subprocess.run(
        [sys.executable, "-S", "-m", "airflow_provider_lms.examples", "install", str(dags)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(str(p.relative_to(dags)) for p in dags.rglob("*") if p.is_file()) == _shipped_examples()
    listed = subprocess.run(
        [sys.executable, "-S", "-m", "airflow_provider_lms.examples", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"example DAGs in {unpacked / 'airflow_provider_lms' / 'examples' / 'dags'}" in listed.stdout
