-- name: command_retry_funnel
-- Rollup variant of command_retry_funnel.sql (same rows): the failures and their retries from
-- lillo_dash.command_failures; a call above its refresh watermark replaces a stored retry when it
-- came earlier, and the failures above the watermark have their next call looked up live.
-- params: :start_ms, :end_ms, :agent_ids, :command, :failures_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_failures, command_metrics(id, command, user_id, chat_id, timestamp, success), chat_messages(chat_id, agent_id)
with live_failures as (
    select c.id, c.chat_id, c.timestamp, c.user_id, command_name(c.command) as command, epoch_ms(c.timestamp) as sent_ms
    from command_metrics as c
    where c.id > :failures_watermark
      and not c.success
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

failures as (
    select f.command_id as id, f.user_id, f.command, f.sent_ms, f.agent_id, f.retry_ms, f.retry_id, f.retry_success
    from lillo_dash.command_failures as f
    where f.sent_ms >= :start_ms
      and f.sent_ms < :end_ms
      and (cast(:command as text) = '' or f.command = cast(:command as text))
    union all
    -- The same lookup as the raw view's, over every call.
    select s.id, s.user_id, s.command, s.sent_ms, last_speaker(s), retry.sent_ms, retry.id, retry.success
    from live_failures as s
    left join lateral (
        select next_call.sent_ms, next_call.id, next_call.success
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

scoped as (
    select f.*
    from failures as f
    where cardinality(cast(:agent_ids as text[])) = 0 or f.agent_id = any(cast(:agent_ids as text[]))
),

live_calls as (
    select c.id, c.user_id, command_name(c.command) as command, epoch_ms(c.timestamp) as sent_ms, c.success
    from command_metrics as c
    where c.id > :failures_watermark
),

-- Calls above the watermark that come before a stored retry (or where none is stored).
earlier as (
    select distinct on (f.id) f.id, l.sent_ms, l.id as call_id, l.success
    from scoped as f
    inner join live_calls as l
        on l.user_id = f.user_id and l.command = f.command
        and l.sent_ms between f.sent_ms and f.sent_ms + 600000
        and (l.sent_ms > f.sent_ms or l.id > f.id)
    order by f.id, l.sent_ms, l.id
),

retries as (
    select
        f.command,
        case
            when e.id is not null and (f.retry_ms is null or (e.sent_ms, e.call_id) < (f.retry_ms, f.retry_id))
                then e.success
            else f.retry_success
        end as retry_success
    from scoped as f
    left join earlier as e on e.id = f.id
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
