"""The app's one connection to its database, shared by every session of the Streamlit server.

`database()` never raises: when the database cannot be used it returns a Database whose `problem`
says why, and the app shows that instead of pages. Failures are not cached, so the next rerun
tries again and the app recovers without a restart.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa
import streamlit as st

from dashboard import db, embedded
from dashboard.config import ConfigError, Settings, load_settings, redact_url
from dashboard.live_schema import ESSENTIAL_TABLES, LiveSchema, introspect
from dashboard.row_change import WriterUnavailable

log = logging.getLogger(__name__)

SCHEMA_TTL_S = 300


@dataclass(frozen=True)
class Database:
    settings: Settings | None
    reader: sa.Engine | None
    description: str
    problem: str | None = None
    # The primary's URL, for refreshing the rollups (reads may go to a replica).
    primary_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def key(self) -> str:
        """Identifies the database in cache keys (no password)."""
        return self.reader.url.render_as_string(hide_password=True) if self.reader else ""


# The pooled engines this process opened, so a process that ran the app in passing (the benchmark)
# can close their connections.
_opened: list[sa.Engine] = []


@st.cache_resource(show_spinner="Starting the database…")
def _open(settings: Settings) -> Database:
    if settings.embedded:
        url = embedded.prepare_demo_database(settings.data_dir, scale=settings.demo_scale, progress=log.info)
        read_url, description = url, "Embedded demo database"
    else:
        url = settings.database_url
        read_url = settings.database_read_url or url
        description = redact_url(read_url)
    reader = db.reader_engine(read_url, statement_timeout_ms=settings.statement_timeout_ms)
    health = db.check_connection(reader)
    if not health.ok:
        reader.dispose()
        raise db.DatabaseUnavailable(health.message)
    _opened.append(reader)
    return Database(settings, reader, description, primary_url=url)


def database() -> Database:
    try:
        settings = load_settings()
    except ConfigError as error:
        return Database(None, None, "", problem=f"Configuration error: {error}")
    try:
        found = _open(settings)
    except db.DatabaseUnavailable as error:
        return Database(settings, None, "", problem=str(error))
    except Exception as error:
        log.exception("could not open the database")
        return Database(settings, None, "", problem=f"The database could not be opened: {error}")
    try:
        missing = [t for t in ESSENTIAL_TABLES if t not in live_schema().tables]
    except db.DatabaseUnavailable as error:
        return Database(settings, None, found.description, problem=str(error))
    if missing:
        return Database(
            settings,
            None,
            found.description,
            problem=(
                f"The database at {found.description} has no Lillo tables ({', '.join(missing)} is missing). "
                "Check that DATABASE_URL points at Lillo's database."
            ),
        )
    return found


@st.cache_resource(show_spinner=False)
def _writer(url: str, statement_timeout_ms: int) -> sa.Engine:
    engine = db.writer_engine(url, statement_timeout_ms=statement_timeout_ms)
    _opened.append(engine)
    return engine


def close_connections() -> None:
    """Close every pooled connection this process opened and forget the engines; the next page
    run opens them again."""
    _open.clear()
    _writer.clear()
    while _opened:
        _opened.pop().dispose()


def writer() -> sa.Engine:
    """The write path's engine, on the primary (never the read replica)."""
    found = database()
    if not found.ok:
        # A refusal the write path's pages already show as a message, like any other.
        raise WriterUnavailable(f"Nothing was written: {found.problem}")
    return _writer(found.primary_url, found.settings.statement_timeout_ms)


# The last schema read per database, when, and when reading it last failed: pages ask on every view,
# and a value kept by st.cache_data is copied for every caller; while the database is away, pages
# keep the tables and columns they knew instead of asking again on every view.
_last_schema: dict[str, LiveSchema] = {}
_schema_read_at: dict[str, float] = {}
_schema_failed_at: dict[str, float] = {}
SCHEMA_RETRY_S = 10


def live_schema() -> LiveSchema:
    """The database's tables and columns (read again after SCHEMA_TTL_S). Raises
    db.DatabaseUnavailable only when it cannot be read and never was."""
    found = _open(load_settings())
    key = found.key
    known, failed_at = _last_schema.get(key), _schema_failed_at.get(key)
    if known is not None and time.monotonic() - _schema_read_at.get(key, float("-inf")) < SCHEMA_TTL_S:
        return known
    if known is not None and failed_at is not None and time.monotonic() - failed_at < SCHEMA_RETRY_S:
        return known
    try:
        with found.reader.connect() as conn:
            schema = introspect(conn)
    except sa.exc.SQLAlchemyError as error:
        _schema_failed_at[key] = time.monotonic()
        if known is not None:
            log.warning("could not read the live schema; using the last one read", exc_info=True)
            return known
        where = found.reader.url.render_as_string(hide_password=False)
        raise db.DatabaseUnavailable(db.describe_connect_error(where, error)) from error
    _schema_failed_at.pop(key, None)
    _last_schema[key] = schema
    _schema_read_at[key] = time.monotonic()
    return schema


def forget_schema() -> None:
    """Read the schema again on the next view (the benchmark's cold runs; tests). The last one read
    stays the fallback while the database is away."""
    _schema_read_at.clear()


ROLLUP_REFRESH_EVERY_S = 60
_last_refresh_attempt = [0.0]


def keep_rollups_fresh(found: Database) -> None:
    """Refresh the rollups at most once a minute per server process, skipping when another
    refresher holds the lock. Views count rows above the watermark live, so a refresh keeps them
    fast rather than correct; a failure (e.g. a read-only login) is logged, never shown."""
    import time

    if not (found.ok and found.primary_url and live_schema().rollups_installed):
        return
    now = time.monotonic()
    if now - _last_refresh_attempt[0] < ROLLUP_REFRESH_EVERY_S:
        return
    _last_refresh_attempt[0] = now
    from dashboard import rollups

    engine = db.admin_engine(found.primary_url)
    try:
        report = rollups.refresh(engine, wait=False)
        if report is not None and (report.messages_added or report.commands_added):
            log.info("rollups: %s", report)
    except sa.exc.SQLAlchemyError:
        log.warning("could not refresh the rollups", exc_info=True)
    finally:
        engine.dispose()
