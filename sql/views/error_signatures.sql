-- name: error_signatures
-- One row per error signature among the failed commands in [start, end) (:command '' = every
-- command): the error text with ids, numbers, hex, UUIDs, URLs and quoted values replaced by
-- placeholders (error_signature() in dashboard/error_signature.py; '' for a NULL or empty error),
-- failures, first and last seen, the commands and agents affected (an agent being the one that
-- last wrote in the command's chat before it, '' when none did), chats and people affected, and
-- the three latest failures as examples: their chat ids and moments (epoch ms) and the newest
-- one's error text cut to 300 characters.
-- params: :start_ms, :end_ms, :agent_ids, :command
-- requires: command_metrics(command, user_id, chat_id, timestamp, success, error), chat_messages(chat_id, agent_id)
with failed as (
    select
        c.id,
        command_name(c.command) as command,
        c.user_id,
        c.chat_id,
        epoch_ms(c.timestamp) as sent_ms,
        c.error,
        last_speaker(c) as agent_id
    from command_metrics as c
    where not c.success
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

signed as (
    select f.*, error_signature(f.error) as signature
    from failed as f
    where cardinality(cast(:agent_ids as text[])) = 0 or f.agent_id = any(cast(:agent_ids as text[]))
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
        left((array_agg(error order by sent_ms desc, id desc))[1], 300) as example_error
    from signed
    group by signature
)

select * from final
order by n_failures desc, signature
