-- name: activity_heatmap
-- One row per (weekday, hour of day) in :tz with messages in [start, end): ISO weekday (1 = Monday
-- … 7 = Sunday), hour 0–23, messages, and of them those people wrote (role user).
-- params: :start_ms, :end_ms, :tz, :agent_ids
-- requires: chat_messages(timestamp, agent_id, role)
with scoped as (
    select
        to_timestamp(epoch_ms(m.timestamp) / 1000.0) at time zone :tz as local_time,
        m.role
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
),

final as (
    select
        extract(isodow from local_time)::integer as weekday,
        extract(hour from local_time)::integer as hour_of_day,
        count(*) as n_messages,
        count(*) filter (where role = 'user') as n_user_messages
    from scoped
    group by 1, 2
)

select * from final
order by weekday, hour_of_day
