"""Serve the sandbox in the foreground: ``python -m airflow_provider_lms.sandbox --port 8765``.

``--port 0`` picks a free port; ``--port-file PATH`` writes the bound port there (once the socket listens),
so a script can start the sandbox in the background and read where it went.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX
from airflow_provider_lms.sandbox.app import PLATFORMS, create_app
from airflow_provider_lms.sandbox.faults import install_drop_log_filter
from airflow_provider_lms.sandbox.platforms import connection_env
from airflow_provider_lms.sandbox.server import base_url, bind_socket
from airflow_provider_lms.sandbox.state import SandboxState


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

    print(f"LMS sandbox listening on {url}")
    for mount in PLATFORMS:
        print(f"  {mount.name:<10} {url}{mount.prefix}")
    print(f"  control    {url}{CONTROL_PREFIX}   (no auth; docs at {url}{CONTROL_PREFIX}/docs)")
    # The demo credentials are public (they only open this sandbox), so printing them is safe and saves a
    # DAG author from looking each one up.
    print("\nAirflow connections for this sandbox:")
    for name, value in connection_env(url).items():
        print(f"  export {name}='{value}'")
    sys.stdout.flush()

    install_drop_log_filter()
    config = uvicorn.Config(
        create_app(SandboxState()),
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
