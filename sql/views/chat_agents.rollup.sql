-- name: chat_agents
-- Rollup variant of chat_agents.sql (same rows): messages per agent from the all-time chat
-- totals, last messages from the chat's daily rollup rows, plus the rows above the refresh
-- watermark counted live; the chat's first message from Lillo's index as in the raw view.
-- params: :chat_id, :tz, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_totals, lillo_dash.chat_activity, chat_messages(id, chat_id, agent_id, timestamp), agents(id, name)
with tail as (
    select m.agent_id, count(*) as n_messages, max(epoch_ms(m.timestamp)) as last_ms
    from chat_messages as m
    where m.id > :messages_watermark and m.chat_id = :chat_id
    group by m.agent_id
),

rolled as (
    select t.agent_id, t.n_messages, d.last_ms
    from lillo_dash.chat_totals as t
    left join lateral (
        select max(a.last_ms) as last_ms
        from lillo_dash.chat_activity as a
        where a.chat_id = :chat_id and a.grain = 'day' and a.agent_id = t.agent_id
    ) as d on true
    where t.chat_id = :chat_id
),

per_agent as (
    select agent_id, sum(n_messages)::bigint as n_messages, max(last_ms) as last_ms
    from (
        select agent_id, n_messages, last_ms from rolled
        union all
        select agent_id, n_messages, last_ms from tail
    ) as rows
    group by agent_id
),

first_message as (
    select min(sent_ms) as first_ms
    from (
        (select m.timestamp as sent_ms from chat_messages as m
         where m.chat_id = :chat_id and m.timestamp > 100000000000 order by m.timestamp limit 1)
        union all
        (select m.timestamp * 1000 from chat_messages as m
         where m.chat_id = :chat_id and m.timestamp <= 100000000000 order by m.timestamp limit 1)
    ) as candidates
),

final as (
    select
        p.agent_id,
        coalesce(a.name, p.agent_id) as agent_name,
        p.n_messages,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_at,
        to_timestamp(f.first_ms / 1000.0) at time zone :tz as chat_first_at
    from per_agent as p
    cross join first_message as f
    left join agents as a on a.id::text = p.agent_id
)

select * from final
order by n_messages desc, agent_id
