"""Database engines and the health check.

Reads go through a reader engine whose every transaction is read-only and bounded by a statement
timeout; the write path (dashboard.store) gets its own engine. Pages never import this module:
they go through dashboard.views.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from psycopg import sql as psql
from sqlalchemy import event
from sqlalchemy.engine import make_url

from dashboard.config import redact_url

log = logging.getLogger(__name__)

# The reader's connections are kept open, none opened for a burst and closed after it: a new backend
# plans its first statements with cold catalog caches, and under load the closing ones pile up on
# top of the pool's (12 backends for a pool of 10 in the bench's load run).
POOL_SIZE = 10
POOL_OVERFLOW = 0
# How long a session waits for a free connection before it is told the dashboard is busy.
POOL_TIMEOUT_S = 5
CONNECT_TIMEOUT_S = 5


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refuses us; the message names the host and the reason."""


# Server states that mean "not now" rather than "not this statement": shutting down, starting up,
# out of connection slots.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def connection_lost(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or dropped the connection, so the same
    request may well work once it is back — as opposed to a problem with the statement itself."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    orig = getattr(error, "orig", None)
    if not isinstance(orig, psycopg.OperationalError):
        return False
    # psycopg's own connection failures carry no SQLSTATE; class 08 is the server's "connection exception".
    return orig.sqlstate is None or orig.sqlstate.startswith("08") or orig.sqlstate in _UNAVAILABLE_SQLSTATES


def normalise_url(url: str) -> str:
    """Accept plain postgres:// URLs (as Vercel/Neon hand them out) and use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _pooled_engine(url: str, *, pool_size: int, max_overflow: int, application_name: str) -> sa.Engine:
    return sa.create_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name},
    )


def _set_statement_timeout(cur, statement_timeout_ms: int) -> None:
    # SET cannot take bind parameters; set_config() can, and keeps the timeout a bound value.
    cur.execute("select set_config('statement_timeout', %s, false)", (str(statement_timeout_ms),))


def reader_engine(url: str, *, statement_timeout_ms: int) -> sa.Engine:
    """A pooled engine whose sessions are read-only with a statement timeout."""
    engine = _pooled_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, application_name="lillo-dashboard-reader"
    )

    @event.listens_for(engine, "connect")
    def _read_only_session(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            _set_statement_timeout(cur, statement_timeout_ms)
            # The server's default (often 4 MB) sends the model comparison's grouping of every
            # person in a range to disk; the pool bounds how many sessions hold this at once.
            cur.execute("select set_config('work_mem', %s, false)", (READER_WORK_MEM,))
            cur.execute("set session characteristics as transaction read only")
            # With the dashboard installed, reads run as its reader role, so the database itself
            # refuses writes and the agents credentials column whatever the login role may do.
            cur.execute(_CAN_BECOME_SQL, (READER_ROLE,))
            if cur.fetchone()[0]:
                # SET takes no bind parameters: the name goes in quoted as an identifier.
                cur.execute(psql.SQL("set role {}").format(psql.Identifier(READER_ROLE)))
        dbapi_conn.commit()

    return engine


READER_ROLE = "lillo_dash_reader"
READER_WORK_MEM = "64MB"
# Roles belong to the whole server, grants to one database: the role is used only where this
# database's install gave it access (USAGE on lillo_dash).
_CAN_BECOME_SQL = (
    "select coalesce(bool_or(pg_has_role(current_user, r.oid, 'SET')"
    " and has_schema_privilege(r.oid, to_regnamespace('lillo_dash'), 'USAGE')), false)"
    " from pg_roles as r where r.rolname = %s"
)


def writer_engine(url: str, *, statement_timeout_ms: int) -> sa.Engine:
    """A small pool for the write path (dashboard.store), which sets the writer role per
    transaction itself."""
    engine = _pooled_engine(url, pool_size=2, max_overflow=2, application_name="lillo-dashboard-writer")

    @event.listens_for(engine, "connect")
    def _bounded_session(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            _set_statement_timeout(cur, statement_timeout_ms)
        dbapi_conn.commit()

    return engine


def admin_engine(url: str) -> sa.Engine:
    """An unpooled engine for install and demo loading (DDL, COPY); never used by pages."""
    return sa.create_engine(
        normalise_url(url),
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "lillo-dashboard-admin"},
    )


def describe_connect_error(url: str, error: Exception) -> str:
    """One sentence a person can act on, naming the host and what went wrong — never the password."""
    parsed = make_url(normalise_url(url))
    host = parsed.host or parsed.query.get("host") or "localhost"
    where = f"{host}:{parsed.port}" if parsed.port else str(host)
    detail = str(getattr(error, "orig", error)).strip().splitlines()
    reason = detail[0] if detail else type(error).__name__
    lowered = " ".join(detail).lower()
    if "password authentication failed" in lowered:
        reason = f"the password for user {parsed.username!r} was rejected"
    elif "does not exist" in lowered and "database" in lowered:
        reason = f"database {parsed.database!r} does not exist"
    elif any(s in lowered for s in ("could not translate host", "name or service not known", "nodename")):
        reason = "the host name could not be resolved"
    elif any(s in lowered for s in ("connection refused", "timeout expired", "no such file")):
        reason = "nothing is accepting connections there"
    return f"Cannot connect to the database at {where} ({redact_url(url)}): {reason}."


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str
    server_version: str = ""


def check_connection(engine: sa.Engine) -> Health:
    """Can we connect and run a query? Never raises."""
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("show server_version")).scalar_one()
        return Health(ok=True, message="connected", server_version=str(version))
    except sa.exc.SQLAlchemyError as error:
        message = describe_connect_error(engine.url.render_as_string(False), error)
        log.debug("database health check failed", exc_info=True)
        return Health(ok=False, message=message)
