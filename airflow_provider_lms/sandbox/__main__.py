"""Serve the sandbox in the foreground: ``python -m airflow_provider_lms.sandbox --port 8765``.

``--port 0`` picks a free port; ``--port-file PATH`` writes the bound port there (once the socket listens),
so a script can start the sandbox in the background and read where it went. ``--auto-progress[=SECONDS]``
makes learners progress by themselves: each platform that can completes (and passes) a learner that many
seconds after they start (default 5), so a DAG that waits for completion finishes on its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX
from airflow_provider_lms.sandbox.app import PLATFORMS, create_app
from airflow_provider_lms.sandbox.auto_progress import DEFAULT_AUTO_PROGRESS_SECONDS, AutoProgress
from airflow_provider_lms.sandbox.faults import install_drop_log_filter
from airflow_provider_lms.sandbox.platforms import connection_env
from airflow_provider_lms.sandbox.server import base_url, bind_socket
from airflow_provider_lms.sandbox.state import SandboxState


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_lms.sandbox",
        description="Local doubles of the learning platforms, for demos and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default: 8765)")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    parser.add_argument(
        "--auto-progress",
        nargs="?",
        type=_seconds,
        const=DEFAULT_AUTO_PROGRESS_SECONDS,
        default=None,
        metavar="SECONDS",
        help=f"learners complete and pass SECONDS after they start (default {DEFAULT_AUTO_PROGRESS_SECONDS:g}); "
        "off unless given",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Bind, print where the sandbox is and the demo keys, then serve until interrupted."""
    args = _parse_args(argv)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    url = base_url(args.host, port)
    if args.port_file is not None:
        # Written after listen(): a reader that connects right away is queued, not refused.
        args.port_file.write_text(f"{port}\n", encoding="utf-8")

    auto_progress = AutoProgress(args.auto_progress) if args.auto_progress is not None else None
    app = create_app(SandboxState(), auto_progress=auto_progress)

    print(f"LMS sandbox listening on {url}")
    for mount in PLATFORMS:
        print(f"  {mount.name:<10} {url}{mount.prefix}")
    print(f"  control    {url}{CONTROL_PREFIX}   (no auth; docs at {url}{CONTROL_PREFIX}/docs)")
    if auto_progress is not None:
        print(f"  {auto_progress.describe(auto_progress.platforms(app))}")
    # The demo credentials are public (they only open this sandbox), so printing them is safe and saves a
    # DAG author from looking each one up.
    print("\nAirflow connections for this sandbox:")
    for name, value in connection_env(url).items():
        print(f"  export {name}='{value}'")
    sys.stdout.flush()

    install_drop_log_filter()
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        access_log=args.access_log,
        # Only auto-progress needs the app's start-up (it switches itself on there).
        lifespan="on" if auto_progress is not None else "off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
