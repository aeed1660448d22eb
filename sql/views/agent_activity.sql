-- name: agent_activity
-- One row per agent (every agents row, plus agent ids with messages but no agents row): messages
-- and chats in [start, end), and its last message ever as local time in :tz (null if none).
-- params: :start_ms, :end_ms, :tz, :agent_ids
-- requires: chat_messages(timestamp, chat_id, agent_id), agents(id, name, is_active)
with in_range as (
    select
        m.agent_id,
        count(*) as n_messages,
        count(distinct m.chat_id) as n_chats
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
    group by m.agent_id
),

last_seen as (
    select m.agent_id, max(epoch_ms(m.timestamp)) as last_sent_ms
    from chat_messages as m
    group by m.agent_id
),

all_agents as (
    select a.id::text as agent_id, a.name as agent_name, a.is_active from agents as a
    union all
    select l.agent_id, l.agent_id, null::boolean
    from last_seen as l
    where not exists (select from agents as a where a.id::text = l.agent_id)
),

final as (
    select
        aa.agent_id,
        aa.agent_name,
        aa.is_active,
        coalesce(r.n_messages, 0) as n_messages,
        coalesce(r.n_chats, 0) as n_chats,
        to_timestamp(l.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from all_agents as aa
    left join in_range as r on r.agent_id = aa.agent_id
    left join last_seen as l on l.agent_id = aa.agent_id
    where cardinality(cast(:agent_ids as text[])) = 0 or aa.agent_id = any(cast(:agent_ids as text[]))
)

select * from final
order by n_messages desc, lower(agent_name), agent_id
