"""OpenLineage datasets for the bulk operators: what a task changed (outputs) and referred to (inputs).

With Airflow's OpenLineage provider installed and a transport configured, the provider's listener calls
:meth:`LmsBulkOperator.get_openlineage_facets_on_complete
<airflow_provider_lms.operators.base.LmsBulkOperator.get_openlineage_facets_on_complete>` when a task ends
(and, as the provider does for any operator without a failure method, when it fails). Without that provider
nothing here is imported.

Naming (ASSUMPTION: our own convention; OpenLineage publishes no naming scheme for learning platforms):

- **namespace** ``lms://<platform>/<host>``: ``<platform>`` is the connection type (``eduframe``,
  ``anewspring``, ``pluvo``, ``pynter``, ``lara``), ``<host>`` the lower-cased host of the connection's base
  URL, with ``:<port>`` when the URL names a port other than its scheme's default. Never the scheme, the
  path, a user name, a password or a query string.
- **name**, by what the operation changes or refers to:

  ==============================  =================================================
  ``course/<course_id>``          the learners subscribed to, scored in, unsubscribed from a course
  ``program/<program_id>``        the certificates of a program
  ``group/<group_id>``            a learner group's members (and the groups a course subscribes)
  ``learners``                    the platform's learners (persons, users, employees)
  ``members``                     members' (professional) statuses
  ``etickets``                    e-ticket attendance (Pynter)
  ``cycle/<cycle_id>``            a Lära cycle whose progress is read
  ==============================  =================================================

  Ids are as the platform's own rule normalises them (so ``"06"`` and ``6`` name the same Eduframe course),
  percent-encoded so that an id with a ``/`` stays one path segment.

An operation's **outputs** are what it changes; its **inputs** what its items name without changing them
(e.g. ``LmsSubscribeOperator``: input ``learners``, output ``course/<id>``), so a DAG that creates learners
and then enrolls them shows as ``learners`` -> ``course/<id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow_provider_lms.http.errors import LmsError
from airflow_provider_lms.models.inputs import ScoreRow, normalize_ids, validate_models

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_lms.hooks.base import LmsHook

__all__ = ["MAX_DATASETS", "dataset_names", "known_operations", "lineage_namespace", "operator_lineage"]

#: The most datasets one side (inputs or outputs) lists: a run over 5,000 courses' scores would otherwise
#: make one event of 5,000 datasets. The first ones in sorted order are kept.
MAX_DATASETS = 100

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: (inputs, outputs): dataset names.
Names = tuple[list[str], list[str]]


def lineage_namespace(platform: str, base_url: str) -> str:
    """The OpenLineage namespace of a platform connection: ``lms://<platform>/<host>[:<port>]``.

    :param platform: the connection type, e.g. ``eduframe``.
    :param base_url: the connection's API root; only its host (and a port other than the default) is used.
    """
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower()  # hostname drops any user:password@ and lower-cases
    if not host:
        raise ValueError("the base URL has no host name")
    if ":" in host:  # an IPv6 address keeps its brackets, so that a port stays readable after it
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return f"lms://{platform.lower()}/{host}"


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _course(op: Any, hook: LmsHook) -> list[str]:
    return [f"course/{_segment(hook.parse_course_id('course_id', op.course_id))}"]


def _program(op: Any, hook: LmsHook) -> list[str]:
    return [f"program/{_segment(hook.parse_program_id('program_id', op.program_id))}"]


def _group(op: Any, hook: LmsHook) -> list[str]:
    return [f"group/{_segment(hook.parse_group_id('group_id', op.group_id))}"]


def _groups(op: Any, hook: LmsHook) -> list[str]:
    return [f"group/{_segment(g)}" for g in normalize_ids("group_ids", op.group_ids, hook.parse_group_id).ids]


def _scored_courses(op: Any, hook: LmsHook) -> list[str]:
    rows = validate_models(ScoreRow, op.scores, "scores")
    courses = {hook.parse_course_id(f"scores[{i}].course_id", row.course_id) for i, row in enumerate(rows)}
    return [f"course/{_segment(c)}" for c in courses]


def _cycle(op: Any, hook: LmsHook) -> list[str]:
    from airflow_provider_lms.hooks.lara import lara_id  # Lära's id rule, as its operator checks the cycle

    return [f"cycle/{_segment(lara_id('cycle_id', op.cycle_id))}"]


Rule = Callable[[Any, "LmsHook"], list[str]]


def _fixed(*names: str) -> Rule:
    return lambda op, hook: list(names)


def _all(*rules: Rule) -> Rule:
    return lambda op, hook: [name for rule in rules for name in rule(op, hook)]


_NONE = _fixed()
_LEARNERS = _fixed("learners")
_MEMBERS = _fixed("members")

#: operation -> (inputs, outputs). Every bulk operator's ``operation`` is here (tests/unit/test_lineage.py
#: fails for one that is not); an operation missing here reports no datasets.
_OPERATIONS: dict[str, tuple[Rule, Rule]] = {
    "ensure_learners": (_NONE, _LEARNERS),
    "subscribe": (_LEARNERS, _course),
    "unsubscribe": (_LEARNERS, _course),
    "update_subscription": (_LEARNERS, _course),
    "subscribe_groups": (_groups, _course),
    "score_external_activity": (_LEARNERS, _scored_courses),
    "award_certificate": (_LEARNERS, _program),
    "revoke_certificate": (_LEARNERS, _program),
    "add_group_members": (_LEARNERS, _group),
    "remove_group_members": (_LEARNERS, _group),
    "update_member_status": (_NONE, _MEMBERS),
    "update_member_statuses": (_NONE, _MEMBERS),
    "change_current_member_status": (_NONE, _MEMBERS),
    "upsert_employees": (_NONE, _LEARNERS),
    "block_persons": (_NONE, _LEARNERS),
    "record_eticket_attendance": (_NONE, _fixed("etickets")),
    # Reads only: the members' progress in a cycle; the DAG decides what to write.
    "cycle_compliance": (_all(_MEMBERS, _cycle), _NONE),
}


def known_operations() -> frozenset[str]:
    """The operations that have a naming rule (for the test that every bulk operator has one)."""
    return frozenset(_OPERATIONS)


def dataset_names(operation: str, operator: Any, hook: LmsHook) -> Names:
    """The input and output dataset names of one task, sorted, at most :data:`MAX_DATASETS` each.

    :param operation: the operator's ``operation``.
    :param operator: the (rendered) operator, whose ids name the datasets.
    :param hook: the operator's hook, whose rules normalise the ids (no request is sent).
    :raises LmsError: an id the platform's rule refuses (the task then never reached the platform).
    """
    rules = _OPERATIONS.get(operation)
    if rules is None:
        return [], []
    inputs, outputs = rules
    return sorted(set(inputs(operator, hook)))[:MAX_DATASETS], sorted(set(outputs(operator, hook)))[:MAX_DATASETS]


def operator_lineage(operator: Any) -> OperatorLineage:
    """The :class:`OperatorLineage` of a bulk operator after its run (see the module docstring).

    Reads the connection's base URL from the operator's hook, which its run has already parsed; sends no
    request and puts no credential anywhere (only the host and port of the URL). A task whose ids the
    platform's rules refuse wrote nothing, and gets no datasets.

    :param operator: an :class:`~airflow_provider_lms.operators.base.LmsBulkOperator` after ``execute``.
    """
    # Imported here: the OpenLineage provider is optional, and Airflow only calls this when it is installed.
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset

    hook: LmsHook = operator.hook
    try:
        inputs, outputs = dataset_names(operator.operation, operator, hook)
    except LmsError:
        return OperatorLineage()
    namespace = lineage_namespace(hook.conn_type, hook.connection_config.base_url)
    return OperatorLineage(
        inputs=[Dataset(namespace=namespace, name=name) for name in inputs],
        outputs=[Dataset(namespace=namespace, name=name) for name in outputs],
    )
