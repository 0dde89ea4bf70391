"""What the Pynter double keeps besides its rows. The rows themselves (modules, persons, results, classes,
e-tickets) are dicts keyed by the PascalCase field names they are answered with, so an answer is the row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["AutoProgress", "PendingCompletion", "Row"]

#: One stored row, e.g. ``{"Id": 1, "ExternalIdentifier": "E1001", ...}``.
Row = dict[str, Any]


@dataclass
class AutoProgress:
    """Overdue persons finish a module ``complete_after_seconds`` after a class for it is inserted.

    :param complete_after_seconds: Delay between ``InsertClass`` and the completions.
    """

    complete_after_seconds: float


class PendingCompletion(NamedTuple):
    """A completion auto-progress has scheduled: the person, the module and when it happens."""

    external_id: str
    module_id: int
    due: datetime
