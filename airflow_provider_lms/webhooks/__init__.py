"""Webhooks from the learning platforms: signature checks, the receiver app and its Airflow plugin.

``airflow_provider_lms.webhooks.plugin`` (imported by Airflow through the ``airflow.plugins`` entry point)
mounts the receiver; the Pluvo event models live in :mod:`airflow_provider_lms.models.pluvo`.
"""
