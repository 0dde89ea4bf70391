"""Links from a task in Airflow's UI to the platform's own page for its course or enrollment.

Airflow 3 computes an operator's extra links on the worker when the task ends and stores each as an
XCom, which the UI reads; so :class:`LmsPageLink` may read the connection, and the UI never runs our code.

Where a link points: the connection's ``web_url`` extra (the platform's web app, e.g. your Eduframe
environment's address) plus a page path per platform. No platform's document publishes its web app's
URL scheme, so every path below is an assumption, and each can be overridden with the connection extras
``course_page_path`` and ``enrollment_page_path`` (``{course_id}`` and ``{enrollment_id}`` are filled in).
Without ``web_url``, a task shows no link: a guessed host would send users to a page that is not theirs.
The sandbox serves a page at each of these paths (``/_sandbox/pages/<platform>/...``), so the links of
tasks that run against it open a real page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_lms.hooks.base import LmsHook

__all__ = ["PAGE_PATHS", "LmsPageLink", "page_url"]

log = logging.getLogger(__name__)

#: conn type -> page kind -> path under ``web_url``.
# ASSUMPTION: none of the five platforms documents its web app's URLs. These follow each platform's own API
# nouns (Eduframe's planned courses and enrollments, aNewSpring's courses and subscriptions, Pluvo's
# trainings, Pynter's courses, Lära's cycles); override them per connection with course_page_path and
# enrollment_page_path.
PAGE_PATHS: dict[str, dict[str, str]] = {
    "eduframe": {"course": "/planned_courses/{course_id}", "enrollment": "/enrollments/{enrollment_id}"},
    "anewspring": {"course": "/courses/{course_id}", "enrollment": "/courses/{course_id}/subscriptions"},
    "pluvo": {"course": "/trainings/{course_id}", "enrollment": "/trainings/{course_id}/participants"},
    "pynter": {"course": "/courses/{course_id}", "enrollment": "/courses/{course_id}/results"},
    "lara": {"course": "/cycles/{course_id}", "enrollment": "/cycles/{course_id}/members"},
}
_OVERRIDES = {"course": "course_page_path", "enrollment": "enrollment_page_path"}


def page_url(hook: LmsHook, kind: str, **ids: Any) -> str | None:
    """The platform page of ``kind`` (``course`` or ``enrollment``) for ``ids``, or None when unknown.

    :param hook: the platform hook (its connection gives ``web_url`` and any path overrides).
    :param kind: ``course`` or ``enrollment``.
    :param ids: ``course_id`` and/or ``enrollment_id``; each is percent-encoded as one path segment.
    """
    config = hook.connection_config
    if not config.web_url:
        return None
    path = config.page_paths.get(_OVERRIDES[kind]) or PAGE_PATHS.get(hook.conn_type, {}).get(kind)
    if not path:
        return None
    given = {name: quote(str(value), safe="") for name, value in ids.items() if value not in (None, "")}
    try:
        return config.web_url + path.format(**given)
    except (KeyError, IndexError, ValueError):
        return None  # the path needs an id this task does not have (e.g. an enrollment page without one)


class LmsPageLink(BaseOperatorLink):
    """The "LMS page" button: the platform's page for the task's course or enrollment.

    The operator gives the URL through ``lms_page_url()`` (the bulk operators and the enrollment sensor do).
    """

    name = "LMS page"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The page's URL, or "" (no button) when the connection has no ``web_url`` or the task no course."""
        which = getattr(operator, "lms_page_url", None)
        try:
            return (which() if callable(which) else None) or ""
        except Exception as exc:
            # A link must never fail a task (Airflow computes it as the task ends): log why there is none.
            log.info("no LMS page link for %s: %s", getattr(operator, "task_id", "?"), type(exc).__name__)
            return ""
