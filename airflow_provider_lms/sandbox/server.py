"""Run the sandbox app with uvicorn on a background thread (tests, notebooks, ``airflow dags test``)."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX
from airflow_provider_lms.sandbox.app import create_app
from airflow_provider_lms.sandbox.auto_progress import AutoProgress
from airflow_provider_lms.sandbox.platforms import mount_named
from airflow_provider_lms.sandbox.state import SandboxState

logger = logging.getLogger(__name__)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen before uvicorn starts, so port 0 yields a known port and early connects queue."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and
    # without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class SandboxServer:
    """The sandbox on a background thread: one uvicorn server, one event loop.

    Use it as a context manager, or call ``start()``/``stop()``::

        with SandboxServer() as sandbox:
            client = httpx.Client(base_url=sandbox.platform_url("<platform>"), headers=...)

    :param host: Interface to listen on; loopback by default (the sandbox has no real security).
    :param port: Port; ``0`` picks a free one (read it back from ``port`` or ``url``).
    :param state: The state to serve; a fresh seeded ``SandboxState`` when omitted.
    :param access_log: Let uvicorn log every request (off by default: noisy in test output).
    :param log_level: uvicorn's log level.
    :param startup_timeout: Seconds to wait for the server to answer before giving up.
    :param auto_progress: Learners progress by themselves: an ``AutoProgress``, or the delay in seconds
        (``--auto-progress`` of ``python -m airflow_provider_lms.sandbox``). Off when omitted.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state: SandboxState | None = None,
        *,
        access_log: bool = False,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        auto_progress: AutoProgress | float | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.state = state if state is not None else SandboxState()
        if auto_progress is not None and not isinstance(auto_progress, AutoProgress):
            auto_progress = AutoProgress(auto_progress)
        self.auto_progress: AutoProgress | None = auto_progress
        self.app = create_app(self.state, auto_progress=self.auto_progress)
        self.access_log = access_log
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (only known once started)."""
        if self._port is None:
            raise RuntimeError("SandboxServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return base_url(self.host, self.port)

    def platform_url(self, name: str) -> str:
        """A platform's API root, ``http://127.0.0.1:54321`` followed by the platform's prefix.

        :param name: The platform's name, as in ``GET /_sandbox/info``.
        """
        return self.url + mount_named(name).prefix

    @property
    def control_url(self) -> str:
        """Control API base URL, e.g. ``http://127.0.0.1:54321/_sandbox``."""
        return self.url + CONTROL_PREFIX

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Start serving and return once the server answers HTTP requests."""
        if self._thread is not None:
            raise RuntimeError("SandboxServer already started")
        sock = bind_socket(self.host, self.requested_port)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            # None: do not reconfigure the host process's logging (pytest, an Airflow worker).
            log_config=None,
            log_level=self.log_level,
            access_log=self.access_log,
            # Only auto-progress needs the app's start-up (it switches itself on there).
            lifespan="on" if self.auto_progress is not None else "off",
            loop="asyncio",
            ws="none",
            # A "timeout" fault may hold a request for 30 s; do not let it hold up stop() as well.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"lms-sandbox-{self._port}",
            daemon=True,
        )
        self._thread.start()
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise
        logger.info("LMS sandbox listening on %s", self.url)
        return self

    def _wait_until_serving(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server thread exited during startup")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox server did not start within {self.startup_timeout} s")
            time.sleep(0.01)
        # ``started`` means the socket is served; one real request proves the app answers too.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.startup_timeout)
        try:
            connection.request("GET", f"{CONTROL_PREFIX}/info")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"the sandbox answered {response.status} on startup")
        finally:
            connection.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server = None
        self._thread = None

    def reset(self) -> None:
        """Reseed the state (same as ``POST /_sandbox/reset``)."""
        if self.auto_progress is None or not self.running:
            self.state.reset()
            return
        # Through the control API, so that auto-progress is switched on again on the server's own loop.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.startup_timeout)
        try:
            connection.request("POST", f"{CONTROL_PREFIX}/reset")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"the sandbox answered {response.status} to a reset")
        finally:
            connection.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"<SandboxServer {where}>"
