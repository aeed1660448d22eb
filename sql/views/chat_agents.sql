-- name: chat_agents
-- One row per agent with messages in chat :chat_id: its id, its name (the raw id when it has no
-- agents row), messages stored and its last message's time in :tz; and on every row the chat's
-- first message time in :tz. No rows: no such chat.
-- params: :chat_id, :tz
-- requires: chat_messages(chat_id, agent_id, timestamp), agents(id, name)
with per_agent as (
    select
        m.agent_id,
        count(*) as n_messages,
        max(epoch_ms(m.timestamp)) as last_ms
    from chat_messages as m
    where m.chat_id = :chat_id
    group by m.agent_id
),

-- The chat's first message: one probe of Lillo's (chat_id, timestamp) index per epoch unit.
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
