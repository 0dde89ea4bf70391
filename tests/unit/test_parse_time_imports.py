"""What a DAG file pays at parse time: naming an operator or the sensor loads no platform it does not use.

Each case runs in a fresh interpreter, as a DAG processor's first parse of a file does. The cost itself is
measured in benchmarks/scenario_dag_parsing.py; these tests pin what causes it (GraphQL, SOAP and five
platforms' models imported for a DAG that uses none of them).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Modules a generic DAG file must not load: each platform's hook and the heavy libraries behind them.
PLATFORM_MODULES = [
    f"airflow_provider_lms.hooks.{name}" for name in ("eduframe", "anewspring", "pluvo", "pynter", "lara")
]
HEAVY = ["graphql", "defusedxml", *PLATFORM_MODULES]

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('graphql', 'defusedxml')
                        or m.startswith('airflow_provider_lms.hooks.'))))
"""


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return {
        m.split(".")[0] if m.split(".")[0] in ("graphql", "defusedxml") else m for m in json.loads(out.splitlines()[-1])
    }


@pytest.mark.parametrize(
    "code",
    [
        "from airflow_provider_lms.operators.enrollment import LmsSubscribeOperator, LmsScoreExternalActivityOperator",
        "from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor",
        "from airflow_provider_lms.operators import LmsSubscribeOperator, LmsCallOperator",
    ],
)
def test_a_generic_dag_file_loads_no_platform_hook_graphql_or_soap(code: str):
    assert loaded_after(code).isdisjoint(HEAVY)


def test_a_platform_operator_loads_its_own_platform_only():
    loaded = loaded_after("from airflow_provider_lms.operators.lara import LaraUpdateMemberStatusesOperator")
    assert "airflow_provider_lms.hooks.lara" in loaded
    assert loaded.isdisjoint(set(HEAVY) - {"airflow_provider_lms.hooks.lara"})


def test_every_name_the_operators_package_lists_resolves_to_its_class():
    import airflow_provider_lms.operators as operators

    for name in operators.__all__:
        cls = getattr(operators, name)
        assert cls.__name__ == name
        assert cls.__module__.startswith("airflow_provider_lms.operators.")
    with pytest.raises(AttributeError, match="NoSuchOperator"):
        _ = operators.NoSuchOperator  # type: ignore[attr-defined]


def test_the_capability_table_names_every_platform_in_order_whichever_hook_came_first():
    # A task that imported only Pynter's hook still gets the whole list in an error message.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import airflow_provider_lms.hooks.pynter\n"
            "from airflow_provider_lms.hooks.capabilities import platforms_with, registered_hooks\n"
            "print(list(registered_hooks())); print(platforms_with('enrollment_status'))",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    assert out[-2] == str(["eduframe", "anewspring", "pluvo", "pynter", "lara"])
    assert out[-1] == str(["Eduframe", "aNewSpring", "Pluvo", "Pynter"])
