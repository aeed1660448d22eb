-- name: model_comparison
-- One row per model (OPENAI, GEMINI, GROK and DEEPSEEK always, then any other model_type found)
-- over the chosen agents' (agent, chat) pairs on that model (model_preferences; a pair without a
-- row runs on OPENAI, Lillo's default) that had messages in [start, end). Every figure comes with
-- the count behind it:
-- - n_chats such pairs, n_messages their messages in the range, messages_per_chat (the mean
--   conversation length in the range) and messages_per_chat_per_day over range_days: the range in
--   days, or for an all-time range (one that starts on 1 January 1970) the span from the first to
--   the last message in the data;
-- - n_replies and their median_ms / p90_ms latency (percentile_cont): the samples of
--   reply_latency.sql (an assistant message right after a user message in the same chat and
--   agent's history, system rows skipped, ties in time 0 ms), counted at the reply's time;
-- - n_commands run in the range that belong to a pair on the model (a command belongs to the
--   agent that last wrote in its chat at or before it; one nobody wrote before belongs to no
--   pair), n_command_failures, command_success_rate and command_p95_ms (negative durations as 0);
-- - n_people who wrote in the range in those pairs (each person once per model); n_new_people
--   whose first message in a pair falls in the range (a person new in two pairs counts twice),
--   n_returned of them wrote in that pair again at least 24 hours after that first message (at
--   any later time, also after the range), returning_share = n_returned / n_new_people.
-- Rates over nothing are null.
-- params: :start_ms, :end_ms, :agent_ids
-- requires: chat_messages(id, chat_id, user_id, role, agent_id, timestamp), command_metrics(timestamp, chat_id, success, duration), model_preferences(agent_id, chat_id, model_type)
with known_models as (
    select v.model_type, v.position
    from (values ('OPENAI', 1), ('GEMINI', 2), ('GROK', 3), ('DEEPSEEK', 4)) as v (model_type, position)
),

history as (
    select m.id, m.chat_id, m.agent_id, m.user_id, m.role, epoch_ms(m.timestamp) as sent_ms
    from chat_messages as m
    where cardinality(cast(:agent_ids as text[])) = 0 or m.agent_id = any(cast(:agent_ids as text[]))
),

pairs as (
    select
        h.agent_id,
        h.chat_id,
        count(*) filter (where h.sent_ms >= :start_ms and h.sent_ms < :end_ms) as n_messages
    from history as h
    group by h.agent_id, h.chat_id
),

pair_models as (
    select p.agent_id, p.chat_id, p.n_messages, coalesce(mp.model_type, 'OPENAI') as model_type
    from pairs as p
    left join model_preferences as mp on mp.agent_id = p.agent_id and mp.chat_id = p.chat_id
),

active_pairs as (
    select agent_id, chat_id, n_messages, model_type from pair_models where n_messages > 0
),

-- A reply's predecessor is never later than the reply: the range's end can be applied first.
turns as (
    select
        h.chat_id,
        h.agent_id,
        h.role,
        h.sent_ms,
        lag(h.role) over conversation as previous_role,
        lag(h.sent_ms) over conversation as previous_ms
    from history as h
    where h.role in ('user', 'assistant') and h.sent_ms < :end_ms
    window conversation as (partition by h.chat_id, h.agent_id order by h.sent_ms, h.id)
),

replies as (
    select a.model_type, t.sent_ms - t.previous_ms as latency_ms
    from turns as t
    inner join active_pairs as a on a.agent_id = t.agent_id and a.chat_id = t.chat_id
    where t.role = 'assistant' and t.previous_role = 'user' and t.sent_ms >= :start_ms
),

commands as (
    select a.model_type, c.success, greatest(c.duration, 0) as duration_ms
    from (
        select c.chat_id, c.success, c.duration, last_speaker(c) as agent_id
        from command_metrics as c
        where epoch_ms(c.timestamp) >= :start_ms and epoch_ms(c.timestamp) < :end_ms
    ) as c
    inner join pair_models as a on a.agent_id = c.agent_id and a.chat_id = c.chat_id
),

-- Each person's user messages per pair: first and last ever, and whether any fell in the range.
couples as (
    select
        h.chat_id,
        h.agent_id,
        h.user_id,
        min(h.sent_ms) as first_ms,
        max(h.sent_ms) as last_ms,
        bool_or(h.sent_ms >= :start_ms and h.sent_ms < :end_ms) as wrote_in_range
    from history as h
    where h.role = 'user'
    group by h.chat_id, h.agent_id, h.user_id
),

people as (
    select
        a.model_type,
        count(distinct c.user_id) filter (where c.wrote_in_range) as n_people,
        count(*) filter (where c.first_ms >= :start_ms and c.first_ms < :end_ms) as n_new_people,
        count(*) filter (
            where c.first_ms >= :start_ms and c.first_ms < :end_ms and c.last_ms >= c.first_ms + 86400000
        ) as n_returned
    from couples as c
    inner join active_pairs as a on a.agent_id = c.agent_id and a.chat_id = c.chat_id
    group by a.model_type
),

-- Only read for an all-time range: every message of every agent.
data_span as (
    select (max(epoch_ms(m.timestamp)) - min(epoch_ms(m.timestamp)))::float8 / 86400000 as n_days
    from chat_messages as m
    where :start_ms < 86400000
),

range_days as (
    select
        case
            when :start_ms < 86400000 then (select d.n_days from data_span as d)
            else (:end_ms - :start_ms)::float8 / 86400000
        end as n_days
),

chat_figures as (
    select model_type, count(*) as n_chats, sum(n_messages)::bigint as n_messages
    from active_pairs
    group by model_type
),

reply_figures as (
    select
        model_type,
        count(*) as n_replies,
        percentile_cont(0.5) within group (order by latency_ms)::float8 as median_ms,
        percentile_cont(0.9) within group (order by latency_ms)::float8 as p90_ms
    from replies
    group by model_type
),

command_figures as (
    select
        model_type,
        count(*) as n_commands,
        count(*) filter (where not success) as n_command_failures,
        percentile_cont(0.95) within group (order by duration_ms)::float8 as command_p95_ms
    from commands
    group by model_type
),

models as (
    select model_type, position from known_models
    union
    select model_type, 5 from active_pairs
),

final as (
    select
        m.model_type,
        coalesce(c.n_chats, 0) as n_chats,
        coalesce(c.n_messages, 0) as n_messages,
        c.n_messages::float8 / nullif(c.n_chats, 0) as messages_per_chat,
        d.n_days as range_days,
        c.n_messages::float8 / nullif(c.n_chats, 0) / nullif(d.n_days, 0) as messages_per_chat_per_day,
        coalesce(r.n_replies, 0) as n_replies,
        r.median_ms,
        r.p90_ms,
        coalesce(k.n_commands, 0) as n_commands,
        coalesce(k.n_command_failures, 0) as n_command_failures,
        (1 - k.n_command_failures::float8 / nullif(k.n_commands, 0)) as command_success_rate,
        k.command_p95_ms,
        coalesce(p.n_people, 0) as n_people,
        coalesce(p.n_new_people, 0) as n_new_people,
        coalesce(p.n_returned, 0) as n_returned,
        p.n_returned::float8 / nullif(p.n_new_people, 0) as returning_share,
        m.position
    from (select model_type, min(position) as position from models group by model_type) as m
    cross join range_days as d
    left join chat_figures as c on c.model_type = m.model_type
    left join reply_figures as r on r.model_type = m.model_type
    left join command_figures as k on k.model_type = m.model_type
    left join people as p on p.model_type = m.model_type
)

select
    model_type, n_chats, n_messages, messages_per_chat, range_days, messages_per_chat_per_day, n_replies,
    median_ms, p90_ms, n_commands, n_command_failures, command_success_rate, command_p95_ms, n_people,
    n_new_people, n_returned, returning_share
from final
order by position, model_type
