"""Which platform doubles the sandbox serves: one module per platform, each exposing ``MOUNT``.

A platform is added by writing ``airflow_provider_lms/sandbox/<name>.py`` with a module-level
``MOUNT = PlatformMount(...)``; nothing else in the sandbox needs to change. Names listed here whose module
is not written yet are skipped, so platforms can land one at a time.
"""

from __future__ import annotations

import importlib
import importlib.util

from airflow_provider_lms.sandbox._common import PlatformMount

__all__ = ["PLATFORM_MODULES", "load_mounts"]

PLATFORM_MODULES = ("eduframe", "anewspring", "lara", "pynter", "pluvo")


def load_mounts() -> tuple[PlatformMount, ...]:
    """The ``MOUNT`` of every platform module that exists, in ``PLATFORM_MODULES`` order."""
    mounts = []
    for name in PLATFORM_MODULES:
        module_name = f"{__package__}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        mount = getattr(importlib.import_module(module_name), "MOUNT", None)
        if not isinstance(mount, PlatformMount):
            raise TypeError(f"{module_name} must define MOUNT = PlatformMount(...)")
        mounts.append(mount)
    return tuple(mounts)
