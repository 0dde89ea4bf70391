"""The README's capability table says what the hooks declare, so a DAG author can trust it."""

from __future__ import annotations

import re
from pathlib import Path

import airflow_provider_lms.hooks  # noqa: F401  (imports every platform hook, which registers it)
from airflow_provider_lms.hooks.capabilities import CAPABILITIES, registered_hooks

README = Path(__file__).resolve().parents[2] / "README.md"
OPERATORS = {
    "LmsEnsureLearnersOperator": "ensure_learners",
    "LmsSubscribeOperator": "subscribe",
    "LmsScoreExternalActivityOperator": "score_external_activity",
    "LmsAwardCertificateOperator": "award_certificate",
    "EnrollmentCompletedSensor": "enrollment_status",
    "LmsSubscribeGroupsOperator": "subscribe_groups",
    "LmsUnsubscribeOperator": "unsubscribe",
    "LmsUpdateSubscriptionOperator": "update_subscription",
    "LmsRevokeCertificateOperator": "revoke_certificate",
    "LmsUpdateMemberStatusesOperator": "update_member_status",
}


def _table() -> tuple[list[str], dict[str, list[str]]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| capability |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")][1:]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        operator = re.match(r"`(\w+)`", cells[0])
        assert operator, line
        rows[OPERATORS[operator.group(1)]] = cells[1:]
    return header, rows


def test_the_table_has_every_platform_and_every_capability():
    header, rows = _table()
    assert header == [hook.platform for hook in registered_hooks().values()]
    assert set(rows) == set(CAPABILITIES)


def test_each_cell_matches_what_the_platform_hook_declares():
    header, rows = _table()
    hooks = {hook.platform: hook for hook in registered_hooks().values()}
    for capability, cells in rows.items():
        for platform, cell in zip(header, cells, strict=True):
            assert cell in ("yes", "—"), (capability, platform, cell)
            assert (cell == "yes") == hooks[platform].supports(capability), (capability, platform)
