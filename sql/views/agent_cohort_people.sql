-- name: agent_cohort_people
-- One row per person of one retention cohort of agent :agent_id (as sql/views/agent_retention.sql
-- defines it): the people whose first user message to the agent ever fell in the UTC week (starting
-- Monday) that holds :cohort_week ('YYYY-MM-DD': its Monday, as agent_retention gives it). With the
-- name and username of their latest message to the agent, their first and last user message to it,
-- their user messages to it ever, the distinct UTC weeks they wrote to it in (the cohort week
-- included) and whether they came back in a later week. Sorted by messages (most first), ties by
-- user id; the :limit rows after the first :offset.
-- params: :agent_id, :cohort_week, :limit, :offset
-- requires: chat_messages(id, user_id, user_first_name, username, role, timestamp, agent_id)
with said as (
    select
        m.id,
        m.user_id,
        m.user_first_name,
        m.username,
        epoch_ms(m.timestamp) as sent_ms,
        date_trunc('week', to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone 'UTC') as week_start
    from chat_messages as m
    where m.agent_id = cast(:agent_id as text) and m.role = 'user'
),

cohort as (
    select
        user_id,
        count(*) as n_messages,
        min(sent_ms) as first_ms,
        max(sent_ms) as last_ms,
        count(distinct week_start) as n_weeks_active
    from said
    group by user_id
    having min(week_start) = date_trunc('week', cast(cast(:cohort_week as date) as timestamp))
),

page as (
    select *
    from cohort
    order by n_messages desc, user_id
    limit :limit offset :offset
),

latest as (
    select distinct on (s.user_id) s.user_id, s.user_first_name, s.username
    from said as s
    inner join page as p on p.user_id = s.user_id
    order by s.user_id, s.sent_ms desc, s.id desc
),

final as (
    select
        p.user_id,
        l.user_first_name,
        l.username,
        to_timestamp(p.first_ms / 1000.0) as first_message_at,
        to_timestamp(p.last_ms / 1000.0) as last_message_at,
        p.n_messages,
        p.n_weeks_active,
        p.n_weeks_active > 1 as came_back
    from page as p
    inner join latest as l on l.user_id = p.user_id
)

select * from final
order by n_messages desc, user_id
