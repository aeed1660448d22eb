"""The agent of every command (lillo_dash.command_calls), refreshed by dashboard/rollups.py.

It keeps its own watermark (refresh_state source 'command_calls'), so a database whose other
rollups predate the table builds it on its next refresh. A call's row never changes once written:
its agent is the last speaker in its chat at or before it, as lillo_dash.command_hourly counts it.
"""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.rollups import _SQL, BATCH_ROWS
from dashboard.views import expand_macros

CALLS_SOURCE = "command_calls"
_CALLS_SQL = {
    name: sa.text(expand_macros(sql))
    for name, sql in {
        "add": """
            insert into lillo_dash.command_calls
                (command_id, chat_id, agent_id, sent_ms, command, duration, success)
            select
                c.id, c.chat_id, last_speaker(c), epoch_ms(c.timestamp), command_name(c.command),
                c.duration, c.success
            from command_metrics as c
            where c.id > :lo and c.id <= :hi
            on conflict (command_id) do nothing
        """,
        "clear": "truncate lillo_dash.command_calls",
    }.items()
}


def refresh(conn: sa.Connection) -> bool:
    """Bring command_calls up to the newest command; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": CALLS_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_command_id"]).scalar_one()
    if lo == 0:
        conn.execute(_CALLS_SQL["clear"])
    for start in range(lo, hi, BATCH_ROWS):
        conn.execute(_CALLS_SQL["add"], {"lo": start, "hi": min(start + BATCH_ROWS, hi)})
    n_added = conn.execute(_SQL["count_commands"], {"lo": lo, "hi": hi}).scalar_one() if hi > lo else 0
    conn.execute(_SQL["save_watermark"], {"source": CALLS_SOURCE, "last_id": max(hi, lo), "n_rows": n_added})
    return lo == 0
