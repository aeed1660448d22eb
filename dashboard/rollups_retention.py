"""The retention rollups (lillo_dash.person_weeks, retention_weekly), refreshed by dashboard/rollups.py."""

from __future__ import annotations

import sqlalchemy as sa

from dashboard.rollups import _SQL, BATCH_ROWS
from dashboard.views import expand_macros

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
