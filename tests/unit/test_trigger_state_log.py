"""The completion trigger logs a change of the enrollment's state, not every poll.

At a 5 s poll over a 30-day timeout, a line per poll would be up to 518k lines per learner in the
triggerer's log; a line per change is a handful.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger

from .conftest import EDUFRAME_URL
from .test_eduframe_hook import enrollment


@respx.mock
async def test_a_wait_of_many_polls_logs_each_state_once(eduframe_conn, capsys: pytest.CaptureFixture[str]):
    answers = (
        [httpx.Response(200, json=enrollment(status="confirmed"))] * 10
        + [httpx.Response(200, json=enrollment(status="active"))] * 30
        + [httpx.Response(200, json=enrollment(status="completed"))]
    )
    route = respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(side_effect=answers)
    trigger = EnrollmentCompletedTrigger(eduframe_conn, {"enrollment_id": "11"}, poll_interval=0.001)
    events = [e async for e in trigger.run()]
    assert [e.payload["status"] for e in events] == ["success"]
    assert route.call_count == 41
    # Airflow's logging (structlog) writes the trigger's lines to stdout, named by the trigger's class.
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if "EnrollmentCompletedTrigger" in line and "enrollment 11" in line]
    # 41 polls, three states: three lines (waiting as confirmed, waiting as active, completed), in order.
    assert len(lines) == 3, lines
    assert ["is enrolled" in lines[0], "in_progress" in lines[1], "is completed" in lines[2]] == [True] * 3
