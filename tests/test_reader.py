"""The reader connection: read-only, bounded by the statement timeout, and pointed at the read
replica when one is configured."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import db, runtime, views
from dashboard.db import reader_engine
from dashboard.live_schema import LiveSchema
from tests.accounts import signed_in

ROOT = Path(__file__).resolve().parent.parent


def test_reader_cannot_write(fixture_db):
    engine = reader_engine(fixture_db, statement_timeout_ms=5_000)
    with engine.connect() as conn, pytest.raises(sa.exc.InternalError, match="read-only transaction"):
        conn.execute(sa.text("delete from chat_messages"))
    engine.dispose()


def test_slow_view_becomes_a_timeout_notice(fixture_db, tmp_path, monkeypatch):
    (tmp_path / "slow.sql").write_text(
        "-- name: slow\n-- A query that sleeps.\n-- params: :seconds\n-- requires: agents\n"
        "select pg_sleep(:seconds) as slept\n"
    )
    monkeypatch.setattr(views, "VIEWS_DIR", tmp_path)
    views.load_view.cache_clear()
    engine = reader_engine(fixture_db, statement_timeout_ms=200)
    try:
        with pytest.raises(views.QueryTimeout, match="narrow the date range"):
            views.fetch_uncached(engine, LiveSchema({"agents": {}}), "slow", {"seconds": 2})
        # The pool's connection survives the cancelled statement.
        assert views.fetch_uncached(
            engine, LiveSchema({"agents": {}}), "slow", {"seconds": 0}
        ).frame.shape == (1, 1)
    finally:
        engine.dispose()
        views.load_view.cache_clear()


def test_missing_table_is_a_notice_not_a_query(fixture_db):
    engine = reader_engine(fixture_db, statement_timeout_ms=5_000)
    with pytest.raises(views.MissingSchema, match="no table agents"):
        views.fetch_uncached(engine, LiveSchema({}), "agent_directory", {})
    engine.dispose()


def test_reads_go_to_the_read_url(monkeypatch, empty_db, fixture_db):
    """DATABASE_URL names a database without Lillo's tables; DATABASE_READ_URL the fixture. The
    page works, so every read went to the read URL."""
    monkeypatch.setenv("DATABASE_URL", empty_db)
    monkeypatch.setenv("DATABASE_READ_URL", fixture_db)
    views.clear_cache()
    at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.query_params.update({"range": "custom", "from": "2026-02-23", "to": "2026-03-01"})
    at.run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Messages"] == "14"


def test_connections_of_a_process_that_ran_the_app_can_be_closed(monkeypatch, fixture_db):
    """The benchmark runs pages in its own process before the load run counts the served app's
    connections: close_connections() leaves none of this process's open."""
    monkeypatch.setenv("DATABASE_URL", fixture_db)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    views.clear_cache()
    at = signed_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.run()
    assert not at.exception
    count = sa.text(
        "select count(*) from pg_stat_activity where application_name like 'lillo-dashboard-%'"
        " and datname = current_database()"
    )
    probe = sa.create_engine(db.normalise_url(fixture_db), poolclass=sa.pool.NullPool)
    try:
        with probe.connect() as conn:
            assert conn.execute(count).scalar_one() >= 1
        runtime.close_connections()
        with probe.connect() as conn:
            assert conn.execute(count).scalar_one() == 0
    finally:
        probe.dispose()
    at.run()  # the next run opens the database again
    assert not at.exception and {m.label: m.value for m in at.metric}
