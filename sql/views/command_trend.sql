-- name: command_trend
-- One row per (bucket, command) with calls in [start, end): the bucket's start as local time in
-- :tz, the command (its name without the leading '/'), calls and failures. :command '' gives every
-- command, a name only that one. With an agent filter, a command counts for the agent that last
-- wrote in its chat before it.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids, :command
-- requires: command_metrics(command, timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with scoped as (
    select
        date_trunc(:bucket, to_timestamp(epoch_ms(c.timestamp) / 1000.0) at time zone :tz) as bucket_start,
        command_name(c.command) as command,
        c.success,
        case when cardinality(cast(:agent_ids as text[])) = 0 then '' else last_speaker(c) end as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

final as (
    select
        bucket_start,
        command,
        count(*) as n_calls,
        count(*) filter (where not success) as n_failures
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by bucket_start, command
)

select * from final
order by bucket_start, command
