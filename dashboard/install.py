"""Applies SQL files: Lillo's own tables (embedded and test databases only) and the dashboard's
objects (its own schema, installed by the explicit `python -m dashboard install`)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from dashboard.config import SQL_DIR

log = logging.getLogger(__name__)


def _sql_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sql"))


CONCURRENT_SUFFIX = ".concurrently.sql"


def _statements(path: Path) -> list[str]:
    """The statements of a file whose statements each end a line with ';'."""
    text = "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--")
    )
    return [statement.strip() for statement in text.split(";\n") if statement.strip().rstrip(";")]


_CREATE_INDEX = re.compile(
    r"create index concurrently if not exists (\w+)\s+on\s+(?:only\s+)?([\w.]+)", re.IGNORECASE
)
_INVALID_INDEX_SQL = """
    select n.nspname, c.relname
    from pg_index as i
    join pg_class as c on c.oid = i.indexrelid
    join pg_namespace as n on n.oid = c.relnamespace
    where not i.indisvalid and c.relname = %(index)s and i.indrelid = to_regclass(%(table)s)
"""


def _drop_invalid_leftover(conn: psycopg.Connection, statement: str) -> None:
    """Before `create index concurrently if not exists`: drop an index of that name left INVALID
    by an interrupted build, which `if not exists` would otherwise keep, unused, for ever."""
    match = _CREATE_INDEX.search(statement)
    if not match:
        return
    found = conn.execute(_INVALID_INDEX_SQL, {"index": match[1], "table": match[2]}).fetchone()
    if found:
        log.warning("dropping the invalid index %s.%s left by an interrupted build", *found)
        conn.execute(sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(*found)))


def _apply(engine: sa.Engine, files: list[Path]) -> list[str]:
    """Apply the files in one transaction, then each statement of the *.concurrently.sql files on
    its own (CREATE INDEX CONCURRENTLY cannot run inside a transaction)."""
    scripts = [path for path in files if not path.name.endswith(CONCURRENT_SUFFIX)]
    concurrent = [path for path in files if path.name.endswith(CONCURRENT_SUFFIX)]
    with engine.begin() as conn:
        for path in scripts:
            # Fixed files from the repository, no parameters: sent to the driver as one script
            # (through psycopg directly, which then leaves a '%' in a comment alone).
            conn.connection.driver_connection.execute(path.read_text(encoding="utf-8"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for path in concurrent:
            for statement in _statements(path):
                try:
                    _drop_invalid_leftover(conn.connection.driver_connection, statement)
                    conn.connection.driver_connection.execute(statement)
                except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as missing:
                    # An index for a table or column of Lillo's that this database lacks: nothing
                    # reads it.
                    log.warning("%s: skipped a statement: %s", path.name, str(missing).splitlines()[0])
    return [path.name for path in scripts + concurrent]


def apply_lillo_schema(engine: sa.Engine) -> list[str]:
    """Create Lillo's eight tables. Only for the embedded demo database and for tests: the
    dashboard never creates Lillo's tables in a database it was pointed at."""
    return _apply(engine, _sql_files(SQL_DIR / "schema"))


def install_dashboard_objects(engine: sa.Engine) -> list[str]:
    """Create or update the dashboard's own objects in schema lillo_dash; safe to re-run."""
    return _apply(engine, _sql_files(SQL_DIR / "install"))
