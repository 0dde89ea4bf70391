"""What Airflow learns about this provider through the ``apache_airflow_provider`` entry point.

Connection forms are declared as ``conn-fields`` (JSON schema), which the Airflow 3.2+ UI renders;
values are stored in ``Connection.extra`` under the field name.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_lms import __version__

__all__ = ["get_provider_info"]

_OPT_STR = {"type": ["string", "null"]}

# HTTP settings every connection may override; blank means "platform default".
_HTTP_FIELDS: dict[str, Any] = {
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Seconds to wait for each connect, read and write. Default 30.",
        "schema": {"type": ["number", "null"], "minimum": 1, "maximum": 600},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries on 429, and on 5xx and dropped connections where a retry is safe. Default 6.",
        "schema": {"type": ["integer", "null"], "minimum": 0, "maximum": 50},
    },
    "max_retry_wait": {
        "label": "Max total retry wait (seconds)",
        "description": "The most time all retries of one request may wait. Default 120.",
        "schema": {"type": ["number", "null"], "minimum": 0, "maximum": 3600},
    },
    "rate_limit_requests": {
        "label": "Rate limit: requests",
        "description": "Client-side limit: at most this many requests per period (blank: platform default).",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "rate_limit_period": {
        "label": "Rate limit: period (seconds)",
        "description": "The window of the client-side rate limit.",
        "schema": {"type": ["number", "null"], "minimum": 0.001},
    },
}


# Where a task's "LMS page" link points (airflow_provider_lms/links.py), and the limit shared across workers.
_LINK_AND_SHARING_FIELDS: dict[str, Any] = {
    "web_url": {
        "label": "Web app URL (for task links)",
        "description": "The platform's web address for your organisation; tasks then link to the course's page.",
        "schema": {"type": ["string", "null"], "pattern": "^(https?://.*)?$"},
    },
    "course_page_path": {
        "label": "Course page path",
        "description": "Path under the web app URL, with {course_id}; blank: the provider's default for the platform.",
        "schema": _OPT_STR,
    },
    "enrollment_page_path": {
        "label": "Enrollment page path",
        "description": "Path under the web app URL, with {enrollment_id} and/or {course_id}; blank: the default.",
        "schema": _OPT_STR,
    },
    "shared_limit_url": {
        "label": "Shared limit (Redis URL)",
        "description": "redis://host:port/db shared by every worker: one rate limit and circuit per connection.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
}


def _url_field(label: str, description: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": "^https?://"}
    if default:
        schema["default"] = default
    return {"label": label, "description": description, "schema": schema}


def _connection_type(
    conn_type: str, hook: str, name: str, fields: dict[str, Any], behaviour: dict[str, Any]
) -> dict[str, Any]:
    """One connection form: its own fields, then the HTTP settings every connection has."""
    return {
        "connection-type": conn_type,
        "hook-class-name": f"airflow_provider_lms.hooks.{conn_type}.{hook}",
        "hook-name": name,
        "conn-fields": {**fields, **_HTTP_FIELDS, **_LINK_AND_SHARING_FIELDS},
        "ui-field-behaviour": behaviour,
    }


def _eduframe_form() -> dict[str, Any]:
    fields = {
        "base_url": _url_field("Base URL", "Eduframe API root.", "https://api.eduframe.nl/api/v1"),
        "order_creator_id": {
            "label": "Order creator user id",
            "description": "User recorded as creator of the orders that enroll learners (blank: the learner).",
            "schema": {"type": ["integer", "null"], "minimum": 1},
        },
    }
    behaviour = {
        "hidden-fields": ["host", "port", "schema", "login", "extra"],
        "relabeling": {"password": "API key"},
        "placeholders": {"password": "Eduframe API key (sent as Bearer)"},
    }
    return _connection_type("eduframe", "EduframeHook", "Eduframe", fields, behaviour)


def _anewspring_form() -> dict[str, Any]:
    fields = {
        "base_url": _url_field("Environment URL", "Your environment's API root, e.g. https://academy.example.com/api"),
    }
    behaviour = {
        "hidden-fields": ["host", "port", "schema", "login", "extra"],
        "relabeling": {"password": "API key"},
        "placeholders": {"password": "aNewSpring API key (sent as X-API-Key)"},
    }
    return _connection_type("anewspring", "ANewSpringHook", "aNewSpring", fields, behaviour)


def _pluvo_form() -> dict[str, Any]:
    fields = {
        "base_url": _url_field("Organisation URL", "e.g. https://yourorganisation.pluvo.com"),
        "scopes": {
            "label": "Scopes",
            "description": (
                "Space-separated OAuth2 scopes; ask only for what the DAGs need, e.g. 'users.read users.write "
                "trainings.read trainings.write groups.read events.read events.write' (learners, trainings, "
                "groups, offer events). Empty: the client's default."
            ),
            "schema": _OPT_STR,
        },
    }
    behaviour = {
        "hidden-fields": ["host", "port", "schema", "extra"],
        "relabeling": {"login": "OAuth2 client id", "password": "OAuth2 client secret"},
    }
    return _connection_type("pluvo", "PluvoHook", "Pluvo", fields, behaviour)


def _pynter_form() -> dict[str, Any]:
    fields = {
        "base_url": _url_field("Customer URL", "e.g. https://yourcompany.pynter.nl (acceptance: .acc.pynter.nl)"),
        "namespace": {
            "label": "SOAP namespace",
            "description": "Service namespace; blank: http://tempuri.org/ (or the WSDL's, with parameter names wsdl).",
            "schema": _OPT_STR,
        },
        "param_names": {
            "label": "Parameter names",
            "description": "'wsdl': read the parameter names from your tenant's ?WSDL; blank: the assumed names.",
            "schema": _OPT_STR,
        },
    }
    behaviour = {
        "hidden-fields": ["host", "port", "schema", "extra"],
        "relabeling": {"login": "API username", "password": "API password"},
    }
    return _connection_type("pynter", "PynterHook", "Pynter", fields, behaviour)


def _lara_form() -> dict[str, Any]:
    # The credentials are the standard Login and Password, relabelled (issue 17): one or two header names and
    # their values, comma-separated in the same order. Connections saved with the former extras
    # credential_N_header / credential_N_secret are still read (LaraConnection.read_credentials).
    fields = {
        "base_url": _url_field("Portal URL", "e.g. https://yourorder.lara.example"),
        "portal_timezone": {
            "label": "Portal time zone",
            "description": "IANA time zone of the portal, used for period dates without an offset.",
            "schema": {"type": "string", "default": "America/Toronto"},
        },
    }
    behaviour = {
        "hidden-fields": ["host", "port", "schema", "extra"],
        "relabeling": {"login": "Credential header names", "password": "Credential values"},
        "placeholders": {
            "login": "X-Lara-Api-Key, X-Lara-Api-Secret (the header names from onboarding, one or two)",
            "password": "the value of each header, in the same order, comma-separated",
        },
    }
    return _connection_type("lara", "LaraHook", "Lära", fields, behaviour)


def _connection_types() -> list[dict[str, Any]]:
    return [_eduframe_form(), _anewspring_form(), _pluvo_form(), _pynter_form(), _lara_form()]


def _config() -> dict[str, Any]:
    """The provider's settings, shown by ``airflow config list`` and ``airflow providers configs``."""
    return {
        "lms": {
            "description": "Settings of airflow-provider-lms.",
            "options": {
                "patch_connection_test": {
                    "description": (
                        "Let the UI's Test button work for connections without a port (every LMS connection) on "
                        "Airflow versions that refuse them with 'The host or port to test differs from the stored "
                        "connection' (apache/airflow#73298). When True, the provider's API-server plugin applies "
                        "the upstream fix (port 0 from the UI counts as no port), in the API server only, and only "
                        "where the running Airflow still has the bug. False: the provider changes nothing in Airflow."
                    ),
                    "version_added": "0.1.0",
                    "type": "boolean",
                    "example": "True",
                    "default": "False",
                },
                "shared_limit_url": {
                    "description": (
                        "A Redis URL (redis://host:6379/0) through which every task, worker and triggerer shares "
                        "one rate limit, 429 pause and circuit per connection. A connection's own shared_limit_url "
                        "extra wins. Empty: each task process keeps its own limit."
                    ),
                    "version_added": "0.1.0",
                    "type": "string",
                    "sensitive": True,
                    "example": "redis://127.0.0.1:6379/0",
                    "default": "",
                },
            },
        },
        "lms_webhooks": {
            "description": "The webhook receiver in the API server (read when the API server starts).",
            "options": {
                "max_body_bytes": _option(
                    "The largest delivery body accepted; larger ones get 413.", "integer", "1048576"
                ),
                "max_json_depth": _option(
                    "The deepest nesting of JSON arrays and objects accepted (else 400).", "integer", "64"
                ),
                "body_read_timeout": _option(
                    "Seconds allowed for receiving a whole body, however slowly it drips (else 408).", "float", "10.0"
                ),
                "max_delivery_age": _option(
                    "Seconds after its own timestamp (Pluvo's sentDate) that a delivery is still recorded; older "
                    "ones answer 'stale'. Keep it below the dedupe table's 7-day retention.",
                    "float",
                    "518400",
                ),
            },
        },
    }


def _option(description: str, kind: str, default: str) -> dict[str, Any]:
    return {"description": description, "version_added": "0.1.0", "type": kind, "example": default, "default": default}


def get_provider_info() -> dict[str, Any]:
    """Return the provider metadata Airflow's ProvidersManager reads."""
    return {
        "package-name": "airflow-provider-lms",
        "name": "LMS (learning and training administration)",
        "description": "Eduframe, aNewSpring, Pluvo, Pynter and Lära: enrollments, scores, completion, certificates.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": name,
                "external-doc-url": url,
                "tags": ["service"],
            }
            for name, url in (
                ("Eduframe", "https://docs.eduframe.dev/api/v1"),
                ("aNewSpring", "https://support.anewspring.com"),
                ("Pluvo", "https://developers.pluvo.co"),
                ("Pynter", "https://docs.pynter.nl"),
                ("Lära", "https://monassistance.sviesolutions.com"),
            )
        ],
        "hooks": [
            {"integration-name": "Eduframe", "python-modules": ["airflow_provider_lms.hooks.eduframe"]},
            {"integration-name": "aNewSpring", "python-modules": ["airflow_provider_lms.hooks.anewspring"]},
            {"integration-name": "Pluvo", "python-modules": ["airflow_provider_lms.hooks.pluvo"]},
            {"integration-name": "Pynter", "python-modules": ["airflow_provider_lms.hooks.pynter"]},
            {"integration-name": "Lära", "python-modules": ["airflow_provider_lms.hooks.lara"]},
        ],
        "operators": [
            {
                "integration-name": "Eduframe",
                "python-modules": [
                    "airflow_provider_lms.operators.learners",
                    "airflow_provider_lms.operators.enrollment",
                    "airflow_provider_lms.operators.certificates",
                    "airflow_provider_lms.operators.call",
                ],
            },
            {
                "integration-name": "aNewSpring",
                "python-modules": [
                    "airflow_provider_lms.operators.subscriptions",
                    "airflow_provider_lms.operators.anewspring",
                ],
            },
            {"integration-name": "Pynter", "python-modules": ["airflow_provider_lms.operators.pynter"]},
            {
                "integration-name": "Lära",
                "python-modules": ["airflow_provider_lms.operators.lara", "airflow_provider_lms.operators.members"],
            },
        ],
        "sensors": [
            {"integration-name": "Eduframe", "python-modules": ["airflow_provider_lms.sensors.enrollment"]},
            {"integration-name": "Lära", "python-modules": ["airflow_provider_lms.sensors.lara"]},
        ],
        "triggers": [
            {
                "integration-name": "Eduframe",
                "python-modules": ["airflow_provider_lms.triggers.enrollment", "airflow_provider_lms.triggers.events"],
            },
            {"integration-name": "Lära", "python-modules": ["airflow_provider_lms.triggers.lara"]},
        ],
        "extra-links": ["airflow_provider_lms.links.LmsPageLink"],
        "plugins": [
            {"name": "lms_webhooks", "plugin-class": "airflow_provider_lms.webhooks.plugin.LmsWebhooksPlugin"},
        ],
        "config": _config(),
        "connection-types": _connection_types(),
    }
