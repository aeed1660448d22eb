-- name: error_signatures
-- Rollup variant of error_signatures.sql (same rows): the failures from lillo_dash.command_failures,
-- where each already carries its signature and agent, plus the failures above its refresh watermark,
-- computed live the same way.
-- params: :start_ms, :end_ms, :agent_ids, :command, :failures_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_failures, command_metrics(id, command, user_id, chat_id, timestamp, success, error), chat_messages(chat_id, agent_id)
with stored as (
    select f.command_id as id, f.command, f.user_id, f.chat_id, f.sent_ms, f.agent_id, f.signature, f.error_excerpt
    from lillo_dash.command_failures as f
    where f.sent_ms >= :start_ms
      and f.sent_ms < :end_ms
      and (cast(:command as text) = '' or f.command = cast(:command as text))
),

live as (
    select
        c.id,
        command_name(c.command) as command,
        c.user_id,
        c.chat_id,
        epoch_ms(c.timestamp) as sent_ms,
        last_speaker(c) as agent_id,
        error_signature(c.error) as signature,
        left(c.error, 300) as error_excerpt
    from command_metrics as c
    where c.id > :failures_watermark
      and not c.success
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

signed as (
    select * from stored
    union all
    select * from live
),

final as (
    select
        signature,
        count(*) as n_failures,
        to_timestamp(min(sent_ms) / 1000.0) as first_seen_at,
        to_timestamp(max(sent_ms) / 1000.0) as last_seen_at,
        string_agg(distinct command, ', ' order by command) as commands,
        string_agg(distinct agent_id, ', ' order by agent_id) as agent_ids,
        count(distinct chat_id) as n_chats,
        count(distinct user_id) as n_people,
        (array_agg(chat_id order by sent_ms desc, id desc))[1:3] as example_chat_ids,
        (array_agg(sent_ms order by sent_ms desc, id desc))[1:3] as example_sent_ms,
        (array_agg(error_excerpt order by sent_ms desc, id desc))[1] as example_error
    from signed
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by signature
)

select * from final
order by n_failures desc, signature
