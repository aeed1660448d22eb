-- name: top_chats
-- Rollup variant of top_chats.sql (same rows): chats ranked from the chat rollup (whole UTC days
-- from the daily grain, the hours at the ends from the hourly one, rows above the refresh
-- watermark live); people from the chat_people rollup (and rows above the watermark).
-- params: :start_ms, :end_ms, :tz, :agent_ids, :limit, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_activity, lillo_dash.chat_people, chat_messages(id, timestamp, chat_id, user_id, role, agent_id), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

bounds as (
    select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
),

-- Whole UTC days come from daily rollups, the hours around them from hourly ones.
period as (
    select b.*, d.days_from, d.days_to
    from bounds as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

rows as (
    select a.chat_id, a.agent_id, a.n_messages, a.last_ms
    from settings as s
    cross join period as p
    inner join lillo_dash.chat_activity as a
        on a.grain = 'day' and a.period_start >= p.days_from and a.period_start < p.days_to
    where s.all_agents or a.agent_id = any(s.agent_ids)
    union all
    select a.chat_id, a.agent_id, a.n_messages, a.last_ms
    from settings as s
    cross join period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.chat_activity as a
        on a.grain = 'hour' and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
    where s.all_agents or a.agent_id = any(s.agent_ids)
    union all
    select m.chat_id, m.agent_id, 1, epoch_ms(m.timestamp)
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where epoch_ms(m.timestamp) >= :start_ms
      and epoch_ms(m.timestamp) < :end_ms
      and (s.all_agents or m.agent_id = any(s.agent_ids))
),

per_chat as (
    select chat_id, sum(n_messages)::bigint as n_messages, max(last_ms) as last_sent_ms
    from rows
    group by chat_id
    order by n_messages desc, chat_id
    limit :limit
),

chat_agents as (
    select distinct r.chat_id, coalesce(a.name, r.agent_id) as agent_name
    from rows as r
    inner join per_chat as p on p.chat_id = r.chat_id
    left join agents as a on a.id::text = r.agent_id
),

people as (
    select said.chat_id, count(distinct said.user_id) as n_people
    from (
        select cp.chat_id, cp.user_id, cp.agent_id
        from per_chat as p
        inner join lillo_dash.chat_people as cp on cp.chat_id = p.chat_id
        union all
        select m.chat_id, m.user_id, m.agent_id
        from settings as s
        inner join chat_messages as m on m.id > :messages_watermark
        inner join per_chat as p on p.chat_id = m.chat_id
        where m.role = 'user'
    ) as said
    cross join settings as s
    where s.all_agents or said.agent_id = any(s.agent_ids)
    group by said.chat_id
),

final as (
    select
        p.chat_id,
        case when p.chat_id < 0 then 'group' else 'private' end as chat_kind,
        p.n_messages,
        coalesce(pe.n_people, 0) as n_people,
        (select string_agg(ca.agent_name, ', ' order by ca.agent_name)
         from chat_agents as ca where ca.chat_id = p.chat_id) as agent_names,
        to_timestamp(p.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from per_chat as p
    left join people as pe on pe.chat_id = p.chat_id
)

select * from final
order by n_messages desc, chat_id
