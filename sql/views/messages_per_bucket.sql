-- name: messages_per_bucket
-- One row per (bucket, agent) with messages in [start, end): the bucket's start as local time in
-- :tz, the agent's name (its raw id when no agents row matches), user and assistant messages.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids
-- requires: chat_messages(timestamp, agent_id, role), agents(id, name)
with scoped as (
    select
        date_trunc(:bucket, to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone :tz) as bucket_start,
        m.agent_id,
        m.role
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
),

per_bucket as (
    select
        bucket_start,
        agent_id,
        count(*) as n_messages,
        count(*) filter (where role = 'user') as n_user_messages,
        count(*) filter (where role = 'assistant') as n_assistant_messages
    from scoped
    group by bucket_start, agent_id
),

final as (
    select
        b.bucket_start,
        b.agent_id,
        coalesce(a.name, b.agent_id) as agent_name,
        b.n_messages,
        b.n_user_messages,
        b.n_assistant_messages
    from per_bucket as b
    left join agents as a on a.id::text = b.agent_id
)

select * from final
order by bucket_start, agent_name
