"""Scenario 5: what a DAG file pays at parse time to import the provider's operators and sensors.

Each measurement is a fresh interpreter (as a DAG processor's first parse of the file) that first imports
``airflow.sdk`` (every DAG file pays that anyway, so it is the baseline) and then times the DAG file's
import line: the provider's operators and sensor, or the http provider's ``HttpOperator``. The median of
``--runs`` runs is reported, with the modules each import line added to ``sys.modules``. Goal: the
provider's import costs at most ``--max-ratio`` (default 0.5, issue 18) times HttpOperator's.

    /work/venv/bin/python benchmarks/scenario_dag_parsing.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table

IMPORTS = {
    "provider operators + sensor": (
        "from airflow_provider_lms.operators.enrollment import LmsSubscribeOperator, "
        "LmsScoreExternalActivityOperator, LmsAwardCertificateOperator\n"
        "from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor"
    ),
    "http provider HttpOperator": "from airflow.providers.http.operators.http import HttpOperator",
}

PROBE = """
import json, sys, time, tracemalloc
import airflow.sdk  # every DAG file pays this; the baseline
before = set(sys.modules)
tracemalloc.start()
t = time.perf_counter()
exec(compile({code!r}, "<dag file>", "exec"))
seconds = time.perf_counter() - t
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({{"seconds": seconds, "modules": len(set(sys.modules) - before), "peak_mib": peak / 2**20}}))
"""


def measure(code: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-ratio", type=float, default=0.5)
    args = parser.parse_args(argv)

    samples: dict[str, list[dict[str, float]]] = {name: [] for name in IMPORTS}
    for _ in range(args.runs):  # interleaved, so load on the shared machine hits both alike
        for name, code in IMPORTS.items():
            samples[name].append(measure(code))
    rows = []
    figures: dict[str, dict[str, float]] = {}
    for name, runs in samples.items():
        ms = statistics.median(r["seconds"] for r in runs) * 1000
        modules = int(statistics.median(r["modules"] for r in runs))
        peak = statistics.median(r["peak_mib"] for r in runs)
        figures[name] = {"median_ms": round(ms, 1), "new_modules": modules, "peak_import_heap_mib": round(peak, 2)}
        rows.append([name, ms, modules, peak])
    provider, http = (figures[n]["median_ms"] for n in IMPORTS)
    ratio = provider / http
    print(
        table(
            f"DAG parsing: import cost after `import airflow.sdk` (median of {args.runs} fresh interpreters)",
            ["import", "ms", "new modules", "heap MiB"],
            rows,
        )
    )
    print(f"  provider / HttpOperator: {ratio:.2f}x (goal <= {args.max_ratio}x)")
    save("dag_parsing", {"runs": args.runs, "imports": figures, "ratio_provider_to_http": round(ratio, 3)})
    bar_plot("dag_parsing", "Import cost a DAG file pays (ms, median)", list(IMPORTS), [provider, http], "ms")
    ok = ratio <= args.max_ratio
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
