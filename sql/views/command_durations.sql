-- name: command_durations
-- One row per duration bucket with calls of :command ('' = every command) in [start, end):
-- bucket b > 0 holds durations in [1.02^(b-1), 1.02^b) ms, bucket 0 zero and negative durations
-- (bad data, counted as 0 ms); from_ms and to_ms are its bounds (both 0 for bucket 0). With an
-- agent filter, a command counts for the agent that last wrote in its chat before it.
-- params: :start_ms, :end_ms, :agent_ids, :command
-- requires: command_metrics(command, timestamp, chat_id, duration), chat_messages(chat_id, agent_id)
with scoped as (
    select
        -- The same rule as lillo_dash.duration_bucket, which a database without the install lacks.
        case when c.duration <= 0 then 0 else floor(ln(c.duration) / ln(1.02))::integer + 1 end as bucket,
        case when cardinality(cast(:agent_ids as text[])) = 0 then '' else last_speaker(c) end as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

final as (
    select
        bucket,
        (case when bucket = 0 then 0 else power(1.02, bucket - 1) end)::float8 as from_ms,
        (case when bucket = 0 then 0 else power(1.02, bucket) end)::float8 as to_ms,
        count(*) as n_calls
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by bucket
)

select * from final
order by bucket
