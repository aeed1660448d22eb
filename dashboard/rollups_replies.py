"""The reply latency rollup (lillo_dash.reply_latency_histogram), refreshed by dashboard/rollups.py."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.rollups import _SQL, count_messages, message_batches, stage_messages
from dashboard.views import expand_macros

# --- Reply latency ------------------------------------------------------------------------------
# lillo_dash.reply_latency_histogram keeps its own watermark (refresh_state source 'reply_latency'),
# so a database whose other rollups predate the table builds it on its next refresh. Its samples
# (see sql/views/reply_latency.sql) pair each message with the one before it in the same chat and
# agent's history, so a new row can change a stored sample: a late user message between a stored
# pair takes the reply from the earlier one. A refresh therefore recomputes, for each history with
# new rows, the samples from its last row before the earliest new one, adding the samples of all
# rows there and taking away those of the old rows alone: exact, and cheap while rows arrive in
# order (the recomputed tail is then just the new rows and one row before them). The rollup view's
# live part is the same computation; keep the two alike. Every period also has an all-agents level
# (agent '*'), which the model comparison reads instead of every agent's rows.
REPLIES_SOURCE = "reply_latency"

_REPLY_LATENCY_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        # First build: one pass over the raw rows, sorted by history (no per-row probes).
        "build": """
            with turns as (
                select
                    m.id,
                    m.chat_id,
                    m.agent_id,
                    m.role,
                    epoch_ms(m.timestamp) as sent_ms,
                    lag(m.role) over history as previous_role,
                    lag(epoch_ms(m.timestamp)) over history as previous_ms
                from chat_messages as m
                where m.id <= :hi and m.role in ('user', 'assistant')
                window history as (partition by m.chat_id, m.agent_id order by epoch_ms(m.timestamp), m.id)
            ),
            replies as (
                select id, chat_id, agent_id, sent_ms, sent_ms - previous_ms as latency_ms
                from turns
                where role = 'assistant' and previous_role = 'user'
            ),
            samples as (
                insert into lillo_dash.reply_samples (reply_id, chat_id, agent_id, sent_ms, latency_ms)
                select id, chat_id, agent_id, sent_ms, latency_ms from replies
            ),
            hourly as (
                select
                    date_trunc('hour', to_timestamp(sent_ms / 1000.0)) as hour_start,
                    agent_id,
                    lillo_dash.latency_bucket(latency_ms) as bucket,
                    count(*) as n_replies
                from replies
                group by 1, 2, 3
            ),
            levels as (
                select hour_start, agent_id, bucket, n_replies from hourly
                union all
                select hour_start, '*', bucket, sum(n_replies) from hourly
                group by 1, 3
            )
            insert into lillo_dash.reply_latency_histogram (grain, period_start, agent_id, bucket, n_replies)
            select 'hour', hour_start, agent_id, bucket, n_replies from levels
            union all
            select 'day', date_trunc('day', hour_start), agent_id, bucket, sum(n_replies) from levels
            group by 2, 3, 4
        """,
        # The histogram rows the changes of ids (lo, hi] (staged in pg_temp.new_messages by
        # dashboard/rollups.py) emptied are returned, to be deleted.
        "changes": """
            with new_histories as (
                select m.chat_id, m.agent_id, min(m.sent_ms) as first_new_ms
                from pg_temp.new_messages as m
                where m.role in ('user', 'assistant')
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
                    id, chat_id, agent_id, role, sent_ms, 1 as change,
                    lag(role) over history as previous_role,
                    sent_ms - lag(sent_ms) over history as latency_ms
                from tail_rows
                window history as (partition by chat_id, agent_id order by sent_ms, id)
                union all
                select
                    id, chat_id, agent_id, role, sent_ms, -1,
                    lag(role) over history,
                    sent_ms - lag(sent_ms) over history
                from tail_rows
                where id <= :lo
                window history as (partition by chat_id, agent_id order by sent_ms, id)
            ),
            -- The tails' samples as they are now replace the stored ones of their rows: updated
            -- where a reply kept its place, dropped where a late row came between it and its question.
            new_samples as (
                select id, chat_id, agent_id, sent_ms, latency_ms
                from tail_turns
                where change = 1 and role = 'assistant' and previous_role = 'user'
            ),
            stored_samples as (
                insert into lillo_dash.reply_samples as r (reply_id, chat_id, agent_id, sent_ms, latency_ms)
                select id, chat_id, agent_id, sent_ms, latency_ms from new_samples
                on conflict (reply_id) do update set latency_ms = excluded.latency_ms
                where r.latency_ms <> excluded.latency_ms
            ),
            -- (A tail's first row keeps its sample: its question is not in the tail.)
            dropped_samples as (
                delete from lillo_dash.reply_samples as r
                using tail_turns as t
                where r.reply_id = t.id
                  and t.change = -1 and t.role = 'assistant' and t.previous_role = 'user'
                  -- A hashed list: the planner expects one new sample and would loop over them.
                  and t.id not in (select n.id from new_samples as n)
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
                    grain.name, date_trunc(grain.name, c.hour_start), level.agent_id, c.bucket,
                    sum(c.n_replies)
                from changes as c
                cross join (values ('hour'), ('day')) as grain (name)
                cross join lateral (values (c.agent_id), ('*')) as level (agent_id)
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
        "clear_samples": "delete from lillo_dash.reply_samples",
        "forget": "delete from lillo_dash.refresh_state where source = :source",
        # Histograms built before the samples were kept: built again, samples and all.
        "lacks_samples": """
            select exists (select from lillo_dash.reply_latency_histogram)
                and not exists (select from lillo_dash.reply_samples)
        """,
        # A table built before the all-agents level existed: the level summed from the agents' rows
        # once. (Scans until it meets a '*' row, which in a table with the level comes early.)
        "lacks_all_agents_level": """
            select exists (select from lillo_dash.reply_latency_histogram)
                and not exists (select from lillo_dash.reply_latency_histogram where agent_id = '*')
        """,
        "add_all_agents_level": """
            insert into lillo_dash.reply_latency_histogram (grain, period_start, agent_id, bucket, n_replies)
            select grain, period_start, '*', bucket, sum(n_replies)
            from lillo_dash.reply_latency_histogram
            group by grain, period_start, bucket
        """,
    }.items()
}


def refresh(conn: sa.Connection) -> bool:
    """Bring the reply latency histograms up to the newest message; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": REPLIES_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_message_id"]).scalar_one()
    if lo and conn.execute(_REPLY_LATENCY_SQL["lacks_samples"]).scalar_one():
        conn.execute(_REPLY_LATENCY_SQL["forget"], {"source": REPLIES_SOURCE})
        lo = 0
    if lo == 0:
        conn.execute(_REPLY_LATENCY_SQL["clear"])
        conn.execute(_REPLY_LATENCY_SQL["clear_samples"])
        # Left alone, the planner walks Lillo's (chat_id, timestamp) index for the chat order and
        # reads the table in random order: 88 s at 10 M messages, against 49 s for a sequential
        # scan and a sort.
        conn.exec_driver_sql("set local enable_indexscan = off")
        conn.exec_driver_sql("set local enable_bitmapscan = off")
        conn.execute(_REPLY_LATENCY_SQL["build"], {"hi": hi})
        conn.exec_driver_sql("reset enable_indexscan")
        conn.exec_driver_sql("reset enable_bitmapscan")
    else:
        if conn.execute(_REPLY_LATENCY_SQL["lacks_all_agents_level"]).scalar_one():
            conn.execute(_REPLY_LATENCY_SQL["add_all_agents_level"])
        # A history's tail is a handful of rows: read through plain index scans, which also mark
        # the index entries of deleted (or rolled-back) rows dead as they pass them. A bitmap scan
        # never does, so such entries would slow every later refresh until the next vacuum.
        conn.exec_driver_sql("set local enable_bitmapscan = off")
        for start, end in message_batches(conn, lo, hi):
            batch = {"lo": start, "hi": end}
            stage_messages(conn, start, end)
            emptied = conn.execute(_REPLY_LATENCY_SQL["changes"], batch).mappings().all()
            if emptied:
                conn.execute(_REPLY_LATENCY_SQL["drop_empty"], [dict(row) for row in emptied])
        conn.exec_driver_sql("reset enable_bitmapscan")
    conn.execute(
        _SQL["save_watermark"],
        {"source": REPLIES_SOURCE, "last_id": max(hi, lo), "n_rows": count_messages(conn, lo, hi)},
    )
    return lo == 0
