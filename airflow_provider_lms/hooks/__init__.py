"""Platform hooks. Import a hook from its module, e.g. ``airflow_provider_lms.hooks.eduframe``.

The package imports no platform module itself: :mod:`~airflow_provider_lms.hooks.capabilities` imports them
all when the capability table is first asked, and a DAG file pays only for the hooks it names.
"""
