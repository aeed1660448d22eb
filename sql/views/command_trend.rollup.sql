-- name: command_trend
-- Rollup variant of command_trend.sql (same rows): the hourly command rollup plus the commands
-- above the refresh watermark, counted live.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids, :command, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, command_metrics(id, command, timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

live as (
    select
        to_timestamp(epoch_ms(c.timestamp) / 1000.0) as moment,
        command_name(c.command) as command,
        c.success
    from settings as s
    inner join command_metrics as c on c.id > :commands_watermark
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
      and (s.all_agents or last_speaker(c) = any(s.agent_ids))
),

rows as (
    select h.hour_start as moment, h.command, h.n_calls, h.n_failures
    from settings as s
    inner join lillo_dash.command_hourly as h
        on h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
    where h.command <> '*'
      and (cast(:command as text) = '' or h.command = cast(:command as text))
      and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
    union all
    select moment, command, 1, case when success then 0 else 1 end
    from live
),

final as (
    select
        date_trunc(:bucket, moment at time zone :tz) as bucket_start,
        command,
        sum(n_calls)::bigint as n_calls,
        sum(n_failures)::bigint as n_failures
    from rows
    group by 1, 2
)

select * from final
order by bucket_start, command
