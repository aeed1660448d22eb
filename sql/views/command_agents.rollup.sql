-- name: command_agents
-- Rollup variant of command_agents.sql (same rows): the hourly command rollup's per-agent level
-- plus the commands above the refresh watermark, counted live.
-- params: :start_ms, :end_ms, :agent_ids, :command, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, command_metrics(id, command, timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

live as (
    select command_name(c.command) as command, last_speaker(c) as agent_id, c.success
    from command_metrics as c
    where c.id > :commands_watermark
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

-- Summed per (command, agent) before the union: few groups, so a hash aggregate, not a sort of
-- every hourly row.
rows as (
    select h.command, h.agent_id, sum(h.n_calls) as n_calls, sum(h.n_failures) as n_failures
    from lillo_dash.command_hourly as h
    where h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
      and h.command <> '*' and h.agent_id <> '*'
      and (cast(:command as text) = '' or h.command = cast(:command as text))
    group by h.command, h.agent_id
    union all
    select command, agent_id, 1, case when success then 0 else 1 end
    from live
),

final as (
    select
        r.command,
        r.agent_id,
        sum(r.n_calls)::bigint as n_calls,
        sum(r.n_failures)::bigint as n_failures,
        (1 - sum(r.n_failures)::float8 / sum(r.n_calls))::float8 as success_rate
    from rows as r
    cross join settings as s
    where s.all_agents or r.agent_id = any(s.agent_ids)
    group by r.command, r.agent_id
)

select * from final
order by command, n_calls desc, agent_id
