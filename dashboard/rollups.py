"""Incremental refresh of the rollup tables in schema lillo_dash (see sql/install/002_rollups.sql).

New rows are found by id, not by timestamp: every row with an id above the source's watermark is
added to the rollups of the hour (and day) its own timestamp falls in, so rows that arrive late
for an earlier day, or with a second epoch, land where they belong. One refresher runs at a time
(a transaction-level advisory lock); a second one waits, then finds nothing left to do.

Sums are added with INSERT … ON CONFLICT; activity sketches are OR-ed. Deleted or edited raw rows
are not seen by an incremental refresh: `refresh(engine, full=True)` rebuilds everything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dashboard.views import expand_macros

SKETCH_BITS = 131_072  # must match bit(131072) in sql/install/002_rollups.sql
ALL_AGENTS = "*"
ADVISORY_LOCK_KEY = 7_424_001  # any constant: all refreshers of one database share it
# Rows per pass over a source: bounds the memory used to build sketches on a first build.
BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class RefreshReport:
    messages_added: int
    commands_added: int
    elapsed_s: float
    full: bool
    # Built from empty (a rebuild, or the first refresh after install).
    first_build: bool = False
    # The messages' rollups too, which then get their indexes rebuilt (see refresh).
    from_empty: bool = False

    def __str__(self) -> str:
        kind = "full rebuild" if self.full else "incremental refresh"
        return (
            f"{kind}: {self.messages_added:,} messages and {self.commands_added:,} commands added "
            f"in {self.elapsed_s:.2f} s"
        )


# Every table the refresh writes (sql/install/002_rollups.sql, 009_samples.sql): analysed,
# vacuumed and emptied together.
ROLLUP_TABLE_NAMES = tuple(
    f"lillo_dash.{table}"
    for table in (
        "message_hourly",
        "chat_activity",
        "chat_totals",
        "chat_sizes",
        "chat_people",
        "chat_people_hours",
        "person_totals",
        "activity_daily",
        "activity_hourly",
        "command_hourly",
        "command_duration_histogram",
        "reply_latency_histogram",
        "person_weeks",
        "retention_weekly",
        "command_failures",
        "command_calls",
        "reply_samples",
    )
)
ROLLUP_TABLES = ", ".join(ROLLUP_TABLE_NAMES)

_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        "watermark": "select last_id from lillo_dash.refresh_state where source = :source for update",
        "max_message_id": "select coalesce(max(id), 0) from chat_messages",
        "max_command_id": "select coalesce(max(id), 0) from command_metrics",
        "count_messages": "select count(*) from chat_messages where id > :lo and id <= :hi",
        "count_commands": "select count(*) from command_metrics where id > :lo and id <= :hi",
        "staged": "select to_regclass('pg_temp.new_messages') is not null",
        "stage_table": """
            create temp table if not exists new_messages (
                id bigint, chat_id bigint, user_id bigint, agent_id text, role text, sent_ms bigint
            ) on commit drop
        """,
        "stage_clear": "truncate pg_temp.new_messages",
        "stage": """
            insert into pg_temp.new_messages (id, chat_id, user_id, agent_id, role, sent_ms)
            select m.id, m.chat_id, m.user_id, m.agent_id, m.role, epoch_ms(m.timestamp)
            from chat_messages as m
            where m.id > :lo and m.id <= :hi
        """,
        "stage_analyze": "analyze pg_temp.new_messages",
        # The id ending a batch of :n rows from :lo, when (lo, hi] holds more than that.
        "batch_end": """
            select m.id from chat_messages as m
            where m.id > :lo and m.id <= :hi
            order by m.id
            offset :n - 1 limit 1
        """,
        "save_watermark": """
            insert into lillo_dash.refresh_state as s (source, last_id, n_rows, refreshed_at)
            values (:source, :last_id, :n_rows, now())
            on conflict (source) do update
            set last_id = excluded.last_id, n_rows = s.n_rows + excluded.n_rows, refreshed_at = now()
        """,
        "message_hourly": """
            insert into lillo_dash.message_hourly as r (hour_start, agent_id, role, n_messages, last_ms)
            select
                date_trunc('hour', to_timestamp(m.sent_ms / 1000.0)),
                m.agent_id, m.role, count(*), max(m.sent_ms)
            from pg_temp.new_messages as m
            group by 1, 2, 3
            on conflict (hour_start, agent_id, role) do update
            set n_messages = r.n_messages + excluded.n_messages,
                last_ms = greatest(r.last_ms, excluded.last_ms)
        """,
        "chat_activity": """
            insert into lillo_dash.chat_activity as r
                (grain, period_start, chat_id, agent_id, n_messages, n_user_messages, last_ms)
            select
                grain.name,
                date_trunc(grain.name, to_timestamp(m.sent_ms / 1000.0)),
                m.chat_id, m.agent_id, count(*), count(*) filter (where m.role = 'user'), max(m.sent_ms)
            from pg_temp.new_messages as m
            cross join (values ('hour'), ('day')) as grain (name)
            group by 1, 2, 3, 4
            on conflict (grain, period_start, chat_id, agent_id) do update
            set n_messages = r.n_messages + excluded.n_messages,
                n_user_messages = r.n_user_messages + excluded.n_user_messages,
                last_ms = greatest(r.last_ms, excluded.last_ms)
        """,
        "chat_totals": """
            insert into lillo_dash.chat_totals as r (chat_id, agent_id, n_messages)
            select m.chat_id, m.agent_id, count(*)
            from pg_temp.new_messages as m
            group by 1, 2
            on conflict (chat_id, agent_id) do update set n_messages = r.n_messages + excluded.n_messages
        """,
        "chat_sizes": """
            insert into lillo_dash.chat_sizes as r (chat_id, n_messages)
            select m.chat_id, count(*)
            from pg_temp.new_messages as m
            group by 1
            on conflict (chat_id) do update set n_messages = r.n_messages + excluded.n_messages
        """,
        # chat_people (with its hours, chat_people_hours) and person_totals in one statement, whose
        # parts all see chat_people as it was before the batch. person_totals is chat_people summed
        # per person (and agent), so adding the batch to it keeps it so; a row of chat_people the
        # batch created (its count is the batch's: an updated row had at least one message before)
        # adds a chat to the person and agent, and to the person's all-agents row unless they had
        # written in that chat to another agent before.
        "people": """
            with new_people as (
                select
                    m.chat_id, m.user_id, m.agent_id, count(*) as n_messages,
                    min(m.sent_ms) as first_ms, max(m.sent_ms) as last_ms,
                    array_agg(distinct h.hour order by h.hour) as hours
                from pg_temp.new_messages as m
                cross join lateral (select floor(m.sent_ms / 3600000.0)::integer as hour) as h
                where m.role = 'user'
                group by 1, 2, 3
            ),

            hours as (
                insert into lillo_dash.chat_people_hours as r (chat_id, user_id, agent_id, hours)
                select chat_id, user_id, agent_id, hours
                from new_people
                on conflict (chat_id, user_id, agent_id) do update
                set hours = lillo_dash.sorted_union(r.hours, excluded.hours)
                -- Most new messages fall in an hour the person already wrote in: no new row version.
                where not r.hours @> excluded.hours
            ),

            upserted as (
                insert into lillo_dash.chat_people as r
                    (chat_id, user_id, agent_id, n_messages, first_ms, last_ms)
                select chat_id, user_id, agent_id, n_messages, first_ms, last_ms
                from new_people
                on conflict (chat_id, user_id, agent_id) do update
                set n_messages = r.n_messages + excluded.n_messages,
                    first_ms = least(r.first_ms, excluded.first_ms),
                    last_ms = greatest(r.last_ms, excluded.last_ms)
                returning r.chat_id, r.user_id, r.agent_id, r.n_messages
            ),

            people as (
                select n.*, u.n_messages = n.n_messages as is_new_pair
                from new_people as n
                inner join upserted as u
                    on u.chat_id = n.chat_id and u.user_id = n.user_id and u.agent_id = n.agent_id
            ),

            levels as (
                select
                    user_id, agent_id, sum(n_messages) as n_messages,
                    count(*) filter (where is_new_pair) as n_new_chats,
                    min(first_ms) as first_ms, max(last_ms) as last_ms
                from people
                group by 1, 2
                union all
                select
                    p.user_id, '*', sum(p.n_messages),
                    count(distinct p.chat_id) filter (
                        where p.is_new_pair and not exists (
                            select from lillo_dash.chat_people as x
                            where x.chat_id = p.chat_id and x.user_id = p.user_id
                        )
                    ),
                    min(p.first_ms), max(p.last_ms)
                from people as p
                group by 1
            )

            insert into lillo_dash.person_totals as r
                (user_id, agent_id, n_messages, n_chats, first_ms, last_ms)
            select user_id, agent_id, n_messages, n_new_chats, first_ms, last_ms
            from levels
            on conflict (user_id, agent_id) do update
            set n_messages = r.n_messages + excluded.n_messages,
                n_chats = r.n_chats + excluded.n_chats,
                first_ms = least(r.first_ms, excluded.first_ms),
                last_ms = greatest(r.last_ms, excluded.last_ms)
        """,
        "activity_hourly": """
            with bits as (
                select
                    date_trunc('hour', to_timestamp(m.sent_ms / 1000.0)) as hour_start,
                    agent.id as agent_id,
                    case when m.role = 'user' then lillo_dash.sketch_bit(m.user_id) end as user_bit,
                    lillo_dash.sketch_bit(m.chat_id) as chat_bit
                from pg_temp.new_messages as m
                cross join lateral (values (m.agent_id), ('*')) as agent (id)
            )
            insert into lillo_dash.activity_hourly as r (hour_start, agent_id, user_bits, chat_bits)
            select
                hour_start, agent_id,
                coalesce(array_agg(distinct user_bit) filter (where user_bit is not null), '{}'),
                array_agg(distinct chat_bit)
            from bits
            group by 1, 2
            on conflict (hour_start, agent_id) do update
            set user_bits = array(select distinct b from unnest(r.user_bits || excluded.user_bits) as b),
                chat_bits = array(select distinct b from unnest(r.chat_bits || excluded.chat_bits) as b)
        """,
        # One row per (day, agent, user bit, chat bit); the user bit is -1 for non-user messages.
        "daily_bits": """
            select
                extract(epoch from date_trunc('day', to_timestamp(m.sent_ms / 1000.0)))::bigint,
                m.agent_id,
                case when m.role = 'user' then lillo_dash.sketch_bit(m.user_id) else -1 end,
                lillo_dash.sketch_bit(m.chat_id)
            from pg_temp.new_messages as m
            group by 1, 2, 3, 4
        """,
        "merge_daily": """
            insert into lillo_dash.activity_daily as r (day_start, agent_id, users, chats)
            select
                to_timestamp(s.day_s), s.agent_id,
                ('x' || encode(s.users, 'hex'))::bit(131072),
                ('x' || encode(s.chats, 'hex'))::bit(131072)
            from pg_temp.new_daily as s
            on conflict (day_start, agent_id) do update
            set users = r.users | excluded.users, chats = r.chats | excluded.chats
            -- Bits already set (people and chats already seen that day) leave the maps as they are.
            where (r.users | excluded.users, r.chats | excluded.chats) is distinct from (r.users, r.chats)
        """,
        "command_hourly": """
            with attributed as (
                select
                    date_trunc('hour', to_timestamp(epoch_ms(c.timestamp) / 1000.0)) as hour_start,
                    command_name(c.command) as command,
                    last_speaker(c) as agent_id,
                    c.success,
                    lillo_dash.duration_bucket(c.duration) as bucket
                from command_metrics as c
                where c.id > :lo and c.id <= :hi
            ),
            -- Each command counted at four levels: its command and agent, all agents ('*'), all
            -- commands ('*'), and both; a view reads exactly one level.
            levels as (
                select a.hour_start, level.command, level.agent_id, a.success, a.bucket
                from attributed as a
                cross join lateral (
                    values (a.command, a.agent_id), (a.command, '*'), ('*', a.agent_id), ('*', '*')
                ) as level (command, agent_id)
            ),
            hourly as (
                insert into lillo_dash.command_hourly as r
                    (hour_start, command, agent_id, n_calls, n_failures)
                select hour_start, command, agent_id, count(*), count(*) filter (where not success)
                from levels
                group by 1, 2, 3
                on conflict (hour_start, command, agent_id) do update
                set n_calls = r.n_calls + excluded.n_calls, n_failures = r.n_failures + excluded.n_failures
            )
            insert into lillo_dash.command_duration_histogram as r
                (grain, period_start, command, agent_id, bucket, n_calls)
            select grain.name, date_trunc(grain.name, a.hour_start), a.command, a.agent_id, a.bucket, count(*)
            from levels as a
            cross join (values ('hour'), ('day')) as grain (name)
            group by 1, 2, 3, 4, 5
            on conflict (grain, period_start, command, agent_id, bucket) do update
            set n_calls = r.n_calls + excluded.n_calls
        """,
        # After a rebuild the planner must know the new sizes before the first view reads them.
        "analyze": f"analyze {ROLLUP_TABLES}",
        # Marks the pages of a rebuild all-visible, so the views' covering indexes are read without
        # visiting the table (index-only scans); autovacuum keeps later pages so.
        "vacuum": f"vacuum {ROLLUP_TABLES}",
        "truncate": f"truncate {ROLLUP_TABLES}",
        "owned_tables": """
            select t.name
            from unnest(cast(:tables as text[])) as t (name)
            inner join pg_class as c on c.oid = to_regclass(t.name)
            where pg_has_role(c.relowner, 'USAGE')
        """,
        "forget_watermarks": "delete from lillo_dash.refresh_state",
    }.items()
}


def _daily_rows(bits: list[tuple]) -> list[tuple]:
    """(day start s, agent, users bit map, chats bit map) for every (day, agent) and (day, '*') the
    bits touch. Bit p is bit (7 - p % 8) of byte p // 8: the order PostgreSQL reads from hex."""
    if not bits:
        return []
    days = np.array([row[0] for row in bits], dtype=np.int64)
    agent_codes, agent_ids = pd.factorize(pd.Series([row[1] for row in bits], dtype=object))
    user_bits = np.array([row[2] for row in bits], dtype=np.int64)
    chat_bits = np.array([row[3] for row in bits], dtype=np.int64)
    agent_names = [*agent_ids, ALL_AGENTS]
    rows = []
    for agents in (agent_codes.astype(np.int64), np.full(len(bits), len(agent_ids), dtype=np.int64)):
        keys, which = np.unique(days * len(agent_names) + agents, return_inverse=True)
        users = _bitmaps(len(keys), which[user_bits >= 0], user_bits[user_bits >= 0])
        chats = _bitmaps(len(keys), which, chat_bits)
        for i, key in enumerate(keys):
            day_s, agent = divmod(int(key), len(agent_names))
            rows.append((day_s, agent_names[agent], users[i].tobytes(), chats[i].tobytes()))
    return rows


def _bitmaps(n_keys: int, which: np.ndarray, positions: np.ndarray) -> np.ndarray:
    maps = np.zeros((n_keys, SKETCH_BITS // 8), dtype=np.uint8)
    np.bitwise_or.at(maps, (which, positions // 8), (0x80 >> (positions % 8)).astype(np.uint8))
    return maps


def _merge_daily(conn: sa.Connection) -> None:
    rows = _daily_rows(conn.execute(_SQL["daily_bits"]).all())
    if not rows:
        return
    conn.exec_driver_sql(
        "create temp table if not exists new_daily "
        "(day_s bigint, agent_id text, users bytea, chats bytea) on commit drop"
    )
    conn.exec_driver_sql("truncate pg_temp.new_daily")
    cursor = conn.connection.driver_connection.cursor()
    # Binary COPY: the maps go over the wire as raw bytes, not escaped text.
    with cursor.copy(
        "copy pg_temp.new_daily (day_s, agent_id, users, chats) from stdin (format binary)"
    ) as copy:
        copy.set_types(["int8", "text", "bytea", "bytea"])
        for row in rows:
            copy.write_row(row)
    conn.execute(_SQL["merge_daily"])


_STAGED = "lillo_dash.new_messages"  # conn.info key: the (lo, hi, n_rows) pg_temp.new_messages holds


def message_batches(conn: sa.Connection, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """Id ranges (start, end] that cover (lo, hi] with at most BATCH_ROWS messages each: batches by
    rows, not by ids, so that ids skipped by rolled-back inserts never split a small refresh."""
    start = lo
    while start < hi:
        end = conn.execute(_SQL["batch_end"], {"lo": start, "hi": hi, "n": BATCH_ROWS}).scalar() or hi
        yield start, end
        start = end


def stage_messages(conn: sa.Connection, lo: int, hi: int) -> int:
    """Copy chat_messages rows with ids in (lo, hi] into pg_temp.new_messages (dropped at commit),
    unless it holds them already; return how many there are. Every rollup of messages reads the
    batch from there: one index scan of Lillo's table instead of one per rollup, and, analysed, a
    table whose size and spread the planner knows (few people, not an estimated third of them)."""
    staged = conn.info.get(_STAGED)
    if staged and staged[:2] == (lo, hi) and conn.execute(_SQL["staged"]).scalar_one():
        return staged[2]
    conn.execute(_SQL["stage_table"])
    conn.execute(_SQL["stage_clear"])
    n_rows = conn.execute(_SQL["stage"], {"lo": lo, "hi": hi}).rowcount
    conn.execute(_SQL["stage_analyze"])
    conn.info[_STAGED] = (lo, hi, n_rows)
    return n_rows


def count_messages(conn: sa.Connection, lo: int, hi: int) -> int:
    """Rows of chat_messages with ids in (lo, hi]: the staged batch's count when it is that range."""
    if hi <= lo:
        return 0
    staged = conn.info.get(_STAGED)
    if staged and staged[:2] == (lo, hi) and conn.execute(_SQL["staged"]).scalar_one():
        return staged[2]
    return conn.execute(_SQL["count_messages"], {"lo": lo, "hi": hi}).scalar_one()


_MESSAGE_STEPS = ("message_hourly", "chat_activity", "chat_totals", "chat_sizes", "people", "activity_hourly")


def _refresh_messages(conn: sa.Connection, lo: int, hi: int) -> None:
    for start, end in message_batches(conn, lo, hi):
        stage_messages(conn, start, end)
        for step in _MESSAGE_STEPS:
            conn.execute(_SQL[step])
        _merge_daily(conn)


def _count_commands(conn: sa.Connection, lo: int, hi: int) -> int:
    return conn.execute(_SQL["count_commands"], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0


def _refresh_commands(conn: sa.Connection, lo: int, hi: int) -> None:
    for start in range(lo, hi, BATCH_ROWS):
        conn.execute(_SQL["command_hourly"], {"lo": start, "hi": min(start + BATCH_ROWS, hi)})


def refresh(engine: sa.Engine, *, full: bool = False, wait: bool = True) -> RefreshReport | None:
    """Bring the rollups up to date with Lillo's tables; `full` rebuilds them from scratch.

    While another refresher holds the lock, wait for it (then add only what is still new), or
    with `wait=False` return None at once."""
    with engine.begin() as conn:
        report = refresh_in_transaction(conn, full=full, wait=wait)
    if report and report.first_build:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(_SQL["vacuum"].text)
            if report.from_empty:
                _rebuild_indexes(conn)
    return report


def _rebuild_indexes(conn: sa.Connection) -> None:
    """A build adds each batch of messages to the rows of the batches before it (upserts), and the
    indexes of the rows it updates end up several times their size (chat_people's by first message:
    156 MB for 434k rows at 10M messages, 39 MB rebuilt), which every view and refresh after it
    reads. Rebuilt once the build is committed and vacuumed (inside its transaction the rows it
    replaced would be indexed too), concurrently so no reader waits. Only a table's owner may."""
    owned = set(conn.execute(_SQL["owned_tables"], {"tables": list(ROLLUP_TABLE_NAMES)}).scalars())
    for table in ROLLUP_TABLE_NAMES:
        if table in owned:
            conn.exec_driver_sql(f"reindex table concurrently {table}")


def refresh_in_transaction(
    conn: sa.Connection, *, full: bool = False, wait: bool = True
) -> RefreshReport | None:
    """`refresh` inside the caller's transaction (the benchmark times it and rolls back)."""
    started = time.perf_counter()
    added = {}
    conn.exec_driver_sql("set local timezone = 'UTC'")
    if wait:
        conn.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif not conn.execute(
        sa.text("select pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
    ).scalar():
        return None
    if full:
        conn.exec_driver_sql(_SQL["truncate"].text)
        conn.execute(_SQL["forget_watermarks"])
    first_build = full
    # Never built (no watermark yet; an empty table's is 0): the rollups are built from empty.
    from_empty = full or conn.execute(_SQL["watermark"], {"source": "chat_messages"}).scalar() is None
    for source, step, max_id, count in (
        ("chat_messages", _refresh_messages, "max_message_id", count_messages),
        ("command_metrics", _refresh_commands, "max_command_id", _count_commands),
    ):
        lo = conn.execute(_SQL["watermark"], {"source": source}).scalar() or 0
        hi = conn.execute(_SQL[max_id]).scalar_one()
        first_build = first_build or lo == 0
        if hi > lo:
            step(conn, lo, hi)
        n_added = count(conn, lo, hi)
        conn.execute(_SQL["save_watermark"], {"source": source, "last_id": max(hi, lo), "n_rows": n_added})
        added[source] = n_added
    # Rollups with watermarks of their own (added after the others: a database whose other
    # rollups predate them builds them on its next refresh).
    from dashboard import (
        rollups_calls,
        rollups_failures,
        rollups_models,
        rollups_replies,
        rollups_retention,
    )

    for source in (rollups_replies, rollups_retention, rollups_failures, rollups_calls, rollups_models):
        first_build = source.refresh(conn) or first_build
    if first_build:
        conn.exec_driver_sql(_SQL["analyze"].text)
    return RefreshReport(
        added["chat_messages"],
        added["command_metrics"],
        time.perf_counter() - started,
        full,
        first_build,
        from_empty,
    )
