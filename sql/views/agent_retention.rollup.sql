-- name: agent_retention
-- Rollup variant of agent_retention.sql (same rows): cohort counts from lillo_dash.retention_weekly.
-- The people with user messages above its refresh watermark are corrected live, as the next refresh
-- will (dashboard/rollups.py): their weeks in lillo_dash.person_weeks are taken away under their
-- old cohort and, with the new weeks, added back under their cohort now.
-- params: :agent_id, :start_ms, :end_ms, :weeks_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.person_weeks, lillo_dash.retention_weekly, chat_messages(id, timestamp, user_id, role, agent_id)
with tail_weeks as (
    select distinct
        m.user_id,
        date_trunc('week', to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone 'UTC') as week_start
    from chat_messages as m
    where m.id > :weeks_watermark and m.agent_id = cast(:agent_id as text) and m.role = 'user'
),

old_weeks as (
    select w.user_id, w.week_start at time zone 'UTC' as week_start
    from (select distinct t.user_id from tail_weeks as t) as t
    inner join lillo_dash.person_weeks as w on w.agent_id = cast(:agent_id as text) and w.user_id = t.user_id
),

new_weeks as (
    select user_id, week_start from old_weeks
    union
    select user_id, week_start from tail_weeks
),

counts as (
    select cohort_week, week_start, sum(n_people) as n_people
    from (
        select r.cohort_week at time zone 'UTC' as cohort_week, r.week_start at time zone 'UTC' as week_start,
            r.n_people
        from lillo_dash.retention_weekly as r
        where r.agent_id = cast(:agent_id as text)
        union all
        select min(week_start) over (partition by user_id), week_start, -1 from old_weeks
        union all
        select min(week_start) over (partition by user_id), week_start, 1 from new_weeks
    ) as rows
    group by cohort_week, week_start
    having sum(n_people) > 0
),

activity as (
    select c.cohort_week, (c.week_start::date - c.cohort_week::date) / 7 as week_number, c.n_people
    from counts as c
    where c.cohort_week >= date_trunc('week', to_timestamp(:start_ms / 1000.0) at time zone 'UTC')
      and c.cohort_week < to_timestamp(:end_ms / 1000.0) at time zone 'UTC'
),

final as (
    select
        a.cohort_week,
        a.week_number,
        a.n_people::bigint as n_people,
        (max(a.n_people) filter (where a.week_number = 0) over (partition by a.cohort_week))::bigint
            as cohort_size
    from activity as a
)

select * from final
order by cohort_week, week_number
