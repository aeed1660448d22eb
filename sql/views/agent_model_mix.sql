-- name: agent_model_mix
-- One row per (agent, model) among the chosen agents (all when :agent_ids is empty): how many of
-- the chats the agent has ever had messages in use that model (model_preferences by agent and
-- chat; a chat without a row uses OPENAI, Lillo's default), most chats first.
-- params: :agent_ids
-- requires: chat_messages(chat_id, agent_id), model_preferences(agent_id, chat_id, model_type)
with agent_chats as (
    select distinct m.agent_id, m.chat_id
    from chat_messages as m
    where cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[]))
),

final as (
    select c.agent_id, coalesce(p.model_type, 'OPENAI') as model_type, count(*) as n_chats
    from agent_chats as c
    left join model_preferences as p on p.agent_id = c.agent_id and p.chat_id = c.chat_id
    group by 1, 2
)

select * from final
order by agent_id, n_chats desc, model_type
