"""The sandbox app: one FastAPI app serving every platform double under its own prefix.

Mounting a platform is one entry in ``PLATFORMS`` (plus its state on ``SandboxState``); the app adds the
platform's router, answers unknown paths and validation errors in the platform's error format, and puts
every platform path behind the request log and the fault injector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, Response

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, PlatformMount, SandboxHTTPError
from airflow_provider_lms.sandbox.control import create_control_router
from airflow_provider_lms.sandbox.faults import FaultInjectionMiddleware, install_drop_log_filter
from airflow_provider_lms.sandbox.pages import create_pages_router
from airflow_provider_lms.sandbox.platforms import load_mounts
from airflow_provider_lms.sandbox.request_log import RequestLogMiddleware
from airflow_provider_lms.sandbox.state import SandboxState

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.auto_progress import AutoProgress

PLATFORMS: tuple[PlatformMount, ...] = load_mounts()


def _mount_for(path: str) -> PlatformMount | None:
    return next((m for m in PLATFORMS if path == m.prefix or path.startswith(m.prefix + "/")), None)


async def _on_sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxHTTPError)
    return exc.to_response()


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    mount = _mount_for(request.url.path)
    if mount is None:
        return await request_validation_exception_handler(request, exc)
    if mount.render_validation_error is not None:
        return mount.render_validation_error(exc)
    return mount.render_error(422, "Unprocessable Entity")


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    mount = _mount_for(request.url.path)
    if mount is None:
        return await http_exception_handler(request, exc)
    message = str(exc.detail)
    if exc.status_code == 404:
        message = "Not Found: the sandbox does not serve this path"
    response = mount.render_error(exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    # A bug in a platform double should still answer in the platform's format (the traceback is logged).
    mount = _mount_for(request.url.path)
    if mount is None:
        return PlainTextResponse("Internal Server Error", status_code=500)
    return mount.render_error(500, "Internal Server Error")


def create_app(state: SandboxState | None = None, *, auto_progress: AutoProgress | None = None) -> FastAPI:
    """Build the sandbox app.

    :param state: The state to serve; a fresh, seeded ``SandboxState`` when omitted. Keep a reference to
        inspect or change it from a test.
    :param auto_progress: Learners progress by themselves (``--auto-progress``): switched on when the app
        starts (its lifespan, so serve it with lifespan on) and again after every reset.
    """
    state = state if state is not None else SandboxState()
    install_drop_log_filter()
    app = FastAPI(
        title="airflow-provider-lms sandbox",
        description="Local doubles of the learning platforms, for demos and tests.",
        docs_url=f"{CONTROL_PREFIX}/docs",
        openapi_url=f"{CONTROL_PREFIX}/openapi.json",
        redoc_url=None,
        lifespan=auto_progress.lifespan() if auto_progress is not None else None,
    )
    app.state.sandbox = state
    app.state.platform_names = [m.name for m in PLATFORMS]
    app.state.auto_progress = auto_progress

    async def after_reset() -> None:
        if auto_progress is not None:
            await auto_progress.switch_on(app)

    app.include_router(create_control_router(state, after_reset=after_reset))
    app.include_router(create_pages_router())
    for mount in PLATFORMS:
        app.include_router(mount.router_factory(state))
        if mount.control_router_factory is not None:
            app.include_router(mount.control_router_factory(state), prefix=CONTROL_PREFIX)

    @app.get(f"{CONTROL_PREFIX}/info", tags=["sandbox control"])
    async def info() -> dict[str, Any]:
        return {"platforms": [{"name": m.name, "prefix": m.prefix} for m in PLATFORMS]}

    app.add_exception_handler(SandboxHTTPError, _on_sandbox_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)

    # The middleware added last runs first: the log sees every request, including the ones the fault
    # injector answers without passing them on.
    app.add_middleware(
        FaultInjectionMiddleware,
        injector=state.faults,
        error_renderers=[(m.prefix, m.render_error) for m in PLATFORMS],
    )
    app.add_middleware(RequestLogMiddleware, log=state.request_log, clock=state.now)
    return app
