-- name: chat_list
-- Rollup variant of chat_list.sql (same rows), reading a few hundred chats, not all of them:
-- - 'messages': a chat's all-time total (lillo_dash.chat_totals) bounds its count in any range, so
--   once the biggest chats are counted, the page's last count is a threshold that chats with a
--   smaller total cannot reach; only chats at or above it are counted (as in top_chats).
-- - 'recent': the latest chats of a range have hourly rows in its last hours; the shortest window
--   at the range's end that holds enough chats (1 hour, 6, a day, a week, 30 days, the range) is
--   the only one read.
-- - with :participant, only the person's chats (lillo_dash.chat_people) are counted.
-- Counts come from the chat rollup (whole UTC days daily, the hours around them hourly) plus the
-- rows above the refresh watermark; the first message in the range from Lillo's index.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :kind, :min_messages, :participant, :sort, :limit, :offset, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_activity, lillo_dash.chat_totals, lillo_dash.chat_people, lillo_dash.message_hourly, chat_messages(id, timestamp, chat_id, user_id, role, agent_id), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        cast(:participant as bigint) as participant,
        greatest(cast(:min_messages as bigint), 1) as min_messages,
        cast(:limit as bigint) + cast(:offset as bigint) as n_best,
        cast(:kind as text) as kind,
        cardinality(cast(:agent_ids as text[])) = 0 and :participant is null as sizes_in_order
),

period as (
    select b.period_start, b.period_end
    from (select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end) as b
),

tail as materialized (
    select m.chat_id, m.agent_id, m.user_id, m.role, epoch_ms(m.timestamp) as sent_ms
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

-- The participant's chats (empty without one).
person_chats as (
    select cp.chat_id
    from settings as s
    inner join lillo_dash.chat_people as cp on cp.user_id = s.participant
    where s.all_agents or cp.agent_id = any(s.agent_ids)
    union
    select t.chat_id from tail as t cross join settings as s
    where t.role = 'user' and t.user_id = s.participant
),

-- The 'messages' ranking's upper bounds: a chat's all-time messages by the chosen agents. For
-- all agents and anyone they are lillo_dash.chat_sizes, in order in its index (plus the chats
-- with live rows); otherwise they are summed here.
summed_totals as (
    select rows.chat_id, sum(rows.n_messages) as n_total
    from settings as s
    cross join lateral (
        select t.chat_id, t.n_messages
        from lillo_dash.chat_totals as t
        where s.participant is null and not s.all_agents and t.agent_id = any(s.agent_ids)
        union all
        select t.chat_id, t.n_messages
        from person_chats as c
        inner join lillo_dash.chat_totals as t
            on t.chat_id = c.chat_id and (s.all_agents or t.agent_id = any(s.agent_ids))
        union all
        select t.chat_id, 1 from tail as t
        where s.participant is null or t.chat_id in (select chat_id from person_chats)
    ) as rows
    where :sort = 'messages' and not s.sizes_in_order
      and (s.kind = 'all' or (s.kind = 'private' and rows.chat_id > 0) or (s.kind = 'group' and rows.chat_id < 0))
    group by rows.chat_id
),

-- The chats most likely to fill the page: their counts in the range set the threshold.
probe as (
    (select z.chat_id
     from settings as s
     inner join lillo_dash.chat_sizes as z
         on s.kind = 'all' or (s.kind = 'private' and z.chat_id > 0) or (s.kind = 'group' and z.chat_id < 0)
     where :sort = 'messages' and s.sizes_in_order
     order by z.n_messages desc, z.chat_id
     limit (select n_best * 20 from settings))
    union
    (select t.chat_id from summed_totals as t
     order by t.n_total desc, t.chat_id
     limit (select n_best * 20 from settings))
    union
    select t.chat_id
    from settings as s
    inner join tail as t
        on s.kind = 'all' or (s.kind = 'private' and t.chat_id > 0) or (s.kind = 'group' and t.chat_id < 0)
    where :sort = 'messages' and s.sizes_in_order
),

-- A chat's messages in the range by the chosen agents.
probe_counts as (
    select c.chat_id, r.n_messages
    from probe as c
    cross join period as p
    cross join settings as s
    cross join lateral (
        select coalesce(sum(x.n_messages), 0) as n_messages
        from (
            select a.agent_id, a.n_messages from lillo_dash.chat_range_rows(c.chat_id, p.period_start, p.period_end) as a
            union all
            select t.agent_id, 1 from tail as t
            where t.chat_id = c.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as x
        where s.all_agents or x.agent_id = any(s.agent_ids)
    ) as r
),

-- The page's last count among the probed chats (1 when they are too few to fill it).
threshold as (
    select coalesce(min(n_messages), 1) as n_at_least
    from (
        select n_messages from probe_counts
        where n_messages >= (select min_messages from settings)
        order by n_messages desc limit (select n_best from settings)
    ) as best
    having count(*) >= (select n_best from settings)
    union all
    select 1
    order by 1 desc
    limit 1
),

-- Chats of the chosen kind and participant with a message in [from_ms, end) of the range, for
-- 'recent': their hourly rollup rows in that window and live rows.
recent_window as (
    select w.from_ms
    from (values (1), (6), (24), (168), (720), (null)) as h (hours)
    cross join settings as s
    cross join lateral (
        select greatest(:start_ms, coalesce(:end_ms - h.hours * 3600000::bigint, :start_ms)) as from_ms
    ) as w
    cross join lateral (
        select count(*) as n_chats
        from (
            select a.chat_id
            from lillo_dash.chat_activity as a
            where a.grain = 'hour'
              and a.period_start >= to_timestamp(w.from_ms / 1000.0)
              and a.period_start < to_timestamp(:end_ms / 1000.0)
              and (s.all_agents or a.agent_id = any(s.agent_ids))
            union
            select t.chat_id from tail as t
            where t.sent_ms >= w.from_ms and t.sent_ms < :end_ms
        ) as active
        cross join period as p
        where (s.kind = 'all' or (s.kind = 'private' and active.chat_id > 0) or (s.kind = 'group' and active.chat_id < 0))
          and (s.participant is null or active.chat_id in (select chat_id from person_chats))
          -- At least :min_messages in the whole range (counted only when that filter is set).
          and (s.min_messages = 1 or (
              select coalesce(sum(x.n_messages), 0)
              from (
                  select a.agent_id, a.n_messages
                  from lillo_dash.chat_range_rows(active.chat_id, p.period_start, p.period_end) as a
                  union all
                  select t.agent_id, 1 from tail as t
                  where t.chat_id = active.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
              ) as x
              where s.all_agents or x.agent_id = any(s.agent_ids)
          ) >= s.min_messages)
    ) as found
    where :sort = 'recent' and (found.n_chats >= s.n_best or h.hours is null)
    limit 1
),

candidates as (
    select z.chat_id
    from settings as s
    cross join threshold as h
    inner join lillo_dash.chat_sizes as z on z.n_messages >= greatest(h.n_at_least, s.min_messages)
    where :sort = 'messages' and s.sizes_in_order
      and (s.kind = 'all' or (s.kind = 'private' and z.chat_id > 0) or (s.kind = 'group' and z.chat_id < 0))
    union
    select chat_id from probe
    union
    select t.chat_id
    from summed_totals as t
    cross join threshold as h
    cross join settings as s
    where t.n_total >= greatest(h.n_at_least, s.min_messages)
    union
    select a.chat_id
    from recent_window as w
    cross join settings as s
    inner join lillo_dash.chat_activity as a
        on a.grain = 'hour'
        and a.period_start >= to_timestamp(w.from_ms / 1000.0)
        and a.period_start < to_timestamp(:end_ms / 1000.0)
    where (s.all_agents or a.agent_id = any(s.agent_ids))
      and (s.kind = 'all' or (s.kind = 'private' and a.chat_id > 0) or (s.kind = 'group' and a.chat_id < 0))
      and (s.participant is null or a.chat_id in (select chat_id from person_chats))
    union
    select t.chat_id from recent_window as w
    cross join settings as s
    inner join tail as t on t.sent_ms >= w.from_ms and t.sent_ms < :end_ms
    where (s.kind = 'all' or (s.kind = 'private' and t.chat_id > 0) or (s.kind = 'group' and t.chat_id < 0))
      and (s.participant is null or t.chat_id in (select chat_id from person_chats))
),

counted as (
    select c.chat_id, r.n_messages, r.n_user_messages, r.last_ms
    from candidates as c
    cross join period as p
    cross join settings as s
    cross join lateral (
        select
            coalesce(sum(x.n_messages), 0)::bigint as n_messages,
            coalesce(sum(x.n_user_messages), 0)::bigint as n_user_messages,
            max(x.last_ms) as last_ms
        from (
            select a.agent_id, a.n_messages, a.n_user_messages, a.last_ms
            from lillo_dash.chat_range_split(c.chat_id, p.period_start, p.period_end) as a
            union all
            select t.agent_id, 1, (t.role = 'user')::int, t.sent_ms from tail as t
            where t.chat_id = c.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as x
        where s.all_agents or x.agent_id = any(s.agent_ids)
    ) as r
    where r.n_messages >= s.min_messages
),

page as (
    select * from counted
    order by case when :sort = 'recent' then last_ms else n_messages end desc, chat_id
    limit :limit offset :offset
),

range_total as (
    select coalesce(sum(rows.n), 0) as n_messages
    from settings as s
    cross join lateral (
        select h.n_messages as n
        from lillo_dash.message_hourly as h
        where (s.all_agents or h.agent_id = any(s.agent_ids))
          and h.hour_start >= to_timestamp(:start_ms / 1000.0) and h.hour_start < to_timestamp(:end_ms / 1000.0)
        union all
        select 1 from tail as t where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as rows
),

final as (
    select
        p.chat_id,
        case when p.chat_id < 0 then 'group' else 'private' end as chat_kind,
        (select string_agg(distinct coalesce(a.name, x.agent_id), ', ')
         from (
             select r.agent_id from lillo_dash.chat_range_rows(p.chat_id, q.period_start, q.period_end) as r
             union
             select t.agent_id from tail as t
             where t.chat_id = p.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
         ) as x
         left join agents as a on a.id::text = x.agent_id
         where s.all_agents or x.agent_id = any(s.agent_ids)) as agent_names,
        (select count(distinct said.user_id)
         from (
             select cp.user_id, cp.agent_id from lillo_dash.chat_people as cp where cp.chat_id = p.chat_id
             union all
             select t.user_id, t.agent_id from tail as t where t.chat_id = p.chat_id and t.role = 'user'
         ) as said
         where s.all_agents or said.agent_id = any(s.agent_ids)) as n_people,
        p.n_user_messages,
        p.n_messages - p.n_user_messages as n_assistant_messages,
        p.n_messages,
        p.n_messages::float8 / nullif(t.n_messages, 0) as share,
        to_timestamp(first_message.sent_ms / 1000.0) at time zone :tz as first_active_at,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_active_at,
        p.last_ms
    from page as p
    cross join period as q
    cross join range_total as t
    cross join settings as s
    -- The first message of the chosen agents in the range: the first hour in the range the hourly
    -- rollup has them in, then one walk of Lillo's (chat_id, timestamp) index per epoch unit inside
    -- that hour (a walk from the range's start would read every other agent's rows before an agent
    -- that writes rarely there, or only in the other unit), or the rows above the watermark.
    cross join lateral (
        select (extract(epoch from min(a.period_start)) * 1000)::bigint as from_ms
        from lillo_dash.chat_activity as a
        where a.chat_id = p.chat_id and a.grain = 'hour'
          and a.period_start >= q.period_start and a.period_start < q.period_end
          and (s.all_agents or a.agent_id = any(s.agent_ids))
    ) as first_hour
    cross join lateral (
        select min(first.sent_ms) as sent_ms
        from (
            (select m.timestamp as sent_ms from chat_messages as m
             where m.chat_id = p.chat_id and m.timestamp > 100000000000
               and m.timestamp >= first_hour.from_ms and m.timestamp < first_hour.from_ms + 3600000
               and (s.all_agents or m.agent_id = any(s.agent_ids))
             order by m.timestamp limit 1)
            union all
            (select m.timestamp * 1000 from chat_messages as m
             where m.chat_id = p.chat_id and m.timestamp <= 100000000000
               and m.timestamp >= first_hour.from_ms / 1000 and m.timestamp < (first_hour.from_ms + 3600000) / 1000
               and (s.all_agents or m.agent_id = any(s.agent_ids))
             order by m.timestamp limit 1)
            union all
            select min(t.sent_ms) from tail as t
            where t.chat_id = p.chat_id and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        ) as first
    ) as first_message
)

select * from final
order by case when :sort = 'recent' then last_ms else n_messages end desc, chat_id
