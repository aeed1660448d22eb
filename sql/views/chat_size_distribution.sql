-- name: chat_size_distribution
-- How big chats get: chats by their number of stored messages by the chosen agents (all when
-- :agent_ids is empty), ever, in buckets of 1, 2–4, 5–9, 10–24, 25–49, … (1-2.5-5 steps). One row
-- per bucket from the first to the largest that holds a chat (empty ones between included):
-- its bounds [size_from, size_to), a label, the chats in it and their messages.
-- params: :agent_ids
-- requires: chat_messages(chat_id, agent_id)
with sizes as (
    select m.chat_id, count(*) as n_messages
    from chat_messages as m
    where cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[]))
    group by m.chat_id
),

limits as (
    select array[
        1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
        500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000
    ]::bigint[] as size_from
),

-- width_bucket gives each chat the position of the last lower bound at or below its size.
counted as (
    select width_bucket(s.n_messages, l.size_from) as position, count(*) as n_chats, sum(s.n_messages) as n_messages
    from sizes as s
    cross join limits as l
    group by 1
),

per_bucket as (
    select
        l.size_from[b.position] as size_from,
        l.size_from[b.position + 1] as size_to,
        coalesce(c.n_chats, 0) as n_chats,
        coalesce(c.n_messages, 0) as n_messages
    from limits as l
    cross join generate_series(1, cardinality(l.size_from)) as b (position)
    left join counted as c on c.position = b.position
),

final as (
    select
        size_from,
        size_to,
        case
            when size_to is null then size_from || '+'
            when size_to = size_from + 1 then size_from::text
            else size_from || '–' || (size_to - 1)
        end as size_label,
        n_chats,
        n_messages
    from per_bucket
    where size_from <= (select coalesce(max(n_messages), 0) from sizes)
)

select * from final
order by size_from
