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

    def __str__(self) -> str:
        kind = "full rebuild" if self.full else "incremental refresh"
        return (
            f"{kind}: {self.messages_added:,} messages and {self.commands_added:,} commands added "
            f"in {self.elapsed_s:.2f} s"
        )


# Every table the refresh writes (sql/install/002_rollups.sql): analysed, vacuumed and emptied together.
ROLLUP_TABLES = ", ".join(
    f"lillo_dash.{table}"
    for table in (
        "message_hourly",
        "chat_activity",
        "chat_totals",
        "chat_sizes",
        "chat_people",
        "person_totals",
        "activity_daily",
        "activity_hourly",
        "command_hourly",
        "command_duration_histogram",
        "reply_latency_histogram",
        "person_weeks",
        "retention_weekly",
        "command_failures",
    )
)

_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        "watermark": "select last_id from lillo_dash.refresh_state where source = :source for update",
        "max_message_id": "select coalesce(max(id), 0) from chat_messages",
        "max_command_id": "select coalesce(max(id), 0) from command_metrics",
        "count_messages": "select count(*) from chat_messages where id > :lo and id <= :hi",
        "count_commands": "select count(*) from command_metrics where id > :lo and id <= :hi",
        "save_watermark": """
            insert into lillo_dash.refresh_state as s (source, last_id, n_rows, refreshed_at)
            values (:source, :last_id, :n_rows, now())
            on conflict (source) do update
            set last_id = excluded.last_id, n_rows = s.n_rows + excluded.n_rows, refreshed_at = now()
        """,
        "message_hourly": """
            insert into lillo_dash.message_hourly as r (hour_start, agent_id, role, n_messages, last_ms)
            select
                date_trunc('hour', to_timestamp(epoch_ms(m.timestamp) / 1000.0)),
                m.agent_id, m.role, count(*), max(epoch_ms(m.timestamp))
            from chat_messages as m
            where m.id > :lo and m.id <= :hi
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
                date_trunc(grain.name, to_timestamp(epoch_ms(m.timestamp) / 1000.0)),
                m.chat_id, m.agent_id, count(*), count(*) filter (where m.role = 'user'),
                max(epoch_ms(m.timestamp))
            from chat_messages as m
            cross join (values ('hour'), ('day')) as grain (name)
            where m.id > :lo and m.id <= :hi
            group by 1, 2, 3, 4
            on conflict (grain, period_start, chat_id, agent_id) do update
            set n_messages = r.n_messages + excluded.n_messages,
                n_user_messages = r.n_user_messages + excluded.n_user_messages,
                last_ms = greatest(r.last_ms, excluded.last_ms)
        """,
        "chat_totals": """
            insert into lillo_dash.chat_totals as r (chat_id, agent_id, n_messages)
            select m.chat_id, m.agent_id, count(*)
            from chat_messages as m
            where m.id > :lo and m.id <= :hi
            group by 1, 2
            on conflict (chat_id, agent_id) do update set n_messages = r.n_messages + excluded.n_messages
        """,
        "chat_sizes": """
            insert into lillo_dash.chat_sizes as r (chat_id, n_messages)
            select m.chat_id, count(*)
            from chat_messages as m
            where m.id > :lo and m.id <= :hi
            group by 1
            on conflict (chat_id) do update set n_messages = r.n_messages + excluded.n_messages
        """,
        "chat_people": """
            insert into lillo_dash.chat_people as r
                (chat_id, user_id, agent_id, n_messages, first_ms, last_ms)
            select
                m.chat_id, m.user_id, m.agent_id, count(*),
                min(epoch_ms(m.timestamp)), max(epoch_ms(m.timestamp))
            from chat_messages as m
            where m.id > :lo and m.id <= :hi and m.role = 'user'
            group by 1, 2, 3
            on conflict (chat_id, user_id, agent_id) do update
            set n_messages = r.n_messages + excluded.n_messages,
                first_ms = least(r.first_ms, excluded.first_ms),
                last_ms = greatest(r.last_ms, excluded.last_ms)
        """,
        # The people this batch touched, recomputed from chat_people (already updated above).
        "person_totals": """
            insert into lillo_dash.person_totals
                (user_id, agent_id, n_messages, n_chats, first_ms, last_ms)
            select
                cp.user_id, level.agent_id, sum(cp.n_messages), count(distinct cp.chat_id),
                min(cp.first_ms), max(cp.last_ms)
            from (
                select distinct m.user_id from chat_messages as m
                where m.id > :lo and m.id <= :hi and m.role = 'user'
            ) as touched
            inner join lillo_dash.chat_people as cp on cp.user_id = touched.user_id
            cross join lateral (values (cp.agent_id), ('*')) as level (agent_id)
            group by 1, 2
            on conflict (user_id, agent_id) do update
            set n_messages = excluded.n_messages, n_chats = excluded.n_chats,
                first_ms = excluded.first_ms, last_ms = excluded.last_ms
        """,
        "activity_hourly": """
            with bits as (
                select
                    date_trunc('hour', to_timestamp(epoch_ms(m.timestamp) / 1000.0)) as hour_start,
                    agent.id as agent_id,
                    case when m.role = 'user' then lillo_dash.sketch_bit(m.user_id) end as user_bit,
                    lillo_dash.sketch_bit(m.chat_id) as chat_bit
                from chat_messages as m
                cross join lateral (values (m.agent_id), ('*')) as agent (id)
                where m.id > :lo and m.id <= :hi
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
                extract(epoch from date_trunc('day', to_timestamp(epoch_ms(m.timestamp) / 1000.0)))::bigint,
                m.agent_id,
                case when m.role = 'user' then lillo_dash.sketch_bit(m.user_id) else -1 end,
                lillo_dash.sketch_bit(m.chat_id)
            from chat_messages as m
            where m.id > :lo and m.id <= :hi
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


def _merge_daily(conn: sa.Connection, lo: int, hi: int) -> None:
    rows = _daily_rows(conn.execute(_SQL["daily_bits"], {"lo": lo, "hi": hi}).all())
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


def _refresh_messages(conn: sa.Connection, lo: int, hi: int) -> None:
    for start in range(lo, hi, BATCH_ROWS):
        end = min(start + BATCH_ROWS, hi)
        conn.execute(_SQL["message_hourly"], {"lo": start, "hi": end})
        conn.execute(_SQL["chat_activity"], {"lo": start, "hi": end})
        conn.execute(_SQL["chat_totals"], {"lo": start, "hi": end})
        conn.execute(_SQL["chat_sizes"], {"lo": start, "hi": end})
        conn.execute(_SQL["chat_people"], {"lo": start, "hi": end})
        conn.execute(_SQL["person_totals"], {"lo": start, "hi": end})
        conn.execute(_SQL["activity_hourly"], {"lo": start, "hi": end})
        _merge_daily(conn, start, end)


def _refresh_commands(conn: sa.Connection, lo: int, hi: int) -> None:
    for start in range(lo, hi, BATCH_ROWS):
        conn.execute(_SQL["command_hourly"], {"lo": start, "hi": min(start + BATCH_ROWS, hi)})


# --- Reply latency ------------------------------------------------------------------------------
# lillo_dash.reply_latency_histogram keeps its own watermark (refresh_state source 'reply_latency'),
# so a database whose other rollups predate the table builds it on its next refresh. Its samples
# (see sql/views/reply_latency.sql) pair each message with the one before it in the same chat and
# agent's history, so a new row can change a stored sample: a late user message between a stored
# pair takes the reply from the earlier one. A refresh therefore recomputes, for each history with
# new rows, the samples from its last row before the earliest new one, adding the samples of all
# rows there and taking away those of the old rows alone: exact, and cheap while rows arrive in
# order (the recomputed tail is then just the new rows and one row before them). The rollup view's
# live part is the same computation; keep the two alike.
REPLIES_SOURCE = "reply_latency"

_REPLY_LATENCY_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        # First build: one pass over the raw rows, sorted by history (no per-row probes).
        "build": """
            with turns as (
                select
                    m.agent_id,
                    m.role,
                    epoch_ms(m.timestamp) as sent_ms,
                    lag(m.role) over history as previous_role,
                    lag(epoch_ms(m.timestamp)) over history as previous_ms
                from chat_messages as m
                where m.id <= :hi and m.role in ('user', 'assistant')
                window history as (partition by m.chat_id, m.agent_id order by epoch_ms(m.timestamp), m.id)
            ),
            hourly as (
                select
                    date_trunc('hour', to_timestamp(sent_ms / 1000.0)) as hour_start,
                    agent_id,
                    lillo_dash.latency_bucket(sent_ms - previous_ms) as bucket,
                    count(*) as n_replies
                from turns
                where role = 'assistant' and previous_role = 'user'
                group by 1, 2, 3
            )
            insert into lillo_dash.reply_latency_histogram (grain, period_start, agent_id, bucket, n_replies)
            select 'hour', hour_start, agent_id, bucket, n_replies from hourly
            union all
            select 'day', date_trunc('day', hour_start), agent_id, bucket, sum(n_replies) from hourly
            group by 2, 3, 4
        """,
        # The histogram rows the changes of ids (lo, hi] emptied are returned, to be deleted.
        "changes": """
            with new_histories as (
                select m.chat_id, m.agent_id, min(epoch_ms(m.timestamp)) as first_new_ms
                from chat_messages as m
                where m.id > :lo and m.id <= :hi and m.role in ('user', 'assistant')
                group by m.chat_id, m.agent_id
            ),
            -- Two probes per history on Lillo's (chat_id, timestamp desc) index, one per epoch unit
            -- (above 100000000000 is milliseconds: the epoch_ms rule).
            tails as (
                select
                    n.chat_id, n.agent_id,
                    coalesce(greatest(in_ms.sent_ms, in_s.sent_ms), n.first_new_ms) as from_ms
                from new_histories as n
                left join lateral (
                    select m.timestamp as sent_ms
                    from chat_messages as m
                    where m.chat_id = n.chat_id and m.timestamp > 100000000000
                      and m.timestamp < n.first_new_ms
                      and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
                    order by m.timestamp desc limit 1
                ) as in_ms on true
                -- Only second rows later than the row found in ms can be later still: a short range,
                -- usually empty.
                left join lateral (
                    select m.timestamp * 1000 as sent_ms
                    from chat_messages as m
                    where m.chat_id = n.chat_id and m.timestamp <= 100000000000
                      and m.timestamp >= coalesce(in_ms.sent_ms, 0) / 1000
                      and m.timestamp <= n.first_new_ms / 1000 and m.timestamp * 1000 < n.first_new_ms
                      and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
                    order by m.timestamp desc limit 1
                ) as in_s on true
            ),
            tail_rows as (
                select t.chat_id, t.agent_id, r.id, r.role, r.sent_ms
                from tails as t
                cross join lateral (
                    select m.id, m.role, m.timestamp as sent_ms
                    from chat_messages as m
                    where m.chat_id = t.chat_id and m.timestamp > 100000000000 and m.timestamp >= t.from_ms
                      and m.agent_id = t.agent_id and m.role in ('user', 'assistant') and m.id <= :hi
                    union all
                    select m.id, m.role, m.timestamp * 1000
                    from chat_messages as m
                    where m.chat_id = t.chat_id and m.timestamp <= 100000000000
                      and m.timestamp >= t.from_ms / 1000 and m.timestamp * 1000 >= t.from_ms
                      and m.agent_id = t.agent_id and m.role in ('user', 'assistant') and m.id <= :hi
                ) as r
            ),
            tail_turns as (
                select
                    agent_id, role, sent_ms, 1 as change,
                    lag(role) over history as previous_role,
                    sent_ms - lag(sent_ms) over history as latency_ms
                from tail_rows
                window history as (partition by chat_id, agent_id order by sent_ms, id)
                union all
                select
                    agent_id, role, sent_ms, -1,
                    lag(role) over history,
                    sent_ms - lag(sent_ms) over history
                from tail_rows
                where id <= :lo
                window history as (partition by chat_id, agent_id order by sent_ms, id)
            ),
            changes as (
                select
                    date_trunc('hour', to_timestamp(sent_ms / 1000.0)) as hour_start,
                    agent_id,
                    lillo_dash.latency_bucket(latency_ms) as bucket,
                    sum(change) as n_replies
                from tail_turns
                where role = 'assistant' and previous_role = 'user'
                group by 1, 2, 3
            ),
            upserted as (
                insert into lillo_dash.reply_latency_histogram as r
                    (grain, period_start, agent_id, bucket, n_replies)
                select
                    grain.name, date_trunc(grain.name, c.hour_start), c.agent_id, c.bucket,
                    sum(c.n_replies)
                from changes as c
                cross join (values ('hour'), ('day')) as grain (name)
                group by 1, 2, 3, 4
                having sum(c.n_replies) <> 0
                on conflict (grain, period_start, agent_id, bucket) do update
                set n_replies = r.n_replies + excluded.n_replies
                returning r.grain, r.period_start, r.agent_id, r.bucket, r.n_replies
            )
            select grain, period_start, agent_id, bucket from upserted where n_replies = 0
        """,
        "drop_empty": """
            delete from lillo_dash.reply_latency_histogram
            where grain = :grain and period_start = :period_start and agent_id = :agent_id
              and bucket = :bucket and n_replies = 0
        """,
        # A first build after the other rollups (refresh_state rows gone or never written for it):
        # whatever the table holds is not counted by the watermark.
        "clear": "delete from lillo_dash.reply_latency_histogram",
    }.items()
}


def _refresh_reply_latency(conn: sa.Connection) -> bool:
    """Bring the reply latency histograms up to the newest message; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": REPLIES_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_message_id"]).scalar_one()
    if lo == 0:
        conn.execute(_REPLY_LATENCY_SQL["clear"])
        # Left alone, the planner walks Lillo's (chat_id, timestamp) index for the chat order and
        # reads the table in random order: 88 s at 10 M messages, against 49 s for a sequential
        # scan and a sort.
        conn.exec_driver_sql("set local enable_indexscan = off")
        conn.exec_driver_sql("set local enable_bitmapscan = off")
        conn.execute(_REPLY_LATENCY_SQL["build"], {"hi": hi})
        conn.exec_driver_sql("reset enable_indexscan")
        conn.exec_driver_sql("reset enable_bitmapscan")
    else:
        for start in range(lo, hi, BATCH_ROWS):
            batch = {"lo": start, "hi": min(start + BATCH_ROWS, hi)}
            emptied = conn.execute(_REPLY_LATENCY_SQL["changes"], batch).mappings().all()
            if emptied:
                conn.execute(_REPLY_LATENCY_SQL["drop_empty"], [dict(row) for row in emptied])
    n_added = conn.execute(_SQL["count_messages"], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0
    conn.execute(
        _SQL["save_watermark"], {"source": REPLIES_SOURCE, "last_id": max(hi, lo), "n_rows": n_added}
    )
    return lo == 0


# --- Person weeks and retention ------------------------------------------------------------------------
# lillo_dash.person_weeks and retention_weekly (retention cohorts) keep their own watermark too, for
# the same reason: a database whose other rollups predate them builds them on its next refresh. A
# batch's people have their weeks' counts taken away under their old cohort, their new weeks added,
# and their counts added back under their cohort now (sql/views/agent_retention.rollup.sql does the
# same live for the rows above the watermark).
PERSON_WEEKS_SOURCE = "person_weeks"
_COHORT_COUNTS = """
    insert into lillo_dash.retention_weekly as r (agent_id, cohort_week, week_start, n_people)
    select agent_id, cohort_week, week_start, {sign} count(*)
    from (
        select
            w.agent_id, w.week_start,
            min(w.week_start) over (partition by w.agent_id, w.user_id) as cohort_week
        from {people} as t
        inner join lillo_dash.person_weeks as w on w.agent_id = t.agent_id and w.user_id = t.user_id
    ) as weeks
    group by 1, 2, 3
    on conflict (agent_id, cohort_week, week_start) do update set n_people = r.n_people + excluded.n_people
"""
_PERSON_WEEKS_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        "add": """
            insert into lillo_dash.person_weeks (agent_id, user_id, week_start)
            select distinct
                m.agent_id, m.user_id, date_trunc('week', to_timestamp(epoch_ms(m.timestamp) / 1000.0))
            from chat_messages as m
            where m.id > :lo and m.id <= :hi and m.role = 'user'
            on conflict do nothing
        """,
        "touched": """
            insert into pg_temp.touched_people (agent_id, user_id)
            select distinct m.agent_id, m.user_id
            from chat_messages as m
            where m.id > :lo and m.id <= :hi and m.role = 'user'
        """,
        "take_away": _COHORT_COUNTS.format(sign="-", people="pg_temp.touched_people"),
        "add_back": _COHORT_COUNTS.format(sign="", people="pg_temp.touched_people"),
        "build": _COHORT_COUNTS.format(
            sign="", people="(select distinct agent_id, user_id from lillo_dash.person_weeks)"
        ),
        "drop_empty": "delete from lillo_dash.retention_weekly where n_people = 0",
        "clear": "truncate lillo_dash.person_weeks, lillo_dash.retention_weekly",
    }.items()
}


def _refresh_person_weeks(conn: sa.Connection) -> bool:
    """Bring person_weeks and retention_weekly up to the newest message; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": PERSON_WEEKS_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_message_id"]).scalar_one()
    if lo == 0:
        conn.execute(_PERSON_WEEKS_SQL["clear"])
        for start in range(lo, hi, BATCH_ROWS):
            conn.execute(_PERSON_WEEKS_SQL["add"], {"lo": start, "hi": min(start + BATCH_ROWS, hi)})
        conn.execute(_PERSON_WEEKS_SQL["build"])
    else:
        conn.exec_driver_sql(
            "create temp table if not exists touched_people (agent_id text, user_id bigint) on commit drop"
        )
        for start in range(lo, hi, BATCH_ROWS):
            batch = {"lo": start, "hi": min(start + BATCH_ROWS, hi)}
            conn.exec_driver_sql("truncate pg_temp.touched_people")
            conn.execute(_PERSON_WEEKS_SQL["touched"], batch)
            conn.execute(_PERSON_WEEKS_SQL["take_away"])
            conn.execute(_PERSON_WEEKS_SQL["add"], batch)
            conn.execute(_PERSON_WEEKS_SQL["add_back"])
        conn.execute(_PERSON_WEEKS_SQL["drop_empty"])
    n_added = conn.execute(_SQL["count_messages"], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0
    conn.execute(
        _SQL["save_watermark"], {"source": PERSON_WEEKS_SOURCE, "last_id": max(hi, lo), "n_rows": n_added}
    )
    return lo == 0


# --- Command failures -----------------------------------------------------------------------------
# lillo_dash.command_failures keeps its own watermark (refresh_state source 'command_failures'), so
# a database whose other rollups predate the table builds it on its next refresh. A failure's row
# never changes once written (its agent is the last speaker at or before it) except its retry: the
# same person's next call of the command within 10 minutes, which new calls can only make earlier.
# So a batch adds its failures, with their retry among the calls up to the batch's end, and then
# lets its calls replace the retry of older failures they precede. sql/views/error_signatures
# .rollup.sql and command_retry_funnel.rollup.sql compute the same columns live; keep them alike.
FAILURES_SOURCE = "command_failures"
_FAILURES_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        # The retry lookup is the one in sql/views/command_retry_funnel.sql, up to the batch's end.
        "add": """
            insert into lillo_dash.command_failures (
                command_id, sent_ms, command, agent_id, chat_id, user_id, signature, error_excerpt,
                retry_ms, retry_id, retry_success
            )
            select
                c.id, f.sent_ms, f.command, last_speaker(c), c.chat_id, c.user_id,
                error_signature(c.error), left(c.error, 300), retry.sent_ms, retry.id, retry.success
            from command_metrics as c
            cross join lateral (
                select epoch_ms(c.timestamp) as sent_ms, command_name(c.command) as command
            ) as f
            left join lateral (
                select next_call.sent_ms, next_call.id, next_call.success
                from (
                    (select n.timestamp as sent_ms, n.id, n.success
                     from command_metrics as n
                     where n.timestamp > 100000000000
                       and n.timestamp between f.sent_ms and f.sent_ms + 600000
                       and (n.timestamp > f.sent_ms or n.id > c.id)
                       and n.user_id = c.user_id and command_name(n.command) = f.command and n.id <= :hi
                     order by n.timestamp, n.id
                     limit 1)
                    union all
                    (select n.timestamp * 1000, n.id, n.success
                     from command_metrics as n
                     where n.timestamp <= 100000000000
                       and n.timestamp between f.sent_ms / 1000 and (f.sent_ms + 600000) / 1000
                       and n.timestamp * 1000 between f.sent_ms and f.sent_ms + 600000
                       and (n.timestamp * 1000 > f.sent_ms or n.id > c.id)
                       and n.user_id = c.user_id and command_name(n.command) = f.command and n.id <= :hi
                     order by n.timestamp, n.id
                     limit 1)
                ) as next_call
                order by next_call.sent_ms, next_call.id
                limit 1
            ) as retry on true
            where c.id > :lo and c.id <= :hi and not c.success
            on conflict (command_id) do nothing
        """,
        "earlier_retries": """
            with new_calls as (
                select n.id, n.user_id, command_name(n.command) as command,
                       epoch_ms(n.timestamp) as sent_ms, n.success
                from command_metrics as n
                where n.id > :lo and n.id <= :hi
            ),
            earliest as (
                select distinct on (f.command_id) f.command_id, n.sent_ms, n.id, n.success
                from new_calls as n
                inner join lillo_dash.command_failures as f
                    on f.user_id = n.user_id and f.command = n.command
                    and f.sent_ms between n.sent_ms - 600000 and n.sent_ms
                    and (n.sent_ms > f.sent_ms or n.id > f.command_id)
                where f.command_id <= :lo
                order by f.command_id, n.sent_ms, n.id
            )
            update lillo_dash.command_failures as f
            set retry_ms = e.sent_ms, retry_id = e.id, retry_success = e.success
            from earliest as e
            where f.command_id = e.command_id
              and (f.retry_ms is null or (e.sent_ms, e.id) < (f.retry_ms, f.retry_id))
        """,
        "clear": "truncate lillo_dash.command_failures",
    }.items()
}


def _refresh_command_failures(conn: sa.Connection) -> bool:
    """Bring command_failures up to the newest command; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": FAILURES_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_command_id"]).scalar_one()
    if lo == 0:
        conn.execute(_FAILURES_SQL["clear"])
    for start in range(lo, hi, BATCH_ROWS):
        batch = {"lo": start, "hi": min(start + BATCH_ROWS, hi)}
        conn.execute(_FAILURES_SQL["add"], batch)
        if start > 0:
            conn.execute(_FAILURES_SQL["earlier_retries"], batch)
    n_added = conn.execute(_SQL["count_commands"], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0
    conn.execute(
        _SQL["save_watermark"], {"source": FAILURES_SOURCE, "last_id": max(hi, lo), "n_rows": n_added}
    )
    return lo == 0


def refresh(engine: sa.Engine, *, full: bool = False, wait: bool = True) -> RefreshReport | None:
    """Bring the rollups up to date with Lillo's tables; `full` rebuilds them from scratch.

    While another refresher holds the lock, wait for it (then add only what is still new), or
    with `wait=False` return None at once."""
    with engine.begin() as conn:
        report = refresh_in_transaction(conn, full=full, wait=wait)
    if report and report.first_build:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(_SQL["vacuum"].text)
    return report


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
    for source, step, max_id, count in (
        ("chat_messages", _refresh_messages, "max_message_id", "count_messages"),
        ("command_metrics", _refresh_commands, "max_command_id", "count_commands"),
    ):
        lo = conn.execute(_SQL["watermark"], {"source": source}).scalar() or 0
        hi = conn.execute(_SQL[max_id]).scalar_one()
        first_build = first_build or lo == 0
        if hi > lo:
            step(conn, lo, hi)
        n_added = conn.execute(_SQL[count], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0
        conn.execute(_SQL["save_watermark"], {"source": source, "last_id": max(hi, lo), "n_rows": n_added})
        added[source] = n_added
    first_build = _refresh_reply_latency(conn) or first_build
    first_build = _refresh_person_weeks(conn) or first_build
    first_build = _refresh_command_failures(conn) or first_build
    if first_build:
        conn.exec_driver_sql(_SQL["analyze"].text)
    return RefreshReport(
        added["chat_messages"], added["command_metrics"], time.perf_counter() - started, full, first_build
    )
