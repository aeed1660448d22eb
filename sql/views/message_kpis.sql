-- name: message_kpis
-- One row per period ('current' = [start, end), 'previous' = [previous_start, start)): messages,
-- active chats, active users (distinct authors of role 'user' messages) and active agents.
-- A period without messages has no row.
-- params: :start_ms, :end_ms, :previous_start_ms, :agent_ids
-- requires: chat_messages(timestamp, chat_id, user_id, role, agent_id)
with scoped as (
    select
        case when epoch_ms(m.timestamp) >= :start_ms then 'current' else 'previous' end as period,
        m.chat_id,
        m.user_id,
        m.role,
        m.agent_id
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :previous_start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
),

final as (
    select
        period,
        count(*) as n_messages,
        count(distinct chat_id) as n_active_chats,
        count(distinct user_id) filter (where role = 'user') as n_active_users,
        count(distinct agent_id) as n_active_agents
    from scoped
    group by period
)

select * from final
order by period
