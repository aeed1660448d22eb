-- name: model_change_effect
-- Two rows, period 'before' and 'after', for one (agent, chat) pair around a change of its model
-- at :changed_at_ms: the :window_days before it and the :window_days from it on, with the figures
-- of model_comparison.sql for this one pair. Each row has its bounds (period_start, period_end,
-- and in epoch ms period_start_ms, period_end_ms), n_days (the part of the period already past:
-- an 'after' period that reaches into the future is shorter), n_messages, messages_per_day; the
-- replies of reply_latency.sql (n_replies, median_ms, p90_ms, at the reply's time); the commands
-- that belong to this agent in this chat (the agent that last wrote in the chat at or before
-- them): n_commands, n_command_failures, command_success_rate, command_p95_ms (negative
-- durations as 0); n_people who wrote in the period. Rates over nothing are null.
-- Reads only the two periods of the chat (and at most one window before them), whatever its history.
-- params: :agent_id, :chat_id, :changed_at_ms, :window_days
-- requires: chat_messages(id, chat_id, user_id, role, agent_id, timestamp), command_metrics(timestamp, chat_id, success, duration)
with periods as (
    select
        v.period,
        v.position,
        v.from_ms,
        v.to_ms,
        greatest(least(v.to_ms, (extract(epoch from now()) * 1000)::bigint) - v.from_ms, 0)::float8 / 86400000
            as n_days
    from (
        select cast(:changed_at_ms as bigint) as changed_ms,
               round(cast(:window_days as numeric) * 86400000)::bigint as window_ms
    ) as w
    cross join lateral (
        values
            ('before', 1, w.changed_ms - w.window_ms, w.changed_ms),
            ('after', 2, w.changed_ms, w.changed_ms + w.window_ms)
    ) as v (period, position, from_ms, to_ms)
),

-- The chat's rows of the two periods, read once through Lillo's (chat_id, timestamp) index with
-- timestamps in ms or in seconds: its messages (every agent's, for the commands below) and
-- commands, plus the chat's last message before them. The bounds are written out, not taken from
-- `periods`, so the planner sees them.
chat_rows as materialized (
    select m.timestamp as sent_ms, 0 as kind, m.id, coalesce(m.agent_id, '') as agent_id, m.user_id, m.role,
           null::boolean as success, null::integer as duration
    from chat_messages as m
    where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000
      and m.timestamp >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) and m.timestamp < (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint)
    union all
    select m.timestamp * 1000, 0, m.id, coalesce(m.agent_id, ''), m.user_id, m.role, null, null
    from chat_messages as m
    where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
      and m.timestamp >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) / 1000 and m.timestamp <= (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint) / 1000
      and m.timestamp * 1000 >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) and m.timestamp * 1000 < (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint)
    union all
    select x.sent_ms, 0, x.id, x.agent_id, x.user_id, x.role, null, null
    from (
        select y.sent_ms, y.id, y.agent_id, y.user_id, y.role
        from (
            (select m.timestamp as sent_ms, m.id, coalesce(m.agent_id, '') as agent_id, m.user_id, m.role
             from chat_messages as m
             where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000 and m.timestamp < (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint)
             order by m.timestamp desc, m.id desc
             limit 1)
            union all
            (select m.timestamp * 1000, m.id, coalesce(m.agent_id, ''), m.user_id, m.role
             from chat_messages as m
             where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
               and m.timestamp <= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) / 1000 and m.timestamp * 1000 < (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint)
             order by m.timestamp desc, m.id desc
             limit 1)
        ) as y
        order by y.sent_ms desc, y.id desc
        limit 1
    ) as x
    union all
    select epoch_ms(c.timestamp), 1, c.id, null, null, null, c.success, c.duration
    from command_metrics as c
    where c.chat_id = cast(:chat_id as bigint) and c.timestamp > 100000000000
      and c.timestamp >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) and c.timestamp < (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint)
    union all
    select epoch_ms(c.timestamp), 1, c.id, null, null, null, c.success, c.duration
    from command_metrics as c
    where c.chat_id = cast(:chat_id as bigint) and c.timestamp <= 100000000000
      and c.timestamp >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) / 1000 and c.timestamp <= (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint) / 1000
      and c.timestamp * 1000 >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) and c.timestamp * 1000 < (cast(:changed_at_ms as bigint) + round(cast(:window_days as numeric) * 86400000)::bigint)
),

-- The pair's rows of the two periods, plus its last turn before them if it is at most one window
-- earlier (a first reply answers it): (agent_id || '') keeps that lookup on Lillo's
-- (chat_id, timestamp) index rather than the key leading with message_id.
in_periods as (
    select id, user_id, role, sent_ms
    from chat_rows
    where kind = 0 and agent_id = cast(:agent_id as text) and sent_ms >= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint)
),

turn_before as (
    select x.id, x.user_id, x.role, x.sent_ms
    from (
        (select m.id, m.user_id, m.role, m.timestamp as sent_ms
         from chat_messages as m
         where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000
           and m.timestamp >= (cast(:changed_at_ms as bigint) - 2 * round(cast(:window_days as numeric) * 86400000)::bigint) and m.timestamp < (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint)
           and (m.agent_id || '') = cast(:agent_id as text) and m.role in ('user', 'assistant')
         order by m.timestamp desc, m.id desc
         limit 1)
        union all
        (select m.id, m.user_id, m.role, m.timestamp * 1000
         from chat_messages as m
         where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
           and m.timestamp >= (cast(:changed_at_ms as bigint) - 2 * round(cast(:window_days as numeric) * 86400000)::bigint) / 1000 and m.timestamp <= (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint) / 1000
           and m.timestamp * 1000 >= (cast(:changed_at_ms as bigint) - 2 * round(cast(:window_days as numeric) * 86400000)::bigint) and m.timestamp * 1000 < (cast(:changed_at_ms as bigint) - round(cast(:window_days as numeric) * 86400000)::bigint)
           and (m.agent_id || '') = cast(:agent_id as text) and m.role in ('user', 'assistant')
         order by m.timestamp desc, m.id desc
         limit 1)
    ) as x
    order by x.sent_ms desc, x.id desc
    limit 1
),

history as (
    select id, user_id, role, sent_ms from in_periods
    union all
    select id, user_id, role, sent_ms from turn_before
),

turns as (
    select
        h.role,
        h.sent_ms,
        lag(h.role) over conversation as previous_role,
        h.sent_ms - lag(h.sent_ms) over conversation as latency_ms
    from history as h
    where h.role in ('user', 'assistant')
    window conversation as (order by h.sent_ms, h.id)
),

-- Messages per period and person in one hashed grouping (a distinct count would sort every row).
message_figures as (
    select p.period, coalesce(sum(w.n_messages), 0)::bigint as n_messages, count(w.user_id) as n_people
    from periods as p
    left join (
        select
            x.period,
            case when h.role = 'user' then h.user_id end as user_id,
            count(*) as n_messages
        from history as h
        inner join periods as x on h.sent_ms >= x.from_ms and h.sent_ms < x.to_ms
        group by 1, 2
    ) as w on w.period = p.period
    group by p.period
),

reply_figures as (
    select
        p.period,
        count(*) as n_replies,
        percentile_cont(0.5) within group (order by t.latency_ms)::float8 as median_ms,
        percentile_cont(0.9) within group (order by t.latency_ms)::float8 as p90_ms
    from periods as p
    inner join turns as t on t.sent_ms >= p.from_ms and t.sent_ms < p.to_ms
    where t.role = 'assistant' and t.previous_role = 'user'
    group by p.period
),

-- The chat's commands of the two periods that belong to this agent: the agent that last wrote in
-- the chat at or before each (as last_speaker() decides, a message at the same moment first), found
-- by walking the chat's messages and commands of the periods in time order, from the chat's last
-- message before them, instead of one lookup per command.
-- A command is this agent's when the chat's last message at or before it is the agent's last
-- message so far: both are running maxima of (moment, id) in one pass over the rows in time order.
commands as (
    select sent_ms, success, greatest(duration, 0) as duration_ms
    from (
        select
            r.kind, r.sent_ms, r.success, r.duration,
            max(array[r.sent_ms, r.id]) filter (where r.kind = 0) over timeline as last_message,
            max(array[r.sent_ms, r.id]) filter (where r.kind = 0 and r.agent_id = cast(:agent_id as text))
                over timeline as last_of_agent
        from chat_rows as r
        window timeline as (order by r.sent_ms, r.kind, r.id)
    ) as c
    where c.kind = 1 and c.last_message = c.last_of_agent
),

-- include: model_change_effect_final

select
    period, period_start, period_end, period_start_ms, period_end_ms, n_days, n_messages, messages_per_day,
    n_replies, median_ms, p90_ms, n_commands, n_command_failures, command_success_rate, command_p95_ms,
    n_people
from final
order by position
