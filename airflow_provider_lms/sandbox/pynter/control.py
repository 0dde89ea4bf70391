"""Control routes under ``/_sandbox/pynter``: the state, auto-progress, results added directly, and the
tenant's service settings (its namespace and parameter names, which the WSDL then describes)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from airflow_provider_lms.sandbox.pynter.errors import Failure
from airflow_provider_lms.sandbox.pynter.soap import TEMPURI_NS
from airflow_provider_lms.sandbox.pynter.views import state_summary

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pynter.state import PynterState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["AutoProgressBody", "ResultBody", "ServiceBody", "create_control_router"]


class AutoProgressBody(BaseModel):
    """``PUT /_sandbox/pynter/auto_progress``; ``null`` switches it off."""

    model_config = ConfigDict(extra="forbid")
    complete_after_seconds: float | None = Field(default=None, ge=0)


class ResultBody(BaseModel):
    """``POST /_sandbox/pynter/results``: a person finishes a module (now, unless ``finish_date``)."""

    model_config = ConfigDict(extra="forbid")
    external_id: str
    module_id: int
    finish_date: datetime | None = None


class ServiceBody(BaseModel):
    """``PUT /_sandbox/pynter/service``: play a tenant with another namespace or other parameter names.

    :param namespace: the service namespace (default ``http://tempuri.org/``).
    :param param_names: per method, the double's parameter name -> this tenant's name.
    """

    model_config = ConfigDict(extra="forbid")
    namespace: str = Field(default=TEMPURI_NS, min_length=1, max_length=512, pattern=r'^[^\s"<>&]+$')
    param_names: dict[str, dict[str, str]] = Field(default_factory=dict)


def create_control_router(sandbox_state: SandboxState) -> APIRouter:
    """Control routes under ``/_sandbox/pynter``."""
    router = APIRouter(tags=["sandbox control"])
    pynter: PynterState = sandbox_state.platform("pynter")

    @router.get("/pynter/state")
    async def pynter_state() -> dict[str, Any]:
        pynter.apply_time()
        return state_summary(pynter)

    @router.put("/pynter/auto_progress")
    async def put_auto(body: AutoProgressBody) -> dict[str, Any]:
        pynter.set_auto_progress(body.complete_after_seconds)
        return body.model_dump()

    @router.put("/pynter/service")
    async def put_service(body: ServiceBody) -> dict[str, Any]:
        pynter.namespace = body.namespace
        pynter.param_names = {m: dict(names) for m, names in body.param_names.items()}
        return body.model_dump()

    @router.post("/pynter/results")
    async def add_result(body: ResultBody) -> dict[str, Any]:
        when = body.finish_date.replace(tzinfo=None, microsecond=0) if body.finish_date else pynter.now()
        try:
            return {"result_id": pynter.add_result(body.external_id, body.module_id, when)["Id"]}
        except (Failure, KeyError):
            return {"error": "unknown person or module"}

    return router
