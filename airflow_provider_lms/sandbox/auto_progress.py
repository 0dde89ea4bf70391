"""Learners who make progress by themselves: ``python -m airflow_provider_lms.sandbox --auto-progress[=SECONDS]``.

Every platform double that can move a learner forward on its own already offers it through its control
API, as ``PUT /_sandbox/<platform>/auto_progress {"complete_after_seconds": N}`` (what "progress" means is
the platform's: an enrollment completes and passes, a course completes once its exam was scored, an
overdue person passes the class planned for them). This module switches that on for every platform that
has the route, through the app itself (in-process ASGI requests, the same published control API a test
would call), so no generic code needs to know a platform:

* when the app starts (its lifespan) and again after every ``POST /_sandbox/reset``, which would
  otherwise switch it off;
* and on a ticker, once a second, it reads each such platform's ``GET /_sandbox/<platform>/state``, which
  applies the completions that have come due. The doubles apply them lazily on every API request anyway;
  the ticker is for the webhooks a completion sends, which should go out on time even while no client
  asks anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_AUTO_PROGRESS_SECONDS", "AutoProgress", "AutoProgressError"]

#: The delay ``--auto-progress`` without a value uses: short enough for a quickstart DAG to finish within
#: a minute, long enough that a sensor is seen waiting before the learner completes.
DEFAULT_AUTO_PROGRESS_SECONDS = 5.0
#: The in-process requests go to the app object, never to the network; this host only fills the URL.
_IN_PROCESS_URL = "http://sandbox.in-process"


class AutoProgressError(RuntimeError):
    """A platform's auto-progress route refused the setting (the sandbox would not progress as told)."""


def _route_paths(app: FastAPI, method: str) -> set[str]:
    return {str(getattr(r, "path", "")) for r in app.routes if method in (getattr(r, "methods", None) or ())}


class AutoProgress:
    """Switches on every platform's auto-progress in one sandbox app and keeps it on.

    :param seconds: How long after its start (enrollment, scored exam, planned class: the platform's
        rule) a learner completes and passes.
    :param tick_seconds: How often the ticker applies the completions that came due.
    """

    def __init__(self, seconds: float = DEFAULT_AUTO_PROGRESS_SECONDS, *, tick_seconds: float = 1.0) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"auto-progress seconds must be 0 or more, got {seconds!r}")
        if not tick_seconds > 0:
            raise ValueError(f"auto-progress tick_seconds must be more than 0, got {tick_seconds!r}")
        self.seconds = float(seconds)
        self.tick_seconds = float(tick_seconds)

    # -- which platforms ---------------------------------------------------------------------------

    @staticmethod
    def setting_path(name: str) -> str:
        """The control route that sets a platform's auto-progress."""
        return f"{CONTROL_PREFIX}/{name}/auto_progress"

    @staticmethod
    def state_path(name: str) -> str:
        """The control route that shows (and brings up to date) a platform's state."""
        return f"{CONTROL_PREFIX}/{name}/state"

    def platforms(self, app: FastAPI) -> list[str]:
        """The names of the app's platforms that can progress by themselves, in the app's order."""
        puts = _route_paths(app, "PUT")
        info = app.state.platform_names if hasattr(app.state, "platform_names") else []
        return [name for name in info if self.setting_path(name) in puts]

    # -- switching on ------------------------------------------------------------------------------

    async def switch_on(self, app: FastAPI) -> list[str]:
        """Set the delay on every platform that has auto-progress; the names switched on.

        :param app: The sandbox app (``create_app``).
        :raises AutoProgressError: when a platform refuses the setting.
        """
        names = self.platforms(app)
        async with _in_process(app) as client:
            for name in names:
                response = await client.put(self.setting_path(name), json={"complete_after_seconds": self.seconds})
                if response.status_code >= 300:
                    raise AutoProgressError(
                        f"PUT {self.setting_path(name)} answered {response.status_code}: {response.text[:300]}"
                    )
        return names

    async def tick(self, app: FastAPI) -> None:
        """Apply the completions that came due, on every platform that has auto-progress and a state route."""
        gets = _route_paths(app, "GET")
        async with _in_process(app) as client:
            for name in self.platforms(app):
                if self.state_path(name) in gets:
                    await client.get(self.state_path(name))

    async def _run_ticker(self, app: FastAPI) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                await self.tick(app)
            except Exception:
                # One failed tick must not stop the learners for good; the next one tries again.
                logger.exception("sandbox auto-progress tick failed")

    def lifespan(self) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
        """A FastAPI ``lifespan``: switch on at start-up, tick while serving, stop the ticker at shutdown."""

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            names = await self.switch_on(app)
            logger.info("sandbox auto-progress: %s s on %s", f"{self.seconds:g}", ", ".join(names) or "no platform")
            ticker = asyncio.create_task(self._run_ticker(app), name="lms-sandbox-auto-progress")
            try:
                yield
            finally:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker

        return lifespan

    def describe(self, names: list[str]) -> str:
        """One line for the sandbox's start-up banner."""
        shown = ", ".join(names) if names else "no platform"
        return f"auto-progress: learners complete {self.seconds:g} s after they start ({shown})"

    def __repr__(self) -> str:
        return f"AutoProgress(seconds={self.seconds:g})"


def _in_process(app: Any) -> httpx.AsyncClient:
    # ASGITransport calls the app object on the running event loop: the requests take the same path as a
    # test's (control routes are neither logged nor faulted), and never touch a socket.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=_IN_PROCESS_URL, timeout=30)
