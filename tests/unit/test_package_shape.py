"""The package's shape, checked: no import cycles, readable sizes, and a sandbox that shares nothing with the client.

These read the source with ``ast``; nothing is imported. A failure names the modules, functions or lines
to look at, because the point is to keep the code easy to change, not to count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_lms"
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
