"""The rollup of the pairs set to another model (lillo_dash.model_pairs, model_pair_activity,
model_pair_replies, model_pair_commands) and of every pair's model (model_pair_counts; see
sql/install/008_model_rollups.sql), refreshed by dashboard/rollups.py."""

from __future__ import annotations

import enum

import sqlalchemy as sa

from dashboard.rollups import _SQL, BATCH_ROWS, count_messages, message_batches, stage_messages
from dashboard.views import expand_macros

# Each table keeps its own watermark, so a database whose other rollups predate them builds them
# on its next refresh. Which pairs are filed follows model_preferences: when its rows other than
# OPENAI changed (their count or checksum), the pairs set back are dropped and the pairs newly set
# are filed with their whole history; otherwise only the pairs that just got their first message
# are filed. The reply samples of a filed pair change as rows arrive exactly as in
# dashboard/rollups_replies.py: a history with new rows is recomputed from its last row before the
# earliest new one. sql/views/model_comparison.rollup.sql does the same live; keep the two alike.
# The pairs per agent and model are counted again when model_preferences or chat_totals' pairs
# changed (chat_totals was refreshed earlier in the same transaction).
ACTIVITY_SOURCE = "model_pair_activity"
REPLIES_SOURCE = "model_pair_replies"
COMMANDS_SOURCE = "model_pair_commands"
# The filed pairs' histograms per model: their watermark row says they were built (its id is the
# messages'); a refresh recounts them from the earliest moment its new rows touched, or wholly
# when the filing changed (a pair's model is its model_preferences row's).
HISTOGRAMS_SOURCE = "model_histograms"

_MODEL_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        "clear": """
            truncate lillo_dash.model_pairs, lillo_dash.model_pairs_state, lillo_dash.model_pair_counts,
                lillo_dash.model_pair_activity, lillo_dash.model_pair_replies, lillo_dash.model_pair_commands
        """,
        "histograms_installed": "select to_regclass('lillo_dash.model_command_histogram') is not null",
        # The earliest moment of the new messages of filed pairs (a reply sample changes only at or
        # after a new row of its history) and of the filed pairs' new commands.
        "histograms_from": """
            select least(
                (select min(epoch_ms(m.timestamp))
                 from chat_messages as m
                 inner join lillo_dash.model_pairs as f on f.chat_id = m.chat_id and f.agent_id = m.agent_id
                 where m.id > :lo and m.id <= :hi),
                (select min(k.sent_ms)
                 from lillo_dash.model_pair_commands as k
                 where k.command_id > :commands_lo and k.command_id <= :commands_hi)
            )
        """,
        "clear_reply_histograms": "delete from lillo_dash.model_reply_histogram",
        "clear_command_histograms": "delete from lillo_dash.model_command_histogram",
        "clear_reply_histogram": """
            delete from lillo_dash.model_reply_histogram
            where period_start >= to_timestamp(cast(:from_ms as bigint) / 1000.0)
        """,
        "clear_command_histogram": """
            delete from lillo_dash.model_command_histogram
            where period_start >= to_timestamp(cast(:from_ms as bigint) / 1000.0)
        """,
        # The samples from :from_ms on, under their pair's filed model.
        "count_reply_histogram": """
            insert into lillo_dash.model_reply_histogram
                (grain, period_start, agent_id, model_type, bucket, n_replies)
            select
                grain.name, date_trunc(grain.name, to_timestamp(r.sent_ms / 1000.0)), level.agent_id,
                f.model_type, lillo_dash.latency_bucket(r.latency_ms), count(*)
            from lillo_dash.model_pair_replies as r
            inner join lillo_dash.model_pairs as f on f.chat_id = r.chat_id and f.agent_id = r.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            cross join lateral (values (r.agent_id), ('*')) as level (agent_id)
            where r.sent_ms >= :from_ms
            group by 1, 2, 3, 4, 5
        """,
        "count_command_histogram": """
            insert into lillo_dash.model_command_histogram
                (grain, period_start, agent_id, model_type, bucket, n_calls, n_failures)
            select
                grain.name, date_trunc(grain.name, to_timestamp(k.sent_ms / 1000.0)), level.agent_id,
                f.model_type, lillo_dash.duration_bucket(k.duration), count(*),
                count(*) filter (where not k.success)
            from lillo_dash.model_pair_commands as k
            inner join lillo_dash.model_pairs as f on f.chat_id = k.chat_id and f.agent_id = k.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            cross join lateral (values (k.agent_id), ('*')) as level (agent_id)
            where k.sent_ms >= :from_ms
            group by 1, 2, 3, 4, 5
        """,
        # The filed pairs whose row now names another model or none (before their samples change).
        "pairs_to_move": """
            insert into pg_temp.model_moved_pairs (chat_id, agent_id)
            select f.chat_id, f.agent_id
            from lillo_dash.model_pairs as f
            left join model_preferences as p
                on p.agent_id = f.agent_id and p.chat_id = f.chat_id and p.model_type <> 'OPENAI'
            where f.model_type is distinct from p.model_type
        """,
        # Every sample of the moved pairs taken out of (:sign -1) or put into (+1) the histograms
        # under the pair's filed model; the buckets left empty are dropped.
        "move_replies": """
            insert into lillo_dash.model_reply_histogram as h
                (grain, period_start, agent_id, model_type, bucket, n_replies)
            select
                grain.name, date_trunc(grain.name, to_timestamp(r.sent_ms / 1000.0)), level.agent_id,
                f.model_type, lillo_dash.latency_bucket(r.latency_ms), cast(:sign as integer) * count(*)
            from pg_temp.model_moved_pairs as m
            inner join lillo_dash.model_pairs as f on f.chat_id = m.chat_id and f.agent_id = m.agent_id
            inner join lillo_dash.model_pair_replies as r on r.chat_id = f.chat_id and r.agent_id = f.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            cross join lateral (values (r.agent_id), ('*')) as level (agent_id)
            group by 1, 2, 3, 4, 5
            on conflict (grain, period_start, agent_id, model_type, bucket) do update
            set n_replies = h.n_replies + excluded.n_replies
        """,
        "move_commands": """
            insert into lillo_dash.model_command_histogram as h
                (grain, period_start, agent_id, model_type, bucket, n_calls, n_failures)
            select
                grain.name, date_trunc(grain.name, to_timestamp(k.sent_ms / 1000.0)), level.agent_id,
                f.model_type, lillo_dash.duration_bucket(k.duration), cast(:sign as integer) * count(*),
                cast(:sign as integer) * count(*) filter (where not k.success)
            from pg_temp.model_moved_pairs as m
            inner join lillo_dash.model_pairs as f on f.chat_id = m.chat_id and f.agent_id = m.agent_id
            inner join lillo_dash.model_pair_commands as k
                on k.chat_id = f.chat_id and k.agent_id = f.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            cross join lateral (values (k.agent_id), ('*')) as level (agent_id)
            group by 1, 2, 3, 4, 5
            on conflict (grain, period_start, agent_id, model_type, bucket) do update
            set n_calls = h.n_calls + excluded.n_calls, n_failures = h.n_failures + excluded.n_failures
        """,
        "drop_empty_buckets": """
            with replies as (delete from lillo_dash.model_reply_histogram where n_replies = 0)
            delete from lillo_dash.model_command_histogram where n_calls = 0
        """,
        # The pairs filed by this refresh are moved in too (from no model to theirs).
        "pairs_filed_now": """
            insert into pg_temp.model_moved_pairs (chat_id, agent_id)
            select chat_id, agent_id from pg_temp.model_new_pairs
        """,
        "set_models": """
            update lillo_dash.model_pairs as f
            set model_type = p.model_type
            from model_preferences as p
            where p.agent_id = f.agent_id and p.chat_id = f.chat_id
              and f.model_type is distinct from p.model_type
        """,
        "preferences": "select count(*), preferences_checksum(p) from model_preferences as p",
        "stored_preferences": "select n_preferences, checksum, n_pairs from lillo_dash.model_pairs_state",
        "count_pairs": "select count(*) from lillo_dash.chat_totals",
        "save_preferences": """
            insert into lillo_dash.model_pairs_state (n_preferences, checksum, n_pairs)
            values (:n_preferences, :checksum, :n_pairs)
            on conflict (singleton) do update
            set n_preferences = excluded.n_preferences, checksum = excluded.checksum,
                n_pairs = excluded.n_pairs
        """,
        # As sql/views/model_mix.sql counts them: a pair without a row runs on OPENAI.
        "clear_counts": "delete from lillo_dash.model_pair_counts",
        "count_models": """
            insert into lillo_dash.model_pair_counts (agent_id, model_type, n_chats, n_default_chats)
            select
                t.agent_id, coalesce(p.model_type, 'OPENAI'), count(*),
                count(*) filter (where p.model_type is null)
            from lillo_dash.chat_totals as t
            left join model_preferences as p on p.agent_id = t.agent_id and p.chat_id = t.chat_id
            group by 1, 2
        """,
        # Pairs set back to OPENAI (or deleted) since they were filed.
        "drop_pairs": """
            with gone as (
                delete from lillo_dash.model_pairs as f
                where not exists (
                    select from model_preferences as p
                    where p.agent_id = f.agent_id and p.chat_id = f.chat_id and p.model_type <> 'OPENAI'
                )
                returning f.chat_id, f.agent_id
            ),
            activity as (
                delete from lillo_dash.model_pair_activity as a
                using gone as g
                where a.chat_id = g.chat_id and a.agent_id = g.agent_id
            ),
            replies as (
                delete from lillo_dash.model_pair_replies as r
                using gone as g
                where r.chat_id = g.chat_id and r.agent_id = g.agent_id
            )
            delete from lillo_dash.model_pair_commands as c
            using gone as g
            where c.chat_id = g.chat_id and c.agent_id = g.agent_id
        """,
        "pairs_to_file": """
            insert into pg_temp.model_new_pairs (chat_id, agent_id)
            select p.chat_id, p.agent_id
            from model_preferences as p
            where p.model_type <> 'OPENAI'
              and exists (
                  select from lillo_dash.chat_totals as t
                  where t.chat_id = p.chat_id and t.agent_id = p.agent_id
              )
              and not exists (
                  select from lillo_dash.model_pairs as f
                  where f.chat_id = p.chat_id and f.agent_id = p.agent_id
              )
        """,
        # Only the pairs of the new rows (staged in pg_temp.new_messages by dashboard/rollups.py):
        # a pair set to another model before its first message.
        "new_pairs_to_file": """
            insert into pg_temp.model_new_pairs (chat_id, agent_id)
            select m.chat_id, m.agent_id
            from (select distinct chat_id, agent_id from pg_temp.new_messages) as m
            where exists (
                  select from model_preferences as p
                  where p.agent_id = m.agent_id and p.chat_id = m.chat_id and p.model_type <> 'OPENAI'
              )
              and not exists (
                  select from lillo_dash.model_pairs as f
                  where f.chat_id = m.chat_id and f.agent_id = m.agent_id
              )
              -- Found in an earlier batch of this refresh.
              and not exists (
                  select from pg_temp.model_new_pairs as q
                  where q.chat_id = m.chat_id and q.agent_id = m.agent_id
              )
        """,
        "file_pairs": """
            insert into lillo_dash.model_pairs (chat_id, agent_id)
            select chat_id, agent_id from pg_temp.model_new_pairs
            on conflict do nothing
        """,
        # Periods as lillo_dash.chat_activity's (dashboard/rollups.py), so either may answer for a pair.
        "file_activity": """
            insert into lillo_dash.model_pair_activity (grain, period_start, chat_id, agent_id, n_messages)
            select
                grain.name, date_trunc(grain.name, to_timestamp(epoch_ms(m.timestamp) / 1000.0)),
                m.chat_id, m.agent_id, count(*)
            from pg_temp.model_new_pairs as p
            inner join chat_messages as m on m.chat_id = p.chat_id and m.agent_id = p.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            where m.id <= :hi
            group by 1, 2, 3, 4
            on conflict (grain, period_start, chat_id, agent_id) do nothing
        """,
        "add_activity": """
            insert into lillo_dash.model_pair_activity as r
                (grain, period_start, chat_id, agent_id, n_messages)
            select
                grain.name, date_trunc(grain.name, to_timestamp(m.sent_ms / 1000.0)), m.chat_id, m.agent_id,
                count(*)
            from pg_temp.new_messages as m
            inner join lillo_dash.model_pairs as f on f.chat_id = m.chat_id and f.agent_id = m.agent_id
            cross join (values ('hour'), ('day')) as grain (name)
            group by 1, 2, 3, 4
            on conflict (grain, period_start, chat_id, agent_id) do update
            set n_messages = r.n_messages + excluded.n_messages
        """,
        "file_replies": """
            insert into lillo_dash.model_pair_replies (reply_id, chat_id, agent_id, sent_ms, latency_ms)
            select t.id, t.chat_id, t.agent_id, t.sent_ms, t.sent_ms - t.previous_ms
            from (
                select
                    m.id, m.chat_id, m.agent_id, m.role, epoch_ms(m.timestamp) as sent_ms,
                    lag(m.role) over history as previous_role,
                    lag(epoch_ms(m.timestamp)) over history as previous_ms
                from pg_temp.model_new_pairs as p
                inner join chat_messages as m on m.chat_id = p.chat_id and m.agent_id = p.agent_id
                where m.id <= :hi and m.role in ('user', 'assistant')
                window history as (partition by m.chat_id, m.agent_id order by epoch_ms(m.timestamp), m.id)
            ) as t
            where t.role = 'assistant' and t.previous_role = 'user'
            on conflict (reply_id) do nothing
        """,
        "file_commands": """
            insert into lillo_dash.model_pair_commands
                (command_id, chat_id, agent_id, sent_ms, command, success, duration)
            select
                c.id, c.chat_id, s.agent_id, epoch_ms(c.timestamp), command_name(c.command), c.success,
                c.duration
            from (select distinct chat_id from pg_temp.model_new_pairs) as n
            inner join command_metrics as c on c.chat_id = n.chat_id
            cross join lateral (select last_speaker(c) as agent_id) as s
            inner join pg_temp.model_new_pairs as p on p.chat_id = c.chat_id and p.agent_id = s.agent_id
            where c.id <= :hi
            on conflict (command_id) do nothing
        """,
        # The filed histories with rows in (lo, hi] (staged), from their last row before the earliest new
        # one (dashboard/rollups_replies.py's tails); position 1 is that row, whose own sample stays.
        "tail_turns": """
            with new_histories as (
                select m.chat_id, m.agent_id, min(m.sent_ms) as first_new_ms
                from pg_temp.new_messages as m
                inner join lillo_dash.model_pairs as f on f.chat_id = m.chat_id and f.agent_id = m.agent_id
                where m.role in ('user', 'assistant')
                group by m.chat_id, m.agent_id
            ),
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
            -- (agent_id || '') keeps the planner on the (chat_id, timestamp) index: through Lillo's
            -- (chat_id, message_id, agent_id) key it would read each pair's whole history.
            tail_rows as (
                select t.chat_id, t.agent_id, r.id, r.role, r.sent_ms
                from tails as t
                cross join lateral (
                    select m.id, m.role, m.timestamp as sent_ms
                    from chat_messages as m
                    where m.chat_id = t.chat_id and m.timestamp > 100000000000 and m.timestamp >= t.from_ms
                      and (m.agent_id || '') = t.agent_id and m.role in ('user', 'assistant') and m.id <= :hi
                    union all
                    select m.id, m.role, m.timestamp * 1000
                    from chat_messages as m
                    where m.chat_id = t.chat_id and m.timestamp <= 100000000000
                      and m.timestamp >= t.from_ms / 1000 and m.timestamp * 1000 >= t.from_ms
                      and (m.agent_id || '') = t.agent_id and m.role in ('user', 'assistant') and m.id <= :hi
                ) as r
            )
            insert into pg_temp.model_tail_turns
            select
                id, chat_id, agent_id, role, sent_ms,
                lag(role) over history,
                sent_ms - lag(sent_ms) over history,
                row_number() over history
            from tail_rows
            window history as (partition by chat_id, agent_id order by sent_ms, id)
        """,
        "drop_tail_replies": """
            delete from lillo_dash.model_pair_replies as r
            using pg_temp.model_tail_turns as t
            where r.reply_id = t.id and t.position > 1
        """,
        "add_tail_replies": """
            insert into lillo_dash.model_pair_replies (reply_id, chat_id, agent_id, sent_ms, latency_ms)
            select id, chat_id, agent_id, sent_ms, latency_ms
            from pg_temp.model_tail_turns
            where position > 1 and role = 'assistant' and previous_role = 'user'
        """,
        "add_commands": """
            insert into lillo_dash.model_pair_commands
                (command_id, chat_id, agent_id, sent_ms, command, success, duration)
            select
                c.id, c.chat_id, s.agent_id, epoch_ms(c.timestamp), command_name(c.command), c.success,
                c.duration
            from command_metrics as c
            cross join lateral (select last_speaker(c) as agent_id) as s
            inner join lillo_dash.model_pairs as f on f.chat_id = c.chat_id and f.agent_id = s.agent_id
            where c.id > :lo and c.id <= :hi
              -- Only the commands of filed chats have their agent looked up.
              and exists (select from lillo_dash.model_pairs as x where x.chat_id = c.chat_id)
            on conflict (command_id) do nothing
        """,
        "installed": """
            select to_regclass('lillo_dash.model_pairs') is not null
                and to_regclass('lillo_dash.model_pair_activity') is not null
                and to_regclass('lillo_dash.model_pair_counts') is not null
        """,
        "analyze": """
            analyze lillo_dash.model_pairs, lillo_dash.model_pair_counts, lillo_dash.model_pair_activity,
                lillo_dash.model_pair_replies, lillo_dash.model_pair_commands
        """,
        "analyze_histograms": "analyze lillo_dash.model_reply_histogram, lillo_dash.model_command_histogram",
    }.items()
}
# Scratch tables of one refresh (its transaction).
_TEMP_TABLES = (
    "create temp table if not exists model_new_pairs (chat_id bigint, agent_id text) on commit drop",
    "create temp table if not exists model_tail_turns (id bigint, chat_id bigint, agent_id text, role text,"
    " sent_ms bigint, previous_role text, latency_ms bigint, position bigint) on commit drop",
    "create temp table if not exists model_moved_pairs (chat_id bigint, agent_id text) on commit drop",
    "truncate pg_temp.model_new_pairs, pg_temp.model_tail_turns, pg_temp.model_moved_pairs",
)


def _watermark(conn: sa.Connection, source: str) -> int | None:
    """The source's watermark, or None before its first build (a 0 is an empty source's)."""
    return conn.execute(_SQL["watermark"], {"source": source}).scalar()


def _save_watermark(conn: sa.Connection, source: str, n_added: int, lo: int, hi: int) -> None:
    conn.execute(_SQL["save_watermark"], {"source": source, "last_id": max(hi, lo), "n_rows": n_added})


def refresh(conn: sa.Connection) -> bool:
    """File the pairs set to another model and bring their replies and commands up to the newest
    rows; True when built from empty. A database installed before these tables existed is left
    alone until `python -m dashboard install` adds them: the other rollups still refresh."""
    if not conn.execute(_MODEL_SQL["installed"]).scalar_one():
        return False
    activity_lo = _watermark(conn, ACTIVITY_SOURCE)
    replies_lo = _watermark(conn, REPLIES_SOURCE)
    commands_lo = _watermark(conn, COMMANDS_SOURCE)
    hi = conn.execute(_SQL["max_message_id"]).scalar_one()
    commands_hi = conn.execute(_SQL["max_command_id"]).scalar_one()
    # The messages' two tables move together; one built before the other (a database installed
    # before model_pair_activity existed) is built again with it.
    first_build = replies_lo is None or commands_lo is None or activity_lo != replies_lo
    if first_build:
        conn.execute(_MODEL_SQL["clear"])
        replies_lo = commands_lo = 0
    for statement in _TEMP_TABLES:
        conn.exec_driver_sql(statement)
    n_preferences, checksum = conn.execute(_MODEL_SQL["preferences"]).one()
    n_pairs = conn.execute(_MODEL_SQL["count_pairs"]).scalar_one()
    stored = conn.execute(_MODEL_SQL["stored_preferences"]).one_or_none()
    preferences_changed = stored is None or (stored.n_preferences, stored.checksum) != (
        n_preferences,
        checksum,
    )
    histograms = _histograms_state(conn, rebuild=first_build)
    if preferences_changed:
        if histograms is HistogramState.KEPT:
            # Taken out under the model they were filed by before their samples change or go.
            conn.execute(_MODEL_SQL["pairs_to_move"])
            _move_samples(conn, sign=-1)
        conn.execute(_MODEL_SQL["drop_pairs"])
    # The filed pairs' new rows first; the pairs filed below come with their whole history.
    if not first_build:
        for start, end in message_batches(conn, replies_lo, hi):
            batch = {"lo": start, "hi": end}
            conn.exec_driver_sql("truncate pg_temp.model_tail_turns")
            stage_messages(conn, start, end)
            conn.execute(_MODEL_SQL["add_activity"])
            conn.execute(_MODEL_SQL["tail_turns"], batch)
            conn.execute(_MODEL_SQL["drop_tail_replies"])
            conn.execute(_MODEL_SQL["add_tail_replies"])
        for start in range(commands_lo, commands_hi, BATCH_ROWS):
            batch = {"lo": start, "hi": min(start + BATCH_ROWS, commands_hi)}
            conn.execute(_MODEL_SQL["add_commands"], batch)
    if preferences_changed:
        conn.execute(_MODEL_SQL["pairs_to_file"])
    else:
        for start, end in message_batches(conn, replies_lo, hi):
            stage_messages(conn, start, end)
            conn.execute(_MODEL_SQL["new_pairs_to_file"])
    n_filed = conn.execute(_MODEL_SQL["file_pairs"]).rowcount
    conn.execute(_MODEL_SQL["file_activity"], {"hi": hi})
    conn.execute(_MODEL_SQL["file_replies"], {"hi": hi})
    conn.execute(_MODEL_SQL["file_commands"], {"hi": commands_hi})
    if preferences_changed or stored.n_pairs != n_pairs:
        conn.execute(_MODEL_SQL["clear_counts"])
        conn.execute(_MODEL_SQL["count_models"])
    if histograms is not HistogramState.NOT_INSTALLED:
        # Histograms not built yet: pairs filed before model_pairs kept their model get it here.
        if preferences_changed or n_filed or histograms is HistogramState.REBUILD:
            conn.execute(_MODEL_SQL["set_models"])
        update_histograms(
            conn,
            histograms,
            new_rows={"lo": replies_lo, "hi": hi, "commands_lo": commands_lo, "commands_hi": commands_hi},
        )
    conn.execute(
        _MODEL_SQL["save_preferences"],
        {"n_preferences": n_preferences, "checksum": checksum, "n_pairs": n_pairs},
    )
    n_messages = count_messages(conn, replies_lo, hi)
    _save_watermark(conn, ACTIVITY_SOURCE, n_messages, replies_lo, hi)
    _save_watermark(conn, REPLIES_SOURCE, n_messages, replies_lo, hi)
    n_commands = (
        conn.execute(_SQL["count_commands"], {"lo": commands_lo, "hi": commands_hi}).scalar_one()
        if commands_hi > commands_lo
        else 0
    )
    _save_watermark(conn, COMMANDS_SOURCE, n_commands, commands_lo, commands_hi)
    if first_build:
        conn.execute(_MODEL_SQL["analyze"])
    return first_build


class HistogramState(enum.Enum):
    NOT_INSTALLED = "a database installed before the tables: left alone"
    REBUILD = "never built, or the filing is rebuilt: counted whole"
    KEPT = "kept up to date by moving pairs and recounting the days new rows touched"


def _histograms_state(conn: sa.Connection, *, rebuild: bool) -> HistogramState:
    if not conn.execute(_MODEL_SQL["histograms_installed"]).scalar_one():
        return HistogramState.NOT_INSTALLED
    if rebuild or _watermark(conn, HISTOGRAMS_SOURCE) is None:
        return HistogramState.REBUILD
    return HistogramState.KEPT


def _move_samples(conn: sa.Connection, *, sign: int) -> None:
    """Every sample of the pairs in pg_temp.model_moved_pairs out of (-1) or into (+1) the
    histograms, under the model model_pairs holds for them."""
    conn.execute(_MODEL_SQL["move_replies"], {"sign": sign})
    conn.execute(_MODEL_SQL["move_commands"], {"sign": sign})


# A bound below every moment: a whole recount reads every sample.
_EVERY_MOMENT_MS = -(2**62)


def update_histograms(conn: sa.Connection, state: HistogramState, *, new_rows: dict[str, int]) -> None:
    """Bring the filed pairs' histograms per model in line with their samples, once the pairs are
    filed with their models: counted whole when never built; else the pairs moved to another model
    (taken out before their samples changed) and those filed now are put in under their model, and
    the UTC days from the earliest new row of a filed pair on are counted again (usually today's
    only: a reply sample changes only at or after a new row of its history)."""
    if state is HistogramState.REBUILD:
        conn.execute(_MODEL_SQL["clear_reply_histograms"])
        conn.execute(_MODEL_SQL["clear_command_histograms"])
        from_ms = _EVERY_MOMENT_MS
    else:
        conn.execute(_MODEL_SQL["pairs_filed_now"])
        _move_samples(conn, sign=1)
        conn.execute(_MODEL_SQL["drop_empty_buckets"])
        earliest_ms = conn.execute(_MODEL_SQL["histograms_from"], new_rows).scalar()
        from_ms = None if earliest_ms is None else earliest_ms - earliest_ms % 86_400_000
        if from_ms is not None:
            conn.execute(_MODEL_SQL["clear_reply_histogram"], {"from_ms": from_ms})
            conn.execute(_MODEL_SQL["clear_command_histogram"], {"from_ms": from_ms})
    if from_ms is not None:
        conn.execute(_MODEL_SQL["count_reply_histogram"], {"from_ms": from_ms})
        conn.execute(_MODEL_SQL["count_command_histogram"], {"from_ms": from_ms})
    _save_watermark(conn, HISTOGRAMS_SOURCE, 0, new_rows["lo"], new_rows["hi"])
    if state is HistogramState.REBUILD:
        conn.execute(_MODEL_SQL["analyze_histograms"])
