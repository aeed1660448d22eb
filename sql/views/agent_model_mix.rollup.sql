-- name: agent_model_mix
-- Rollup variant of agent_model_mix.sql (same rows): the agents' chats per model as the last
-- refresh counted them (lillo_dash.model_pair_counts) while model_preferences is unchanged since,
-- else lillo_dash.chat_totals' chats matched against model_preferences; plus chats first seen above
-- the refresh watermark.
-- params: :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_totals, lillo_dash.model_pairs_state, lillo_dash.model_pair_counts, chat_messages(id, chat_id, agent_id), model_preferences(agent_id, chat_id, model_type)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

-- include: model_preferences_filed

new_chats as (
    select distinct m.agent_id, m.chat_id
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where (s.all_agents or m.agent_id = any(s.agent_ids))
      and not exists (
          select from lillo_dash.chat_totals as t where t.chat_id = m.chat_id and t.agent_id = m.agent_id
      )
),

-- chat_totals' rows of the chosen agents (through its key, or by a scan for all agents) unless the
-- refresh's counts stand in for them; always the chats first seen above the watermark.
chats as (
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where cardinality(cast(:agent_ids as text[])) = 0 and not (select is_counted from preferences_filed)
    union all
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where t.agent_id = any(cast(:agent_ids as text[])) and not (select is_counted from preferences_filed)
    union all
    select n.agent_id, n.chat_id from new_chats as n
),

final as (
    select agent_id, model_type, sum(n_chats)::bigint as n_chats
    from (
        select c.agent_id, c.model_type, c.n_chats
        from settings as s
        inner join lillo_dash.model_pair_counts as c on s.all_agents or c.agent_id = any(s.agent_ids)
        where (select is_counted from preferences_filed)
        union all
        select c.agent_id, coalesce(p.model_type, 'OPENAI'), 1
        from chats as c
        left join model_preferences as p on p.agent_id = c.agent_id and p.chat_id = c.chat_id
    ) as counts
    group by agent_id, model_type
)

select * from final
order by agent_id, n_chats desc, model_type
