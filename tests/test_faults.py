"""The dashboard when the database misbehaves: it goes away and comes back, a query runs past the
statement timeout, every pooled connection is taken, a write loses its connection halfway. Each
becomes one clear notice, never a traceback, and a failed write leaves nothing behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import auth, db, embedded, model_tuning, runtime, store, views
from dashboard.db import admin_engine, reader_engine, writer_engine
from tests import fixture_data as fx
from tests.accounts import ACCOUNTS, signed_in
from tests.databases import prepared

APP = str(Path(__file__).resolve().parent.parent / "app.py")
WEEK = {"range": "custom", "from": "2026-02-23", "to": "2026-03-01", "tz": "UTC"}
OUTAGE = "Database unavailable — retrying"
PAGES = [
    "app_pages/overview.py",
    "app_pages/conversations.py",
    "app_pages/people.py",
    "app_pages/commands.py",
    "app_pages/agents.py",
    "app_pages/models.py",
    "app_pages/settings.py",
    "app_pages/model_tuning.py",
    "app_pages/audit.py",
]


def app_on(monkeypatch, url: str, **env: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    views.clear_cache()
    at = signed_in(AppTest.from_file(APP, default_timeout=60))
    at.query_params.update(WEEK)
    return at


def shown(at: AppTest) -> list[str]:
    """Every notice and caption of the page and its sidebar."""
    return [e.value for kind in ("error", "warning", "info", "caption") for e in at.get(kind)]


def notices_containing(at: AppTest, text: str) -> list[str]:
    return [value for value in shown(at) if text in value]


# --- The database goes away and comes back ---------------------------------------------------------


class OwnServer:
    """An embedded server of this module's own, so stopping it disturbs no other test."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.server = embedded.start_server(pgdata)
        self.url = prepared(embedded.ensure_database(self.server, "faults"))

    def stop(self) -> None:
        self.server.cleanup()

    def start(self) -> None:
        self.server = embedded.start_server(self.pgdata)
        assert embedded.database_url(self.server, "faults") == self.url


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    server = OwnServer(tmp_path_factory.mktemp("faults-pg") / "data")
    yield server
    server.stop()


def test_database_going_away_gives_one_notice_and_stale_data_then_recovers(monkeypatch, own_server):
    at = app_on(monkeypatch, own_server.url).run()
    assert not at.exception
    fresh = {m.label: m.value for m in at.metric}
    assert fresh["Messages"] == "14"
    assert not notices_containing(at, "Stale")

    own_server.stop()
    st.cache_data.clear()  # as when the caches' TTL runs out while the database is away
    runtime.forget_schema()
    at.run()
    assert not at.exception
    assert len(notices_containing(at, OUTAGE)) == 1
    # What was shown before is still there, said to be stale.
    assert {m.label: m.value for m in at.metric} == fresh
    assert notices_containing(at, "Stale — from")

    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        assert len(notices_containing(at, OUTAGE)) == 1, (page, shown(at))

    own_server.start()
    at.switch_page("app_pages/people.py").run()
    assert not at.exception
    assert not notices_containing(at, OUTAGE)
    assert not notices_containing(at, "Not loaded")
    assert len(at.dataframe) >= 1
    at.switch_page("app_pages/overview.py").run()
    assert not notices_containing(at, OUTAGE)
    assert not notices_containing(at, "Stale")
    assert {m.label: m.value for m in at.metric} == fresh


def test_a_view_without_earlier_rows_names_the_outage(own_server, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", own_server.url)
    views.clear_cache()
    assert not views.fetch("agent_directory").frame.empty
    own_server.stop()
    try:
        views.clear_cache()
        with pytest.raises(views.DatabaseOutage, match=OUTAGE):
            views.fetch("agent_directory")
    finally:
        own_server.start()
    assert not views.fetch("agent_directory").stale


# --- A query past the statement timeout ------------------------------------------------------------


@pytest.fixture(scope="module")
def faults_db(new_database) -> str:
    return prepared(new_database("faults"), install=False)


def test_a_query_past_the_statement_timeout_suggests_a_narrower_range(monkeypatch, faults_db):
    at = app_on(monkeypatch, faults_db).run()  # reads the schema at the usual timeout
    assert not at.exception
    monkeypatch.setenv("DASHBOARD_STATEMENT_TIMEOUT_MS", "200")
    views.clear_cache()
    locker = admin_engine(faults_db)
    # Queries on chat_messages wait for this lock until the statement timeout cancels them.
    with locker.begin() as conn:
        conn.exec_driver_sql("lock table chat_messages in access exclusive mode")
        at.run()
    locker.dispose()
    assert not at.exception
    assert notices_containing(at, "took longer than the statement timeout — narrow the date range"), shown(at)
    assert not notices_containing(at, OUTAGE)


# --- Every pooled connection taken --------------------------------------------------------------------


def test_a_full_pool_gives_a_busy_notice_within_seconds(monkeypatch, faults_db):
    assert db.POOL_TIMEOUT_S <= 10
    at = app_on(monkeypatch, faults_db).run()  # opens the engine and reads the schema
    assert not at.exception
    engine = runtime.database().reader
    held = [engine.connect() for _ in range(db.POOL_SIZE + db.POOL_OVERFLOW)]
    try:
        views.clear_cache()
        started = time.monotonic()
        with pytest.raises(views.DatabaseBusy, match="The dashboard is busy"):
            views.fetch("agent_directory")
        assert time.monotonic() - started < db.POOL_TIMEOUT_S + 10

        views.clear_cache()
        started = time.monotonic()
        at.run()
        # Only the first view waits for a connection; the rest of the page does not wait again.
        assert time.monotonic() - started < 2 * db.POOL_TIMEOUT_S + 15
        assert not at.exception
        assert len(notices_containing(at, "The dashboard is busy")) == 1
    finally:
        for conn in held:
            conn.close()
    at.run()
    assert not at.exception
    assert not notices_containing(at, "busy")
    assert {m.label: m.value for m in at.metric}["Messages"] == "14"


# --- A write that loses its connection halfway ---------------------------------------------------------


@pytest.fixture(scope="module")
def installed_db(new_database) -> str:
    return prepared(new_database("faults_write"), refresh=False)


@pytest.fixture
def config(dashboard_data_dir) -> auth.AuthConfig:
    return auth.load_auth_config({}, os.environ, dashboard_data_dir, embedded=False)


def admin_user() -> auth.User:
    return auth.User(ACCOUNTS["admin"]["username"], "admin", time.time())


def snapshot(url: str) -> tuple:
    engine = admin_engine(url)
    with engine.connect() as conn:
        agents = conn.execute(sa.text("select id::text, name, is_active from agents order by id")).all()
        preferences = conn.execute(
            sa.text("select agent_id, chat_id, model_type from model_preferences order by 1, 2")
        ).all()
        audit = conn.execute(sa.text("select count(*) from lillo_dash.audit_log")).scalar_one()
    engine.dispose()
    return agents, preferences, audit


def terminate(url: str, conn: sa.Connection) -> None:
    """End `conn`'s server process from another connection, as a crash or a failover would."""
    pid = conn.connection.driver_connection.info.backend_pid
    killer = admin_engine(url)
    with killer.connect() as other:
        assert other.execute(sa.text("select pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    killer.dispose()


def killed_at_audit_row(monkeypatch, url: str, nth: int) -> None:
    """Make store.apply lose its connection just before writing its `nth` audit row."""
    original = store.run_statement
    calls = []

    def run_statement(conn, name, values):
        if name == "insert_audit":
            calls.append(name)
            if len(calls) == nth:
                terminate(url, conn)
        return original(conn, name, values)

    monkeypatch.setattr(store, "run_statement", run_statement)


def agent_renames(url: str) -> list[store.RowChange]:
    engine = admin_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select id::text as agent_id, name, is_active, capabilities, character_config,"
                " system_identity from agents where id::text in (:a, :b) order by id"
            ),
            {"a": fx.ALPHA, "b": fx.BETA},
        ).mappings()
        before = [dict(row) for row in rows]
    engine.dispose()
    return [
        store.RowChange("agents", {"agent_id": row["agent_id"]}, row, row | {"name": f"{row['name']} II"})
        for row in before
    ]


def test_a_batch_losing_its_connection_halfway_writes_nothing(monkeypatch, installed_db, config):
    writer = writer_engine(installed_db, statement_timeout_ms=5_000)
    changes = agent_renames(installed_db)
    before = snapshot(installed_db)
    # The first agent and its audit row are written in the transaction when the second audit row fails.
    killed_at_audit_row(monkeypatch, installed_db, nth=2)
    with pytest.raises(store.WriteRefused) as refused:
        store.apply(writer, config, admin_user(), changes, "rename both")
    assert str(refused.value).startswith("Nothing was written: the connection to the database was lost")
    assert snapshot(installed_db) == before
    # The writer's pool recovers: the same change goes through on the next try.
    monkeypatch.undo()
    assert store.apply(writer, config, admin_user(), changes, "rename both") == 2
    agents, _, audit = snapshot(installed_db)
    assert audit == before[2] + 2
    assert {name for _, name, _ in agents} >= {"Alpha II", "Beta II"}
    writer.dispose()


def test_a_model_batch_losing_its_connection_halfway_writes_nothing(monkeypatch, installed_db, config):
    reader = reader_engine(installed_db, statement_timeout_ms=5_000)
    writer = writer_engine(installed_db, statement_timeout_ms=5_000)
    pairs = [
        {"agent_id": fx.ALPHA, "chat_id": fx.PRIVATE_CHAT, "n_messages": None},
        {"agent_id": fx.BETA, "chat_id": fx.OTHER_PRIVATE_CHAT, "n_messages": None},
    ]
    planned = model_tuning.preview(reader, pairs, "GROK")
    assert len(planned.changes) == 2
    before = snapshot(installed_db)
    killed_at_audit_row(monkeypatch, installed_db, nth=2)
    with pytest.raises(store.WriteRefused, match="Nothing was written"):
        store.apply(writer, config, admin_user(), planned.changes, "try Grok")
    assert snapshot(installed_db) == before
    reader.dispose()
    writer.dispose()


def test_a_connection_lost_while_committing_is_not_called_nothing_written(installed_db, config):
    writer = writer_engine(installed_db, statement_timeout_ms=5_000)
    [change, _] = agent_renames(installed_db)
    # Whether the server committed before the connection went is unknown to the dashboard.
    sa.event.listen(writer, "commit", lambda conn: terminate(installed_db, conn))
    with pytest.raises(store.WriteRefused, match="may or may not have been written"):
        store.apply(writer, config, admin_user(), [change], "rename")
    writer.dispose()
