-- name: model_mix
-- Rollup variant of model_mix.sql (same rows). Pairs per agent and model as the last refresh
-- counted them (lillo_dash.model_pair_counts) while model_preferences is unchanged since, else
-- lillo_dash.chat_totals' pairs joined to their rows; plus pairs first seen above the refresh
-- watermark. The pairs set to a model other than OPENAI (model_preferences rows) are usually few:
-- their messages in the range are counted pair by pair from lillo_dash.model_pair_activity
-- (sql/view_parts/model_chosen_activity.sql). An agent's OPENAI figures are its totals minus those
-- pairs: messages from the hourly rollup, active pairs estimated from its activity sketches (linear
-- counting), or, when the range holds every message (all time), all its pairs, counted exactly.
-- Rows above the refresh watermark are counted live, and a preference changed since the last
-- refresh counts at once.
-- params: :start_ms, :end_ms, :agent_ids, :messages_watermark, :model_activity_watermark, :model_replies_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.model_pairs(chat_id, agent_id, model_type), lillo_dash.model_pairs_state, lillo_dash.model_pair_counts, lillo_dash.model_pair_activity, lillo_dash.chat_totals, lillo_dash.chat_activity, lillo_dash.message_hourly, lillo_dash.activity_daily, lillo_dash.activity_hourly, chat_messages(id, chat_id, agent_id, timestamp), model_preferences(agent_id, chat_id, model_type)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

period as (
    select b.period_start, b.period_end, d.days_from, d.days_to
    from (
        select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
    ) as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

tail as materialized (
    select m.chat_id, m.agent_id, epoch_ms(m.timestamp) as sent_ms
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

-- --- The pairs on another model: counted pair by pair ------------------------------------------------

-- include: model_preferences_filed

-- include: model_chosen_pairs

-- include: model_chosen_activity

chosen_in_range as (
    select agent_id, model_type, count(distinct chat_id) as n_active_chats, sum(n_messages)::bigint as n_messages
    from chosen_activity
    group by agent_id, model_type
),

-- --- Every pair ever, and its preference row if any --------------------------------------------------

-- chat_totals' rows of the chosen agents (through its key, or by a scan for all agents) unless the
-- last refresh counted them per agent and model and model_preferences is as it saw them
-- (preferences_filed; pair_counts reads those counts); always the pairs first seen above the
-- watermark.
pairs as (
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where cardinality(cast(:agent_ids as text[])) = 0 and not (select is_counted from preferences_filed)
    union all
    select t.agent_id, t.chat_id
    from lillo_dash.chat_totals as t
    where t.agent_id = any(cast(:agent_ids as text[])) and not (select is_counted from preferences_filed)
    union all
    select distinct n.agent_id, n.chat_id
    from tail as n
    where not exists (
        select from lillo_dash.chat_totals as t where t.chat_id = n.chat_id and t.agent_id = n.agent_id
    )
),

pair_models as (
    select
        p.agent_id,
        p.chat_id,
        coalesce(mp.model_type, 'OPENAI') as model_type,
        mp.model_type is null as is_default
    from pairs as p
    left join model_preferences as mp on mp.agent_id = p.agent_id and mp.chat_id = p.chat_id
),

-- --- Every pair of each agent: the rollups ------------------------------------------------------------

messages_in_range as (
    select agent_id, sum(n_messages)::bigint as n_messages
    from (
        select h.agent_id, h.n_messages
        from settings as s
        cross join period as p
        inner join lillo_dash.message_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        where s.all_agents or h.agent_id = any(s.agent_ids)
        union all
        select t.agent_id, 1 from tail as t where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as rows
    group by agent_id
),

-- Whether the range holds every message (the rollup's first and last hour, and the rows above the
-- watermark): then an agent's active pairs are all of its pairs (pair_counts), and its activity
-- maps, which for all time would be every day's map OR-ed together, are not read.
covers_all as (
    select coalesce(
        :start_ms <= (select extract(epoch from min(h.hour_start)) * 1000 from lillo_dash.message_hourly as h)
        and :end_ms >= (
            select extract(epoch from max(h.hour_start)) * 1000 + 3600000 from lillo_dash.message_hourly as h
        )
        and not exists (select from tail as t where t.sent_ms < :start_ms or t.sent_ms >= :end_ms),
        false
    ) as is_all
),

-- Active pairs per agent otherwise: the distinct chats in the agent's activity maps (see agent_usage).
day_maps as (
    select d.agent_id, bit_or(d.chats) as chats
    from settings as s
    cross join period as p
    inner join lillo_dash.activity_daily as d on d.day_start >= p.days_from and d.day_start < p.days_to
    where d.agent_id <> '*' and (s.all_agents or d.agent_id = any(s.agent_ids))
      and not (select is_all from covers_all)
    group by d.agent_id
),

extra_bits as (
    select h.agent_id, b.bit
    from settings as s
    cross join period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    cross join unnest(h.chat_bits) as b (bit)
    where h.agent_id <> '*' and (s.all_agents or h.agent_id = any(s.agent_ids))
      and not (select is_all from covers_all)
    union
    select t.agent_id, lillo_dash.sketch_bit(t.chat_id)
    from tail as t
    where t.sent_ms >= :start_ms and t.sent_ms < :end_ms and not (select is_all from covers_all)
),

new_bits as (
    select x.agent_id, count(*) filter (where m.chats is null or get_bit(m.chats, x.bit) = 0) as n_bits
    from extra_bits as x
    left join day_maps as m on m.agent_id = x.agent_id
    group by x.agent_id
),

active_pairs as (
    select
        seen.agent_id,
        lillo_dash.distinct_from_zero_bits(131072 - coalesce(bit_count(m.chats), 0) - coalesce(n.n_bits, 0))
            as n_active_chats
    from (select agent_id from day_maps union select agent_id from new_bits) as seen
    left join day_maps as m on m.agent_id = seen.agent_id
    left join new_bits as n on n.agent_id = seen.agent_id
),

-- --- One row per (agent, model) -----------------------------------------------------------------------

pair_counts as (
    select agent_id, model_type, sum(n_chats)::bigint as n_chats, sum(n_default_chats)::bigint as n_default_chats
    from (
        select c.agent_id, c.model_type, c.n_chats, c.n_default_chats
        from settings as s
        inner join lillo_dash.model_pair_counts as c on s.all_agents or c.agent_id = any(s.agent_ids)
        where (select is_counted from preferences_filed)
        union all
        select agent_id, model_type, 1, case when is_default then 1 else 0 end
        from pair_models
    ) as counts
    group by agent_id, model_type
),

-- Every pair of each agent, whatever its model: its active pairs when the range holds every message.
agent_pairs as (
    select agent_id, sum(n_chats)::bigint as n_chats
    from pair_counts
    where (select is_all from covers_all)
    group by agent_id
),

chosen_totals as (
    select agent_id, sum(n_active_chats) as n_active_chats, sum(n_messages) as n_messages
    from chosen_in_range
    group by agent_id
),

final as (
    select
        c.agent_id,
        c.model_type,
        c.n_chats,
        c.n_default_chats,
        case
            when c.model_type = 'OPENAI'
                then greatest(coalesce(p.n_chats, a.n_active_chats, 0) - coalesce(t.n_active_chats, 0), 0)
            else coalesce(r.n_active_chats, 0)
        end::bigint as n_active_chats,
        case
            when c.model_type = 'OPENAI' then coalesce(m.n_messages, 0) - coalesce(t.n_messages, 0)
            else coalesce(r.n_messages, 0)
        end::bigint as n_messages
    from pair_counts as c
    left join chosen_in_range as r on r.agent_id = c.agent_id and r.model_type = c.model_type
    left join chosen_totals as t on t.agent_id = c.agent_id
    left join active_pairs as a on a.agent_id = c.agent_id
    left join agent_pairs as p on p.agent_id = c.agent_id
    left join messages_in_range as m on m.agent_id = c.agent_id
)

select * from final
order by agent_id, n_chats desc, model_type
