-- name: command_stats
-- One row per command (its name without the leading '/') run in [start, end): calls, failures,
-- success rate and p50 / p95 / p99 duration in ms (zero and negative durations count as 0). With
-- an agent filter, a command counts for the agent that last wrote in its chat before it.
-- params: :start_ms, :end_ms, :agent_ids
-- requires: command_metrics(command, timestamp, chat_id, success, duration), chat_messages(chat_id, agent_id)
with scoped as (
    select
        command_name(c.command) as command,
        c.success,
        greatest(c.duration, 0) as duration_ms,
        case when cardinality(cast(:agent_ids as text[])) = 0 then '' else last_speaker(c) end as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
),

final as (
    select
        command,
        count(*) as n_calls,
        count(*) filter (where not success) as n_failures,
        avg(success::int)::float8 as success_rate,
        percentile_cont(0.5) within group (order by duration_ms)::float8 as p50_duration_ms,
        percentile_cont(0.95) within group (order by duration_ms)::float8 as p95_duration_ms,
        percentile_cont(0.99) within group (order by duration_ms)::float8 as p99_duration_ms
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by command
)

select * from final
order by n_calls desc, command
