-- name: commands_per_bucket
-- One row per bucket with commands in [start, end): the bucket's start as local time in :tz,
-- commands run and how many failed. With an agent filter, a command counts for the agent that last
-- wrote in its chat before it.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids
-- requires: command_metrics(timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with scoped as (
    select
        date_trunc(:bucket, to_timestamp(epoch_ms(c.timestamp) / 1000.0) at time zone :tz) as bucket_start,
        c.success,
        case when cardinality(cast(:agent_ids as text[])) = 0 then '' else last_speaker(c) end as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
),

final as (
    select
        bucket_start,
        count(*) as n_commands,
        count(*) filter (where not success) as n_failures
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by bucket_start
)

select * from final
order by bucket_start
