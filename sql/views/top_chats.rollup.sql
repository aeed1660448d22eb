-- name: top_chats
-- Rollup variant of top_chats.sql (same rows). Ranked exactly without reading every chat: a chat's
-- all-time total (lillo_dash.chat_totals) bounds its count in any range, so after counting the
-- range for the biggest chats, the :limit-th best count is a threshold no chat with a smaller
-- total can reach; only chats at or above it are counted. Counts come from the chat rollup (whole
-- UTC days daily, the hours around them hourly) plus the rows above the refresh watermark; people
-- from lillo_dash.chat_people.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :limit, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_activity, lillo_dash.chat_totals, lillo_dash.chat_people, chat_messages(id, timestamp, chat_id, user_id, role, agent_id), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

period as (
    select b.period_start, b.period_end, d.days_from, d.days_to
    from (select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end) as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

tail as materialized (
    select m.chat_id, m.agent_id, m.user_id, m.role, epoch_ms(m.timestamp) as sent_ms
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

totals as (
    select chat_id, sum(n_messages) as n_total
    from (
        select t.chat_id, t.n_messages
        from settings as s
        inner join lillo_dash.chat_totals as t on s.all_agents or t.agent_id = any(s.agent_ids)
        union all
        select chat_id, 1 from tail
    ) as rows
    group by chat_id
),

-- Messages of the given chats in the range, per agent: rollup rows and live rows.
probe as (
    select t.chat_id from totals as t order by t.n_total desc, t.chat_id limit :limit * 20
),

probe_counts as (
    select c.chat_id, sum(r.n_messages) as n_messages
    from probe as c
    cross join period as p
    cross join lateral (
        select x.agent_id, x.n_messages from lillo_dash.chat_range_rows(c.chat_id, p.period_start, p.period_end) as x
        union all
        select t.agent_id, 1 from tail as t
        where t.chat_id = c.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as r
    cross join settings as s
    where s.all_agents or r.agent_id = any(s.agent_ids)
    group by c.chat_id
),

threshold as (
    select coalesce(min(n_messages), 1) as n_at_least
    from (select n_messages from probe_counts order by n_messages desc limit :limit) as best
    having count(*) >= :limit
    union all
    select 1
    order by 1 desc
    limit 1
),

candidates as (
    select t.chat_id from totals as t cross join threshold as h where t.n_total >= h.n_at_least
),

chat_rows as materialized (
    select c.chat_id, r.agent_id, r.n_messages, r.last_ms
    from candidates as c
    cross join period as p
    cross join lateral (
        select x.agent_id, x.n_messages, x.last_ms
        from lillo_dash.chat_range_rows(c.chat_id, p.period_start, p.period_end) as x
        union all
        select t.agent_id, 1, t.sent_ms from tail as t
        where t.chat_id = c.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as r
    cross join settings as s
    where s.all_agents or r.agent_id = any(s.agent_ids)
),

per_chat as (
    select r.chat_id, sum(r.n_messages)::bigint as n_messages, max(r.last_ms) as last_sent_ms
    from chat_rows as r
    group by r.chat_id
    order by n_messages desc, r.chat_id
    limit :limit
),

chat_agents as (
    select distinct r.chat_id, coalesce(a.name, r.agent_id) as agent_name
    from chat_rows as r
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
        select t.chat_id, t.user_id, t.agent_id
        from tail as t
        inner join per_chat as p on p.chat_id = t.chat_id
        where t.role = 'user'
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
