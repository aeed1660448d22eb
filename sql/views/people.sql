-- name: people
-- One row per person who wrote (user messages) to the chosen agents (all when :agent_ids is
-- empty), ever: messages, chats, the agents talked to by name, first and last seen as local time
-- in :tz, the name and username of their latest message, and the wallet they linked (user_data,
-- matched by Telegram id). Sorted by :sort ('messages': most first; 'recent': last seen first),
-- ties by user id; the :limit rows after the first :offset. With :person set, only that person.
-- params: :agent_ids, :sort, :limit, :offset, :person, :tz
-- requires: chat_messages(id, chat_id, user_id, user_first_name, username, role, timestamp, agent_id), agents(id, name), user_data(telegram_id, wallet_address)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

said as (
    select m.id, m.chat_id, m.user_id, m.user_first_name, m.username, m.agent_id,
        epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    cross join settings as s
    where m.role = 'user'
      and (s.all_agents or m.agent_id = any(s.agent_ids))
      and (cast(:person as bigint) is null or m.user_id = cast(:person as bigint))
),

per_person as (
    select user_id, count(*) as n_messages, count(distinct chat_id) as n_chats,
        min(sent_ms) as first_ms, max(sent_ms) as last_ms
    from said
    group by user_id
    order by case when :sort = 'recent' then max(sent_ms) else count(*) end desc, user_id
    limit :limit offset :offset
),

final as (
    select
        p.user_id,
        latest.user_first_name,
        latest.username,
        p.n_messages,
        p.n_chats,
        (select string_agg(distinct coalesce(a.name, s.agent_id), ', ')
         from said as s left join agents as a on a.id::text = s.agent_id
         where s.user_id = p.user_id) as agent_names,
        to_timestamp(p.first_ms / 1000.0) at time zone :tz as first_seen_at,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_seen_at,
        u.wallet_address,
        p.last_ms
    from per_person as p
    cross join lateral (
        select s.user_first_name, s.username from said as s
        where s.user_id = p.user_id order by s.sent_ms desc, s.id desc limit 1
    ) as latest
    left join user_data as u on u.telegram_id = p.user_id
)

select * from final
order by case when :sort = 'recent' then last_ms else n_messages end desc, user_id
