-- name: message_kpis
-- Rollup variant of message_kpis.sql (same rows): messages and active agents from the hourly
-- rollup; active chats and users estimated from the activity sketches (whole UTC days from the
-- daily maps, the hours at the ends from the hourly bit lists); rows above the refresh watermark
-- counted live from chat_messages.
-- params: :start_ms, :end_ms, :previous_start_ms, :agent_ids, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, lillo_dash.activity_daily, lillo_dash.activity_hourly, chat_messages(id, timestamp, chat_id, user_id, role, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

periods as (
    select * from lillo_dash.kpi_periods(:start_ms, :end_ms, :previous_start_ms)
),

tail as (
    select p.period, m.agent_id, m.role, m.user_id, m.chat_id
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    inner join periods as p on epoch_ms(m.timestamp) >= p.from_ms and epoch_ms(m.timestamp) < p.to_ms
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

hourly as (
    select p.period, h.agent_id, h.n_messages
    from settings as s
    cross join periods as p
    inner join lillo_dash.message_hourly as h
        on h.hour_start >= p.period_start and h.hour_start < p.period_end
    where s.all_agents or h.agent_id = any(s.agent_ids)
),

-- Summed per agent first: a hash over (period, agent) is small, where count(distinct) would sort
-- every hourly row.
counts as (
    select period, sum(n_messages) as n_messages, count(agent_id) as n_active_agents
    from (
        select period, agent_id, sum(n_messages) as n_messages
        from (
            select period, agent_id, n_messages from hourly
            union all
            select period, agent_id, 1 from tail
        ) as rows
        group by period, agent_id
    ) as per_agent
    group by period
),

day_maps as (
    select p.period, bit_or(d.users) as users, bit_or(d.chats) as chats
    from settings as s
    cross join periods as p
    inner join lillo_dash.activity_daily as d
        on d.day_start >= p.days_from and d.day_start < p.days_to
    where d.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
    group by p.period
),

edge_hours as (
    select p.period, h.user_bits, h.chat_bits
    from settings as s
    cross join periods as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    where h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
),

extra_bits as (
    select e.period, 'user' as kind, b.bit from edge_hours as e cross join unnest(e.user_bits) as b (bit)
    union
    select e.period, 'chat', b.bit from edge_hours as e cross join unnest(e.chat_bits) as b (bit)
    union
    select t.period, 'user', lillo_dash.sketch_bit(t.user_id) from tail as t where t.role = 'user'
    union
    select t.period, 'chat', lillo_dash.sketch_bit(t.chat_id) from tail as t
),

-- Bits set outside the daily maps (distinct already): each one the maps lack is one zero bit fewer.
new_bits as (
    select
        x.period,
        count(*) filter (where x.kind = 'user' and (m.users is null or get_bit(m.users, x.bit) = 0))
            as n_new_user_bits,
        count(*) filter (where x.kind = 'chat' and (m.chats is null or get_bit(m.chats, x.bit) = 0))
            as n_new_chat_bits
    from extra_bits as x
    left join day_maps as m on m.period = x.period
    group by x.period
),

zeros as (
    select
        p.period,
        131072 - coalesce(bit_count(m.users), 0) - coalesce(n.n_new_user_bits, 0) as user_zeros,
        131072 - coalesce(bit_count(m.chats), 0) - coalesce(n.n_new_chat_bits, 0) as chat_zeros
    from periods as p
    left join day_maps as m on m.period = p.period
    left join new_bits as n on n.period = p.period
),

final as (
    select
        c.period,
        c.n_messages::bigint as n_messages,
        lillo_dash.distinct_from_zero_bits(z.chat_zeros) as n_active_chats,
        lillo_dash.distinct_from_zero_bits(z.user_zeros) as n_active_users,
        c.n_active_agents
    from counts as c
    inner join zeros as z on z.period = c.period
    where c.n_messages > 0
)

select * from final
order by period
