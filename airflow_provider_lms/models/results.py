"""What a hook's item action returns: the outcome a bulk run records for one item.

These are the hooks' result types, so they live with the models rather than in the HTTP core: a hook
says ``done`` or ``already_done``; :class:`~airflow_provider_lms.http.bulk.BulkRunner` adds ``failed``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["ItemResult", "ItemStatus"]

T = TypeVar("T")


class ItemStatus(str, Enum):
    """How one item of a bulk run ended."""

    DONE = "done"
    ALREADY_DONE = "already_done"
    FAILED = "failed"


class ItemResult(BaseModel, Generic[T]):
    """What an item operation returns when it succeeds.

    :param status: ``done`` when this run changed the platform, ``already_done`` when it was so before.
    :param result: JSON-safe details for downstream tasks (e.g. the enrollment id).
    """

    status: ItemStatus = ItemStatus.DONE
    result: Any = None
