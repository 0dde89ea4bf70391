"""MkDocs hooks of the docs site (``hooks:`` in mkdocs.yml); not a page.

The codebase documents each class's constructor keywords with ``:param:`` in the class docstring, also the
keywords an operator passes on to its base class (``lms_conn_id``, ``concurrency``) and a pydantic model's
fields, which are in no signature griffe can see. Griffe's Sphinx parser reports each such parameter as
"No matching parameter for 'x'"; that one message is dropped here, so ``mkdocs build --strict`` still fails
on every other docstring problem (unparseable fields, duplicate entries, broken links and includes).
"""

from __future__ import annotations

import logging
from typing import Any

_DROPPED = "No matching parameter for '"


class _DropParamsFromOtherSignatures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _DROPPED not in record.getMessage()


def on_startup(**kwargs: Any) -> None:
    """Install the filter on griffe's logger, which mkdocstrings puts under ``mkdocs.plugins``."""
    logger = logging.getLogger("mkdocs.plugins.griffe")
    if not any(isinstance(f, _DropParamsFromOtherSignatures) for f in logger.filters):
        logger.addFilter(_DropParamsFromOtherSignatures())
