"""Rollup variants give the raw views' answers — exactly for counts and sums, within the stated
error for distinct counts and percentiles — before and after incremental refreshes."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import rollups, views
from dashboard.config import SQL_DIR
from dashboard.db import admin_engine
from dashboard.install import install_dashboard_objects
from dashboard.live_schema import introspect
from tests import fixture_data as fx
from tests.databases import prepared

ESTIMATED = {"n_active_users", "n_active_chats", "n_chats"}
# Estimated in one view only: model_comparison's OPENAI people (everyone from the user sketches less
# those who wrote only to pairs on other models).
ESTIMATED_IN = {"model_comparison": {"n_people"}}
PERCENTILES = {
    "p50_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
    "median_ms",
    "p90_ms",
    "command_p95_ms",
}


def installed_fixture(new_database, prefix: str, *, refreshed: bool = True) -> sa.Engine:
    """A fresh database with the hand-made fixture and the dashboard's objects (rollups built
    unless `refreshed` is False)."""
    return admin_engine(prepared(new_database(prefix), refresh=refreshed))


@pytest.fixture(scope="module")
def rollup_db(new_database):
    """The hand-made fixture with the dashboard's objects installed and rollups built."""
    engine = installed_fixture(new_database, "rollup")
    yield engine
    engine.dispose()


def hour_aligned(**overrides) -> dict:
    end = fx.ANCHOR + timedelta(hours=5)
    base = {
        "start_ms": int((end - timedelta(days=7)).timestamp() * 1000),
        "end_ms": int(end.timestamp() * 1000),
        "previous_start_ms": int((end - timedelta(days=14)).timestamp() * 1000),
        "agent_ids": [],
        "tz": "UTC",
        "bucket": "day",
        "chat_id": fx.GROUP_CHAT,
        "limit": 10,
        "offset": 0,
        "kind": "all",
        "min_messages": 1,
        "participant": None,
        "person": None,
        "sort": "messages",
        "agent_id": fx.ALPHA,
        "command": "",
        "current_model": "all",
        "cohort_week": (end - timedelta(days=7)).date().isoformat(),
        # Off the hour: model_change_effect reads the pieces of hours at the periods' ends live.
        "changed_at_ms": int((fx.ANCHOR - timedelta(days=2, minutes=43, seconds=3.5)).timestamp() * 1000),
        "window_days": 3,
    }
    return base | overrides


def both_variants(engine, name: str, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as conn:
        schema = introspect(conn)
        assert schema.rollups_ready
        raw = views.run_view(conn, schema, name, params, rollup=False)
        rolled = views.run_view(conn, schema, name, params, rollup=True)
    return raw, rolled


def assert_same(
    raw: pd.DataFrame, rolled: pd.DataFrame, *, tolerance: float = 0.0, estimated: set[str] = frozenset()
) -> None:
    assert list(raw.columns) == list(rolled.columns)
    assert len(raw) == len(rolled)
    for column in raw.columns:
        if column in PERCENTILES:
            # Histogram buckets are 2% wide; each stands for its middle. A percentile of nothing
            # (a model without replies) is null in both.
            assert rolled[column].astype(float).tolist() == pytest.approx(
                raw[column].astype(float).tolist(), rel=0.01, nan_ok=True
            ), column
        elif column in ESTIMATED | estimated or pd.api.types.is_float_dtype(raw[column]):
            # nan_ok: a rate over nothing (agent_usage's success rate without commands) is null in both.
            assert rolled[column].astype(float).tolist() == pytest.approx(
                raw[column].astype(float).tolist(), rel=tolerance or 1e-9, nan_ok=True
            ), column
        else:
            assert rolled[column].tolist() == raw[column].tolist(), column


RANGES = {
    "week to 05:00": {},
    "whole days": {
        "start_ms": int((fx.ANCHOR - timedelta(days=7)).timestamp() * 1000),
        "end_ms": int(fx.ANCHOR.timestamp() * 1000),
        "previous_start_ms": int((fx.ANCHOR - timedelta(days=14)).timestamp() * 1000),
    },
    "all time": {"start_ms": 0, "previous_start_ms": 0},
    "one day": {
        "start_ms": int((fx.ANCHOR - timedelta(days=3, hours=13)).timestamp() * 1000),
        "end_ms": int((fx.ANCHOR - timedelta(days=2, hours=13)).timestamp() * 1000),
        "previous_start_ms": int((fx.ANCHOR - timedelta(days=4, hours=13)).timestamp() * 1000),
    },
}


@pytest.mark.parametrize("name", [n for n in views.view_names() if views.has_rollup(n)])
@pytest.mark.parametrize("range_name", list(RANGES))
@pytest.mark.parametrize("agent_ids", [[], [fx.BETA, fx.GHOST]])
def test_rollup_equals_raw_on_fixture(rollup_db, name, range_name, agent_ids):
    raw, rolled = both_variants(rollup_db, name, hour_aligned(**RANGES[range_name], agent_ids=agent_ids))
    assert_same(raw, rolled)


def add_rows(engine, *, first_message_id: int, moments: list, unit: str, agent_id: str = fx.ALPHA) -> None:
    """New messages (a user message and a reply each) and one command per moment."""
    messages, commands = [], []
    for i, moment in enumerate(moments):
        stamp = int(moment.timestamp() * 1000) if unit == "ms" else int(moment.timestamp())
        for j, role in enumerate(("user", "assistant")):
            messages.append(
                {
                    "message_id": first_message_id + 2 * i + j,
                    "chat_id": fx.GROUP_CHAT,
                    "user_id": 700 + i,
                    "user_first_name": "New",
                    "role": role,
                    "content": "late",
                    "timestamp": stamp,
                    "agent_id": agent_id,
                }
            )
        commands.append(
            {
                "command": "/img",
                "user_id": 700 + i,
                "chat_id": fx.GROUP_CHAT,
                "duration": 1000 + i,
                "success": i % 2 == 0,
                "timestamp": stamp + (1000 if unit == "ms" else 1),
            }
        )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                " timestamp, agent_id) values (:message_id, :chat_id, :user_id, :user_first_name, :role,"
                " :content, :timestamp, :agent_id)"
            ),
            messages,
        )
        conn.execute(
            sa.text(
                "insert into command_metrics (command, user_id, chat_id, duration, success, timestamp)"
                " values (:command, :user_id, :chat_id, :duration, :success, :timestamp)"
            ),
            commands,
        )


def assert_all_views_match(engine, **overrides) -> None:
    for name in (n for n in views.view_names() if views.has_rollup(n)):
        for range_name, bounds in RANGES.items():
            raw, rolled = both_variants(engine, name, hour_aligned(**bounds, **overrides))
            try:
                assert_same(raw, rolled)
            except AssertionError as error:
                raise AssertionError(f"{name}, {range_name}: {error}") from error


def test_new_late_and_second_epoch_rows_before_and_after_refresh(new_database):
    engine = installed_fixture(new_database, "incremental")
    # Late rows for days the rollups already hold, in milliseconds and in seconds, and a new agent.
    add_rows(engine, first_message_id=1000, moments=[fx.ANCHOR - timedelta(days=3, hours=2)] * 3, unit="ms")
    add_rows(engine, first_message_id=2000, moments=[fx.ANCHOR - timedelta(days=9, minutes=30)], unit="s")
    add_rows(
        engine, first_message_id=3000, moments=[fx.ANCHOR + timedelta(hours=1)], unit="ms", agent_id="new-bot"
    )
    assert_all_views_match(engine)  # counted live, above the watermark
    assert_all_views_match(engine, agent_ids=["new-bot", fx.ALPHA])
    report = rollups.refresh(engine)
    assert (report.messages_added, report.commands_added) == (10, 5)
    assert_all_views_match(engine)  # now from the rollups
    assert_all_views_match(engine, agent_ids=["new-bot", fx.ALPHA])
    assert rollups.refresh(engine).messages_added == 0
    assert stored_hours(engine) == hours_from_messages(engine)
    engine.dispose()


def stored_hours(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select chat_id, user_id, agent_id, hours from lillo_dash.chat_people_hours")
        )
        return {(r.chat_id, r.user_id, r.agent_id): list(r.hours) for r in rows}


def hours_from_messages(engine) -> dict:
    """Each person's UTC hours per chat and agent, from the raw rows in pandas (the epoch rule:
    values up to 1e11 are seconds)."""
    with engine.connect() as conn:
        rows = pd.read_sql(
            sa.text("select chat_id, user_id, agent_id, timestamp from chat_messages where role = 'user'"),
            conn,
        )
    ms = np.where(rows["timestamp"] > views.MS_THRESHOLD, rows["timestamp"], rows["timestamp"] * 1000)
    rows["hour"] = np.floor_divide(ms, 3_600_000)
    return {
        key: sorted(int(h) for h in set(group["hour"]))
        for key, group in rows.groupby(["chat_id", "user_id", "agent_id"])
    }


def test_hours_of_people_built_by_install_on_rollups_without_them(rollup_db):
    """A database whose rollups predate chat_people_hours gets them from Lillo's rows when the
    install runs again."""
    want = hours_from_messages(rollup_db)
    assert stored_hours(rollup_db) == want
    with rollup_db.begin() as conn:
        conn.execute(sa.text("truncate lillo_dash.chat_people_hours"))
    install_dashboard_objects(rollup_db)
    assert stored_hours(rollup_db) == want


def test_concurrent_refreshers_do_not_double_count(new_database):
    from concurrent.futures import ThreadPoolExecutor

    engine = installed_fixture(new_database, "concurrent", refreshed=False)
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: rollups.refresh(engine), range(4)))
    assert sum(r.messages_added for r in reports) == len(fx.messages())
    assert not rollups.refresh(engine, wait=False).messages_added
    with engine.connect() as conn:
        total = conn.execute(sa.text("select sum(n_messages) from lillo_dash.message_hourly")).scalar_one()
    assert total == len(fx.messages())
    assert_all_views_match(engine)
    engine.dispose()


def test_full_rebuild_sees_deleted_rows(rollup_db):
    with rollup_db.begin() as conn:
        conn.execute(
            sa.text("delete from chat_messages where message_id = 17 and chat_id = :chat"),
            {"chat": fx.GROUP_CHAT},
        )
    try:
        raw, rolled = both_variants(rollup_db, "message_kpis", hour_aligned())
        assert rolled["n_messages"].sum() == raw["n_messages"].sum() + 1  # incremental cannot see a delete
        rollups.refresh(rollup_db, full=True)
        assert_all_views_match(rollup_db)
    finally:
        fx_row = fx.messages().query("message_id == 17 and chat_id == @fx.GROUP_CHAT").iloc[0]
        with rollup_db.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into chat_messages (message_id, chat_id, user_id, user_first_name, role, content,"
                    " timestamp, agent_id)"
                    " values (17, :chat, 0, 'system', 'system', 'message 17', :ts, :agent)"
                ),
                {"chat": fx.GROUP_CHAT, "ts": int(fx_row["timestamp"]), "agent": fx_row["agent_id"]},
            )
        rollups.refresh(rollup_db, full=True)


@pytest.fixture(scope="module")
def demo_rollups(demo_db):
    engine = admin_engine(demo_db)
    install_dashboard_objects(engine)
    rollups.refresh(engine, full=True)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("name", [n for n in views.view_names() if views.has_rollup(n)])
@pytest.mark.parametrize("range_name", ["week to 05:00", "all time"])
def test_rollup_matches_raw_on_demo_data(demo_rollups, name, range_name):
    now = pd.Timestamp.now(tz="UTC").floor("h")
    bounds = {
        "end_ms": int(now.timestamp() * 1000),
        "start_ms": int((now - pd.Timedelta(days=7)).timestamp() * 1000),
        "previous_start_ms": int((now - pd.Timedelta(days=14)).timestamp() * 1000),
    }
    if range_name == "all time":
        bounds |= {"start_ms": 0, "previous_start_ms": 0}
    raw, rolled = both_variants(demo_rollups, name, hour_aligned(**bounds))
    assert_same(raw, rolled, tolerance=0.02, estimated=ESTIMATED_IN.get(name, set()))


@pytest.mark.parametrize("limit", [1, 2, 5])
@pytest.mark.parametrize("days", [1, 7, 30])
def test_top_chats_pruning_is_exact_on_demo_data(demo_rollups, limit, days):
    """The rollup ranks only chats whose all-time total can reach the range's top; with a small
    limit the first probe holds few chats, so the threshold does the work."""
    now = pd.Timestamp.now(tz="UTC").floor("h")
    bounds = {
        "end_ms": int(now.timestamp() * 1000),
        "start_ms": int((now - pd.Timedelta(days=days)).timestamp() * 1000),
    }
    raw, rolled = both_variants(demo_rollups, "top_chats", hour_aligned(**bounds, limit=limit))
    assert_same(raw, rolled)


@pytest.mark.parametrize("quantile", [0.5, 0.95, 0.99])
def test_histogram_percentiles_within_two_percent(demo_rollups, quantile):
    """Every command with enough calls: the histograms' percentile vs exact percentile_cont."""
    exact_sql = views.expand_macros(
        "select command_name(c.command) as command, count(*) as n,"
        " percentile_cont(:q) within group (order by greatest(c.duration, 0)) as value"
        " from command_metrics as c group by 1 having count(*) >= 20"
    )
    histogram_sql = (
        "select command, bucket, sum(n_calls) as n"
        " from lillo_dash.command_duration_histogram"
        " where grain = 'day' and agent_id = '*' and command <> '*' group by 1, 2"
    )
    with demo_rollups.connect() as conn:
        exact = pd.read_sql(sa.text(exact_sql), conn, params={"q": quantile})
        hist = pd.read_sql(sa.text(histogram_sql), conn)
    assert len(exact) >= 8
    for row in exact.itertuples():
        buckets = hist[hist["command"] == row.command].sort_values("bucket")
        values = [0.0 if b == 0 else 1.02 ** (b - 0.5) for b in buckets["bucket"]]
        estimate = np.percentile(np.repeat(values, buckets["n"].to_numpy().astype(np.int64)), quantile * 100)
        assert estimate == pytest.approx(row.value, rel=0.02, abs=0.5), row.command


def test_install_is_idempotent_and_builds_indexes_concurrently(rollup_db):
    install_dashboard_objects(rollup_db)
    applied = install_dashboard_objects(rollup_db)
    concurrent = [name for name in applied if name.endswith(".concurrently.sql")]
    assert concurrent and applied[-len(concurrent) :] == concurrent  # after the other files
    created = re.findall(
        r"create index concurrently if not exists (\w+)",
        "".join((SQL_DIR / "install" / name).read_text() for name in concurrent),
    )
    with rollup_db.connect() as conn:
        validity = dict(
            conn.execute(
                sa.text(
                    "select c.relname, i.indisvalid from pg_index as i"
                    " join pg_class as c on c.oid = i.indexrelid"
                    " where c.relname = any(:names)"
                ),
                {"names": created},
            ).all()
        )
    assert created and all(validity.get(name) is True for name in created), validity
    assert_all_views_match(rollup_db)


def test_a_rebuild_leaves_rollup_pages_all_visible_for_index_only_scans(rollup_db):
    report = rollups.refresh(rollup_db, full=True)
    assert report.first_build
    with rollup_db.connect() as conn:
        pages = conn.execute(
            sa.text(
                "select relpages, relallvisible from pg_class"
                " where oid = 'lillo_dash.command_duration_histogram'::regclass"
            )
        ).one()
    assert pages.relpages > 0 and pages.relallvisible == pages.relpages


def _index_pages(engine: sa.Engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select i.indexrelid::regclass::text, pg_relation_size(i.indexrelid) / 8192"
                " from pg_index as i where i.indrelid = any(cast(:tables as regclass[]))"
            ),
            {"tables": list(tables)},
        )
        return dict(rows.all())


def test_a_rebuild_in_many_batches_leaves_compact_indexes(demo_rollups, monkeypatch):
    """Each batch of a build updates the rows of the ones before it; the indexes it leaves are as
    small as freshly built ones (without the rebuild chat_people's were about three times the size)."""
    monkeypatch.setattr(rollups, "BATCH_ROWS", 2_000)
    tables = ("lillo_dash.chat_people", "lillo_dash.person_totals", "lillo_dash.chat_totals")
    report = rollups.refresh(demo_rollups, full=True)
    assert report.first_build and report.messages_added > 5 * rollups.BATCH_ROWS
    built = _index_pages(demo_rollups, tables)
    with demo_rollups.begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f"reindex table {table}")
    rebuilt = _index_pages(demo_rollups, tables)
    assert len(built) >= 7
    assert built == pytest.approx(rebuilt, abs=1)
