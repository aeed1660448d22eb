-- name: model_mix
-- One row per (agent, model) among the chosen agents (all when :agent_ids is empty): the agent's
-- (agent, chat) pairs with messages ever that run on that model (model_preferences by agent and
-- chat; a pair without a row runs on OPENAI, Lillo's default), how many of them have no row
-- (n_default_chats: OPENAI by default, not by choice), how many had messages in [start, end)
-- (n_active_chats) and those messages (n_messages). Sum the rows over agents for the overall mix.
-- params: :start_ms, :end_ms, :agent_ids
-- requires: chat_messages(chat_id, agent_id, timestamp), model_preferences(agent_id, chat_id, model_type)
with pairs as (
    select
        m.agent_id,
        m.chat_id,
        count(*) filter (where epoch_ms(m.timestamp) >= :start_ms and epoch_ms(m.timestamp) < :end_ms)
            as n_messages
    from chat_messages as m
    where cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[]))
    group by m.agent_id, m.chat_id
),

final as (
    select
        p.agent_id,
        coalesce(mp.model_type, 'OPENAI') as model_type,
        count(*) as n_chats,
        count(*) filter (where mp.model_type is null) as n_default_chats,
        count(*) filter (where p.n_messages > 0) as n_active_chats,
        sum(p.n_messages)::bigint as n_messages
    from pairs as p
    left join model_preferences as mp on mp.agent_id = p.agent_id and mp.chat_id = p.chat_id
    group by p.agent_id, coalesce(mp.model_type, 'OPENAI')
)

select * from final
order by agent_id, n_chats desc, model_type
