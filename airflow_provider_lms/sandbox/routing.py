"""A declarative route table for a platform double: paths map to actions of a responses object.

moto's ``urls.py`` shape: a platform lists its routes once, as data, and keeps one thin method per action
on a responses class; :func:`build_router` turns the two into a FastAPI router. FastAPI reads each bound
method's signature as usual (path parameters, ``Request``, dependencies), so handlers stay plain methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.params import Depends

__all__ = ["Route", "build_router"]


@dataclass(frozen=True)
class Route:
    """One entry of a platform's route table.

    :param method: HTTP method, e.g. ``"GET"``.
    :param path: Path under the platform's prefix, with FastAPI placeholders, e.g. ``"/users/{user_id}"``.
    :param action: Name of the method on the responses object that answers it.
    :param status_code: Default status of a successful answer (``None``: FastAPI's default, 200).
    """

    method: str
    path: str
    action: str
    status_code: int | None = None


def build_router(
    routes: Iterable[Route],
    responses: object,
    *,
    prefix: str = "",
    tags: Sequence[str] | None = None,
    dependencies: Sequence[Depends] | None = None,
) -> APIRouter:
    """A router that answers each route of ``routes`` with ``getattr(responses, route.action)``.

    :param routes: The platform's route table.
    :param responses: The object whose methods answer the routes.
    :param prefix: Mount prefix of the platform, e.g. ``"/lms/api"``.
    :param tags: OpenAPI tags for the sandbox's own docs page.
    :param dependencies: Run before every route (e.g. the platform's authentication check).
    """
    router = APIRouter(prefix=prefix, tags=list(tags or []), dependencies=list(dependencies or []))
    for route in routes:
        endpoint = getattr(responses, route.action)
        kwargs: dict[str, Any] = {"methods": [route.method], "response_model": None}
        if route.status_code is not None:
            kwargs["status_code"] = route.status_code
        router.add_api_route(route.path, endpoint, **kwargs)
    return router
