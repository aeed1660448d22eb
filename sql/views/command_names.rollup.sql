-- name: command_names
-- Rollup variant of command_names.sql (same rows): the hourly command rollup's all-agents level
-- plus the commands above the refresh watermark, counted live.
-- params: :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, command_metrics(id, command)
with rows as (
    select h.command, h.n_calls
    from lillo_dash.command_hourly as h
    where h.agent_id = '*' and h.command <> '*'
    union all
    select command_name(c.command), 1
    from command_metrics as c
    where c.id > :commands_watermark
),

final as (
    select command, sum(n_calls)::bigint as n_calls
    from rows
    group by command
)

select * from final
order by n_calls desc, command
