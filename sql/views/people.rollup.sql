-- name: people
-- Rollup variant of people.sql (same rows). People are ranked from lillo_dash.person_totals:
-- for all agents or one agent its index yields the best rows at once; for several agents their
-- rows are summed. Messages above the refresh watermark are added live, so a person who just
-- wrote can move up. Chats, agents and the latest name come from lillo_dash.chat_people and one
-- probe of Lillo's (chat_id, timestamp) index per person shown.
-- params: :agent_ids, :sort, :limit, :offset, :person, :tz, :messages_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.person_totals, lillo_dash.chat_people, chat_messages(id, chat_id, user_id, user_first_name, username, role, timestamp, agent_id), agents(id, name), user_data(telegram_id, wallet_address)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        case when cardinality(cast(:agent_ids as text[])) = 0 then array['*']
             else cast(:agent_ids as text[]) end as levels,
        cast(:person as bigint) as person,
        cast(:limit as bigint) + cast(:offset as bigint) as n_best
),

tail as materialized (
    select m.id, m.chat_id, m.user_id, m.user_first_name, m.username, m.agent_id,
        epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    cross join settings as s
    where m.id > :messages_watermark
      and m.role = 'user'
      and (s.all_agents or m.agent_id = any(s.agent_ids))
      and (s.person is null or m.user_id = s.person)
),

-- The rollup's best people: enough of them that nobody else can reach the page.
best as (
    (select p.user_id, p.n_messages, p.first_ms, p.last_ms
     from settings as s
     inner join lillo_dash.person_totals as p on p.agent_id = s.levels[1]
     where s.person is null and cardinality(s.levels) = 1 and :sort = 'messages'
     order by p.n_messages desc, p.user_id
     limit (select n_best from settings))
    union all
    (select p.user_id, p.n_messages, p.first_ms, p.last_ms
     from settings as s
     inner join lillo_dash.person_totals as p on p.agent_id = s.levels[1]
     where s.person is null and cardinality(s.levels) = 1 and :sort = 'recent'
     order by p.last_ms desc, p.user_id
     limit (select n_best from settings))
    union all
    select p.user_id, sum(p.n_messages), min(p.first_ms), max(p.last_ms)
    from settings as s
    inner join lillo_dash.person_totals as p on p.agent_id = any(s.levels)
    where s.person is null and cardinality(s.levels) > 1
    group by p.user_id
    union all
    select p.user_id, sum(p.n_messages), min(p.first_ms), max(p.last_ms)
    from settings as s
    inner join lillo_dash.person_totals as p on p.user_id = s.person and p.agent_id = any(s.levels)
    group by p.user_id
),

-- People who wrote since the refresh: their rollup rows (when not already in best) and new rows.
fresh as (
    select t.user_id, count(*) as n_messages, min(t.sent_ms) as first_ms, max(t.sent_ms) as last_ms
    from tail as t
    group by t.user_id
),

totals as (
    select user_id, sum(n_messages) as n_messages, min(first_ms) as first_ms, max(last_ms) as last_ms
    from (
        select * from best
        union all
        select p.user_id, p.n_messages, p.first_ms, p.last_ms
        from settings as s
        inner join fresh as f on f.user_id not in (select b.user_id from best as b)
        inner join lillo_dash.person_totals as p on p.user_id = f.user_id and p.agent_id = any(s.levels)
        union all
        select * from fresh
    ) as rows
    group by user_id
),

page as (
    select *
    from totals
    order by case when :sort = 'recent' then last_ms else n_messages end desc, user_id
    limit :limit offset :offset
),

chats as (
    select cp.user_id, cp.chat_id, cp.agent_id, cp.last_ms
    from page as p
    cross join settings as s
    inner join lillo_dash.chat_people as cp
        on cp.user_id = p.user_id and (s.all_agents or cp.agent_id = any(s.agent_ids))
    union all
    select t.user_id, t.chat_id, t.agent_id, t.sent_ms from tail as t
    inner join page as p on p.user_id = t.user_id
),

final as (
    select
        p.user_id,
        latest.user_first_name,
        latest.username,
        p.n_messages,
        (select count(distinct c.chat_id) from chats as c where c.user_id = p.user_id) as n_chats,
        (select string_agg(distinct coalesce(a.name, c.agent_id), ', ')
         from chats as c left join agents as a on a.id::text = c.agent_id
         where c.user_id = p.user_id) as agent_names,
        to_timestamp(p.first_ms / 1000.0) at time zone :tz as first_seen_at,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_seen_at,
        u.wallet_address,
        p.last_ms
    from page as p
    -- The person's latest message: in the chat they wrote in last, at that moment (one index
    -- probe per epoch unit).
    left join lateral (
        select m.user_first_name, m.username
        from (select c.chat_id, c.last_ms from chats as c where c.user_id = p.user_id
              order by c.last_ms desc limit 1) as last_chat
        inner join chat_messages as m
            on m.chat_id = last_chat.chat_id
            and m.timestamp in (last_chat.last_ms, last_chat.last_ms / 1000)
            and epoch_ms(m.timestamp) = last_chat.last_ms
        where m.user_id = p.user_id and m.role = 'user'
        order by m.id desc
        limit 1
    ) as latest on true
    left join user_data as u on u.telegram_id = p.user_id
)

select * from final
order by case when :sort = 'recent' then last_ms else n_messages end desc, user_id
