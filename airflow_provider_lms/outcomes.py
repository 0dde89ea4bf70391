"""Every item's outcome of a bulk run, whether the summary carries them inline or names a file.

A bulk operator's XCom summary holds every item's outcome while the run is small. Above its
``xcom_items_limit`` the summary keeps the counts and the failures only, and names ``outcomes_path``: a JSON
lines file (local, or any object store Airflow's ``ObjectStoragePath`` reaches) with one outcome per line.
Downstream tasks read both forms with :func:`item_outcomes`, so a DAG need not know which one it got.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["item_outcomes", "task_file_path", "write_outcomes"]


def item_outcomes(summary: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every item's outcome (``key``, ``status``, ``result``, ``error``, ``retries``) in input order.

    :param summary: a bulk operator's XCom summary (its ``return_value``, or the ``summary`` key).
    """
    path = summary.get("outcomes_path")
    if not path:
        yield from summary.get("items", [])
        return
    from airflow.sdk import ObjectStoragePath

    with ObjectStoragePath(path).open("r", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def write_outcomes(path: str, outcomes: Iterable[Mapping[str, Any]]) -> int:
    """Write ``outcomes`` as JSON lines to ``path`` (created with its folders); the number written.

    :param path: a local path or an object-store URL (``s3://...``, ``file:///...``).
    :param outcomes: the items' outcomes as plain JSON types.
    """
    from airflow.sdk import ObjectStoragePath

    target = ObjectStoragePath(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    # Written to a neighbour first and moved into place, so a reader never sees half a file (local paths;
    # object stores write whole objects anyway).
    partial = target.parent / (target.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for outcome in outcomes:
            out.write(json.dumps(outcome, separators=(",", ":")) + "\n")
            written += 1
    partial.rename(target)
    return written


def task_file_path(ti: Any, folder: str, task_id: str) -> str:
    """``$AIRFLOW_HOME/<folder>/<dag>/<run>/<task>[.<map index>].try<N>.jsonl`` for one task try's file.

    Under AIRFLOW_HOME rather than a temp dir (gone, or another worker's, when the next task reads it) or the
    log folder (shipped and rotated by remote logging).

    :param ti: the running task instance (``context["ti"]``).
    :param folder: the folder under AIRFLOW_HOME, e.g. ``lms_outcomes``.
    :param task_id: the task's id, used when ``ti`` does not carry one.
    """
    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")

    def safe(value: Any) -> str:
        # Run ids carry ':' and '+' (manual__2026-01-01T00:00:00+00:00): keep file names portable.
        return re.sub(r"[^A-Za-z0-9._-]", "_", str(value))

    map_index = getattr(ti, "map_index", -1)
    name = safe(getattr(ti, "task_id", task_id)) + (f".{map_index}" if map_index not in (None, -1) else "")
    name += f".try{safe(getattr(ti, 'try_number', 1))}.jsonl"
    run = [safe(getattr(ti, "dag_id", "dag")), safe(getattr(ti, "run_id", "run"))]
    return str(home.joinpath(folder, *run, name))
