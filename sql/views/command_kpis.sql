-- name: command_kpis
-- One row per period ('current' = [start, end), 'previous' = [previous_start, start)): commands
-- run, failures, success rate and p95 duration in ms (negative durations count as 0). With an
-- agent filter, a command counts for the agent that last wrote in its chat before it.
-- A period without commands has no row.
-- params: :start_ms, :end_ms, :previous_start_ms, :agent_ids
-- requires: command_metrics(timestamp, chat_id, success, duration), chat_messages(chat_id, agent_id)
with scoped as (
    select
        case when epoch_ms(c.timestamp) >= :start_ms then 'current' else 'previous' end as period,
        c.success,
        greatest(c.duration, 0) as duration_ms,
        case when cardinality(cast(:agent_ids as text[])) = 0 then '' else last_speaker(c) end as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :previous_start_ms
      and epoch_ms(c.timestamp) < :end_ms
),

final as (
    select
        period,
        count(*) as n_commands,
        count(*) filter (where not success) as n_failures,
        avg(success::int)::float8 as success_rate,
        percentile_cont(0.95) within group (order by duration_ms)::float8 as p95_duration_ms
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by period
)

select * from final
order by period
