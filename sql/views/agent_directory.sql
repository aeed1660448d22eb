-- name: agent_directory
-- One row per agent known to the database: every row of agents plus every agent_id that has
-- messages but no agents row (shown by its raw id). Feeds the agent filter.
-- params:
-- requires: agents(id, name, is_active), chat_messages(agent_id)
with recursive message_agent_ids as (
    -- Loose index scan over idx_chat_messages_agent_id: one index probe per distinct agent,
    -- instead of reading every message.
    (select m.agent_id from chat_messages as m order by m.agent_id limit 1)
    union all
    select (
        select m.agent_id from chat_messages as m
        where m.agent_id > previous.agent_id
        order by m.agent_id
        limit 1
    )
    from message_agent_ids as previous
    where previous.agent_id is not null
),

registered as (
    select a.id::text as agent_id, a.name as agent_name, a.is_active, true as is_registered
    from agents as a
),

unregistered as (
    select ids.agent_id, ids.agent_id as agent_name, null::boolean as is_active, false as is_registered
    from message_agent_ids as ids
    where ids.agent_id is not null
      and not exists (select from registered as r where r.agent_id = ids.agent_id)
),

final as (
    select * from registered
    union all
    select * from unregistered
)

select * from final
order by is_registered desc, lower(agent_name), agent_id
