"""The retention rollups (lillo_dash.person_weeks, retention_weekly), refreshed by dashboard/rollups.py."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.rollups import _SQL, BATCH_ROWS, count_messages, message_batches, stage_messages
from dashboard.views import expand_macros

# --- Person weeks and retention ------------------------------------------------------------------------
# lillo_dash.person_weeks and retention_weekly (retention cohorts) keep their own watermark too, for
# the same reason: a database whose other rollups predate them builds them on its next refresh. A
# batch's people have their weeks counted under their cohort as they were before the batch and as
# they are with its weeks added; the difference is added to retention_weekly, so a person who wrote
# in a week already counted (the usual case) changes nothing (sql/views/agent_retention.rollup.sql
# does the same live for the rows above the watermark).
PERSON_WEEKS_SOURCE = "person_weeks"
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
        # The batch staged in pg_temp.new_messages (dashboard/rollups.py). Only the people with a
        # week new to person_weeks change; every part of the statement sees person_weeks as it was
        # before the batch, so their old weeks are those it reads.
        "add_batch": """
            with added as (
                insert into lillo_dash.person_weeks (agent_id, user_id, week_start)
                select distinct m.agent_id, m.user_id, date_trunc('week', to_timestamp(m.sent_ms / 1000.0))
                from pg_temp.new_messages as m
                where m.role = 'user'
                on conflict do nothing
                returning agent_id, user_id, week_start
            ),

            old_weeks as (
                select w.agent_id, w.user_id, w.week_start
                from (select distinct agent_id, user_id from added) as t
                inner join lillo_dash.person_weeks as w on w.agent_id = t.agent_id and w.user_id = t.user_id
            ),

            changes as (
                select
                    agent_id, week_start, -1 as change,
                    min(week_start) over (partition by agent_id, user_id) as cohort_week
                from old_weeks
                union all
                select
                    agent_id, week_start, 1,
                    min(week_start) over (partition by agent_id, user_id)
                from (
                    select agent_id, user_id, week_start from old_weeks
                    union all
                    select agent_id, user_id, week_start from added
                ) as weeks_now
            )

            insert into lillo_dash.retention_weekly as r (agent_id, cohort_week, week_start, n_people)
            select agent_id, cohort_week, week_start, sum(change)
            from changes
            group by 1, 2, 3
            having sum(change) <> 0
            on conflict (agent_id, cohort_week, week_start) do update
            set n_people = r.n_people + excluded.n_people
        """,
        "build": """
            insert into lillo_dash.retention_weekly (agent_id, cohort_week, week_start, n_people)
            select agent_id, cohort_week, week_start, count(*)
            from (
                select
                    w.agent_id, w.week_start,
                    min(w.week_start) over (partition by w.agent_id, w.user_id) as cohort_week
                from lillo_dash.person_weeks as w
            ) as weeks
            group by 1, 2, 3
        """,
        "drop_empty": "delete from lillo_dash.retention_weekly where n_people = 0",
        "clear": "truncate lillo_dash.person_weeks, lillo_dash.retention_weekly",
    }.items()
}


def refresh(conn: sa.Connection) -> bool:
    """Bring person_weeks and retention_weekly up to the newest message; True when built from empty."""
    lo = conn.execute(_SQL["watermark"], {"source": PERSON_WEEKS_SOURCE}).scalar() or 0
    hi = conn.execute(_SQL["max_message_id"]).scalar_one()
    if lo == 0:
        conn.execute(_PERSON_WEEKS_SQL["clear"])
        for start in range(lo, hi, BATCH_ROWS):
            conn.execute(_PERSON_WEEKS_SQL["add"], {"lo": start, "hi": min(start + BATCH_ROWS, hi)})
        conn.execute(_PERSON_WEEKS_SQL["build"])
    else:
        for start, end in message_batches(conn, lo, hi):
            stage_messages(conn, start, end)
            conn.execute(_PERSON_WEEKS_SQL["add_batch"])
        conn.execute(_PERSON_WEEKS_SQL["drop_empty"])
    conn.execute(
        _SQL["save_watermark"],
        {"source": PERSON_WEEKS_SOURCE, "last_id": max(hi, lo), "n_rows": count_messages(conn, lo, hi)},
    )
    return lo == 0
