"""The sandbox's stand-in for each platform's web app: a page for any course or enrollment path.

A task's "LMS page" link points at ``web_url`` + a page path; the sandbox's connections set ``web_url`` to
``/_sandbox/pages/<platform>``, so the link of a task run against the sandbox opens a real page here. The
page names the platform and the path it was asked for (and so the course or enrollment), and carries them
in ``data-`` attributes for tests. It knows nothing of the client's path patterns: any path under a
platform the sandbox serves gets a page.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, HTTPException
from starlette.responses import HTMLResponse

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX
from airflow_provider_lms.sandbox.platforms import load_mounts

__all__ = ["PAGES_PREFIX", "create_pages_router"]

PAGES_PREFIX = f"{CONTROL_PREFIX}/pages"


def create_pages_router() -> APIRouter:
    """Build the ``/_sandbox/pages`` router."""
    router = APIRouter(prefix=PAGES_PREFIX, tags=["sandbox pages"])
    platforms = {mount.name for mount in load_mounts()}

    @router.get("/{platform}/{path:path}", response_class=HTMLResponse)
    async def page(platform: str, path: str) -> HTMLResponse:
        if platform not in platforms or not path.strip("/"):
            raise HTTPException(404, "no such page")
        segments = [s for s in path.split("/") if s]
        title = f"{platform} sandbox: {' '.join(segments)}"
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body>"
            f"<h1 data-platform='{html.escape(platform)}' data-path='/{html.escape('/'.join(segments))}'>"
            f"{html.escape(title)}</h1>"
            "<p>The airflow-provider-lms sandbox stands in for the platform's web app here.</p>"
            "</body></html>"
        )
        return HTMLResponse(body)

    return router
