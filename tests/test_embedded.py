"""The embedded PostgreSQL's own settings: sized to the machine, written beside its data, read when
it starts."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard import embedded

GB = 1024**3


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
