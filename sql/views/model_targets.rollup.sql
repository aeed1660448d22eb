-- name: model_targets
-- Rollup variant of model_targets.sql (same rows), counting a few hundred pairs, not all of them:
-- a pair's messages ever (lillo_dash.chat_totals plus the rows above the refresh watermark) bound
-- its count in any range, and so does its chat's size (lillo_dash.chat_sizes). A probe counts the
-- listable pairs most likely to fill the page; the page's last count among them is a threshold
-- that pairs with fewer messages ever cannot reach, so only pairs at or above it are counted too.
-- The probe's pairs: with all agents and any model, 'default' or 'OPENAI' (most pairs qualify),
-- those of the biggest chats, read in size order from chat_sizes' index for as long as it takes;
-- otherwise all listable pairs are few enough to be listed (the chosen agents' pairs, or those
-- with a row for the chosen model) and their biggest are probed. When the probe cannot fill the
-- page (a short range, a narrow filter, a long page), the rollup rows of the range are summed
-- instead, and with :min_messages 0 the pairs with a preference row and no messages in the range
-- fill the rest. Counts come from the chat rollup (whole UTC days daily, the hours around them
-- hourly) plus the rows above the watermark.
-- Filters read the binds themselves where the planner must see their values to pick the plan.
-- params: :agent_ids, :kind, :min_messages, :current_model, :start_ms, :end_ms, :limit, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_activity, lillo_dash.chat_totals, lillo_dash.chat_sizes, chat_messages(id, timestamp, chat_id, agent_id), model_preferences(agent_id, chat_id, model_type, updated_at), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        -- The stored model_type a listed pair may have, null standing for "no row" (unused for 'all').
        case cast(:current_model as text)
            when 'default' then array[null]::text[]
            when 'OPENAI' then array['OPENAI', null]
            else array[cast(:current_model as text)]
        end as stored_models,
        cast(:min_messages as bigint) as min_messages,
        -- A pair with messages in the range is listed with at least this many.
        greatest(cast(:min_messages as bigint), 1) as min_active,
        cast(:limit as bigint) as n_best,
        -- Probed pairs; past 1,000 rows a page is cheaper to count from the range's rollup rows.
        case when cast(:limit as bigint) <= 1000 then cast(:limit as bigint) * 2 + 180 else 0 end as n_probe
),

period as (
    select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
),

tail as materialized (
    select m.agent_id, m.chat_id, epoch_ms(m.timestamp) as sent_ms
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

tail_pairs as materialized (
    select t.agent_id, t.chat_id, count(*) as n_messages
    from tail as t
    group by t.agent_id, t.chat_id
),

-- Listable pairs listed whole, with their messages ever: the chosen agents' pairs, or (all agents)
-- the pairs with a row for a model other than OPENAI; and always the pairs with live rows only.
listed as materialized (
    select b.agent_id, b.chat_id, b.n_messages + coalesce(l.n_messages, 0) as n_total
    from (
        select t.agent_id, t.chat_id, t.n_messages
        from lillo_dash.chat_totals as t
        where cardinality(cast(:agent_ids as text[])) > 0 and t.agent_id = any(cast(:agent_ids as text[]))
        union all
        select t.agent_id, t.chat_id, t.n_messages
        from model_preferences as p
        inner join lillo_dash.chat_totals as t on t.chat_id = p.chat_id and t.agent_id = p.agent_id
        where cardinality(cast(:agent_ids as text[])) = 0
          and :current_model not in ('all', 'default', 'OPENAI') and p.model_type = :current_model
    ) as b
    left join tail_pairs as l on l.agent_id = b.agent_id and l.chat_id = b.chat_id
    left join model_preferences as pref on pref.agent_id = b.agent_id and pref.chat_id = b.chat_id
    where (:kind = 'all' or (:kind = 'private' and b.chat_id > 0) or (:kind = 'group' and b.chat_id < 0))
      and (:current_model = 'all' or array_position((select stored_models from settings), pref.model_type) is not null)
    union all
    select l.agent_id, l.chat_id, l.n_messages
    from tail_pairs as l
    left join model_preferences as pref on pref.agent_id = l.agent_id and pref.chat_id = l.chat_id
    where (:kind = 'all' or (:kind = 'private' and l.chat_id > 0) or (:kind = 'group' and l.chat_id < 0))
      and (:current_model = 'all' or array_position((select stored_models from settings), pref.model_type) is not null)
      and not exists (
          select from lillo_dash.chat_totals as t where t.chat_id = l.chat_id and t.agent_id = l.agent_id
      )
),

-- The pairs most likely to fill the page.
probe as (
    (select x.agent_id, x.chat_id
     from lillo_dash.chat_sizes as z
     cross join lateral (
         -- (offset 0 keeps this a lookup per chat, so chats are read only while pairs are wanted)
         select t.agent_id, t.chat_id from lillo_dash.chat_totals as t where t.chat_id = z.chat_id offset 0
     ) as x
     where cardinality(cast(:agent_ids as text[])) = 0 and :current_model in ('all', 'default', 'OPENAI')
       and (:kind = 'all' or (:kind = 'private' and z.chat_id > 0) or (:kind = 'group' and z.chat_id < 0))
       and (:current_model = 'all' or array_position((select stored_models from settings), (
           select max(p.model_type) from model_preferences as p where p.agent_id = x.agent_id and p.chat_id = x.chat_id
       )) is not null)
     order by z.n_messages desc, z.chat_id
     limit (select n_probe from settings))
    union
    (select o.agent_id, o.chat_id
     from listed as o
     order by o.n_total desc, o.agent_id collate "C", o.chat_id
     limit (select n_probe from settings))
),

probe_counts as materialized (
    select c.agent_id, c.chat_id, r.n_messages, r.last_active_ms
    from probe as c
    cross join period as p
    cross join lateral (
        select coalesce(sum(x.n_messages), 0)::bigint as n_messages, max(x.last_ms) as last_active_ms
        from (
            select a.n_messages, a.last_ms
            from lillo_dash.chat_range_rows(c.chat_id, p.period_start, p.period_end) as a
            where a.agent_id = c.agent_id
            union all
            select 1, t.sent_ms
            from tail as t
            where t.agent_id = c.agent_id and t.chat_id = c.chat_id
              and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as x
    ) as r
),

-- The page's last count among the probed pairs; 0 when they cannot fill it.
threshold as (
    select coalesce(min(best.n_messages), 0) as n_at_least
    from (
        select pc.n_messages
        from probe_counts as pc
        where pc.n_messages >= (select min_active from settings)
        order by pc.n_messages desc
        limit (select n_best from settings)
    ) as best
    having count(*) >= (select n_best from settings)
    union all
    select 0
    order by 1 desc
    limit 1
),

-- Filled: every other listable pair whose messages ever reach the threshold: listed ones, and with
-- chats read by size, the pairs of chats whose size reaches it (or that have live rows), whose
-- current model is looked up only once their count qualifies them.
sized_reaching as materialized (
    select x.agent_id, x.chat_id
    from (
        select z.chat_id
        from lillo_dash.chat_sizes as z
        where z.n_messages >= (select n_at_least from threshold)
        union
        select l.chat_id from tail_pairs as l
    ) as big
    inner join lillo_dash.chat_totals as x on x.chat_id = big.chat_id
    left join tail_pairs as l on l.agent_id = x.agent_id and l.chat_id = x.chat_id
    where cardinality(cast(:agent_ids as text[])) = 0 and :current_model in ('all', 'default', 'OPENAI')
      and (select n_at_least from threshold) > 0
      and x.n_messages + coalesce(l.n_messages, 0) >= (select n_at_least from threshold)
      and (:kind = 'all' or (:kind = 'private' and x.chat_id > 0) or (:kind = 'group' and x.chat_id < 0))
),

reaching_pairs as (
    select r.agent_id, r.chat_id
    from sized_reaching as r
    left join model_preferences as pref on pref.agent_id = r.agent_id and pref.chat_id = r.chat_id
    where :current_model = 'all' or array_position((select stored_models from settings), pref.model_type) is not null
    union
    select o.agent_id, o.chat_id
    from listed as o
    where (select n_at_least from threshold) > 0 and o.n_total >= (select n_at_least from threshold)
),

reaching as (
    select c.agent_id, c.chat_id, r.n_messages, r.last_active_ms
    from reaching_pairs as c
    cross join period as p
    cross join lateral (
        select coalesce(sum(x.n_messages), 0)::bigint as n_messages, max(x.last_ms) as last_active_ms
        from (
            select a.n_messages, a.last_ms
            from lillo_dash.chat_range_rows(c.chat_id, p.period_start, p.period_end) as a
            where a.agent_id = c.agent_id
            union all
            select 1, t.sent_ms
            from tail as t
            where t.agent_id = c.agent_id and t.chat_id = c.chat_id
              and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as x
    ) as r
    where not exists (select from probe as o where o.agent_id = c.agent_id and o.chat_id = c.chat_id)
),

active as materialized (
    select x.agent_id, x.chat_id, x.n_messages, x.last_active_ms
    from (
        select rows.agent_id, rows.chat_id, sum(rows.n_messages)::bigint as n_messages, max(rows.last_ms) as last_active_ms
        from settings as s
        cross join period as p
        cross join lillo_dash.whole_days(p.period_start, p.period_end) as d
        cross join lateral (
            select a.agent_id, a.chat_id, a.n_messages, a.last_ms
            from lillo_dash.chat_activity as a
            where a.grain = 'day' and a.period_start >= d.days_from and a.period_start < d.days_to
            union all
            select a.agent_id, a.chat_id, a.n_messages, a.last_ms
            from lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
            inner join lillo_dash.chat_activity as a
                on a.grain = 'hour' and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
            union all
            select t.agent_id, t.chat_id, 1, t.sent_ms
            from tail as t
            where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as rows
        where (select n_at_least from threshold) = 0
          and (s.all_agents or rows.agent_id = any(s.agent_ids))
          and (:kind = 'all' or (:kind = 'private' and rows.chat_id > 0) or (:kind = 'group' and rows.chat_id < 0))
        group by rows.agent_id, rows.chat_id
    ) as x
    left join model_preferences as pref on pref.agent_id = x.agent_id and pref.chat_id = x.chat_id
    where :current_model = 'all' or array_position((select stored_models from settings), pref.model_type) is not null
),

-- Not filled and :min_messages 0: the pairs with a preference row and no messages in the range.
idle as (
    select p.agent_id, p.chat_id::bigint as chat_id
    from model_preferences as p
    cross join settings as s
    where (select n_at_least from threshold) = 0 and s.min_messages <= 0
      and (s.all_agents or p.agent_id = any(s.agent_ids))
      and (:kind = 'all' or (:kind = 'private' and p.chat_id > 0) or (:kind = 'group' and p.chat_id < 0))
      and (:current_model = 'all' or p.model_type = :current_model)
      and not exists (select from active as a where a.agent_id = p.agent_id and a.chat_id = p.chat_id)
),

counted as (
    select pc.agent_id, pc.chat_id, pc.n_messages, pc.last_active_ms
    from probe_counts as pc
    where (select n_at_least from threshold) > 0
    union all
    select * from reaching
    union all
    select * from active
    union all
    select i.agent_id, i.chat_id, 0, null from idle as i
),

chosen as (
    select c.*
    from counted as c
    where c.n_messages >= (select min_messages from settings)
    order by c.n_messages desc, c.agent_id collate "C", c.chat_id
    limit :limit
),

final as (
    select
        c.agent_id,
        a.name as agent_name,
        c.chat_id,
        case when c.chat_id < 0 then 'group' else 'private' end as chat_kind,
        coalesce(pref.model_type, 'OPENAI') as model_type,
        pref.model_type is not null as has_preference,
        pref.updated_at,
        c.n_messages,
        c.last_active_ms
    from chosen as c
    left join model_preferences as pref on pref.agent_id = c.agent_id and pref.chat_id = c.chat_id
    left join agents as a on a.id::text = c.agent_id
)

select * from final
order by n_messages desc, agent_id collate "C", chat_id
