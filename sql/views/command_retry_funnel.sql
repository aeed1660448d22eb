-- name: command_retry_funnel
-- One row per command (its name without the leading '/') with failures in [start, end): the
-- failures; n_retried, those after which the same person (user_id) ran the same command again,
-- in any chat, within 10 minutes (their next call of it, by moment then row id, at most 600,000 ms
-- after the failure); n_retry_succeeded, those whose next call, so made, succeeded. A retry after
-- the range end still counts. With an agent filter, a failure counts for the agent that last wrote
-- in its chat before it.
-- params: :start_ms, :end_ms, :agent_ids, :command
-- requires: command_metrics(id, command, user_id, chat_id, timestamp, success), chat_messages(chat_id, agent_id)
with failures as (
    select c.id, c.chat_id, c.timestamp, c.user_id, command_name(c.command) as command, epoch_ms(c.timestamp) as sent_ms
    from command_metrics as c
    where not c.success
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

scoped as (
    select f.id, f.user_id, f.command, f.sent_ms
    from failures as f
    where cardinality(cast(:agent_ids as text[])) = 0 or last_speaker(f) = any(cast(:agent_ids as text[]))
),

retries as (
    select s.command, retry.success as retry_success
    from scoped as s
    -- The next call within 10 minutes, found through Lillo's timestamp index: one probe per epoch
    -- unit, as in last_speaker().
    left join lateral (
        select next_call.success
        from (
            (select c.timestamp as sent_ms, c.id, c.success
             from command_metrics as c
             where c.timestamp > 100000000000
               and c.timestamp between s.sent_ms and s.sent_ms + 600000
               and (c.timestamp > s.sent_ms or c.id > s.id)
               and c.user_id = s.user_id and command_name(c.command) = s.command
             order by c.timestamp, c.id
             limit 1)
            union all
            (select c.timestamp * 1000, c.id, c.success
             from command_metrics as c
             where c.timestamp <= 100000000000
               and c.timestamp between s.sent_ms / 1000 and (s.sent_ms + 600000) / 1000
               and c.timestamp * 1000 between s.sent_ms and s.sent_ms + 600000
               and (c.timestamp * 1000 > s.sent_ms or c.id > s.id)
               and c.user_id = s.user_id and command_name(c.command) = s.command
             order by c.timestamp, c.id
             limit 1)
        ) as next_call
        order by next_call.sent_ms, next_call.id
        limit 1
    ) as retry on true
),

final as (
    select
        command,
        count(*) as n_failures,
        count(retry_success) as n_retried,
        count(*) filter (where retry_success) as n_retry_succeeded
    from retries
    group by command
)

select * from final
order by n_failures desc, command
