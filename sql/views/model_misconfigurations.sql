-- name: model_misconfigurations
-- One row per (agent, chat, command) for the commands that need function calling, run in
-- [start, end) in an (agent, chat) pair set to GEMINI (gemini-pro has no function calling, so
-- these cannot work there): calls, failures and the last call's moment in epoch ms (last_ms),
-- most calls first. A command belongs to the agent that last wrote in its chat at or before it;
-- '/img' and 'img' are one command. Only the chosen agents' pairs (all when :agent_ids is empty).
-- params: :start_ms, :end_ms, :agent_ids
-- requires: command_metrics(command, timestamp, chat_id, success), chat_messages(chat_id, agent_id, timestamp), model_preferences(agent_id, chat_id, model_type)
with gemini_pairs as (
    select p.agent_id, p.chat_id::bigint as chat_id
    from model_preferences as p
    where p.model_type = 'GEMINI'
      and (cardinality(cast(:agent_ids as text[])) = 0 or p.agent_id = any(cast(:agent_ids as text[])))
),

calls as (
    select
        c.chat_id,
        command_name(c.command) as command,
        c.success,
        epoch_ms(c.timestamp) as sent_ms,
        last_speaker(c) as agent_id
    from command_metrics as c
    where c.chat_id in (select g.chat_id from gemini_pairs as g)
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      -- The commands that need function calling, by name without the leading '/':
      -- image generation (img) and market data (ticker, dex, gecko).
      and command_name(c.command) = any(array['img', 'ticker', 'dex', 'gecko'])
),

final as (
    select
        c.agent_id,
        c.chat_id,
        c.command,
        count(*) as n_calls,
        count(*) filter (where not c.success) as n_failures,
        max(c.sent_ms) as last_ms
    from calls as c
    inner join gemini_pairs as g on g.agent_id = c.agent_id and g.chat_id = c.chat_id
    group by c.agent_id, c.chat_id, c.command
)

select * from final
order by n_calls desc, n_failures desc, agent_id, chat_id, command
