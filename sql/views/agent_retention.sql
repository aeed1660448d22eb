-- name: agent_retention
-- One row per (cohort week, week number) of agent :agent_id with people: a person's cohort is the
-- UTC week (starting Monday, as local UTC time) of their first user message to the agent ever;
-- cohorts whose week overlaps [start, end) are shown. week_number 0 is the cohort week itself
-- (n_people = cohort_size), week n the n-th week after it; n_people counts the cohort's people who
-- wrote to the agent in that week. Weeks in which none of them wrote have no row.
-- params: :agent_id, :start_ms, :end_ms
-- requires: chat_messages(timestamp, user_id, role, agent_id)
with weeks as (
    select distinct
        m.user_id,
        date_trunc('week', to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone 'UTC') as week_start
    from chat_messages as m
    where m.agent_id = cast(:agent_id as text) and m.role = 'user'
),

cohorts as (
    select user_id, min(week_start) as cohort_week
    from weeks
    group by user_id
),

chosen as (
    select c.user_id, c.cohort_week
    from cohorts as c
    where c.cohort_week >= date_trunc('week', to_timestamp(:start_ms / 1000.0) at time zone 'UTC')
      and c.cohort_week < to_timestamp(:end_ms / 1000.0) at time zone 'UTC'
),

activity as (
    select c.cohort_week, (w.week_start::date - c.cohort_week::date) / 7 as week_number, count(*) as n_people
    from chosen as c
    inner join weeks as w on w.user_id = c.user_id
    group by 1, 2
),

final as (
    select
        a.cohort_week,
        a.week_number,
        a.n_people,
        max(a.n_people) filter (where a.week_number = 0) over (partition by a.cohort_week) as cohort_size
    from activity as a
)

select * from final
order by cohort_week, week_number
