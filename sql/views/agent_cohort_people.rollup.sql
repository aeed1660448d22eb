-- name: agent_cohort_people
-- Rollup variant of agent_cohort_people.sql (same rows). A person's cohort is the week of their
-- first message, so the cohort is the agent's people in lillo_dash.person_totals (user messages)
-- whose first_ms falls in the week, with their messages and last message from there too. Only the
-- page's people then have their weeks counted (lillo_dash.person_weeks) and their latest name read,
-- by one probe of Lillo's (chat_id, timestamp) index in the chat lillo_dash.chat_people says they
-- wrote in last. User messages above each rollup's refresh watermark are added live, so a newcomer,
-- or a person whose late-stored earlier message moves them to an earlier cohort, is where the next
-- refresh will put them.
-- params: :agent_id, :cohort_week, :limit, :offset, :messages_watermark, :weeks_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.person_totals, lillo_dash.person_weeks, lillo_dash.chat_people, chat_messages(id, chat_id, user_id, user_first_name, username, role, timestamp, agent_id)
with settings as (
    select
        agent_id,
        (extract(epoch from monday) * 1000)::bigint as start_ms,
        (extract(epoch from monday) * 1000)::bigint + 7 * 86400000 as end_ms
    from (
        select
            cast(:agent_id as text) as agent_id,
            date_trunc('week', cast(cast(:cohort_week as date) as timestamp)) at time zone 'UTC' as monday
    ) as asked
),

-- The agent's user messages above either watermark (the two rollups may be refreshed apart).
tail as materialized (
    select
        m.id,
        m.chat_id,
        m.user_id,
        epoch_ms(m.timestamp) as sent_ms,
        date_trunc('week', to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone 'UTC') at time zone 'UTC'
            as week_start
    from chat_messages as m
    where m.id > least(:messages_watermark, :weeks_watermark)
      and m.agent_id = cast(:agent_id as text)
      and m.role = 'user'
),

fresh as (
    select t.user_id, count(*) as n_messages, min(t.sent_ms) as first_ms, max(t.sent_ms) as last_ms
    from tail as t
    where t.id > :messages_watermark
    group by t.user_id
),

-- The people whose first message falls in the week, and everyone who wrote since the refresh, with
-- each of those's rollup row (unless already among the former) and new messages.
said as (
    select p.user_id, p.n_messages, p.first_ms, p.last_ms
    from settings as s
    inner join lillo_dash.person_totals as p
        on p.agent_id = s.agent_id and p.first_ms >= s.start_ms and p.first_ms < s.end_ms
    union all
    select p.user_id, p.n_messages, p.first_ms, p.last_ms
    from settings as s
    cross join fresh as f
    inner join lillo_dash.person_totals as p on p.user_id = f.user_id and p.agent_id = s.agent_id
    where not (p.first_ms >= s.start_ms and p.first_ms < s.end_ms)
    union all
    select f.user_id, f.n_messages, f.first_ms, f.last_ms
    from fresh as f
),

cohort as (
    select user_id, sum(n_messages)::bigint as n_messages, min(first_ms) as first_ms, max(last_ms) as last_ms
    from said
    group by user_id
    having min(first_ms) >= (select s.start_ms from settings as s)
       and min(first_ms) < (select s.end_ms from settings as s)
),

page as (
    select *
    from cohort
    order by n_messages desc, user_id
    limit :limit offset :offset
),

page_weeks as (
    select user_id, count(distinct week_start) as n_weeks_active
    from (
        select p.user_id, w.week_start
        from page as p
        cross join settings as s
        inner join lillo_dash.person_weeks as w on w.agent_id = s.agent_id and w.user_id = p.user_id
        union all
        select t.user_id, t.week_start
        from tail as t
        where t.id > :weeks_watermark and t.user_id in (select p.user_id from page as p)
    ) as written
    group by user_id
),

-- The chats in which each person of the page wrote their last message to the agent.
last_chats as (
    select cp.user_id, cp.chat_id
    from page as p
    cross join settings as s
    inner join lillo_dash.chat_people as cp
        on cp.user_id = p.user_id and cp.agent_id = s.agent_id and cp.last_ms = p.last_ms
    union
    select t.user_id, t.chat_id
    from page as p
    inner join tail as t on t.user_id = p.user_id and t.sent_ms = p.last_ms
),

final as (
    select
        p.user_id,
        latest.user_first_name,
        latest.username,
        to_timestamp(p.first_ms / 1000.0) as first_message_at,
        to_timestamp(p.last_ms / 1000.0) as last_message_at,
        p.n_messages,
        w.n_weeks_active,
        w.n_weeks_active > 1 as came_back
    from page as p
    inner join page_weeks as w on w.user_id = p.user_id
    -- Their last message: in those chats, at that moment (one index probe per epoch unit).
    left join lateral (
        select m.user_first_name, m.username
        from last_chats as c
        inner join chat_messages as m
            on m.chat_id = c.chat_id
            and m.timestamp in (p.last_ms, p.last_ms / 1000)
            and epoch_ms(m.timestamp) = p.last_ms
        where c.user_id = p.user_id
          and m.user_id = p.user_id
          and m.role = 'user'
          and m.agent_id = cast(:agent_id as text)
        order by m.id desc
        limit 1
    ) as latest on true
)

select * from final
order by n_messages desc, user_id
