-- name: agent_usage
-- Rollup variant of agent_usage.sql (same rows): messages and last activity from the hourly
-- message rollup; chats and people estimated from the activity sketches (linear counting, see
-- sql/install/002_rollups.sql); new people exact from lillo_dash.person_totals; commands from
-- lillo_dash.command_hourly. Rows above the refresh watermarks are counted live.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :messages_watermark, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.message_hourly, lillo_dash.activity_daily, lillo_dash.activity_hourly, lillo_dash.person_totals, lillo_dash.command_hourly, chat_messages(id, timestamp, chat_id, user_id, role, agent_id), command_metrics(id, timestamp, chat_id, success), agents(id, name, is_active, capabilities)
with recursive period as (
    select b.period_start, b.period_end, d.days_from, d.days_to
    from (
        select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
    ) as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

tail as materialized (
    select m.agent_id, m.chat_id, m.user_id, m.role, epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    where m.id > :messages_watermark
),

in_range as (
    select agent_id, sum(n_user)::bigint as n_user_messages, sum(n_assistant)::bigint as n_assistant_messages
    from (
        select
            h.agent_id,
            case when h.role = 'user' then h.n_messages else 0 end as n_user,
            case when h.role = 'assistant' then h.n_messages else 0 end as n_assistant
        from period as p
        inner join lillo_dash.message_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        union all
        select t.agent_id, (t.role = 'user')::int, (t.role = 'assistant')::int
        from tail as t
        where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as rows
    group by agent_id
),

day_maps as (
    select d.agent_id, bit_or(d.users) as users, bit_or(d.chats) as chats
    from period as p
    inner join lillo_dash.activity_daily as d on d.day_start >= p.days_from and d.day_start < p.days_to
    where d.agent_id <> '*'
    group by d.agent_id
),

extra_bits as (
    select h.agent_id, 'user' as kind, b.bit
    from period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    cross join unnest(h.user_bits) as b (bit)
    where h.agent_id <> '*'
    union
    select h.agent_id, 'chat', b.bit
    from period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    cross join unnest(h.chat_bits) as b (bit)
    where h.agent_id <> '*'
    union
    select t.agent_id, 'user', lillo_dash.sketch_bit(t.user_id)
    from tail as t
    where t.role = 'user' and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    union
    select t.agent_id, 'chat', lillo_dash.sketch_bit(t.chat_id)
    from tail as t
    where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
),

-- Each bit set outside an agent's daily maps that the maps lack is one zero bit fewer.
new_bits as (
    select
        x.agent_id,
        count(*) filter (where x.kind = 'user' and (m.users is null or get_bit(m.users, x.bit) = 0)) as n_user_bits,
        count(*) filter (where x.kind = 'chat' and (m.chats is null or get_bit(m.chats, x.bit) = 0)) as n_chat_bits
    from extra_bits as x
    left join day_maps as m on m.agent_id = x.agent_id
    group by x.agent_id
),

estimates as (
    select
        seen.agent_id,
        lillo_dash.distinct_from_zero_bits(
            131072 - coalesce(bit_count(m.users), 0) - coalesce(n.n_user_bits, 0)) as n_people,
        lillo_dash.distinct_from_zero_bits(
            131072 - coalesce(bit_count(m.chats), 0) - coalesce(n.n_chat_bits, 0)) as n_chats
    from (select agent_id from day_maps union select agent_id from new_bits) as seen
    left join day_maps as m on m.agent_id = seen.agent_id
    left join new_bits as n on n.agent_id = seen.agent_id
),

-- New people: those whose first message to the agent in the rollup falls in the range, corrected
-- for each person above the watermark, whose first message may move into or out of the range.
rollup_new as (
    select pt.agent_id, count(*) as n_new_people
    from lillo_dash.person_totals as pt
    where pt.first_ms >= :start_ms and pt.first_ms < :end_ms and pt.agent_id <> '*'
    group by pt.agent_id
),

tail_firsts as (
    select t.agent_id, t.user_id, min(t.sent_ms) as first_ms
    from tail as t
    where t.role = 'user'
    group by t.agent_id, t.user_id
),

tail_corrections as (
    select
        f.agent_id,
        sum(
            (least(f.first_ms, pt.first_ms) >= :start_ms and least(f.first_ms, pt.first_ms) < :end_ms)::int
            - coalesce((pt.first_ms >= :start_ms and pt.first_ms < :end_ms)::int, 0)
        ) as n_new_people
    from tail_firsts as f
    left join lillo_dash.person_totals as pt on pt.agent_id = f.agent_id and pt.user_id = f.user_id
    group by f.agent_id
),

new_people as (
    select agent_id, sum(n_new_people)::bigint as n_new_people
    from (select * from rollup_new union all select * from tail_corrections) as rows
    group by agent_id
),

commands as (
    select agent_id, sum(n_calls)::bigint as n_commands, sum(n_failures)::bigint as n_failures
    from (
        select h.agent_id, h.n_calls, h.n_failures
        from period as p
        inner join lillo_dash.command_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        where h.command = '*' and h.agent_id <> '*'
        union all
        select last_speaker(c), 1, case when c.success then 0 else 1 end
        from command_metrics as c
        where c.id > :commands_watermark
          and epoch_ms(c.timestamp) >= :start_ms and epoch_ms(c.timestamp) < :end_ms
    ) as rows
    group by agent_id
),

-- include: agent_last_seen

all_agents as (
    select
        a.id::text as agent_id,
        a.name as agent_name,
        a.is_active,
        (select string_agg(c.key, ', ' order by c.key)
         from jsonb_each(case when jsonb_typeof(a.capabilities) = 'object' then a.capabilities else '{}' end) as c
         where c.value = 'true'::jsonb) as capabilities
    from agents as a
    union all
    select l.agent_id, l.agent_id, null::boolean, null::text
    from last_seen as l
    where not exists (select from agents as a where a.id::text = l.agent_id)
),

final as (
    select
        aa.agent_id,
        aa.agent_name,
        aa.is_active,
        aa.capabilities,
        coalesce(r.n_user_messages, 0) as n_user_messages,
        coalesce(r.n_assistant_messages, 0) as n_assistant_messages,
        coalesce(e.n_chats, 0) as n_chats,
        coalesce(e.n_people, 0) as n_people,
        coalesce(n.n_new_people, 0) as n_new_people,
        greatest(coalesce(e.n_people, 0) - coalesce(n.n_new_people, 0), 0) as n_returning_people,
        coalesce(c.n_commands, 0) as n_commands,
        coalesce(c.n_failures, 0) as n_command_failures,
        (1 - c.n_failures::float8 / nullif(c.n_commands, 0)) as command_success_rate,
        to_timestamp(l.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from all_agents as aa
    left join in_range as r on r.agent_id = aa.agent_id
    left join estimates as e on e.agent_id = aa.agent_id
    left join new_people as n on n.agent_id = aa.agent_id
    left join commands as c on c.agent_id = aa.agent_id
    left join last_seen as l on l.agent_id = aa.agent_id
    where cardinality(cast(:agent_ids as text[])) = 0 or aa.agent_id = any(cast(:agent_ids as text[]))
)

select * from final
order by n_user_messages + n_assistant_messages desc, lower(agent_name), agent_id
