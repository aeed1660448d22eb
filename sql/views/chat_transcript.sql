-- name: chat_transcript
-- One row per Telegram message of chat :chat_id, newest first: at most :limit messages sent
-- before the page cursor (:before_ms, :before_id: the previous page's oldest message; the newest
-- page passes the largest bigint for both), of the chosen agents (all when :agent_ids is empty).
-- A message that several agents stored (a group with many agents) is one row with all their ids.
-- With it: author, role, time in :tz, text, and the message it replies to when that is stored
-- (reply_found false when it is not). Reads Lillo's (chat_id, timestamp) index from the cursor
-- down, once for millisecond and once for second epochs, so a long chat pages as fast as a short one.
-- params: :chat_id, :agent_ids, :before_ms, :before_id, :limit, :tz
-- requires: chat_messages(id, message_id, chat_id, user_id, user_first_name, username, role, content, timestamp, reply_to_message_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        -- Enough stored rows for :limit messages even when each was stored by several agents.
        cast(:limit as integer) * 8 as scan_rows
),

stored as (
    (
        select m.id, m.message_id, m.user_id, m.user_first_name, m.username, m.role, m.content,
            m.timestamp as sent_ms, m.reply_to_message_id, m.agent_id
        from chat_messages as m
        cross join settings as s
        where m.chat_id = :chat_id
          and m.timestamp > 100000000000
          and m.timestamp <= :before_ms
          and (m.timestamp, m.id) < (:before_ms, :before_id)
          and (s.all_agents or m.agent_id = any(s.agent_ids))
        order by m.timestamp desc, m.id desc
        limit (select scan_rows from settings)
    )
    union all
    (
        select m.id, m.message_id, m.user_id, m.user_first_name, m.username, m.role, m.content,
            m.timestamp * 1000, m.reply_to_message_id, m.agent_id
        from chat_messages as m
        cross join settings as s
        where m.chat_id = :chat_id
          and m.timestamp <= 100000000000
          and m.timestamp <= :before_ms / 1000
          and (m.timestamp * 1000, m.id) < (:before_ms, :before_id)
          and (s.all_agents or m.agent_id = any(s.agent_ids))
        order by m.timestamp desc, m.id desc
        limit (select scan_rows from settings)
    )
),

messages as (
    select
        min(id) as first_id,
        message_id,
        min(sent_ms) as sent_ms,
        (array_agg(user_id order by id))[1] as user_id,
        (array_agg(user_first_name order by id))[1] as user_first_name,
        (array_agg(username order by id))[1] as username,
        (array_agg(role order by id))[1] as role,
        (array_agg(content order by id))[1] as content,
        (array_agg(reply_to_message_id order by id))[1] as reply_to_message_id,
        array_agg(distinct agent_id order by agent_id) as agent_ids
    from stored
    group by message_id
    order by min(sent_ms) desc, min(id) desc
    limit :limit
),

final as (
    select
        m.first_id as message_row_id,
        m.message_id,
        m.sent_ms,
        to_timestamp(m.sent_ms / 1000.0) at time zone :tz as sent_at,
        m.user_id,
        m.user_first_name,
        m.username,
        m.role,
        m.content,
        m.agent_ids,
        m.reply_to_message_id,
        r.user_first_name as reply_author,
        r.user_id as reply_user_id,
        r.role as reply_role,
        left(r.content, 300) as reply_content,
        r.id as reply_row_id,
        r.sent_ms as reply_sent_ms,
        m.reply_to_message_id is not null and r.id is null as reply_missing
    from messages as m
    left join lateral (
        select
            replied.id, replied.user_id, replied.user_first_name, replied.role, replied.content,
            epoch_ms(replied.timestamp) as sent_ms
        from chat_messages as replied
        where replied.chat_id = :chat_id and replied.message_id = m.reply_to_message_id
        order by replied.id
        limit 1
    ) as r on true
)

select * from final
order by sent_ms desc, message_row_id desc
