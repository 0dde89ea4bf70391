"""Write the README's capability table from what the hooks declare: one matrix, one source of truth.

The rows come from :data:`~airflow_provider_lms.hooks.capabilities.CAPABILITIES` (the descriptions) and
:data:`~airflow_provider_lms.hooks.registry.CAPABILITY_OPERATORS` (the operator of each capability), the
columns from the registered platform hooks, and each cell from the hook's declared ``capabilities``. The
table replaces whatever stands between the README's two markers::

    <!-- capability-matrix:start -->
    <!-- capability-matrix:end -->

Usage::

    python scripts/capability_matrix.py            # rewrite README.md
    python scripts/capability_matrix.py --check    # exit 1 (and show the difference) when README.md is stale
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = "<!-- capability-matrix:start -->"
END = "<!-- capability-matrix:end -->"
#: What a test or a stale README tells the reader to run.
COMMAND = "python scripts/capability_matrix.py"
YES, NO = "yes", "—"


def _source() -> None:
    # Run as a script from anywhere: the package is found in the checkout this script lives in.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def render_table() -> str:
    """The Markdown table, from the code as it is now (no trailing newline)."""
    _source()
    from airflow_provider_lms.hooks.capabilities import CAPABILITIES
    from airflow_provider_lms.hooks.registry import CAPABILITY_OPERATORS, capability_matrix

    matrix = capability_matrix()
    platforms = list(next(iter(matrix.values()))) if matrix else []
    lines = [
        "| capability | " + " | ".join(platforms) + " |",
        "|---" * (len(platforms) + 1) + "|",
    ]
    for capability, cells in matrix.items():
        target = CAPABILITY_OPERATORS.get(capability)
        name = target.rpartition(":")[2] if target else capability
        # A description that names its own operator in brackets ("... (EnrollmentCompletedSensor)") says it once.
        description = re.sub(rf"\s*\({re.escape(name)}\)$", "", CAPABILITIES[capability])
        row = [f"`{name}`: {description}", *(YES if cells[p] else NO for p in platforms)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def rewrite(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{README.name} has no '{START}' ... '{END}' block to write the capability table into")
    return text[: start + len(START)] + "\n" + table + "\n" + text[end:]


def current_block(text: str) -> str:
    """What stands between the markers now (stripped), or '' when they are missing."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return ""
    return text[start + len(START) : end].strip("\n")


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README's table, or with ``--check`` report whether it is current (exit status 1 if not)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when README.md differs")
    parser.add_argument("--readme", type=Path, default=README, help="the README to read (and write)")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    table = render_table()
    wanted = rewrite(text, table)
    if wanted == text:
        print(f"{args.readme.name}: the capability table is current")
        return 0
    if args.check:
        diff = difflib.unified_diff(
            current_block(text).splitlines(), table.splitlines(), "README.md (now)", "from the hooks", lineterm=""
        )
        print("\n".join(diff))
        print(f"{args.readme.name}: the capability table differs from what the hooks declare; run `{COMMAND}`")
        return 1
    args.readme.write_text(wanted, encoding="utf-8")
    print(f"{args.readme.name}: capability table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
