-- name: chat_list
-- The chats with messages in [start, end) of the chosen agents (all when :agent_ids is empty),
-- one row each: kind from the id's sign (positive = private, negative = group), the agents in it
-- by name, people (distinct authors of user messages in the chat, ever), messages in the range
-- by role, its share of all those agents' messages in the range, the first and last message in
-- the range as local time in :tz. Filters: :kind ('all', 'private', 'group'), at least
-- :min_messages messages in the range, and :participant (a Telegram user id who wrote in the chat
-- to these agents, ever; null for anyone). Sorted by :sort ('messages': most first; 'recent':
-- latest message first), ties by chat id; the :limit rows after the first :offset.
-- params: :start_ms, :end_ms, :tz, :agent_ids, :kind, :min_messages, :participant, :sort, :limit, :offset
-- requires: chat_messages(timestamp, chat_id, user_id, role, agent_id), agents(id, name)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        cast(:participant as bigint) as participant
),

chosen as (
    select m.chat_id, m.user_id, m.role, m.agent_id, epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    cross join settings as s
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

scoped as (
    select * from chosen as c
    where c.sent_ms >= :start_ms and c.sent_ms < :end_ms
      and (:kind = 'all' or (:kind = 'private' and c.chat_id > 0) or (:kind = 'group' and c.chat_id < 0))
      and ((select participant from settings) is null or c.chat_id in (
          select p.chat_id from chosen as p
          where p.role = 'user' and p.user_id = (select participant from settings)))
),

range_total as (
    select count(*) as n_messages from chosen as c where c.sent_ms >= :start_ms and c.sent_ms < :end_ms
),

per_chat as (
    select
        chat_id,
        count(*) as n_messages,
        count(*) filter (where role = 'user') as n_user_messages,
        min(sent_ms) as first_ms,
        max(sent_ms) as last_ms
    from scoped
    group by chat_id
    having count(*) >= :min_messages
    order by case when :sort = 'recent' then max(sent_ms) else count(*) end desc, chat_id
    limit :limit offset :offset
),

final as (
    select
        p.chat_id,
        case when p.chat_id < 0 then 'group' else 'private' end as chat_kind,
        (select string_agg(distinct coalesce(a.name, s.agent_id), ', ')
         from scoped as s left join agents as a on a.id::text = s.agent_id
         where s.chat_id = p.chat_id) as agent_names,
        (select count(distinct c.user_id) from chosen as c
         where c.chat_id = p.chat_id and c.role = 'user') as n_people,
        p.n_user_messages,
        p.n_messages - p.n_user_messages as n_assistant_messages,
        p.n_messages,
        p.n_messages::float8 / nullif(t.n_messages, 0) as share,
        to_timestamp(p.first_ms / 1000.0) at time zone :tz as first_active_at,
        to_timestamp(p.last_ms / 1000.0) at time zone :tz as last_active_at,
        p.last_ms
    from per_chat as p
    cross join range_total as t
)

select * from final
order by case when :sort = 'recent' then last_ms else n_messages end desc, chat_id
