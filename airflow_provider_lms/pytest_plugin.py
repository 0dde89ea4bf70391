"""pytest fixtures for testing your own DAGs against the bundled sandbox: the ``lms`` pytest plugin.

Installing the provider registers this module through the ``pytest11`` entry point, so its fixtures are
there in every pytest run of that environment, the way moto's are for boto users. Loading it costs
nothing: this module imports only the standard library and pytest; the sandbox and Airflow are imported
when a test first asks for a fixture that needs them. ``pytest -p no:lms`` switches it off.

- ``lms_sandbox_server`` (session): one running ``SandboxServer`` on a free loopback port;
- ``lms_sandbox``: the same server, reset before the test (seed data back, faults off, log empty, real
  clock);
- ``lms_connections``: ``AIRFLOW_CONN_*`` set for every platform's ``<platform>_default`` connection with
  the sandbox's keys; returns platform name to connection id;
- ``lms_sandbox_control``: ``SandboxControl``, a typed client of the ``/_sandbox`` control API (seed
  learners, complete enrollments, end Lära periods, inject faults, read the request log);
- ``lms_airflow_db`` (session): a throwaway SQLite metadata database for in-process runs;
- ``lms_run_dag``: ``run(dag)``, the DAG once with ``dag.test()`` in this process; returns a
  ``DagRunResult`` (the docs' page *Testing your DAGs* has a whole example).

``lms_run_dag`` is the fast path (a few seconds a run once the first has loaded Airflow's execution API;
a debugger works in the tasks). The isolated path,
``airflow dags test`` in a subprocess with its own ``AIRFLOW_HOME``, is
``airflow_provider_lms.testing.AirflowRunner``; use it where a test must not share a process with
Airflow (plugins, settings read at start-up, a different Airflow configuration).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from airflow_provider_lms.sandbox import SandboxServer

__all__ = [
    "ANewSpringControl",
    "DagRunResult",
    "EduframeControl",
    "LaraControl",
    "LmsAirflowDb",
    "PluvoControl",
    "PynterControl",
    "SandboxControl",
    "SandboxControlError",
    "lms_airflow_db",
    "lms_connections",
    "lms_run_dag",
    "lms_sandbox",
    "lms_sandbox_control",
    "lms_sandbox_server",
]


# -- the control API client ----------------------------------------------------------------------------


class SandboxControlError(RuntimeError):
    """The sandbox refused a control request (an unknown id, a body it does not accept).

    :param method: the HTTP method.
    :param path: the control path, e.g. ``/eduframe/enrollments/9/complete``.
    :param status: the HTTP status of the answer.
    :param body: the answer's text (the control API answers hold no secrets).
    """

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"sandbox control {method} {path} answered {status}: {body[:500]}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body


class _ControlPart:
    """Shared plumbing: JSON requests to ``/_sandbox`` that raise ``SandboxControlError`` on refusal."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def _call(self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        response = self._client.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            raise SandboxControlError(method, path, response.status_code, response.text)
        return response.json() if response.content else None


class EduframeControl(_ControlPart):
    """Eduframe's control routes (``/_sandbox/eduframe/...``) and a learner seeded through its API.

    :param client: an ``httpx.Client`` on the control API root.
    :param api_url: Eduframe's API root in this sandbox (for ``seed_learner``).
    :param api_key: the sandbox's Eduframe key.
    """

    def __init__(self, client: httpx.Client, api_url: str, api_key: str) -> None:
        super().__init__(client)
        self._api_url = api_url
        self._api_key = api_key

    def state(self) -> dict[str, Any]:
        """Users, enrollments, orders, grades and program enrollments as the sandbox holds them."""
        return dict(self._call("GET", "/eduframe/state"))

    def enrollments(
        self, *, student_id: int | None = None, planned_course_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The enrollments in the sandbox, optionally of one learner and/or one planned course.

        :param student_id: only this learner's.
        :param planned_course_id: only this planned course's.
        """
        return [
            e
            for e in self.state()["enrollments"]
            if (student_id is None or e["student_id"] == student_id)
            and (planned_course_id is None or e["planned_course_id"] == planned_course_id)
        ]

    def seed_learner(self, email: str, first_name: str, last_name: str) -> int:
        """Make sure a learner with this e-mail exists; their user id (an existing one is reused).

        Eduframe's double has no control route for users, so this uses Eduframe's own ``POST /users``
        with the sandbox key, after looking the e-mail up, so calling it twice creates one learner.

        :param email: the learner's e-mail.
        :param first_name: first name.
        :param last_name: last name.
        """
        for user in self.state()["users"]:
            if str(user["email"]).lower() == email.lower():
                return int(user["id"])
        response = self._client.post(
            f"{self._api_url}/users",
            json={"email": email, "first_name": first_name, "last_name": last_name},
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        if response.status_code >= 400:
            raise SandboxControlError("POST", "/users (Eduframe API)", response.status_code, response.text)
        return int(response.json()["id"])

    def complete_enrollment(self, enrollment_id: int, graduation_state: str = "passed") -> dict[str, Any]:
        """Complete an enrollment now; the enrollment as Eduframe shows it.

        :param enrollment_id: the enrollment.
        :param graduation_state: ``passed``, ``failed`` or ``awaiting_judgement``.
        """
        path = f"/eduframe/enrollments/{int(enrollment_id)}/complete"
        return dict(self._call("POST", path, json={"graduation_state": graduation_state}))

    def start_enrollment(self, enrollment_id: int) -> dict[str, Any]:
        """Make an enrollment ``active`` (the learner started).

        :param enrollment_id: the enrollment.
        """
        return dict(self._call("POST", f"/eduframe/enrollments/{int(enrollment_id)}/start"))

    def set_auto_progress(
        self, complete_after_seconds: float | None, graduation_state: str = "passed"
    ) -> dict[str, Any]:
        """Let every enrollment complete by itself this long after it was made (``None``: switch off).

        :param complete_after_seconds: the delay; ``None`` switches auto-progress off.
        :param graduation_state: the state the enrollments complete with.
        """
        body = {"complete_after_seconds": complete_after_seconds, "graduation_state": graduation_state}
        return dict(self._call("PUT", "/eduframe/auto_progress", json=body))

    def set_rate_limit(self, max_requests: int, per_seconds: float) -> dict[str, Any]:
        """Change the sandbox's per-key rate limit (to see a DAG cope with 429s).

        :param max_requests: requests allowed per window.
        :param per_seconds: the window.
        """
        body = {"max_requests": max_requests, "per_seconds": per_seconds}
        return dict(self._call("PUT", "/eduframe/rate_limit", json=body))


class ANewSpringControl(_ControlPart):
    """aNewSpring's control routes (``/_sandbox/anewspring/...``).

    :param client: an ``httpx.Client`` on the control API root.
    """

    def state(self) -> dict[str, Any]:
        """Users, courses, groups and subscriptions as the sandbox holds them."""
        return dict(self._call("GET", "/anewspring/state"))

    def seed_learner(self, learner_id: str, name: str | None = None) -> str:
        """Create a learner (an existing id is left alone); their external id.

        :param learner_id: the external id.
        :param name: display name (default: the id).
        """
        self._call("POST", "/anewspring/users", json={"users": [{"id": learner_id, "name": name}]})
        return learner_id

    def add_course(self, course_id: str, template: str | None = None, name: str | None = None) -> dict[str, Any]:
        """A course run with the activities of a seeded course.

        :param course_id: the new course's external id.
        :param template: the seeded course to copy (the sandbox's default when omitted).
        :param name: its name.
        """
        body: dict[str, Any] = {"id": course_id, "name": name}
        if template is not None:
            body["template"] = template
        return dict(self._call("POST", "/anewspring/courses", json=body))

    def advance(self, user_id: str, course_id: str, to: str | None = None) -> dict[str, Any]:
        """Move a learner's results forward one stage, or to the stage ``to`` (e.g. ``"completed"``).

        :param user_id: the learner.
        :param course_id: the course.
        :param to: the stage to reach; the next one when omitted.
        """
        return dict(
            self._call("POST", "/anewspring/advance", json={"user_id": user_id, "course_id": course_id, "to": to})
        )

    def set_auto_progress(self, complete_after_seconds: float | None) -> dict[str, Any]:
        """Let subscribed learners complete by themselves after this delay (``None``: off).

        :param complete_after_seconds: the delay.
        """
        return dict(
            self._call("PUT", "/anewspring/auto_progress", json={"complete_after_seconds": complete_after_seconds})
        )


class PluvoControl(_ControlPart):
    """Pluvo's control routes (``/_sandbox/pluvo/...``).

    :param client: an ``httpx.Client`` on the control API root.
    """

    def state(self) -> dict[str, Any]:
        """Users, groups, trainings and progress as the sandbox holds them."""
        return dict(self._call("GET", "/pluvo/state"))

    def seed_learner(self, name: str, email: str | None = None, ref: str | None = None) -> str:
        """Create a participant; their Pluvo id (a UUID).

        :param name: display name.
        :param email: e-mail.
        :param ref: your own reference (e.g. an HR employee number).
        """
        created = self._call("POST", "/pluvo/users", json={"name": name, "email": email, "ref": ref})
        return str(created["id"])

    def complete_training(self, user_id: str, training_id: str, score: float | None = None) -> dict[str, Any]:
        """A learner completes a training now (and Pluvo sends its webhooks, if one is set).

        :param user_id: the learner.
        :param training_id: the training.
        :param score: the score, 0..1.
        """
        body = {"user_id": user_id, "training_id": training_id, "score": score}
        return dict(self._call("POST", "/pluvo/complete_training", json=body))

    def set_auto_progress(self, complete_after_seconds: float | None, score: float | None = None) -> dict[str, Any]:
        """Let learners complete their trainings by themselves after this delay (``None``: off).

        :param complete_after_seconds: the delay.
        :param score: the score the completions report.
        """
        body = {"complete_after_seconds": complete_after_seconds, "score": score}
        return dict(self._call("PUT", "/pluvo/auto_progress", json=body))

    def set_webhook(self, url: str, secret: str) -> dict[str, Any]:
        """Where Pluvo's double sends its signed webhooks, and the secret it signs them with.

        :param url: the receiver, e.g. your Airflow's ``/lms-webhooks/pluvo``.
        :param secret: the signing secret.
        """
        return dict(self._call("PUT", "/pluvo/webhook", json={"url": url, "secret": secret}))


class PynterControl(_ControlPart):
    """Pynter's control routes (``/_sandbox/pynter/...``).

    :param client: an ``httpx.Client`` on the control API root.
    """

    def state(self) -> dict[str, Any]:
        """Persons, modules, results and planning as the sandbox holds them."""
        return dict(self._call("GET", "/pynter/state"))

    def add_result(self, external_id: str, module_id: int, finish_date: datetime | None = None) -> int:
        """A person finishes a module (now, unless ``finish_date``); the new result's id.

        :param external_id: the person's external id.
        :param module_id: the module.
        :param finish_date: when they finished.
        """
        body = {"external_id": external_id, "module_id": module_id}
        if finish_date is not None:
            body["finish_date"] = finish_date.isoformat()
        answer = self._call("POST", "/pynter/results", json=body)
        if "result_id" not in answer:
            raise SandboxControlError("POST", "/pynter/results", 200, str(answer))
        return int(answer["result_id"])

    def set_auto_progress(self, complete_after_seconds: float | None) -> dict[str, Any]:
        """Let planned persons finish by themselves after this delay (``None``: off).

        :param complete_after_seconds: the delay.
        """
        return dict(self._call("PUT", "/pynter/auto_progress", json={"complete_after_seconds": complete_after_seconds}))


class LaraControl(_ControlPart):
    """Lära's control routes (``/_sandbox/lara/...``).

    :param client: an ``httpx.Client`` on the control API root.
    """

    def state(self) -> dict[str, Any]:
        """Cycles, periods, members and their credits as the sandbox holds them."""
        return dict(self._call("GET", "/lara/state"))

    def end_period(self, cycle_period_id: str, seconds_from_now: float = -1.0) -> dict[str, Any]:
        """Make a cycle period end ``seconds_from_now`` from now; by default it ended a second ago.

        :param cycle_period_id: the period (``cyclePeriodId``).
        :param seconds_from_now: when it ends; negative: it has ended.
        """
        body = {"cyclePeriodId": cycle_period_id, "seconds": seconds_from_now}
        return dict(self._call("POST", "/lara/period_end", json=body))

    def set_progress(
        self,
        cycle_period_id: str,
        user_id: str,
        completed: float = 0.0,
        exempted: float = 0.0,
        provider: float = 0.0,
    ) -> dict[str, Any]:
        """Set a member's credits in a period.

        :param cycle_period_id: the period.
        :param user_id: the member.
        :param completed: completed credits.
        :param exempted: exempted credits.
        :param provider: credits reported by providers.
        """
        body = {"cyclePeriodId": cycle_period_id, "userId": user_id, "completedCredits": completed}
        body |= {"exemptedCredits": exempted, "providerCredits": provider}
        return dict(self._call("PUT", "/lara/progress", json=body))


class SandboxControl(_ControlPart):
    """A typed client of the sandbox's control API (``/_sandbox``), with one part per platform.

    The generic routes are methods here; each platform's routes are on ``.eduframe``, ``.anewspring``,
    ``.pluvo``, ``.pynter`` and ``.lara``. Every refusal raises ``SandboxControlError``.

    :param sandbox_url: the sandbox's root, e.g. ``http://127.0.0.1:8765``.
    :param platform_urls: each platform's API root (``SandboxServer.platform_url``); needed where a part
        goes through the platform's own API.
    :param timeout: seconds per request.
    """

    def __init__(self, sandbox_url: str, platform_urls: Mapping[str, str] | None = None, timeout: float = 10.0):
        import httpx

        from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY

        super().__init__(httpx.Client(base_url=f"{sandbox_url.rstrip('/')}/_sandbox", timeout=timeout))
        self.sandbox_url = sandbox_url
        self.platform_urls = dict(platform_urls or {})
        self.eduframe = EduframeControl(
            self._client, self.platform_urls.get("eduframe", f"{sandbox_url}/eduframe/api/v1"), EDUFRAME_SANDBOX_API_KEY
        )
        self.anewspring = ANewSpringControl(self._client)
        self.pluvo = PluvoControl(self._client)
        self.pynter = PynterControl(self._client)
        self.lara = LaraControl(self._client)

    def reset(self) -> None:
        """Seed data back, faults off, request log empty, real clock."""
        self._call("POST", "/reset")

    def info(self) -> dict[str, Any]:
        """The platforms the sandbox serves and their URL prefixes."""
        return dict(self._call("GET", "/info"))

    def inject_faults(
        self,
        kinds: list[str],
        rate: float = 1.0,
        *,
        platform: str | None = None,
        path_prefix: str | None = None,
        latency_ms: float = 0.0,
        max_faults: int | None = None,
        seed: int = 0,
        timeout_sleep_s: float | None = None,
    ) -> dict[str, Any]:
        """Make the sandbox answer a share of platform requests with faults; the fault settings.

        :param kinds: fault kinds: ``"429"``, ``"500"``, ``"502"``, ``"503"``, ``"504"``, ``"drop"``,
            ``"timeout"``, ``"truncate"``, ``"notjson"``.
        :param rate: share of matching requests that get a fault (0..1).
        :param platform: only this platform's requests (its URL prefix); all platforms when omitted.
        :param path_prefix: only requests under this path (overrides ``platform``).
        :param latency_ms: delay added to every matching request.
        :param max_faults: stop after this many faults ("fail twice, then succeed").
        :param seed: seed of the generator that picks the failing requests (runs reproduce).
        :param timeout_sleep_s: how long a ``"timeout"`` fault holds the answer back.
        """
        if platform is not None and path_prefix is None:
            prefixes = {p["name"]: p["prefix"] for p in self.info()["platforms"]}
            if platform not in prefixes:
                raise ValueError(f"platform: the sandbox serves no {platform!r} (it serves: {', '.join(prefixes)})")
            path_prefix = prefixes[platform]
        body: dict[str, Any] = {
            "kinds": list(kinds),
            "fault_rate": rate,
            "path_prefix": path_prefix,
            "latency_ms": latency_ms,
            "max_faults": max_faults,
            "seed": seed,
        }
        if timeout_sleep_s is not None:
            body["timeout_sleep_s"] = timeout_sleep_s
        return dict(self._call("PUT", "/faults", json=body))

    def clear_faults(self) -> dict[str, Any]:
        """Switch faults and latency off (the counters stay readable)."""
        return dict(self._call("DELETE", "/faults"))

    def faults(self) -> dict[str, Any]:
        """The fault settings and how many faults of each kind were injected."""
        return dict(self._call("GET", "/faults"))

    def requests(self, path_prefix: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """The platform requests the sandbox received, oldest first (control requests are not logged).

        :param path_prefix: only requests under this path.
        :param method: only this HTTP method.
        """
        params = {k: v for k, v in {"path_prefix": path_prefix, "method": method}.items() if v is not None}
        return list(self._call("GET", "/requests", params=params))

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    def clock(self) -> dict[str, Any]:
        """The sandbox's clock: ``now`` and how far it was moved."""
        return dict(self._call("GET", "/clock"))

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox's clock forward (periods end, auto-progress comes due).

        :param seconds: how far.
        """
        return dict(self._call("POST", "/clock/advance", json={"seconds": seconds}))

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- in-process DAG runs ---------------------------------------------------------------------------------


@dataclass
class DagRunResult:
    """The outcome of one in-process ``dag.test()`` run.

    :param dag_id: the DAG that ran.
    :param run_id: its run id.
    :param state: the run's final state (``success``, ``failed``).
    :param task_states: task id (``task[i]`` for a mapped task's index ``i``) to final state.
    :param xcom: each task's XCom ``return_value`` (same keys), for the tasks that pushed one.
    :param seconds: wall time of the run.
    """

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]
    xcom: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        """The run succeeded and every task succeeded or was skipped."""
        return self.state == "success" and all(s in ("success", "skipped") for s in self.task_states.values())


class LmsAirflowDb:
    """A throwaway SQLite metadata database that in-process ``dag.test()`` runs use, one at a time.

    Airflow reads its database URL when it is first imported; ``activate`` points the already
    imported Airflow at this database (and a DAG folder and log folder of the test's) for the length of
    a run, and back afterwards, so the rest of the test session sees Airflow as it was.

    :param home: the folder for the database and task logs.
    """

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.db_path = self.home / "airflow.db"
        self._created = False

    def environment(self, dags_folder: Path) -> dict[str, str]:
        """The Airflow settings of a run with DAG files from ``dags_folder``."""
        return {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db_path}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
        }

    @contextlib.contextmanager
    def activate(self, dags_folder: Path) -> Iterator[None]:
        """Airflow on this database (created on first use) inside the ``with`` block.

        :param dags_folder: the folder ``dag.test()`` parses for the DAG (Airflow syncs it to the DB).
        """
        from airflow import settings
        from airflow.sdk.execution_time import supervisor
        from airflow.utils import db

        saved = {k: os.environ.get(k) for k in self.environment(dags_folder)}
        os.environ.update(self.environment(dags_folder))
        built_per_task = supervisor.in_process_api_server
        try:
            if not hasattr(built_per_task, "cache_info"):
                # Airflow 3.2 builds its in-process execution API (a FastAPI app) anew for every task that
                # dag.test() runs, seconds each; 3.3 builds it once (lru_cache). Do as 3.3 does, for the run.
                supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(built_per_task)
            settings.configure_vars()
            settings.reconfigure_orm()
            if not self._created:
                db.initdb()  # the tables from the ORM (about 2 s on SQLite), not the migration chain
                self._created = True
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            supervisor.in_process_api_server = built_per_task
            settings.configure_vars()
            settings.reconfigure_orm()


def _load_dag(path: Path, dag_id: str | None) -> Any:
    """Parse a DAG file the way Airflow's DAG processor does (``DagBag``) and pick its DAG."""
    from airflow.dag_processing.dagbag import DagBag

    if not path.is_file():
        raise FileNotFoundError(f"dag: no DAG file at {path}")
    bag = DagBag(dag_folder=path, safe_mode=False)
    if bag.import_errors:
        raise ImportError(f"dag: {path} does not import:\n" + "\n".join(map(str, bag.import_errors.values())))
    dags = dict(bag.dags)
    if dag_id is not None:
        if dag_id not in dags:
            raise LookupError(f"dag_id: {path} defines no DAG {dag_id!r} (it defines: {', '.join(dags) or 'none'})")
        return dags[dag_id]
    if len(dags) != 1:
        raise LookupError(f"dag_id: {path} defines {len(dags)} DAGs ({', '.join(dags) or 'none'}); name one")
    return next(iter(dags.values()))


def _run_dag(
    db: LmsAirflowDb,
    dag: Any,
    *,
    dag_id: str | None = None,
    conf: Mapping[str, Any] | None = None,
    logical_date: datetime | None = None,
) -> DagRunResult:
    path = Path(dag).resolve() if isinstance(dag, (str, Path)) else None
    # Airflow syncs the DAG folder to its database before the run: the DAG file's own folder.
    dags_folder = path.parent if path is not None else Path(dag.fileloc).resolve().parent
    with db.activate(dags_folder):
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        if path is not None:
            dag = _load_dag(path, dag_id)
        started = time.monotonic()
        kwargs: dict[str, Any] = {"run_conf": dict(conf) if conf else None}
        if logical_date is not None:
            kwargs["logical_date"] = logical_date
        run = dag.test(**kwargs)
        seconds = time.monotonic() - started
        with create_session() as session:
            tis = run.get_task_instances(session=session)
            task_states = {(t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]"): str(t.state) for t in tis}
            rows = session.query(XComModel).filter(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"
            )
            xcom = {
                (x.task_id if x.map_index < 0 else f"{x.task_id}[{x.map_index}]"): XComModel.deserialize_value(x)
                for x in rows
            }
        return DagRunResult(
            dag_id=run.dag_id,
            run_id=run.run_id,
            state=str(run.state),
            task_states=task_states,
            xcom=xcom,
            seconds=seconds,
        )


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lms_sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox server for the whole session, on a free loopback port (started on first use)."""
    from airflow_provider_lms.sandbox import SandboxServer

    with SandboxServer() as server:
        yield server


@pytest.fixture
def lms_sandbox(lms_sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox, reset before the test: seeded demo data, no faults, empty log, real clock."""
    lms_sandbox_server.reset()
    return lms_sandbox_server


@pytest.fixture
def lms_connections(lms_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every platform's default connection pointed at the sandbox, as ``AIRFLOW_CONN_*`` for this test.

    Returns platform name to connection id, e.g. ``{"eduframe": "eduframe_default", ...}``. The
    connections carry the sandbox's public demo keys, and a short retry backoff so that a test with
    injected faults does not wait as long as production settings would.
    """
    from airflow_provider_lms.sandbox.platforms import load_mounts
    from airflow_provider_lms.testing import sandbox_connection_env

    for name, value in sandbox_connection_env(lms_sandbox.url, backoff_base=0.05).items():
        monkeypatch.setenv(name, value)
    return {m.name: m.conn_id for m in load_mounts() if m.conn_id is not None and m.connection_factory is not None}


@pytest.fixture
def lms_sandbox_control(lms_sandbox: SandboxServer) -> Iterator[SandboxControl]:
    """A ``SandboxControl`` on the (freshly reset) sandbox."""
    from airflow_provider_lms.sandbox.platforms import load_mounts

    urls = {m.name: lms_sandbox.platform_url(m.name) for m in load_mounts()}
    with SandboxControl(lms_sandbox.url, urls) as control:
        yield control


@pytest.fixture(scope="session")
def lms_airflow_db(tmp_path_factory: pytest.TempPathFactory) -> LmsAirflowDb:
    """The session's throwaway Airflow metadata database (SQLite, created on the first run)."""
    return LmsAirflowDb(tmp_path_factory.mktemp("lms-airflow"))


@pytest.fixture
def lms_run_dag(lms_airflow_db: LmsAirflowDb) -> Callable[..., DagRunResult]:
    """``run(dag, *, dag_id=None, conf=None, logical_date=None)``: one ``dag.test()`` run in this process.

    ``dag`` is a DAG object or the path of a DAG file (then ``dag_id`` picks among several DAGs). The
    run uses ``lms_airflow_db``, and the DAG file's folder as the DAG folder. Deferred tasks run
    their trigger inline. Returns a ``DagRunResult``; it does not raise when the run fails.
    """

    def run(
        dag: Any,
        *,
        dag_id: str | None = None,
        conf: Mapping[str, Any] | None = None,
        logical_date: datetime | None = None,
    ) -> DagRunResult:
        return _run_dag(lms_airflow_db, dag, dag_id=dag_id, conf=conf, logical_date=logical_date)

    return run
