-- name: command_slowest_calls
-- The :limit slowest command calls in [start, end) (:command '' = every command), slowest first:
-- the row id, the command without its leading '/', when (epoch ms), chat, person, the agent that
-- last wrote in the chat before it ('' when none did), the duration as stored, whether it
-- succeeded and its error text cut to 300 characters.
-- params: :start_ms, :end_ms, :agent_ids, :command, :limit
-- requires: command_metrics(id, command, user_id, chat_id, timestamp, duration, success, error), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

-- One branch per case, each ordered like a dashboard index (by duration, or by command name then
-- duration) so that it stops after :limit rows; the bound :command prunes the other branch.
-- Without an agent filter the agent is looked up for the rows shown only.
slowest as (
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from settings as s
     cross join command_metrics as c
     where cast(:command as text) = ''
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
       and (s.all_agents or last_speaker(c) = any(s.agent_ids))
     order by c.duration desc, c.id desc
     limit :limit)
    union all
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from settings as s
     cross join command_metrics as c
     where command_name(c.command) = cast(:command as text)
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
       and (s.all_agents or last_speaker(c) = any(s.agent_ids))
     order by c.duration desc, c.id desc
     limit :limit)
),

final as (
    select
        s.id as command_row_id,
        command_name(s.command) as command,
        epoch_ms(s.timestamp) as sent_ms,
        s.chat_id,
        s.user_id,
        last_speaker(s) as agent_id,
        s.duration as duration_ms,
        s.success,
        left(s.error, 300) as error
    from slowest as s
)

select * from final
order by duration_ms desc, command_row_id desc
