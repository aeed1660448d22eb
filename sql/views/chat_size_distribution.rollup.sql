-- name: chat_size_distribution
-- Rollup variant of chat_size_distribution.sql (same rows): sizes from lillo_dash.chat_sizes (all
-- agents) or lillo_dash.chat_totals (some agents), plus the rows above the refresh watermark.
-- How big chats get: chats by their number of stored messages by the chosen agents (all when
-- :agent_ids is empty), ever, in buckets of 1, 2–4, 5–9, 10–24, 25–49, … (1-2.5-5 steps). One row
-- per bucket from the first to the largest that holds a chat (empty ones between included):
-- its bounds [size_from, size_to), a label, the chats in it and their messages.
-- params: :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_sizes, lillo_dash.chat_totals, chat_messages(id, chat_id, agent_id)
with fresh as (
    select m.chat_id, m.agent_id, count(*) as n_messages
    from chat_messages as m
    where m.id > :messages_watermark
      and (cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[])))
    group by m.chat_id, m.agent_id
),

fresh_per_chat as (
    select chat_id, sum(n_messages)::bigint as n_messages from fresh group by chat_id
),

sizes as (
    -- All agents: chat_sizes as it is, plus the live rows.
    select z.chat_id, z.n_messages + coalesce(f.n_messages, 0) as n_messages
    from lillo_dash.chat_sizes as z
    left join fresh_per_chat as f on f.chat_id = z.chat_id
    where cardinality(cast(:agent_ids as text[])) = 0
    union all
    select f.chat_id, f.n_messages
    from fresh_per_chat as f
    where cardinality(cast(:agent_ids as text[])) = 0
      and not exists (select from lillo_dash.chat_sizes as z where z.chat_id = f.chat_id)
    union all
    -- Some agents: their rows summed.
    select rows.chat_id, sum(rows.n_messages)::bigint
    from (
        select t.chat_id, t.n_messages from lillo_dash.chat_totals as t
        where t.agent_id = any(cast(:agent_ids as text[]))
        union all
        select f.chat_id, f.n_messages from fresh as f
    ) as rows
    where cardinality(cast(:agent_ids as text[])) > 0
    group by rows.chat_id
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
