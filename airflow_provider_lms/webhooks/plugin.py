"""The Airflow plugin that mounts the webhook receiver in the API server at ``/lms-webhooks``.

Registered through the ``airflow.plugins`` entry point (pyproject.toml): with Airflow's default lazy
provider discovery, a ``plugins`` entry in provider info alone is never loaded. The receiver's secrets
and database are only touched when a request arrives, so importing the plugin (which every Airflow
component does) costs nothing. In the API server only, it also applies
:func:`~airflow_provider_lms.compat.backport_portless_test_connection_fix`.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_lms.compat import backport_portless_test_connection_fix
from airflow_provider_lms.webhooks.receiver import create_webhook_app

__all__ = ["URL_PREFIX", "LmsWebhooksPlugin"]

# The API server imports its plugins before it serves requests: the one place to mend its Test button.
backport_portless_test_connection_fix()

URL_PREFIX = "/lms-webhooks"


class LmsWebhooksPlugin(AirflowPlugin):
    """Mounts :func:`~airflow_provider_lms.webhooks.receiver.create_webhook_app` at ``/lms-webhooks``."""

    name = "lms_webhooks"
    fastapi_apps = [{"app": create_webhook_app(), "url_prefix": URL_PREFIX, "name": "LMS webhook receiver"}]
