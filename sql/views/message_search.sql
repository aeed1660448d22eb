-- name: message_search
-- One row per stored message whose text contains :pattern (an ILIKE pattern: the words or phrase
-- searched for, case-insensitive, with %, _ and \ escaped so they match literally), newest first,
-- at most :limit, among the newest :scan_rows stored messages (by id) of the chosen agents (all
-- when :agent_ids is empty): chat, author, role, time in :tz, and the text (for the snippet).
-- Without a text index the scan is bounded; the page says how far back it looked.
-- params: :pattern, :scan_rows, :limit, :agent_ids, :tz
-- requires: chat_messages(id, message_id, chat_id, user_id, user_first_name, username, role, content, timestamp, agent_id)
with hits as (
    -- The bound is a scalar subquery, so the plan walks the primary key back from the newest row
    -- and stops at it, instead of reading the whole table.
    select m.*
    from chat_messages as m
    where m.id > (select coalesce(max(newest.id), 0) from chat_messages as newest) - :scan_rows
      and m.content ilike :pattern
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    order by m.id desc
    limit :limit
),

final as (
    select
        h.id as message_row_id,
        h.chat_id,
        h.user_id,
        h.user_first_name,
        h.username,
        h.role,
        h.agent_id,
        epoch_ms(h.timestamp) as sent_ms,
        to_timestamp(epoch_ms(h.timestamp) / 1000.0) at time zone :tz as sent_at,
        left(h.content, 2000) as content
    from hits as h
)

select * from final
order by message_row_id desc
