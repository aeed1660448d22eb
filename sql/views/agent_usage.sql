-- name: agent_usage
-- One row per agent (every agents row, plus agent ids with messages but no agents row, shown by
-- their raw id) among the chosen ones (all when :agent_ids is empty), over [start, end): user and
-- assistant messages, chats, people (distinct authors of user messages), of whom new (their first
-- user message to this agent ever falls in the range) and returning (the others), commands run
-- and failed with their success rate (a command belongs to the agent that last wrote in its chat
-- at or before it), its active flag, its enabled capabilities (names whose value is true, comma
-- separated), and its last message ever as local time in :tz (null if none). An agent without
-- messages in the range has zeros, not a missing row.
-- params: :start_ms, :end_ms, :tz, :agent_ids
-- requires: chat_messages(timestamp, chat_id, user_id, role, agent_id), command_metrics(timestamp, chat_id, success), agents(id, name, is_active, capabilities)
with in_range as (
    select
        m.agent_id,
        count(*) filter (where m.role = 'user') as n_user_messages,
        count(*) filter (where m.role = 'assistant') as n_assistant_messages,
        count(distinct m.chat_id) as n_chats,
        count(distinct m.user_id) filter (where m.role = 'user') as n_people
    from chat_messages as m
    where epoch_ms(m.timestamp) >= :start_ms and epoch_ms(m.timestamp) < :end_ms
    group by m.agent_id
),

first_messages as (
    select m.agent_id, m.user_id, min(epoch_ms(m.timestamp)) as first_ms
    from chat_messages as m
    where m.role = 'user'
    group by m.agent_id, m.user_id
),

new_people as (
    select f.agent_id, count(*) as n_new_people
    from first_messages as f
    where f.first_ms >= :start_ms and f.first_ms < :end_ms
    group by f.agent_id
),

commands as (
    select last_speaker(c) as agent_id, count(*) as n_commands, count(*) filter (where not c.success) as n_failures
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms and epoch_ms(c.timestamp) < :end_ms
    group by 1
),

last_seen as (
    select m.agent_id, max(epoch_ms(m.timestamp)) as last_sent_ms
    from chat_messages as m
    group by m.agent_id
),

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
        coalesce(r.n_chats, 0) as n_chats,
        coalesce(r.n_people, 0) as n_people,
        coalesce(n.n_new_people, 0) as n_new_people,
        greatest(coalesce(r.n_people, 0) - coalesce(n.n_new_people, 0), 0) as n_returning_people,
        coalesce(c.n_commands, 0) as n_commands,
        coalesce(c.n_failures, 0) as n_command_failures,
        (1 - c.n_failures::float8 / nullif(c.n_commands, 0)) as command_success_rate,
        to_timestamp(l.last_sent_ms / 1000.0) at time zone :tz as last_active_at
    from all_agents as aa
    left join in_range as r on r.agent_id = aa.agent_id
    left join new_people as n on n.agent_id = aa.agent_id
    left join commands as c on c.agent_id = aa.agent_id
    left join last_seen as l on l.agent_id = aa.agent_id
    where cardinality(cast(:agent_ids as text[])) = 0 or aa.agent_id = any(cast(:agent_ids as text[]))
)

select * from final
order by n_user_messages + n_assistant_messages desc, lower(agent_name), agent_id
