"""OpenLineage naming: namespaces from connections, dataset names from the operators' ids."""

from __future__ import annotations

import json
from importlib.util import find_spec

import pytest

from airflow_provider_lms import lineage
from airflow_provider_lms.lineage import MAX_DATASETS, known_operations, lineage_namespace
from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeGroupsOperator,
    LmsSubscribeOperator,
    LmsUpdateMemberStatusesOperator,
)
from airflow_provider_lms.operators.anewspring import AnewspringAddGroupMembersOperator
from airflow_provider_lms.operators.base import LmsBulkOperator

from .conftest import EDUFRAME_URL, SECRET, conn_json

# The naming needs nothing but this package; building the OperatorLineage needs the provider (test extra).
needs_provider = pytest.mark.skipif(
    find_spec("airflow.providers.openlineage") is None, reason="the OpenLineage provider is not installed"
)


@pytest.mark.parametrize(
    ("platform", "url", "expected"),
    [
        ("eduframe", "https://api.eduframe.nl/api/v1", "lms://eduframe/api.eduframe.nl"),
        # The default port is left out, any other kept: two sandboxes on one host are two namespaces.
        ("eduframe", "https://API.Eduframe.NL:443/api/v1/", "lms://eduframe/api.eduframe.nl"),
        ("lara", "http://127.0.0.1:8765/lara/lmsapi", "lms://lara/127.0.0.1:8765"),
        ("pynter", "http://[::1]:9000/soap", "lms://pynter/[::1]:9000"),
        ("pluvo", "https://api.pluvo.test:8443", "lms://pluvo/api.pluvo.test:8443"),
    ],
)
def test_the_namespace_is_platform_host_and_a_non_default_port(platform: str, url: str, expected: str) -> None:
    assert lineage_namespace(platform, url) == expected


def test_the_namespace_never_carries_credentials_a_path_or_a_query() -> None:
    namespace = lineage_namespace("eduframe", f"https://user:{SECRET}@edu.test:8443/api/v1?key={SECRET}#frag")
    assert namespace == "lms://eduframe/edu.test:8443"


def test_a_url_without_a_host_names_no_namespace() -> None:
    with pytest.raises(ValueError, match="no host"):
        lineage_namespace("eduframe", "not a url")


def _bulk_operator_classes() -> list[type[LmsBulkOperator]]:
    # The platform-only modules too: their operators derive from LmsBulkOperator without being exported above.
    import airflow_provider_lms.operators.lara
    import airflow_provider_lms.operators.pynter  # noqa: F401

    found, todo = [], list(LmsBulkOperator.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("airflow_provider_lms.") and cls.operation:
            found.append(cls)
    return found


def test_every_bulk_operator_has_a_naming_rule() -> None:
    classes = _bulk_operator_classes()
    assert len(classes) >= 15
    missing = sorted(f"{c.__name__} ({c.operation})" for c in classes if c.operation not in known_operations())
    assert missing == []


@pytest.fixture
def edu(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_EDU", conn_json("eduframe", base_url=EDUFRAME_URL))
    return "edu"


def _names(datasets: list) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


@needs_provider
def test_subscribe_writes_the_course_and_reads_the_learners(edu: str) -> None:
    # " 06" is how a CSV may give the planned course 6: the same dataset as another task's course_id=6.
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=edu, course_id=" 06", learner_ids=[5, 6])
    result = op.get_openlineage_facets_on_complete(None)
    assert _names(result.outputs) == [("lms://eduframe/eduframe.test", "course/6")]
    assert _names(result.inputs) == [("lms://eduframe/eduframe.test", "learners")]


@needs_provider
def test_scores_write_each_distinct_course_once(edu: str) -> None:
    rows = [
        {"learner_id": 1, "course_id": 9, "score": 7},
        {"learner_id": 2, "course_id": "9", "score": 8},
        {"learner_id": 1, "course_id": 3, "grade": "A"},
    ]
    op = LmsScoreExternalActivityOperator(task_id="s", lms_conn_id=edu, scores=rows)
    assert [d.name for d in op.get_openlineage_facets_on_complete(None).outputs] == ["course/3", "course/9"]


@needs_provider
def test_certificates_learners_and_members_have_their_own_names(edu: str) -> None:
    award = LmsAwardCertificateOperator(task_id="a", lms_conn_id=edu, program_id=4, learner_ids=[1])
    ensure = LmsEnsureLearnersOperator(
        task_id="e", lms_conn_id=edu, learners=[{"email": "a@x.test", "first_name": "A", "last_name": "B"}]
    )
    statuses = LmsUpdateMemberStatusesOperator(
        task_id="m", lms_conn_id=edu, statuses=[{"member_id": "u-1", "status": "Retired"}]
    )
    assert [d.name for d in award.get_openlineage_facets_on_complete(None).outputs] == ["program/4"]
    ensured = ensure.get_openlineage_facets_on_complete(None)
    assert ([d.name for d in ensured.outputs], ensured.inputs) == (["learners"], [])
    # Named from the operator alone: Eduframe would refuse this operator, but its name does not depend on it.
    assert [d.name for d in statuses.get_openlineage_facets_on_complete(None).outputs] == ["members"]


@needs_provider
def test_group_ids_with_a_slash_stay_one_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANS", conn_json("anewspring", base_url="https://acme.anewspring.test/api"))
    op = AnewspringAddGroupMembersOperator(task_id="g", lms_conn_id="ans", group_id="sales/north", user_ids=["u1"])
    result = op.get_openlineage_facets_on_complete(None)
    assert _names(result.outputs) == [("lms://anewspring/acme.anewspring.test", "group/sales%2Fnorth")]
    subscribe = LmsSubscribeGroupsOperator(task_id="sg", lms_conn_id="ans", course_id="c1", group_ids=["g2", "g1"])
    sub = subscribe.get_openlineage_facets_on_complete(None)
    assert [d.name for d in sub.inputs] == ["group/g1", "group/g2"]
    assert [d.name for d in sub.outputs] == ["course/c1"]


@needs_provider
def test_a_huge_run_lists_at_most_max_datasets(edu: str) -> None:
    rows = [{"learner_id": 1, "course_id": c, "score": 1} for c in range(1, MAX_DATASETS + 50)]
    op = LmsScoreExternalActivityOperator(task_id="s", lms_conn_id=edu, scores=rows)
    assert len(op.get_openlineage_facets_on_complete(None).outputs) == MAX_DATASETS


@needs_provider
def test_ids_the_platform_refuses_give_no_datasets(edu: str) -> None:
    # The task failed before any request (Eduframe ids are numbers), so it wrote nothing to name.
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=edu, course_id="not-a-number", learner_ids=[5])
    result = op.get_openlineage_facets_on_complete(None)
    assert (result.inputs, result.outputs) == ([], [])


@needs_provider
def test_the_lineage_holds_no_secret(edu: str) -> None:
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=edu, course_id=6, learner_ids=[5])
    result = op.get_openlineage_facets_on_complete(None)
    from openlineage.client.serde import Serde

    text = json.dumps([Serde.to_dict(d) for d in [*result.inputs, *result.outputs]])
    assert "eduframe.test" in text and SECRET not in text


def test_an_unknown_operation_names_nothing(edu: str) -> None:
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=edu, course_id=6, learner_ids=[5])
    assert lineage.dataset_names("no_such_operation", op, op.hook) == ([], [])
