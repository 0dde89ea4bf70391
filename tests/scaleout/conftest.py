"""The scale-out tier's one deployment, shared by its modules (see :mod:`tests.scaleout.deployment`).

Package scope rather than session scope: every module of ``tests/scaleout`` reuses the same cluster (its
start costs minutes), and the cluster (Postgres, Redis, four Airflow components, two Celery workers) is
stopped as soon as the last test of this package has run, instead of loading the machine for the rest of
a full run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scaleout.deployment import Deployment, scaleout_deployment


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The running deployment (Postgres, Redis, Airflow on Celery, two workers) and its sandbox."""
    with scaleout_deployment(tmp_path_factory) as running:
        yield running
