"""The embedded PostgreSQL: its own settings, sized to the machine, written beside its data, read
when it starts; and stopped with the app that started it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from dashboard import embedded

GB = 1024**3
ROOT = Path(__file__).resolve().parent.parent


def test_shared_buffers_are_a_quarter_of_memory_within_bounds():
    assert embedded.shared_buffers_mb(24 * GB) == 6 * 1024
    assert embedded.shared_buffers_mb(256 * 1024**2) == 128  # never below initdb's default
    assert embedded.shared_buffers_mb(512 * GB) == 8 * 1024


def test_settings_are_rewritten_and_included_once(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("max_connections = 100\n")
    embedded.write_settings(tmp_path, memory_bytes=8 * GB)
    embedded.write_settings(tmp_path, memory_bytes=4 * GB)
    assert "shared_buffers = '1024MB'" in (tmp_path / embedded.SETTINGS_FILE).read_text()
    text = conf.read_text()
    assert text.startswith("max_connections = 100\n")
    assert text.count(f"include_if_exists = '{embedded.SETTINGS_FILE}'") == 1


def test_the_sessions_server_runs_with_them(pg_server):
    url = embedded.database_url(pg_server, "postgres")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("select setting::bigint * 8 / 1024 from pg_settings where name = 'shared_buffers'")
        )
        assert found.scalar_one() == embedded.shared_buffers_mb(embedded.machine_memory_bytes())
    engine.dispose()


_APP_STOPPED_BY_SIGTERM = """
import asyncio, os, signal, sys
from pathlib import Path

import serve
from dashboard import embedded

embedded.start_server(Path(sys.argv[1]))


async def serve_and_shut_down():
    async with serve.lifespan(serve.app):
        pass


asyncio.run(serve_and_shut_down())
# The way uvicorn ends after its graceful shutdown on SIGTERM: by the signal, skipping exit handlers.
os.kill(os.getpid(), signal.SIGTERM)
"""


def test_the_app_stops_the_server_it_started_when_it_is_stopped_by_sigterm(tmp_path):
    pgdata = tmp_path / "pg"
    child = subprocess.run(
        [sys.executable, "-c", _APP_STOPPED_BY_SIGTERM, str(pgdata)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGTERM, child.stderr
    assert (pgdata / "PG_VERSION").exists()  # it did start
    assert not (pgdata / "postmaster.pid").exists()  # and it was stopped: nothing left running
