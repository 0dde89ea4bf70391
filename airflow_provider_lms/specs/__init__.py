"""The platforms' published API documents, shipped with the package, and their one loader.

``eduframe-openapi-v1.json`` is Eduframe's public OpenAPI 3.0.3 document (see ``SOURCE.md`` beside it for
where and when it was taken, and what was stripped). Tests validate every request the hook sends and every
answer the sandbox gives against it; the hook may use it at run time to check calls before sending them.

The document has three quirks that strict validators trip over. They are handled here, once, where the
document is loaded, so that no caller patches it on its own:

1. ``info.description`` is ``null``: loaders that follow the specification reject it, so it becomes a string.
2. Many schemas set ``additionalProperties: false`` and are combined with ``allOf``: each member then
   rejects the properties of the others, and every real answer (the document's own examples included)
   fails. For validating *answers* the keyword is dropped; requests are validated as published.
3. Some enums are ``nullable: true`` but leave ``null`` out of the list (``UsaState``, ``Locale``, ...); under
   OpenAPI 3.0.3 ``nullable`` does not widen an ``enum``, so ``null`` is added to them for answers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Literal

__all__ = ["EDUFRAME_OPENAPI", "load_eduframe_openapi"]

#: File name of the bundled Eduframe document inside this package.
EDUFRAME_OPENAPI = "eduframe-openapi-v1.json"


@cache
def _bundled(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _relax_for_answers(node: Any) -> Any:
    # Quirks 2 and 3, applied to the whole tree: schema-valued additionalProperties stay.
    if isinstance(node, dict):
        relaxed = {
            key: _relax_for_answers(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False)
        }
        if relaxed.get("nullable") is True and isinstance(relaxed.get("enum"), list) and None not in relaxed["enum"]:
            relaxed["enum"] = [*relaxed["enum"], None]
        return relaxed
    if isinstance(node, list):
        return [_relax_for_answers(item) for item in node]
    return node


def load_eduframe_openapi(purpose: Literal["requests", "answers"] = "requests") -> dict[str, Any]:
    """A fresh copy of Eduframe's OpenAPI document, with its quirks handled for ``purpose``.

    :param purpose: ``"requests"``: the document as published (quirk 1 fixed), strict about what a client
        sends; ``"answers"``: also relaxed by quirks 2 and 3, to validate what the API answers.
    """
    if purpose not in ("requests", "answers"):
        raise ValueError(f"purpose must be 'requests' or 'answers', not {purpose!r}")
    document: dict[str, Any] = json.loads(_bundled(EDUFRAME_OPENAPI))
    if not isinstance(document.get("info", {}).get("description"), str):
        document.setdefault("info", {})["description"] = "Eduframe API v1"
    return _relax_for_answers(document) if purpose == "answers" else document
