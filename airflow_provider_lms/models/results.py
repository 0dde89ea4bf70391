"""What a hook's item action returns: the outcome a bulk run records for one item.

These are the hooks' result types, so they live with the models rather than in the HTTP core: a hook
says ``done`` or ``already_done``; :class:`~airflow_provider_lms.http.bulk.BulkRunner` adds ``failed`` and
``not_attempted``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["ItemResult", "ItemStatus"]

T = TypeVar("T")


class ItemStatus(str, Enum):
    """How one item of a bulk run ended.

    ``not_attempted``: the run's circuit opened (the platform was unreachable or refused the key) before
    this item sent a request; nothing happened to it, and a retry of the task does it.
    """

    DONE = "done"
    ALREADY_DONE = "already_done"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"


class ItemResult(BaseModel, Generic[T]):
    """What an item operation returns when it succeeds.

    :param status: ``done`` when this run changed the platform, ``already_done`` when it was so before.
    :param result: JSON-safe details for downstream tasks (e.g. the enrollment id).
    """

    status: ItemStatus = ItemStatus.DONE
    result: Any = None
