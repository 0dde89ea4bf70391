"""Platform hooks. Import a hook from its module, e.g. ``airflow_provider_lms.hooks.eduframe``."""
