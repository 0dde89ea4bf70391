"""One poll per course for all the completion waits of a triggerer process (issue 18).

1,000 learners waiting on 10 courses used to mean 1,000 requests per poll, each trigger with a hook and a
client of its own (the connection read and parsed 1,000 times). Here, per event loop (the triggerer runs
every trigger in one):

* **one hook per connection**: :meth:`SharedPolls.acquire_hook` reads the connection and builds the hook
  once; every trigger of that connection, and every course poll, holds it; the last to let go closes it.
* **one poll per (connection, course)**: a trigger whose enrollment is on a course roster
  (:func:`airflow_provider_lms.hooks.rosters.roster_entry`) joins that course's :class:`CoursePoll` as a
  :class:`Waiter`. One asyncio task reads the roster (``aget_course_states``, paged) once per interval, the
  smallest interval among its waiters, and hands each waiter its own state; a waiter whose key is not on
  the roster gets a read of its own (``aget_enrollment_state``). The task ends when its last waiter leaves.
* **outages**: a roster read that fails is handed to every waiter as the error, so that each trigger's
  :class:`~airflow_provider_lms.triggers.outage.OutageWatch` still decides (heals, cannot heal, logs the
  outage once) as it did. The poll backs off as a lone trigger did: from the interval, doubling, up to
  :data:`~airflow_provider_lms.triggers.outage.MAX_OUTAGE_BACKOFF`. A waiter whose end is near during an
  outage asks for one last read at its end (:meth:`Waiter.last_try_at`), as a lone trigger made one.

A trigger that joins a running poll gets its first state with the poll's next read (within its interval):
the sensor has read the state once before deferring. Triggers are cancelled by Airflow on timeout and on
reassignment; a waiter leaves and a hook is let go in the trigger's ``finally``, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.registry import aget_lms_hook
from airflow_provider_lms.hooks.rosters import CourseRosters
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.models.state import NormalizedEnrollment
from airflow_provider_lms.triggers import outage

__all__ = ["CoursePoll", "Delivery", "HookLease", "SharedPolls", "Waiter", "backoff", "shared_polls"]

#: How long a new course poll waits before its first read, so that the triggers the triggerer starts together
#: join one read (seconds, at most the poll interval).
JOIN_WINDOW = 0.2


def backoff(interval: float, failures: int) -> float:
    """Seconds to the next read after ``failures`` failed reads in a row (``OutageWatch.failed``'s steps)."""
    cap = max(interval, outage.MAX_OUTAGE_BACKOFF)
    return min(cap, max(interval, 1.0) * 2 ** (failures - 1))


@dataclass
class Delivery:
    """What one read of a course poll hands a waiter: its state, or the error the read met.

    :param state: the enrollment's state, when the read got one.
    :param error: the error instead (the roster read failed, or the waiter's own read did).
    :param next_at: when the poll reads next (:func:`~airflow_provider_lms.triggers.outage.now`'s clock).
    """

    state: NormalizedEnrollment | None
    error: BaseException | None
    next_at: float


class Waiter:
    """One trigger's place in a course poll: it awaits :meth:`next` and leaves with :meth:`leave`.

    :param poll: the course poll.
    :param ref: the enrollment waited on.
    :param key: its key on the course's roster.
    :param interval: the trigger's poll interval in seconds.
    """

    def __init__(self, poll: CoursePoll, ref: EnrollmentRef, key: str, interval: float) -> None:
        self.poll = poll
        self.ref = ref
        self.key = key
        self.interval = max(0.0, float(interval))
        #: When the waiter wants a read at the latest (its end, during an outage), or None.
        self.last_try: float | None = None
        self._delivery: Delivery | None = None
        self._ready = asyncio.Event()

    def deliver(self, delivery: Delivery) -> None:
        """Hand the waiter a read's outcome (a newer one replaces one it has not taken yet)."""
        self._delivery = delivery
        self.last_try = None
        self._ready.set()

    @property
    def reading(self) -> bool:
        """Whether the poll is reading now (so a wait that ends meanwhile had no answer in time)."""
        return self.poll.reading

    async def next(self) -> Delivery:
        """The outcome of the poll's next read (or of the last one, if the waiter has not taken it yet)."""
        while self._delivery is None:
            self._ready.clear()
            await self._ready.wait()
        delivery, self._delivery = self._delivery, None
        return delivery

    def last_try_at(self, when: float) -> None:
        """Ask the poll to read again by ``when`` at the latest."""
        self.last_try = when
        self.poll.wake()

    def leave(self) -> None:
        """Leave the poll (idempotent); the poll stops when its last waiter leaves."""
        self.poll.leave(self)


class CoursePoll:
    """The asyncio task that reads one course's roster for its waiters.

    :param owner: the registry it belongs to.
    :param course_id: the course, as the hook's roster names it.
    :param lease: the poll's own hold on the connection's shared hook, let go when the poll ends.
    """

    def __init__(self, owner: SharedPolls, course_id: str, lease: HookLease) -> None:
        self.owner = owner
        self.conn_id = lease.conn_id
        self.course_id = course_id
        self.lease = lease
        self.hook = lease.hook
        self.roster = cast(CourseRosters, lease.hook)
        self.waiters: dict[Waiter, None] = {}  # an ordered set
        self.reading = False
        self.reads = 0
        self._wake = asyncio.Event()
        self.task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self._run(), name=f"lms-course-poll:{self.conn_id}:{course_id}"
        )

    def join(self, waiter: Waiter) -> None:
        """Add a waiter; it is read for from the next read on."""
        self.waiters[waiter] = None
        self.wake()  # its interval may be shorter than the one the poll sleeps on

    def leave(self, waiter: Waiter) -> None:
        """Remove a waiter; with none left, the poll stops at once (a read under way is abandoned)."""
        if waiter not in self.waiters:
            return
        del self.waiters[waiter]
        if not self.waiters:
            self.owner.forget(self)
            self.owner.ending(self.task)
            self.task.cancel()

    def wake(self) -> None:
        """Make a sleeping poll look at its waiters again (one joined, left, or wants an early read)."""
        self._wake.set()

    def _delay(self, failures: int) -> float:
        interval = min((w.interval for w in self.waiters), default=0.0)
        return backoff(interval, failures) if failures else interval

    async def _run(self) -> None:
        failures = 0
        try:
            await asyncio.sleep(min(JOIN_WINDOW, self._delay(0)))
            while self.waiters:
                read_at = outage.now()
                waiters = list(self.waiters)
                outcome, error = await self._read(waiters)
                failures = failures + 1 if error is not None else 0
                next_at = read_at + self._delay(failures)
                for waiter in waiters:
                    if waiter in self.waiters:
                        result = outcome.get(waiter, error)
                        if isinstance(result, NormalizedEnrollment):
                            waiter.deliver(Delivery(result, None, next_at))
                        else:
                            waiter.deliver(Delivery(None, result, next_at))
                await asyncio.sleep(0)  # the waiters take their states (and may ask for a last try)
                await self._sleep_until_due(read_at, failures)
        finally:
            self.owner.forget(self)
            self.lease.release()

    async def _sleep_until_due(self, read_at: float, failures: int) -> None:
        """Sleep to the next read: the interval (or the outage backoff) after the last, or a waiter's last try."""
        while self.waiters:
            due = read_at + self._delay(failures)
            asked = [w.last_try for w in self.waiters if w.last_try is not None]
            if asked:
                due = min(due, min(asked))
            left = due - outage.now()
            if left <= 0:
                return
            self._wake.clear()
            nap = asyncio.ensure_future(outage.pause(left))
            bell = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({nap, bell}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                nap.cancel()
                bell.cancel()
            if nap.done() and not nap.cancelled():
                return

    async def _alone(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        async with self.lease.gate:
            return await self.hook.aget_enrollment_state(ref)

    async def _read(self, waiters: list[Waiter]) -> tuple[dict[Waiter, Any], BaseException | None]:
        """One read for ``waiters``: ``({waiter: state or its own read's error}, the roster's error or None)``."""
        self.reading = True
        self.reads += 1
        try:
            with quiet_retries():
                try:
                    states = await self.roster.aget_course_states(self.course_id, {w.key for w in waiters})
                except Exception as exc:  # an outage, a refused key, an answer that could not be read
                    return {}, exc
                outcome: dict[Waiter, Any] = {}
                alone = []
                for waiter in waiters:
                    state = states.get(waiter.key)
                    if state is None:
                        alone.append(waiter)
                    else:
                        outcome[waiter] = state
                if alone:  # not on the roster: the per-enrollment read decides (e.g. "not enrolled")
                    found = await asyncio.gather(*(self._alone(w.ref) for w in alone), return_exceptions=True)
                    outcome.update(zip(alone, found, strict=True))
                return outcome, None
        finally:
            self.reading = False


@dataclass
class _HookEntry:
    hook: asyncio.Future[LmsHook]
    users: int = 0
    gate: asyncio.Semaphore | None = None


async def _build_hook(conn_id: str, entry: _HookEntry) -> LmsHook:
    hook = await aget_lms_hook(conn_id)
    # The waits that poll on their own queue here, never more in flight than the connection's pool holds: 1,000
    # requests queued inside httpcore's pool cost O(n) each to hand a free connection on (12 ms of CPU per wait
    # per poll in benchmarks/scenario_waiting.py at 4 connections, against 3 ms with a hook per trigger).
    entry.gate = asyncio.Semaphore((await hook.aconnection_config()).settings.max_connections)
    return hook


class HookLease:
    """One hold on a connection's shared hook; :meth:`release` gives it back (once, however often called).

    :param owner: the registry.
    :param conn_id: the connection.
    :param entry: the registry's record of the hook.
    """

    def __init__(self, owner: SharedPolls, conn_id: str, entry: _HookEntry) -> None:
        self.owner = owner
        self.conn_id = conn_id
        self._entry = entry
        self._held = True

    @property
    def hook(self) -> LmsHook:
        """The shared hook."""
        return self._entry.hook.result()

    @property
    def gate(self) -> asyncio.Semaphore:
        """Hold it around a request: at most the connection's ``max_connections`` requests of its users at once."""
        assert self._entry.gate is not None
        return self._entry.gate

    def again(self) -> HookLease:
        """Another hold on the same hook (a course poll's)."""
        self._entry.users += 1
        return HookLease(self.owner, self.conn_id, self._entry)

    def release(self) -> None:
        """Give the hold back; the last one closes the hook."""
        if self._held:
            self._held = False
            self.owner._let_go(self.conn_id, self._entry)


class SharedPolls:
    """The hooks and course polls of one event loop (the triggerer's); get it with :func:`shared_polls`."""

    def __init__(self) -> None:
        self._hooks: dict[str, _HookEntry] = {}
        self._polls: dict[tuple[str, str], CoursePoll] = {}
        self._closing: set[asyncio.Future[Any]] = set()

    # -- hooks -------------------------------------------------------------------------------------------
    async def acquire_hook(self, conn_id: str) -> HookLease:
        """A hold on the connection's hook, read and built once for all its users (``release`` it when done)."""
        entry = self._hooks.get(conn_id)
        if entry is None or (entry.hook.done() and (entry.hook.cancelled() or entry.hook.exception() is not None)):
            # A connection that could not be read is read again by the next trigger (it may be fixed by now).
            entry = self._hooks[conn_id] = _HookEntry(asyncio.get_running_loop().create_future())
            entry.hook = asyncio.ensure_future(_build_hook(conn_id, entry))
        entry.users += 1
        try:
            await asyncio.shield(entry.hook)
        except BaseException:
            self._let_go(conn_id, entry)
            raise
        return HookLease(self, conn_id, entry)

    def _let_go(self, conn_id: str, entry: _HookEntry) -> None:
        entry.users -= 1
        if entry.users > 0:
            return
        if self._hooks.get(conn_id) is entry:
            del self._hooks[conn_id]
        entry.hook.add_done_callback(self._close_hook)

    def _close_hook(self, future: asyncio.Future[LmsHook]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        self.ending(asyncio.ensure_future(future.result().aclose()))

    def ending(self, task: asyncio.Future[Any]) -> None:
        """Keep a reference to a stopping poll or a closing hook until it is done (:meth:`settle` awaits them)."""
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- course polls ------------------------------------------------------------------------------------
    def wait_on(self, lease: HookLease, course_id: str, key: str, ref: EnrollmentRef, interval: float) -> Waiter:
        """Join (or start) the poll of ``course_id`` on the lease's connection, as ``key`` on its roster."""
        poll = self._polls.get((lease.conn_id, course_id))
        if poll is None:
            poll = self._polls[(lease.conn_id, course_id)] = CoursePoll(self, course_id, lease.again())
        waiter = Waiter(poll, ref, key, interval)
        poll.join(waiter)
        return waiter

    def forget(self, poll: CoursePoll) -> None:
        """Drop a poll that has ended (or is ending) from the registry; a new waiter then starts a new one."""
        if self._polls.get((poll.conn_id, poll.course_id)) is poll:
            del self._polls[(poll.conn_id, poll.course_id)]

    # -- for tests and diagnostics -------------------------------------------------------------------------
    def polls(self) -> list[CoursePoll]:
        """The course polls running now."""
        return list(self._polls.values())

    def hooks_in_use(self) -> Collection[str]:
        """The connection ids with a shared hook now."""
        return list(self._hooks)

    async def settle(self) -> None:
        """Wait until the polls that were stopped have ended and the hooks let go are closed."""
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedPolls] = weakref.WeakKeyDictionary()


def shared_polls() -> SharedPolls:
    """The running event loop's registry (hooks hold async clients, which belong to one loop)."""
    loop = asyncio.get_running_loop()
    registry = _REGISTRIES.get(loop)
    if registry is None:
        registry = _REGISTRIES[loop] = SharedPolls()
    return registry
