"""The command failures rollup (lillo_dash.command_failures), refreshed by dashboard/rollups.py."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.rollups import _SQL, BATCH_ROWS
from dashboard.views import expand_macros

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


def refresh(conn: sa.Connection) -> bool:
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
