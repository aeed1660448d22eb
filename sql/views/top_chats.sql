-- name: top_chats
-- The :limit chats with the most messages in [start, end): kind from the id's sign (positive =
-- private, negative = group), messages, people (distinct authors of user messages in the chat
-- ever, not only in the range), the agents in it by name, and the last message as local time in
-- :tz. Ties broken by chat id.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :limit
-- requires: chat_messages(timestamp, chat_id, user_id, role, agent_id), agents(id, name)
with scoped as (
    select m.chat_id, m.user_id, m.role, m.agent_id, epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
),

per_chat as (
    select
        chat_id,
        count(*) as n_messages,
        max(sent_ms) as last_sent_ms
    from scoped
    group by chat_id
    order by n_messages desc, chat_id
    limit :limit
),

chat_agents as (
    select distinct s.chat_id, coalesce(a.name, s.agent_id) as agent_name
    from scoped as s
    inner join per_chat as p on p.chat_id = s.chat_id
    left join agents as a on a.id::text = s.agent_id
),

final as (
    select
        p.chat_id,
        case when p.chat_id < 0 then 'group' else 'private' end as chat_kind,
        p.n_messages,
        (select count(distinct m.user_id) from chat_messages as m
         where m.chat_id = p.chat_id and m.role = 'user'
           and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[]))))
            as n_people,
        (select string_agg(ca.agent_name, ', ' order by ca.agent_name)
         from chat_agents as ca where ca.chat_id = p.chat_id) as agent_names,
        to_timestamp(p.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from per_chat as p
)

select * from final
order by n_messages desc, chat_id
