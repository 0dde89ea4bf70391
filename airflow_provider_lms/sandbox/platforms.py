"""Which platform doubles the sandbox serves: every subpackage of ``sandbox`` that defines ``MOUNT``.

A platform is added by writing the package ``airflow_provider_lms/sandbox/<name>/`` whose ``__init__``
defines ``MOUNT = PlatformMount(...)``; nothing in the generic sandbox names it. Plain modules here are the
generic machinery, so only packages are looked at.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from airflow_provider_lms.sandbox._common import PlatformMount

__all__ = ["connection_env", "load_mounts", "mount_named"]


@cache
def load_mounts() -> tuple[PlatformMount, ...]:
    """The ``MOUNT`` of every platform package, ordered by platform name (imported once per process)."""
    mounts = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module_name = f"{__package__}.{info.name}"
        mount = getattr(importlib.import_module(module_name), "MOUNT", None)
        if not isinstance(mount, PlatformMount):
            raise TypeError(f"{module_name} must define MOUNT = PlatformMount(...)")
        mounts.append(mount)
    return tuple(sorted(mounts, key=lambda m: m.name))


def mount_named(name: str) -> PlatformMount:
    """The mount of the platform called ``name``; a readable error for a name the sandbox does not serve."""
    for mount in load_mounts():
        if mount.name == name:
            return mount
    known = ", ".join(m.name for m in load_mounts())
    raise KeyError(f"the sandbox serves no platform {name!r} (it serves: {known})")


def connection_env(
    sandbox_url: str, *, overrides: Mapping[str, Mapping[str, Any]] | None = None, **extra: Any
) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables that point every platform's default connection at a running sandbox.

    :param sandbox_url: the sandbox root, e.g. ``http://127.0.0.1:8765``.
    :param overrides: per platform name, connection fields to replace (e.g. another accepted key).
    :param extra: further connection extras for every connection (e.g. ``backoff_base``).
    """
    env: dict[str, str] = {}
    for mount in load_mounts():
        if mount.connection_factory is None or mount.conn_id is None:
            continue
        conn = {**mount.connection_factory(sandbox_url), **(overrides or {}).get(mount.name, {})}
        # The sandbox's own pages stand in for the platform's web app, so the tasks' "LMS page" links open.
        pages = {"web_url": f"{sandbox_url.rstrip('/')}/_sandbox/pages/{mount.name}"}
        conn["extra"] = {**pages, **conn.get("extra", {}), **extra}
        env[f"AIRFLOW_CONN_{mount.conn_id.upper()}"] = json.dumps(conn)
    return env
