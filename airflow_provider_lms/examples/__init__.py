"""The example DAGs, shipped with the package: ``python -m airflow_provider_lms.examples install <dags folder>``.

In a wheel they live in ``airflow_provider_lms/examples/dags/`` (the DAG files, with their data files in
``data/``); in a source checkout or an editable install they are the repository's ``example_dags/``.
``install`` copies them into an Airflow DAG folder, keeping the layout (each DAG reads its data files
from ``data/`` beside itself), and never overwrites a file the user changed unless told to::

    python -m airflow_provider_lms.examples list
    python -m airflow_provider_lms.examples install "$AIRFLOW_HOME/dags"          # refuses to overwrite changes
    python -m airflow_provider_lms.examples install "$AIRFLOW_HOME/dags" --force  # overwrites them
"""

from __future__ import annotations

import ast
import os
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = [
    "ExampleDag",
    "ExamplesNotFoundError",
    "InstallAction",
    "InstallPlan",
    "example_dags",
    "examples_folder",
    "install",
    "plan_install",
]

#: Inside the wheel: ``airflow_provider_lms/examples/dags``.
_PACKAGED = Path(__file__).resolve().parent / "dags"
#: In a checkout (an editable install): the repository's top-level ``example_dags``.
_CHECKOUT = Path(__file__).resolve().parents[2] / "example_dags"
#: Written by Python or editors next to the files; never part of what is installed.
_SKIPPED_PARTS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".swp")


class ExamplesNotFoundError(FileNotFoundError):
    """Neither the packaged examples nor a checkout's ``example_dags/`` is there (a broken install)."""


def examples_folder() -> Path:
    """The folder the example DAGs are read from: the packaged copy, else the checkout's ``example_dags/``.

    :raises ExamplesNotFoundError: when neither exists.
    """
    for folder in (_PACKAGED, _CHECKOUT):
        if folder.is_dir() and any(folder.glob("*.py")):
            return folder
    raise ExamplesNotFoundError(
        f"no example DAGs found: neither {_PACKAGED} (an installed wheel) nor {_CHECKOUT} (a source checkout) "
        "holds any; reinstall airflow-provider-lms"
    )


@dataclass(frozen=True)
class ExampleDag:
    """One example DAG file.

    :param path: The file, inside the examples folder.
    :param dag_id: The ``dag_id`` it declares (read from the source, nothing is imported).
    :param summary: The first line of its docstring.
    """

    path: Path
    dag_id: str
    summary: str


def _dag_id(tree: ast.Module, default: str) -> str:
    # The examples spell it as DAG(dag_id="...") or DAG("..."); a file without one falls back to its name.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "DAG":
            for keyword in node.keywords:
                if keyword.arg == "dag_id" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
            if node.args and isinstance(node.args[0], ast.Constant):
                return str(node.args[0].value)
    return default


def example_dags(folder: Path | None = None) -> list[ExampleDag]:
    """Every example DAG, by file name.

    :param folder: Where to read them; ``examples_folder()`` when omitted.
    """
    folder = folder if folder is not None else examples_folder()
    found = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        doc = (ast.get_docstring(tree) or "").strip().splitlines()
        found.append(ExampleDag(path=path, dag_id=_dag_id(tree, path.stem), summary=doc[0] if doc else ""))
    return found


def _files(folder: Path) -> list[Path]:
    """Every file to install, relative to ``folder``: the DAG files and their data files."""
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file()
        and not _SKIPPED_PARTS.intersection(p.relative_to(folder).parts)
        and not p.name.endswith(_SKIPPED_SUFFIXES)
    )


class InstallAction(str, Enum):
    """What ``install`` does (or did) with one file."""

    CREATE = "create"
    UNCHANGED = "unchanged"
    CONFLICT = "changed"  # the DAG folder's copy differs from the packaged one
    OVERWRITE = "overwrite"


@dataclass(frozen=True)
class InstallPlan:
    """What ``install`` would do, file by file (looked at before anything is written).

    :param source: The examples folder.
    :param target: The DAG folder.
    :param actions: Each file (relative path) and what happens to it.
    """

    source: Path
    target: Path
    actions: tuple[tuple[Path, InstallAction], ...]

    @property
    def conflicts(self) -> list[Path]:
        """Files in the DAG folder that differ from the packaged ones and would not be overwritten."""
        return [path for path, action in self.actions if action is InstallAction.CONFLICT]

    def count(self, action: InstallAction) -> int:
        """How many files get ``action``."""
        return sum(1 for _, a in self.actions if a is action)


def plan_install(target: Path, *, force: bool = False, source: Path | None = None) -> InstallPlan:
    """Compare the packaged examples with ``target`` and decide, per file, what ``install`` does.

    :param target: The DAG folder.
    :param force: Overwrite files that differ instead of reporting them as conflicts.
    :param source: The examples folder; ``examples_folder()`` when omitted.
    """
    source = source if source is not None else examples_folder()
    actions = []
    for relative in _files(source):
        there = target / relative
        if not there.exists():
            action = InstallAction.CREATE
        elif not there.is_file():
            # A folder (or anything not a file) where a file goes: never removed, even with force.
            action = InstallAction.CONFLICT
        elif there.read_bytes() == (source / relative).read_bytes():
            action = InstallAction.UNCHANGED
        else:
            action = InstallAction.OVERWRITE if force else InstallAction.CONFLICT
        actions.append((relative, action))
    return InstallPlan(source=source, target=target, actions=tuple(actions))


def _write_atomically(path: Path, data: bytes) -> None:
    # A dag-processor may parse the folder at any moment: it must see the old file or the new one, whole.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def install(target: Path, *, force: bool = False, source: Path | None = None) -> InstallPlan:
    """Copy the example DAGs and their data files into ``target``; nothing is written if any file conflicts.

    Re-running it changes nothing: identical files are left alone. A file the user changed is a conflict:
    unless ``force``, the whole install is refused (the returned plan lists the conflicts) so a DAG is
    never installed beside a data file it does not expect.

    :param target: The DAG folder (created when missing).
    :param force: Overwrite changed files.
    :param source: The examples folder; ``examples_folder()`` when omitted.
    """
    plan = plan_install(target, force=force, source=source)
    if plan.conflicts:
        return plan
    for relative, action in plan.actions:
        if action in (InstallAction.CREATE, InstallAction.OVERWRITE):
            _write_atomically(target / relative, (plan.source / relative).read_bytes())
    return plan
