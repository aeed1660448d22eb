-- name: chat_agents
-- One row per agent with messages in chat :chat_id: its id, its name (the raw id when it has no
-- agents row), messages stored, and first and last message time in :tz. No rows: no such chat.
-- params: :chat_id, :tz
-- requires: chat_messages(chat_id, agent_id, timestamp), agents(id, name)
with per_agent as (
    select
        m.agent_id,
        count(*) as n_messages,
        min(epoch_ms(m.timestamp)) as first_ms,
        max(epoch_ms(m.timestamp)) as last_ms
    from chat_messages as m
    where m.chat_id = :chat_id
    group by m.agent_id
),

final as (
    select
        p.agent_id,
        coalesce(a.name, p.agent_id) as agent_name,
        p.n_messages,
        to_timestamp(p.first_ms / 1000.0) at time zone :tz as first_at,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_at
    from per_agent as p
    left join agents as a on a.id::text = p.agent_id
)

select * from final
order by n_messages desc, agent_id
