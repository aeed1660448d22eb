-- name: model_misconfigurations
-- Rollup variant of model_misconfigurations.sql (same rows): the GEMINI pairs' commands from
-- lillo_dash.model_pair_commands (dashboard/rollups_models.py) and, above its watermark, from
-- command_metrics; a pair set to GEMINI since the last refresh from the dashboard's command index
-- by chat. Only pairs with messages can own a command (their agent wrote in the chat before it).
-- params: :start_ms, :end_ms, :agent_ids, :messages_watermark, :model_commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_totals, lillo_dash.model_pairs, lillo_dash.model_pair_commands, command_metrics(id, command, timestamp, chat_id, success), chat_messages(id, chat_id, agent_id, timestamp), model_preferences(agent_id, chat_id, model_type)
with gemini_pairs as (
    select
        p.agent_id,
        p.chat_id::bigint as chat_id,
        exists (
            select from lillo_dash.model_pairs as f where f.chat_id = p.chat_id and f.agent_id = p.agent_id
        ) as is_filed
    from model_preferences as p
    where p.model_type = 'GEMINI'
      and (cardinality(cast(:agent_ids as text[])) = 0 or p.agent_id = any(cast(:agent_ids as text[])))
      and (
          exists (select from lillo_dash.chat_totals as t where t.chat_id = p.chat_id and t.agent_id = p.agent_id)
          or (p.chat_id, p.agent_id) in (
              select m.chat_id, m.agent_id from chat_messages as m where m.id > :messages_watermark
          )
      )
),

-- The commands that need function calling, by name without the leading '/': image generation
-- (img) and market data (ticker, dex, gecko). Keep in step with model_misconfigurations.sql.
function_calling as (
    select array['img', 'ticker', 'dex', 'gecko'] as commands
),

calls as (
    select g.agent_id, g.chat_id, k.command, k.success, k.sent_ms
    from gemini_pairs as g
    inner join lillo_dash.model_pair_commands as k
        on k.chat_id = g.chat_id and k.agent_id = g.agent_id and k.sent_ms >= :start_ms and k.sent_ms < :end_ms
    cross join function_calling as f
    where g.is_filed and k.command = any(f.commands)
    union all
    select c.agent_id, c.chat_id, c.command, c.success, c.sent_ms
    from (
        select
            x.chat_id,
            command_name(x.command) as command,
            x.success,
            epoch_ms(x.timestamp) as sent_ms,
            last_speaker(x) as agent_id
        from command_metrics as x
        cross join function_calling as f
        where x.id > :model_commands_watermark
          and epoch_ms(x.timestamp) >= :start_ms and epoch_ms(x.timestamp) < :end_ms
          and command_name(x.command) = any(f.commands)
          and x.chat_id in (select g.chat_id from gemini_pairs as g where g.is_filed)
    ) as c
    inner join gemini_pairs as g on g.agent_id = c.agent_id and g.chat_id = c.chat_id and g.is_filed
    union all
    select c.agent_id, c.chat_id, c.command, c.success, c.sent_ms
    from (
        select
            k.chat_id,
            command_name(k.command) as command,
            k.success,
            epoch_ms(k.timestamp) as sent_ms,
            last_speaker(k) as agent_id
        from (select distinct g.chat_id from gemini_pairs as g where not g.is_filed) as cc
        cross join lateral (
            select x.chat_id, x.command, x.timestamp, x.success
            from command_metrics as x
            where x.chat_id = cc.chat_id and x.timestamp > 100000000000
              and x.timestamp >= :start_ms and x.timestamp < :end_ms
            union all
            select x.chat_id, x.command, x.timestamp, x.success
            from command_metrics as x
            where x.chat_id = cc.chat_id and x.timestamp <= 100000000000
              and x.timestamp >= :start_ms / 1000 and x.timestamp <= :end_ms / 1000
              and x.timestamp * 1000 >= :start_ms and x.timestamp * 1000 < :end_ms
        ) as k
        cross join function_calling as f
        where command_name(k.command) = any(f.commands)
    ) as c
    inner join gemini_pairs as g on g.agent_id = c.agent_id and g.chat_id = c.chat_id and not g.is_filed
),

final as (
    select
        agent_id,
        chat_id,
        command,
        count(*) as n_calls,
        count(*) filter (where not success) as n_failures,
        max(sent_ms) as last_ms
    from calls
    group by agent_id, chat_id, command
)

select * from final
order by n_calls desc, n_failures desc, agent_id, chat_id, command
