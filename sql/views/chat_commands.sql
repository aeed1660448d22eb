-- name: chat_commands
-- One row per command run in chat :chat_id in [from_ms, to_ms]: its name (without a leading /),
-- who ran it, when (in :tz and epoch ms), duration in ms (negative stored durations as 0), outcome
-- and the first 500 characters of its error. For the transcript, which shows them among the
-- messages of the same time.
-- params: :chat_id, :from_ms, :to_ms, :tz
-- requires: command_metrics(id, command, user_id, chat_id, duration, success, error, timestamp)
with final as (
    select
        c.id as command_row_id,
        command_name(c.command) as command,
        c.user_id,
        epoch_ms(c.timestamp) as sent_ms,
        to_timestamp(epoch_ms(c.timestamp) / 1000.0) at time zone :tz as sent_at,
        greatest(c.duration, 0) as duration_ms,
        c.success,
        left(c.error, 500) as error
    from command_metrics as c
    where c.chat_id = :chat_id
      and epoch_ms(c.timestamp) >= :from_ms
      and epoch_ms(c.timestamp) <= :to_ms
)

select * from final
order by sent_ms desc, command_row_id desc
