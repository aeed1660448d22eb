-- name: agent_model_mix
-- Rollup variant of agent_model_mix.sql (same rows): the agents' chats from lillo_dash.chat_totals
-- plus chats first seen above the refresh watermark. Only the chats with a non-default model are
-- matched against model_preferences; the rest of an agent's chats are OPENAI.
-- params: :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_totals, chat_messages(id, chat_id, agent_id), model_preferences(agent_id, chat_id, model_type)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

new_chats as (
    select distinct m.agent_id, m.chat_id
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where (s.all_agents or m.agent_id = any(s.agent_ids))
      and not exists (
          select from lillo_dash.chat_totals as t where t.chat_id = m.chat_id and t.agent_id = m.agent_id
      )
),

-- The chosen agents' rows are read through the tables' agent_id indexes; all agents by a scan.
chats as (
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where cardinality(cast(:agent_ids as text[])) = 0
    union all
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where t.agent_id = any(cast(:agent_ids as text[]))
    union all
    select n.agent_id, n.chat_id from new_chats as n
),

chat_counts as (
    select agent_id, count(*) as n_chats from chats group by agent_id
),

chosen_models as (
    select p.agent_id, p.model_type, count(*) as n_chats
    from chats as c
    inner join model_preferences as p on p.chat_id = c.chat_id and p.agent_id = c.agent_id
    where p.model_type <> 'OPENAI'
    group by p.agent_id, p.model_type
),

final as (
    select agent_id, model_type, n_chats from chosen_models
    union all
    select c.agent_id, 'OPENAI', (c.n_chats - coalesce(sum(m.n_chats), 0))::bigint
    from chat_counts as c
    left join chosen_models as m on m.agent_id = c.agent_id
    group by c.agent_id, c.n_chats
    having c.n_chats - coalesce(sum(m.n_chats), 0) > 0
)

select * from final
order by agent_id, n_chats desc, model_type
