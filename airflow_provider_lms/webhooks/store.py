"""Recording accepted deliveries as Airflow asset events, exactly once per delivery.

Why the receiver writes the asset event itself instead of calling ``POST /api/v2/assets/events``: the
plugin runs inside the API server, next to the very code behind that endpoint. Calling the REST API
would need an API user and its credentials stored for the plugin, and would put the deduplication
record and the asset event into two separate transactions (a crash between them loses the event or
records it twice). Instead the receiver calls what the endpoint calls,
``airflow.assets.manager.asset_manager.register_asset_change(asset=..., extra=..., source_is_api=True)``,
in **one** database transaction with the insert of the delivery's key into ``lms_webhook_delivery``.
The key is that table's primary key, so a retried delivery - also after a restart, also when two API
server workers get the two copies at the same moment - fails the insert and rolls back: no second event.
The price is that ``register_asset_change`` is Airflow's internal API rather than its public one; the
Airflow test in ``tests/airflow/test_webhook_receiver_run.py`` runs it against a real API server.

The table is created in Airflow's metadata database on first use (``CREATE TABLE IF NOT EXISTS``), and
rows older than ``retention`` are purged: aNewSpring retries for up to 16 hours, so 7 days is ample.

Airflow's ``db reset`` and ``db clean`` do not know this table (Airflow offers providers no public way to
register one with them), so a key is trusted only while the asset event it produced can still be found:

* ``airflow db reset`` leaves the table behind, and asset event ids start again from 1. A key whose event
  is gone, or whose event id now belongs to another event (a different timestamp), is stale: the delivery
  is recorded again, as on a fresh Airflow, instead of being dropped as a "duplicate" forever.
* ``airflow db clean`` purges old asset events but ids keep growing: a key whose event is gone while newer
  events exist is still a duplicate.
* ``airflow db reset`` on its own does not drop the table; ``DROP TABLE lms_webhook_delivery`` does, and
  the receiver creates it anew on its next delivery.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol

__all__ = ["AirflowAssetRecorder", "EventRecorder", "Outcome"]

log = logging.getLogger(__name__)

#: ``recorded``: a new asset event; ``duplicate``: this delivery was recorded before;
#: ``no_asset``: no DAG uses the event's asset, so there is nothing to record it on.
Outcome = Literal["recorded", "duplicate", "no_asset"]

TABLE_NAME = "lms_webhook_delivery"


class EventRecorder(Protocol):
    """Turns an accepted delivery into an asset event, once per ``(platform, delivery_key)``."""

    def record(self, platform: str, delivery_key: str, asset_uri: str, extra: dict[str, Any]) -> Outcome: ...


class AirflowAssetRecorder:
    """Records asset events in Airflow's metadata database, deduplicated by delivery key.

    :param retention: how long a delivery key is remembered.
    """

    def __init__(self, retention: timedelta = timedelta(days=7)) -> None:
        self.retention = retention
        self._table: Any = None
        self._lock = threading.Lock()
        self._last_purge = datetime.min.replace(tzinfo=timezone.utc)

    def _deliveries(self) -> Any:
        with self._lock:
            if self._table is None:
                from airflow import settings
                from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

                metadata = MetaData()
                table = Table(
                    TABLE_NAME,
                    metadata,
                    Column("platform", String(32), primary_key=True),
                    Column("delivery_key", String(64), primary_key=True),
                    Column("asset_uri", String(1500), nullable=False),
                    Column("asset_event_id", Integer, nullable=True),
                    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
                )
                if settings.engine is None:
                    raise RuntimeError("Airflow's metadata database is not configured")
                metadata.create_all(settings.engine, checkfirst=True)
                self._table = table
            return self._table

    def record(self, platform: str, delivery_key: str, asset_uri: str, extra: dict[str, Any]) -> Outcome:
        outcome = self._record(platform, delivery_key, asset_uri, extra)
        if outcome == "duplicate" and self._forget_if_stale(platform, delivery_key):
            log.info(
                "%s delivery %s: its earlier asset event is gone (db reset?); recording anew",
                platform,
                delivery_key[:12],
            )
            outcome = self._record(platform, delivery_key, asset_uri, extra)
        return outcome

    def _forget_if_stale(self, platform: str, delivery_key: str) -> bool:
        """Delete the key when the asset event it produced is gone with a reset database; whether it was."""
        from airflow.models.asset import AssetEvent
        from airflow.utils.session import create_session
        from sqlalchemy import delete, func, select

        table = self._deliveries()
        where = (table.c.platform == platform, table.c.delivery_key == delivery_key)
        with create_session() as session:
            row = session.execute(select(table.c.asset_event_id, table.c.received_at).where(*where)).first()
            if row is None:
                return True  # purged in the meantime: nothing stops a new record
            event_id, received_at = row
            if event_id is None:
                return False
            event = session.get(AssetEvent, event_id)
            if event is not None:
                # The same id with another timestamp: ids restarted after a reset and reached this one again.
                stale = abs((_utc(event.timestamp) - _utc(received_at)).total_seconds()) > 1
            else:
                newest = session.scalar(select(func.max(AssetEvent.id)))
                stale = newest is None or newest < event_id
            if stale:
                session.execute(delete(table).where(*where))
            return stale

    def _record(self, platform: str, delivery_key: str, asset_uri: str, extra: dict[str, Any]) -> Outcome:
        from airflow.assets.manager import asset_manager
        from airflow.models.asset import AssetModel
        from airflow.utils.session import create_session
        from sqlalchemy import delete, select, update
        from sqlalchemy.exc import IntegrityError

        table = self._deliveries()
        now = datetime.now(timezone.utc)
        try:
            with create_session() as session:
                assets = list(session.scalars(select(AssetModel).where(AssetModel.uri == asset_uri)))
                if not assets:
                    return "no_asset"
                # The key first: a concurrent copy of the same delivery blocks or fails right here.
                session.execute(
                    table.insert().values(
                        platform=platform, delivery_key=delivery_key, asset_uri=asset_uri, received_at=now
                    )
                )
                session.flush()
                event_id = None
                for asset in assets:  # one per asset; normally exactly one asset has this URI
                    event = asset_manager.register_asset_change(
                        asset=asset, extra=extra, timestamp=now, source_is_api=True, session=session
                    )
                    if event is not None and event_id is None:
                        event_id = event.id
                session.execute(
                    update(table)
                    .where(table.c.platform == platform, table.c.delivery_key == delivery_key)
                    .values(asset_event_id=event_id)
                )
                if now - self._last_purge > timedelta(hours=1):
                    self._last_purge = now
                    session.execute(delete(table).where(table.c.received_at < now - self.retention))
                # create_session commits the key and the asset event together here.
        except IntegrityError:
            return "duplicate"
        return "recorded"


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; everything here was written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
