-- name: command_agents
-- One row per (command, agent) with calls in [start, end): the command (its name without the
-- leading '/'), the agent that last wrote in the command's chat before it ('' when none did),
-- calls, failures and success rate. :command '' gives every command, a name only that one.
-- params: :start_ms, :end_ms, :agent_ids, :command
-- requires: command_metrics(command, timestamp, chat_id, success), chat_messages(chat_id, agent_id)
with scoped as (
    select
        command_name(c.command) as command,
        c.success,
        last_speaker(c) as agent_id
    from command_metrics as c
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
),

final as (
    select
        command,
        agent_id,
        count(*) as n_calls,
        count(*) filter (where not success) as n_failures,
        avg(success::int)::float8 as success_rate
    from scoped
    where cardinality(cast(:agent_ids as text[])) = 0 or agent_id = any(cast(:agent_ids as text[]))
    group by command, agent_id
)

select * from final
order by command, n_calls desc, agent_id
