-- name: commands_per_bucket
-- Rollup variant of commands_per_bucket.sql (same rows): the hourly command rollup plus the
-- commands above the refresh watermark, counted live.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, command_metrics(id, timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

live as (
    select
        to_timestamp(epoch_ms(c.timestamp) / 1000.0) as moment,
        c.success,
        case when s.all_agents then '' else last_speaker(c) end as agent_id
    from settings as s
    inner join command_metrics as c on c.id > :commands_watermark
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
),

rows as (
    select h.hour_start as moment, h.n_calls, h.n_failures
    from settings as s
    inner join lillo_dash.command_hourly as h
        on h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
    where h.command = '*' and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
    union all
    select l.moment, 1, case when l.success then 0 else 1 end
    from settings as s
    cross join live as l
    where s.all_agents or l.agent_id = any(s.agent_ids)
),

final as (
    select
        date_trunc(:bucket, moment at time zone :tz) as bucket_start,
        sum(n_calls)::bigint as n_commands,
        sum(n_failures)::bigint as n_failures
    from rows
    group by 1
)

select * from final
order by bucket_start
