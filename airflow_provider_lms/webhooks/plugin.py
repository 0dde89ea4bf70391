"""The Airflow plugin that mounts the webhook receiver in the API server at ``/lms-webhooks``.

Registered through the ``airflow.plugins`` entry point (pyproject.toml): with Airflow's default lazy
provider discovery, a ``plugins`` entry in provider info alone is never loaded. The receiver's secrets
and database are only touched when a request arrives, so importing the plugin (which every Airflow
component does) costs nothing.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_lms.webhooks.receiver import create_webhook_app

__all__ = ["URL_PREFIX", "LmsWebhooksPlugin"]

URL_PREFIX = "/lms-webhooks"


class LmsWebhooksPlugin(AirflowPlugin):
    """Mounts :func:`~airflow_provider_lms.webhooks.receiver.create_webhook_app` at ``/lms-webhooks``."""

    name = "lms_webhooks"
    fastapi_apps = [{"app": create_webhook_app(), "url_prefix": URL_PREFIX, "name": "LMS webhook receiver"}]
