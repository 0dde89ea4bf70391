"""Shared helpers of the scenario benchmarks: the results folder, tables, plots and machine facts."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on; absolute times depend on it, same-run ratios much less."""
    try:
        import airflow

        airflow_version = airflow.__version__
    except Exception:  # pragma: no cover - airflow is a dependency
        airflow_version = "unknown"
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "airflow": airflow_version,
        "platform": platform.platform(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; numbers right-aligned."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        pairs = enumerate(zip(values, widths, strict=True))
        return "  " + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in pairs)

    lines = [title, line(list(headers))]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write ``results/<name>.json`` with the machine facts beside the figures."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=2, default=str))
    return path


def bar_plot(
    name: str, title: str, labels: Sequence[str], values: Sequence[float], ylabel: str, *, log: bool = False
) -> Path:
    """A bar chart at ``results/<name>.png`` (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    bars = ax.bar(list(labels), list(values), color=["#2b6cb0", "#a0aec0", "#cbd5e0", "#718096"][: len(values)])
    ax.bar_label(bars, labels=[_fmt(v) for v in values])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    fig.tight_layout()
    path = RESULTS / f"{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def line_plot(
    name: str, title: str, xs: Sequence[float], series: dict[str, Sequence[float]], xlabel: str, ylabel: str
) -> Path:
    """A line chart at ``results/<name>.png``, log-scaled x (counts grow by 10x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, ys in series.items():
        ax.plot(list(xs), list(ys), marker="o", label=label)
    ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    path = RESULTS / f"{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
