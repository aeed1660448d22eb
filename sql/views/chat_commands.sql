-- name: chat_commands
-- One row per command run in chat :chat_id in [from_ms, to_ms], newest first, at most :limit: its
-- name (without a leading /), who ran it, when (in :tz and epoch ms), duration in ms (negative
-- stored durations as 0), outcome and the first 500 characters of its error. For the transcript,
-- which shows them among the messages of the same time. Reads the install's (chat_id, timestamp)
-- index backwards from :to_ms, once for millisecond and once for second epochs.
-- params: :chat_id, :from_ms, :to_ms, :tz, :limit
-- requires: command_metrics(id, command, user_id, chat_id, duration, success, error, timestamp)
with stored as (
    (
        select c.*, c.timestamp as sent_ms
        from command_metrics as c
        where c.chat_id = :chat_id
          and c.timestamp > 100000000000
          and c.timestamp >= :from_ms
          and c.timestamp <= :to_ms
        order by c.timestamp desc, c.id desc
        limit :limit
    )
    union all
    (
        select c.*, c.timestamp * 1000
        from command_metrics as c
        where c.chat_id = :chat_id
          and c.timestamp <= 100000000000
          and c.timestamp >= :from_ms / 1000
          and c.timestamp <= :to_ms / 1000
        order by c.timestamp desc, c.id desc
        limit :limit
    )
),

final as (
    select
        s.id as command_row_id,
        command_name(s.command) as command,
        s.user_id,
        s.sent_ms,
        to_timestamp(s.sent_ms / 1000.0) at time zone :tz as sent_at,
        greatest(s.duration, 0) as duration_ms,
        s.success,
        left(s.error, 500) as error
    from stored as s
    where s.sent_ms >= :from_ms and s.sent_ms <= :to_ms
    order by s.sent_ms desc, s.id desc
    limit :limit
)

select * from final
order by sent_ms desc, command_row_id desc
