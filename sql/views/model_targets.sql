-- name: model_targets
-- The (agent, chat) pairs whose model can be tuned, one row each: the pairs with messages in
-- [start, end) and the pairs with a model preference row, of the chosen agents (all when
-- :agent_ids is empty). agent_name is null when no agents row has the id (a model cannot be set
-- for such a pair, only cleared); chat_kind from the id's sign as in chat_list (negative = group);
-- model_type is the model the pair runs on now (its preference, or OPENAI without one),
-- has_preference whether it has a row, updated_at that row's (null without one); n_messages and
-- last_active_ms (epoch ms) are its messages in the range (0 and null without any).
-- Filters: :kind ('all', 'private', 'group'), at least :min_messages messages in the range (0 also
-- keeps pairs that only have a preference), :current_model ('all'; 'default' = no preference row;
-- or a model: the pairs running on it, so OPENAI includes the pairs without a row). Busiest first,
-- ties by agent id (byte order) and chat id; at most :limit rows.
-- params: :agent_ids, :kind, :min_messages, :current_model, :start_ms, :end_ms, :limit
-- requires: chat_messages(timestamp, chat_id, agent_id), model_preferences(agent_id, chat_id, model_type, updated_at), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        cast(:kind as text) as kind,
        cast(:current_model as text) as current_model,
        cast(:min_messages as bigint) as min_messages
),

traffic as (
    select m.agent_id, m.chat_id, count(*) as n_messages, max(epoch_ms(m.timestamp)) as last_active_ms
    from chat_messages as m
    cross join settings as s
    where (s.all_agents or m.agent_id = any(s.agent_ids))
      and epoch_ms(m.timestamp) >= :start_ms and epoch_ms(m.timestamp) < :end_ms
    group by m.agent_id, m.chat_id
),

preferences as (
    select p.agent_id, p.chat_id::bigint as chat_id, p.model_type, p.updated_at
    from model_preferences as p
    cross join settings as s
    where s.all_agents or p.agent_id = any(s.agent_ids)
),

pairs as (
    select
        coalesce(t.agent_id, p.agent_id) as agent_id,
        coalesce(t.chat_id, p.chat_id) as chat_id,
        p.model_type as preference,
        p.updated_at,
        coalesce(t.n_messages, 0) as n_messages,
        t.last_active_ms
    from traffic as t
    full join preferences as p on p.agent_id = t.agent_id and p.chat_id = t.chat_id
),

chosen as (
    select c.*
    from pairs as c
    cross join settings as s
    where c.n_messages >= s.min_messages
      and (s.kind = 'all' or (s.kind = 'private' and c.chat_id > 0) or (s.kind = 'group' and c.chat_id < 0))
      and (
          s.current_model = 'all'
          or (s.current_model = 'default' and c.preference is null)
          or coalesce(c.preference, 'OPENAI') = s.current_model
      )
    order by c.n_messages desc, c.agent_id collate "C", c.chat_id
    limit :limit
),

final as (
    select
        c.agent_id,
        a.name as agent_name,
        c.chat_id,
        case when c.chat_id < 0 then 'group' else 'private' end as chat_kind,
        coalesce(c.preference, 'OPENAI') as model_type,
        c.preference is not null as has_preference,
        c.updated_at,
        c.n_messages,
        c.last_active_ms
    from chosen as c
    left join agents as a on a.id::text = c.agent_id
)

select * from final
order by n_messages desc, agent_id collate "C", chat_id
