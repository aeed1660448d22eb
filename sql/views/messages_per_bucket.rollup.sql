-- name: messages_per_bucket
-- Rollup variant of messages_per_bucket.sql (same rows): the hourly rollup plus the rows above
-- the refresh watermark, counted live.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, chat_messages(id, timestamp, agent_id, role), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

rows as (
    select h.hour_start as moment, h.agent_id, h.role, h.n_messages
    from settings as s
    inner join lillo_dash.message_hourly as h
        on h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
    where s.all_agents or h.agent_id = any(s.agent_ids)
    union all
    select to_timestamp(epoch_ms(m.timestamp) / 1000.0), m.agent_id, m.role, 1
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (s.all_agents or m.agent_id = any(s.agent_ids))
),

per_bucket as (
    select
        date_trunc(:bucket, moment at time zone :tz) as bucket_start,
        agent_id,
        sum(n_messages)::bigint as n_messages,
        (sum(n_messages) filter (where role = 'user'))::bigint as n_user_messages,
        (sum(n_messages) filter (where role = 'assistant'))::bigint as n_assistant_messages
    from rows
    group by 1, 2
),

final as (
    select
        b.bucket_start,
        b.agent_id,
        coalesce(a.name, b.agent_id) as agent_name,
        b.n_messages,
        coalesce(b.n_user_messages, 0) as n_user_messages,
        coalesce(b.n_assistant_messages, 0) as n_assistant_messages
    from per_bucket as b
    left join agents as a on a.id::text = b.agent_id
)

select * from final
order by bucket_start, agent_name
