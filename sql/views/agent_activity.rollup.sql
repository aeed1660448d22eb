-- name: agent_activity
-- Rollup variant of agent_activity.sql (same rows): messages and last activity from the hourly
-- rollup, chats estimated from the activity sketches, rows above the refresh watermark live.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, lillo_dash.activity_daily, lillo_dash.activity_hourly, chat_messages(id, timestamp, chat_id, agent_id), agents(id, name, is_active)
with recursive bounds as (
    select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
),

-- Whole UTC days come from daily rollups, the hours around them from hourly ones.
period as (
    select b.*, d.days_from, d.days_to
    from bounds as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

tail as (
    select m.agent_id, m.chat_id, epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    where m.id > :messages_watermark
),

in_range as (
    select agent_id, sum(n)::bigint as n_messages
    from (
        select h.agent_id, h.n_messages as n
        from period as p
        inner join lillo_dash.message_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        union all
        select t.agent_id, 1 from tail as t where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as rows
    group by agent_id
),

day_maps as (
    select d.agent_id, bit_or(d.chats) as chats
    from period as p
    inner join lillo_dash.activity_daily as d on d.day_start >= p.days_from and d.day_start < p.days_to
    where d.agent_id <> '*'
    group by d.agent_id
),

extra_bits as (
    select h.agent_id, b.bit
    from period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    cross join unnest(h.chat_bits) as b (bit)
    where h.agent_id <> '*'
    union all
    select t.agent_id, lillo_dash.sketch_bit(t.chat_id) from tail as t where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
),

-- Each bit set outside an agent's daily maps that the maps lack is one zero bit fewer.
chat_estimates as (
    select
        seen.agent_id,
        131072 - coalesce(bit_count(m.chats), 0) - (
            select count(distinct x.bit) from extra_bits as x
            where x.agent_id = seen.agent_id and (m.chats is null or get_bit(m.chats, x.bit) = 0)
        ) as zeros
    from (select agent_id from day_maps union select agent_id from extra_bits) as seen
    left join day_maps as m on m.agent_id = seen.agent_id
),

-- include: agent_last_seen

all_agents as (
    select a.id::text as agent_id, a.name as agent_name, a.is_active from agents as a
    union all
    select l.agent_id, l.agent_id, null::boolean
    from last_seen as l
    where not exists (select from agents as a where a.id::text = l.agent_id)
),

final as (
    select
        aa.agent_id,
        aa.agent_name,
        aa.is_active,
        coalesce(r.n_messages, 0) as n_messages,
        coalesce(lillo_dash.distinct_from_zero_bits(c.zeros), 0) as n_chats,
        to_timestamp(l.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from all_agents as aa
    left join in_range as r on r.agent_id = aa.agent_id
    left join chat_estimates as c on c.agent_id = aa.agent_id
    left join last_seen as l on l.agent_id = aa.agent_id
    where cardinality(cast(:agent_ids as text[])) = 0 or aa.agent_id = any(cast(:agent_ids as text[]))
)

select * from final
order by n_messages desc, lower(agent_name), agent_id
