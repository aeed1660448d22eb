-- name: activity_heatmap
-- Rollup variant of activity_heatmap.sql (same rows): the hourly rollup (each UTC hour falls in
-- one local hour for zones with whole-hour offsets) plus the rows above the refresh watermark.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, chat_messages(id, timestamp, agent_id, role)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

rows as (
    select h.hour_start as moment, h.role, h.n_messages
    from settings as s
    inner join lillo_dash.message_hourly as h
        on h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
    where s.all_agents or h.agent_id = any(s.agent_ids)
    union all
    select to_timestamp(epoch_ms(m.timestamp) / 1000.0), m.role, 1
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (s.all_agents or m.agent_id = any(s.agent_ids))
),

final as (
    select
        extract(isodow from moment at time zone :tz)::integer as weekday,
        extract(hour from moment at time zone :tz)::integer as hour_of_day,
        sum(n_messages)::bigint as n_messages,
        coalesce(sum(n_messages) filter (where role = 'user'), 0)::bigint as n_user_messages
    from rows
    group by 1, 2
)

select * from final
order by weekday, hour_of_day
