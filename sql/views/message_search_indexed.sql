-- name: message_search_indexed
-- One row per stored message whose text contains :pattern (an ILIKE pattern, as in message_search)
-- and holds the index entries of :words_query, newest first, at most :limit, among all stored
-- messages of the chosen agents (all when :agent_ids is empty): chat, author, role, time in :tz,
-- and the text. :words_query is a tsquery that dashboard/search.py builds from search_words; the
-- index of sql/install/007_search_index.concurrently.sql finds the messages holding its words and
-- word pairs, and ILIKE keeps those holding the text itself: the text is found where it starts a
-- word.
-- params: :words_query, :pattern, :limit, :agent_ids, :tz
-- requires: chat_messages(id, message_id, chat_id, user_id, user_first_name, username, role, content, timestamp, agent_id)
--
-- Why four parts: a common word ("price") is in hundreds of thousands of messages, and fetching
-- them all to sort by id takes seconds; a rare one is in a few, and walking the table back from the
-- newest row to find them takes seconds too. So the newest 20,000 messages are walked back by id
-- (the word test written as ts_match_vq, a form the planner cannot hand to the index), then
-- the index is asked for ever older stretches of ids — 180,000, then 1,800,000, then the rest
-- — each combined with the id range. The parts run in order and stop once :limit rows are found,
-- so a common word is answered by the first, and a rare one costs a few index probes.
with newest as (
    select coalesce(max(id), 0) as id from chat_messages
),

walked as (
    select m.*
    from chat_messages as m
    where m.id > (select id from newest) - 20000
      and m.content ilike :pattern
      and ts_match_vq(lillo_dash.message_words(m.content), cast(:words_query as tsquery))
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    order by m.id desc
    limit :limit
),

recent as (
    select m.*
    from chat_messages as m
    where m.id <= (select id from newest) - 20000
      and m.id > (select id from newest) - 200000
      and lillo_dash.message_words(m.content) @@ cast(:words_query as tsquery)
      and m.content ilike :pattern
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    order by m.id desc
    limit :limit
),

older as (
    select m.*
    from chat_messages as m
    where m.id <= (select id from newest) - 200000
      and m.id > (select id from newest) - 2000000
      and lillo_dash.message_words(m.content) @@ cast(:words_query as tsquery)
      and m.content ilike :pattern
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    order by m.id desc
    limit :limit
),

oldest as (
    -- Sorted by an expression, so the plan cannot walk the primary key back through millions of
    -- rows: only what the word index finds is read.
    select m.*
    from chat_messages as m
    where m.id <= (select id from newest) - 2000000
      and lillo_dash.message_words(m.content) @@ cast(:words_query as tsquery)
      and m.content ilike :pattern
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    order by m.id + 0 desc
    limit :limit
),

hits as (
    (select * from walked)
    union all
    (select * from recent)
    union all
    (select * from older)
    union all
    (select * from oldest)
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
