"""``python -m airflow_provider_lms.examples list | install <dags folder> [--force]``.

``install`` exits 0 when every file is in place (created, or already identical), 1 when it refused
because files in the DAG folder differ from the packaged ones (nothing is written then; ``--force``
overwrites them), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airflow_provider_lms.examples import (
    ExamplesNotFoundError,
    InstallAction,
    example_dags,
    examples_folder,
    install,
)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_lms.examples",
        description="The example DAGs of airflow-provider-lms: list them, or copy them into a DAG folder.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show the example DAGs and where they are read from")
    install_parser = commands.add_parser("install", help="copy the example DAGs and their data files")
    install_parser.add_argument("dags_folder", type=Path, help="the Airflow DAG folder, e.g. $AIRFLOW_HOME/dags")
    install_parser.add_argument("--force", action="store_true", help="overwrite files you changed")
    return parser.parse_args(argv)


def _list() -> int:
    folder = examples_folder()
    print(f"example DAGs in {folder}:")
    dags = example_dags(folder)
    width = max((len(d.dag_id) for d in dags), default=0)
    for dag in dags:
        print(f"  {dag.dag_id:<{width}}  {dag.summary}")
    data = sorted(p.relative_to(folder) for p in (folder / "data").glob("*") if p.is_file())
    if data:
        print("data files: " + ", ".join(str(p) for p in data))
    return 0


def _install(target: Path, force: bool) -> int:
    plan = install(target, force=force)
    if plan.conflicts:
        print(f"not installed: {len(plan.conflicts)} file(s) in {target} differ from the packaged examples:")
        for path in plan.conflicts:
            print(f"  {path}")
        print("nothing was written; keep your changes elsewhere, or run again with --force to overwrite them")
        return 1
    for path, action in plan.actions:
        if action is not InstallAction.UNCHANGED:
            print(f"  {action.value:<9} {target / path}")
    created, overwritten = plan.count(InstallAction.CREATE), plan.count(InstallAction.OVERWRITE)
    unchanged = plan.count(InstallAction.UNCHANGED)
    print(f"example DAGs installed in {target}: {created} created, {overwritten} overwritten, {unchanged} unchanged")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command; the exit status."""
    args = _parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        return _install(args.dags_folder, args.force)
    except ExamplesNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
