-- name: model_comparison
-- Rollup variant of model_comparison.sql (same rows; percentiles within 1%). The pairs set to a
-- model other than OPENAI (model_preferences rows) are usually few: their messages are read pair by
-- pair from lillo_dash.model_pair_activity, their replies and commands from the histograms per
-- model lillo_dash.model_reply_histogram and model_command_histogram (while model_preferences is
-- as the last refresh filed it; otherwise from model_pair_replies and model_pair_commands pair by
-- pair), and a pair set to another model since the last refresh from chat_activity, Lillo's
-- (chat_id, timestamp) index and the dashboard's command index by chat (dashboard/rollups_models.py).
-- OPENAI is every pair of the chosen agents minus those: messages from the hourly rollup, active
-- pairs estimated from the activity sketches (linear counting), replies and commands from their
-- hourly rollups and histograms. Percentiles come from the histograms (within 1%). People of the
-- pairs on other models come from lillo_dash.chat_people (first and last message per person and
-- pair, read pair by pair) and chat_people_hours (the hours each wrote in); OPENAI's are everyone
-- who wrote to the chosen agents (the user sketches, linear counting) less those who wrote only to
-- pairs on other models, its new people every couple first seen in the range (chat_people by first
-- message) less theirs. Rows above each rollup's watermark are counted live, and a preference
-- changed since the last refresh counts at once.
-- params: :start_ms, :end_ms, :agent_ids, :messages_watermark, :replies_watermark, :commands_watermark, :model_activity_watermark, :model_replies_watermark, :model_commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.model_pairs(chat_id, agent_id, model_type), lillo_dash.model_pairs_state, lillo_dash.model_pair_activity, lillo_dash.model_pair_replies, lillo_dash.model_pair_commands, lillo_dash.model_reply_histogram, lillo_dash.model_command_histogram, lillo_dash.chat_totals, lillo_dash.chat_activity, lillo_dash.message_hourly, lillo_dash.activity_daily, lillo_dash.activity_hourly, lillo_dash.chat_people, lillo_dash.chat_people_hours, lillo_dash.reply_latency_histogram, lillo_dash.command_hourly, lillo_dash.command_duration_histogram, chat_messages(id, chat_id, user_id, role, agent_id, timestamp), command_metrics(id, timestamp, chat_id, success, duration), model_preferences(agent_id, chat_id, model_type)
-- The histograms and activity maps below filter by the bound agent list itself, not the settings
-- CTE's column: a value the planner sees becomes a condition of their key's agent column instead
-- of a filter run over every agent's rows (the per-model histograms at 30d: 72,000 rows -> 17,000).
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

period as (
    select b.period_start, b.period_end, d.days_from, d.days_to
    from (
        select to_timestamp(:start_ms / 1000.0) as period_start, to_timestamp(:end_ms / 1000.0) as period_end
    ) as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
),

known_models as (
    select v.model_type, v.position
    from (values ('OPENAI', 1), ('GEMINI', 2), ('GROK', 3), ('DEEPSEEK', 4)) as v (model_type, position)
),

tail as materialized (
    select m.id, m.chat_id, m.agent_id, m.user_id, m.role, epoch_ms(m.timestamp) as sent_ms
    from settings as s
    inner join chat_messages as m on m.id > :messages_watermark
    where s.all_agents or m.agent_id = any(s.agent_ids)
),

-- --- The pairs on another model, pair by pair ---------------------------------------------------------

-- include: model_preferences_filed

-- include: model_chosen_pairs

-- include: model_chosen_activity

chosen_pairs as (
    select agent_id, chat_id, model_type, sum(n_messages)::bigint as n_messages
    from chosen_activity
    group by agent_id, chat_id, model_type
    having sum(n_messages) > 0
),

-- Filed pairs' replies: the stored samples, but for the histories with rows above the rollup's
-- watermark, recomputed from their last row before the earliest new one (as the refresh will).
filed_histories as (
    select m.chat_id, m.agent_id, min(epoch_ms(m.timestamp)) as first_new_ms
    from chat_messages as m
    inner join chosen as c on c.chat_id = m.chat_id and c.agent_id = m.agent_id and c.is_filed
    where m.id > :model_replies_watermark and m.role in ('user', 'assistant')
    group by m.chat_id, m.agent_id
),

filed_tails as (
    select n.chat_id, n.agent_id, coalesce(greatest(in_ms.sent_ms, in_s.sent_ms), n.first_new_ms) as from_ms
    from filed_histories as n
    left join lateral (
        select m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = n.chat_id and m.timestamp > 100000000000 and m.timestamp < n.first_new_ms
          and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_ms on true
    left join lateral (
        select m.timestamp * 1000 as sent_ms
        from chat_messages as m
        where m.chat_id = n.chat_id and m.timestamp <= 100000000000
          and m.timestamp >= coalesce(in_ms.sent_ms, 0) / 1000 and m.timestamp <= n.first_new_ms / 1000
          and m.timestamp * 1000 < n.first_new_ms and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_s on true
),

filed_tail_turns as (
    select
        r.chat_id, r.agent_id, r.id, r.role, r.sent_ms,
        lag(r.role) over history as previous_role,
        r.sent_ms - lag(r.sent_ms) over history as latency_ms,
        row_number() over history as position
    from (
        -- (agent_id || '') keeps the planner on the (chat_id, timestamp) index: through Lillo's
        -- (chat_id, message_id, agent_id) key it would read each pair's whole history.
        select t.chat_id, t.agent_id, x.id, x.role, x.sent_ms
        from filed_tails as t
        cross join lateral (
            select m.id, m.role, m.timestamp as sent_ms
            from chat_messages as m
            where m.chat_id = t.chat_id and m.timestamp > 100000000000 and m.timestamp >= t.from_ms
              and (m.agent_id || '') = t.agent_id and m.role in ('user', 'assistant')
            union all
            select m.id, m.role, m.timestamp * 1000
            from chat_messages as m
            where m.chat_id = t.chat_id and m.timestamp <= 100000000000 and m.timestamp >= t.from_ms / 1000
              and m.timestamp * 1000 >= t.from_ms and (m.agent_id || '') = t.agent_id
              and m.role in ('user', 'assistant')
        ) as x
    ) as r
    window history as (partition by r.chat_id, r.agent_id order by r.sent_ms, r.id)
),

-- Pairs set to another model since the last refresh: their turns in the range, raw, and the turn
-- before the range where the first one in it is an assistant's (the reply answers it).
unfiled_turns as (
    select c.agent_id, c.chat_id, c.model_type, r.id, r.role, r.sent_ms
    from chosen as c
    cross join lateral (
        select m.id, m.role, m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = c.chat_id and m.timestamp > 100000000000
          and m.timestamp >= :start_ms and m.timestamp < :end_ms and m.agent_id = c.agent_id
          and m.role in ('user', 'assistant')
        union all
        select m.id, m.role, m.timestamp * 1000
        from chat_messages as m
        where m.chat_id = c.chat_id and m.timestamp <= 100000000000
          and m.timestamp >= :start_ms / 1000 and m.timestamp <= :end_ms / 1000
          and m.timestamp * 1000 >= :start_ms and m.timestamp * 1000 < :end_ms and m.agent_id = c.agent_id
          and m.role in ('user', 'assistant')
    ) as r
    where not c.is_filed
),

first_turns as (
    select distinct on (agent_id, chat_id) agent_id, chat_id, model_type, role
    from unfiled_turns
    order by agent_id, chat_id, sent_ms, id
),

unfiled_replies as (
    select model_type, sent_ms - previous_ms as latency_ms
    from (
        select
            t.model_type,
            t.role,
            t.sent_ms,
            lag(t.role) over conversation as previous_role,
            lag(t.sent_ms) over conversation as previous_ms
        from (
            select agent_id, chat_id, model_type, id, role, sent_ms
            from unfiled_turns
            union all
            select f.agent_id, f.chat_id, f.model_type, before.id, before.role, before.sent_ms
            from first_turns as f
            cross join lateral (
                select x.id, x.role, x.sent_ms
                from (
                    (select m.id, m.role, m.timestamp as sent_ms
                     from chat_messages as m
                     where m.chat_id = f.chat_id and m.timestamp > 100000000000 and m.timestamp < :start_ms
                       and m.agent_id = f.agent_id and m.role in ('user', 'assistant')
                     order by m.timestamp desc, m.id desc
                     limit 1)
                    union all
                    (select m.id, m.role, m.timestamp * 1000
                     from chat_messages as m
                     where m.chat_id = f.chat_id and m.timestamp <= 100000000000 and m.timestamp <= :start_ms / 1000
                       and m.timestamp * 1000 < :start_ms and m.agent_id = f.agent_id
                       and m.role in ('user', 'assistant')
                     order by m.timestamp desc, m.id desc
                     limit 1)
                ) as x
                order by x.sent_ms desc, x.id desc
                limit 1
            ) as before
            where f.role = 'assistant'
        ) as t
        window conversation as (partition by t.agent_id, t.chat_id order by t.sent_ms, t.id)
    ) as turns
    where role = 'assistant' and previous_role = 'user' and sent_ms >= :start_ms
),

-- Whether the filed pairs' histograms (lillo_dash.model_reply_histogram, model_command_histogram)
-- hold: built, and model_preferences as they were filed by.
histograms_hold as (
    select f.is_current and exists (
        select from lillo_dash.refresh_state as r where r.source = 'model_histograms'
    ) as holds
    from preferences_filed as f
),

-- Replies of the pairs on other models per model and latency bucket: the filed pairs' histograms
-- (whole days, and hours at the range's ends; with a preference changed since the refresh, each
-- filed pair's stored samples instead), less the stored samples of the histories with rows above
-- the rollup's watermark plus those histories recomputed (filed_tail_turns); and the replies of
-- the pairs not filed yet.
chosen_reply_histogram as (
    select model_type, bucket, sum(n_replies)::bigint as n_replies
    from (
        select h.model_type, h.bucket, h.n_replies
        from period as p
        inner join lillo_dash.model_reply_histogram as h
            on h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        where (select holds from histograms_hold)
          and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select h.model_type, h.bucket, h.n_replies
        from period as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.model_reply_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where (select holds from histograms_hold)
          and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select c.model_type, lillo_dash.latency_bucket(r.latency_ms), 1
        from chosen as c
        inner join lillo_dash.model_pair_replies as r
            on r.chat_id = c.chat_id and r.agent_id = c.agent_id and r.sent_ms >= :start_ms and r.sent_ms < :end_ms
        where c.is_filed and not (select holds from histograms_hold)
        union all
        select c.model_type, lillo_dash.latency_bucket(r.latency_ms), -1
        from filed_tail_turns as t
        inner join lillo_dash.model_pair_replies as r on r.reply_id = t.id
        inner join chosen as c on c.chat_id = r.chat_id and c.agent_id = r.agent_id
        where t.position > 1 and r.sent_ms >= :start_ms and r.sent_ms < :end_ms
        union all
        select c.model_type, lillo_dash.latency_bucket(t.latency_ms), 1
        from filed_tail_turns as t
        inner join chosen as c on c.chat_id = t.chat_id and c.agent_id = t.agent_id
        where t.position > 1 and t.role = 'assistant' and t.previous_role = 'user'
          and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
        union all
        select model_type, lillo_dash.latency_bucket(latency_ms), 1
        from unfiled_replies
    ) as rows
    group by model_type, bucket
    having sum(n_replies) > 0
),

-- Commands of the pairs on other models per model and duration bucket: the filed pairs' histograms
-- (or, as for replies, each filed pair's stored commands), those above the rollup's watermark in
-- filed chats, and the unfiled pairs' from the dashboard's command index by chat. Each belongs to
-- the agent that last wrote in its chat at or before it.
chosen_command_histogram as (
    select model_type, bucket, sum(n_calls)::bigint as n_calls, sum(n_failures)::bigint as n_failures
    from (
        select h.model_type, h.bucket, h.n_calls, h.n_failures
        from period as p
        inner join lillo_dash.model_command_histogram as h
            on h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        where (select holds from histograms_hold)
          and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select h.model_type, h.bucket, h.n_calls, h.n_failures
        from period as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.model_command_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where (select holds from histograms_hold)
          and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select c.model_type, lillo_dash.duration_bucket(k.duration), 1, case when k.success then 0 else 1 end
        from chosen as c
        inner join lillo_dash.model_pair_commands as k
            on k.chat_id = c.chat_id and k.agent_id = c.agent_id and k.sent_ms >= :start_ms and k.sent_ms < :end_ms
        where c.is_filed and not (select holds from histograms_hold)
        union all
        select c.model_type, lillo_dash.duration_bucket(k.duration), 1, case when k.success then 0 else 1 end
        from (
            select x.chat_id, x.success, x.duration, last_speaker(x) as agent_id
            from command_metrics as x
            where x.id > :model_commands_watermark
              and epoch_ms(x.timestamp) >= :start_ms and epoch_ms(x.timestamp) < :end_ms
              and x.chat_id in (select f.chat_id from chosen as f where f.is_filed)
        ) as k
        inner join chosen as c on c.agent_id = k.agent_id and c.chat_id = k.chat_id and c.is_filed
        union all
        select c.model_type, lillo_dash.duration_bucket(k.duration), 1, case when k.success then 0 else 1 end
        from (
            select k.chat_id, k.success, k.duration, last_speaker(k) as agent_id
            from (select distinct chat_id from chosen where not is_filed) as cc
            cross join lateral (
                select x.chat_id, x.timestamp, x.success, x.duration
                from command_metrics as x
                where x.chat_id = cc.chat_id and x.timestamp > 100000000000
                  and x.timestamp >= :start_ms and x.timestamp < :end_ms
                union all
                select x.chat_id, x.timestamp, x.success, x.duration
                from command_metrics as x
                where x.chat_id = cc.chat_id and x.timestamp <= 100000000000
                  and x.timestamp >= :start_ms / 1000 and x.timestamp <= :end_ms / 1000
                  and x.timestamp * 1000 >= :start_ms and x.timestamp * 1000 < :end_ms
            ) as k
        ) as k
        inner join chosen as c on c.agent_id = k.agent_id and c.chat_id = k.chat_id and not c.is_filed
    ) as rows
    group by model_type, bucket
    having sum(n_calls) > 0
),

-- --- Every pair of the chosen agents: the rollups, plus the rows above their watermarks --------------

messages_in_range as (
    select sum(n_messages)::bigint as n_messages
    from (
        select h.n_messages
        from settings as s
        cross join period as p
        inner join lillo_dash.message_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        where s.all_agents or h.agent_id = any(s.agent_ids)
        union all
        select 1 from tail as t where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
    ) as rows
),

-- Active pairs per agent: the distinct chats in the agent's activity maps (see agent_usage).
day_maps as (
    select d.agent_id, bit_or(d.chats) as chats
    from settings as s
    cross join period as p
    inner join lillo_dash.activity_daily as d on d.day_start >= p.days_from and d.day_start < p.days_to
    where d.agent_id <> '*' and (s.all_agents or d.agent_id = any(s.agent_ids))
    group by d.agent_id
),

extra_bits as (
    select h.agent_id, b.bit
    from settings as s
    cross join period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
    cross join unnest(h.chat_bits) as b (bit)
    where h.agent_id <> '*' and (s.all_agents or h.agent_id = any(s.agent_ids))
    union
    select t.agent_id, lillo_dash.sketch_bit(t.chat_id)
    from tail as t
    where t.sent_ms >= :start_ms and t.sent_ms < :end_ms
),

new_bits as (
    select x.agent_id, count(*) filter (where m.chats is null or get_bit(m.chats, x.bit) = 0) as n_bits
    from extra_bits as x
    left join day_maps as m on m.agent_id = x.agent_id
    group by x.agent_id
),

active_pairs as (
    select
        sum(
            lillo_dash.distinct_from_zero_bits(131072 - coalesce(bit_count(m.chats), 0) - coalesce(n.n_bits, 0))
        )::bigint as n_chats
    from (select agent_id from day_maps union select agent_id from new_bits) as seen
    left join day_maps as m on m.agent_id = seen.agent_id
    left join new_bits as n on n.agent_id = seen.agent_id
),

-- Reply latency histograms per agent, with the histories above the watermark recomputed live
-- exactly as sql/views/reply_latency.rollup.sql does (keep the two alike).
new_histories as (
    select m.chat_id, m.agent_id, min(epoch_ms(m.timestamp)) as first_new_ms
    from settings as s
    inner join chat_messages as m on m.id > :replies_watermark
    where m.role in ('user', 'assistant') and (s.all_agents or m.agent_id = any(s.agent_ids))
    group by m.chat_id, m.agent_id
),

tails as (
    select n.chat_id, n.agent_id, coalesce(greatest(in_ms.sent_ms, in_s.sent_ms), n.first_new_ms) as from_ms
    from new_histories as n
    left join lateral (
        select m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = n.chat_id and m.timestamp > 100000000000 and m.timestamp < n.first_new_ms
          and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_ms on true
    left join lateral (
        select m.timestamp * 1000 as sent_ms
        from chat_messages as m
        where m.chat_id = n.chat_id and m.timestamp <= 100000000000
          and m.timestamp >= coalesce(in_ms.sent_ms, 0) / 1000 and m.timestamp <= n.first_new_ms / 1000
          and m.timestamp * 1000 < n.first_new_ms and m.agent_id = n.agent_id and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_s on true
),

tail_rows as (
    select t.chat_id, t.agent_id, r.id, r.role, r.sent_ms
    from tails as t
    cross join lateral (
        select m.id, m.role, m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = t.chat_id and m.timestamp > 100000000000 and m.timestamp >= t.from_ms
          and m.agent_id = t.agent_id and m.role in ('user', 'assistant')
        union all
        select m.id, m.role, m.timestamp * 1000
        from chat_messages as m
        where m.chat_id = t.chat_id and m.timestamp <= 100000000000 and m.timestamp >= t.from_ms / 1000
          and m.timestamp * 1000 >= t.from_ms and m.agent_id = t.agent_id and m.role in ('user', 'assistant')
    ) as r
),

tail_turns as (
    select
        role, sent_ms, 1 as change,
        lag(role) over history as previous_role,
        sent_ms - lag(sent_ms) over history as latency_ms
    from tail_rows
    window history as (partition by chat_id, agent_id order by sent_ms, id)
    union all
    select
        role, sent_ms, -1,
        lag(role) over history,
        sent_ms - lag(sent_ms) over history
    from tail_rows
    where id <= :replies_watermark
    window history as (partition by chat_id, agent_id order by sent_ms, id)
),

-- OPENAI's replies: every reply of the chosen agents (for all agents, the all-agents level), less
-- those of the pairs on other models.
default_reply_histogram as (
    select bucket, sum(n_replies)::integer as n_replies
    from (
        select h.bucket, h.n_replies::integer as n_replies
        from settings as s
        cross join period as p
        inner join lillo_dash.reply_latency_histogram as h
            on h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        where h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select h.bucket, h.n_replies::integer
        from settings as s
        cross join period as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.reply_latency_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select lillo_dash.latency_bucket(latency_ms), change
        from tail_turns
        where role = 'assistant' and previous_role = 'user' and sent_ms >= :start_ms and sent_ms < :end_ms
        union all
        select bucket, -n_replies
        from chosen_reply_histogram
    ) as rows
    group by bucket
    having sum(n_replies) > 0
),

-- OPENAI's commands: every command of the chosen agents (for all agents, the all-agents level less
-- the commands nobody wrote before), less those of the pairs on other models.
command_levels as (
    select level.agent_id, level.sign
    from settings as s
    cross join lateral (
        select a.agent_id, 1 as sign from unnest(lillo_dash.rollup_agents(s.agent_ids)) as a (agent_id)
        union all
        select '', -1 where s.all_agents
    ) as level
),

live_commands as (
    select c.success, lillo_dash.duration_bucket(c.duration) as bucket, last_speaker(c) as agent_id
    from command_metrics as c
    where c.id > :commands_watermark
      and epoch_ms(c.timestamp) >= :start_ms and epoch_ms(c.timestamp) < :end_ms
),

default_command_counts as (
    select sum(n_calls)::bigint as n_commands, sum(n_failures)::bigint as n_command_failures
    from (
        select l.sign * h.n_calls as n_calls, l.sign * h.n_failures as n_failures
        from command_levels as l
        cross join period as p
        inner join lillo_dash.command_hourly as h
            on h.command = '*' and h.agent_id = l.agent_id
            and h.hour_start >= p.period_start and h.hour_start < p.period_end
        union all
        select 1, case when c.success then 0 else 1 end
        from settings as s
        inner join live_commands as c on c.agent_id <> '' and (s.all_agents or c.agent_id = any(s.agent_ids))
        union all
        select -n_calls, -n_failures
        from chosen_command_histogram
    ) as rows
),

default_command_histogram as (
    select bucket, sum(n_calls)::bigint as n_calls
    from (
        select h.bucket, l.sign * h.n_calls as n_calls
        from command_levels as l
        cross join period as p
        inner join lillo_dash.command_duration_histogram as h
            on h.command = '*' and h.agent_id = l.agent_id
            and h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        union all
        select h.bucket, l.sign * h.n_calls
        from command_levels as l
        cross join period as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.command_duration_histogram as h
            on h.command = '*' and h.agent_id = l.agent_id
            and h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        union all
        select c.bucket, 1
        from settings as s
        inner join live_commands as c on c.agent_id <> '' and (s.all_agents or c.agent_id = any(s.agent_ids))
        union all
        select bucket, -n_calls
        from chosen_command_histogram
    ) as rows
    group by bucket
    having sum(n_calls) > 0
),

-- Every model's histograms: OPENAI's (every pair less the others) and the other models'.
reply_histograms as (
    select 'OPENAI' as model_type, bucket, n_replies from default_reply_histogram
    union all
    select model_type, bucket, n_replies from chosen_reply_histogram
),

command_histograms as (
    select 'OPENAI' as model_type, bucket, n_calls from default_command_histogram
    union all
    select model_type, bucket, n_calls from chosen_command_histogram
),

-- percentile_cont(q) from a histogram: the value at zero-based rank q * (n - 1), interpolated
-- between the two nearest ranks, each rank's value its bucket's middle (0 for bucket 0).
histogram_ranks as (
    select
        model_type,
        'reply' as figure,
        0.5 as quantile,
        bucket,
        sum(n_replies) over (partition by model_type order by bucket) - n_replies as first_rank,
        sum(n_replies) over (partition by model_type order by bucket) - 1 as last_rank,
        sum(n_replies) over (partition by model_type) - 1 as top_rank
    from reply_histograms
    union all
    select
        model_type, 'reply', 0.9, bucket,
        sum(n_replies) over (partition by model_type order by bucket) - n_replies,
        sum(n_replies) over (partition by model_type order by bucket) - 1,
        sum(n_replies) over (partition by model_type) - 1
    from reply_histograms
    union all
    select
        model_type, 'command', 0.95, bucket,
        sum(n_calls) over (partition by model_type order by bucket) - n_calls,
        sum(n_calls) over (partition by model_type order by bucket) - 1,
        sum(n_calls) over (partition by model_type) - 1
    from command_histograms
),

percentiles as (
    select
        model_type,
        figure,
        quantile,
        max(top_rank) + 1 as n_samples,
        lillo_dash.bucket_ms(min(bucket) filter (where floor(quantile * top_rank) between first_rank and last_rank))
            as low_ms,
        lillo_dash.bucket_ms(min(bucket) filter (where ceil(quantile * top_rank) between first_rank and last_rank))
            as high_ms,
        max(quantile * top_rank - floor(quantile * top_rank)) as fraction
    from histogram_ranks
    group by model_type, figure, quantile
),

-- --- People: the pairs on other models couple by couple; OPENAI from every person less those ------

tail_couples as (
    select chat_id, user_id, agent_id, min(sent_ms) as first_ms, max(sent_ms) as last_ms
    from tail
    where role = 'user'
    group by chat_id, user_id, agent_id
),

-- The couples (chat, person, agent) of the pairs on other models: chat_people's rows of each pair
-- (its index by pair carries what is read here), those with rows above the watermark merged with
-- their new rows.
chosen_couples as (
    select c.model_type, cp.chat_id, cp.user_id, cp.agent_id, cp.first_ms, cp.last_ms
    from chosen as c
    cross join lateral (
        -- offset 0: looked up pair by pair (the planner would rather sort every couple to merge).
        select cp.chat_id, cp.user_id, cp.agent_id, cp.first_ms, cp.last_ms
        from lillo_dash.chat_people as cp
        where cp.chat_id = c.chat_id and cp.agent_id = c.agent_id
          and cp.last_ms >= :start_ms and cp.first_ms < :end_ms
        offset 0
    ) as cp
    where not exists (
        select from tail_couples as t
        where t.chat_id = cp.chat_id and t.user_id = cp.user_id and t.agent_id = cp.agent_id
    )
    union all
    select c.model_type, t.chat_id, t.user_id, t.agent_id, least(t.first_ms, cp.first_ms), greatest(t.last_ms, cp.last_ms)
    from tail_couples as t
    inner join chosen as c on c.chat_id = t.chat_id and c.agent_id = t.agent_id
    left join lillo_dash.chat_people as cp
        on cp.chat_id = t.chat_id and cp.user_id = t.user_id and cp.agent_id = t.agent_id
    where greatest(t.last_ms, cp.last_ms) >= :start_ms and least(t.first_ms, cp.first_ms) < :end_ms
),

couples_in_range as materialized (
    select
        model_type,
        chat_id,
        user_id,
        agent_id,
        first_ms >= :start_ms and first_ms < :end_ms as is_new,
        last_ms >= first_ms + 86400000 as came_back,
        first_ms < :start_ms and last_ms >= :end_ms as spans_range
    from chosen_couples
),

-- A couple wrote in the range when its first or last message is in it. For one whose messages
-- start before the range and end after it, its hours (lillo_dash.chat_people_hours; the range is
-- whole hours) say whether it wrote inside; one without stored hours (a database whose hours are
-- not built yet) is looked up in its chat's messages in the range (Lillo's (chat_id, timestamp)
-- index). Rows above the watermark are read as they are.
spanning_couples as (
    select c.chat_id, c.user_id, c.agent_id, h.hours
    from couples_in_range as c
    left join lillo_dash.chat_people_hours as h
        on h.chat_id = c.chat_id and h.user_id = c.user_id and h.agent_id = c.agent_id
    where c.spans_range
),

spanning_writers as (
    select c.chat_id, c.user_id, c.agent_id
    from spanning_couples as c
    where exists (
        select from unnest(c.hours) as x (hour)
        where x.hour >= :start_ms / 3600000 and x.hour < :end_ms / 3600000
    )
    union
    select w.chat_id, w.user_id, w.agent_id
    from (select distinct chat_id from spanning_couples where hours is null) as c
    cross join lateral (
        select m.chat_id, m.user_id, m.agent_id
        from chat_messages as m
        where m.chat_id = c.chat_id and m.timestamp > 100000000000
          and m.timestamp >= :start_ms and m.timestamp < :end_ms and m.role = 'user'
        union all
        select m.chat_id, m.user_id, m.agent_id
        from chat_messages as m
        where m.chat_id = c.chat_id and m.timestamp <= 100000000000
          and m.timestamp >= :start_ms / 1000 and m.timestamp <= :end_ms / 1000
          and m.timestamp * 1000 >= :start_ms and m.timestamp * 1000 < :end_ms and m.role = 'user'
    ) as w
    union
    select chat_id, user_id, agent_id
    from tail
    where role = 'user' and sent_ms >= :start_ms and sent_ms < :end_ms
),

couple_writes as (
    select
        c.model_type, c.user_id, c.is_new, c.came_back,
        not c.spans_range or w.chat_id is not null as wrote
    from couples_in_range as c
    left join spanning_writers as w
        on c.spans_range and w.chat_id = c.chat_id and w.user_id = c.user_id and w.agent_id = c.agent_id
),

-- The people who wrote in the range to a pair of the chosen agents on OPENAI among the rows above
-- the watermark.
tail_default_writers as (
    select distinct t.user_id
    from tail as t
    where t.role = 'user' and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
      and (t.chat_id, t.agent_id) not in (select c.chat_id, c.agent_id from chosen as c)
),

-- People who wrote in the range only to pairs on other models: of those who wrote to one, the
-- ones who did not also write to another pair of the chosen agents. That is one probe per person
-- through chat_people's index by person, which stops at their first such couple: a stored first
-- or last message in the range, or one spanning it with an hour inside (chat_people_hours; without
-- stored hours, its messages in the range); or a row above the watermark.
chosen_only_people as (
    select count(*) as n_people
    from (select distinct user_id from couple_writes where wrote) as u
    where u.user_id not in (select user_id from tail_default_writers)
      and not exists (
          select
          from settings as s
          cross join lillo_dash.chat_people as cp
          where cp.user_id = u.user_id and (s.all_agents or cp.agent_id = any(s.agent_ids))
            and cp.last_ms >= :start_ms and cp.first_ms < :end_ms
            and (cp.chat_id, cp.agent_id) not in (select c.chat_id, c.agent_id from chosen as c)
            and (
                cp.first_ms >= :start_ms or cp.last_ms < :end_ms
                or exists (
                    select
                    from lillo_dash.chat_people_hours as h
                    cross join unnest(h.hours) as x (hour)
                    where h.chat_id = cp.chat_id and h.user_id = cp.user_id and h.agent_id = cp.agent_id
                      and x.hour >= :start_ms / 3600000 and x.hour < :end_ms / 3600000
                )
                or (
                    not exists (
                        select from lillo_dash.chat_people_hours as h
                        where h.chat_id = cp.chat_id and h.user_id = cp.user_id and h.agent_id = cp.agent_id
                    )
                    and exists (
                        select
                        from chat_messages as m
                        where m.chat_id = cp.chat_id and m.timestamp > 100000000000
                          and m.timestamp >= :start_ms and m.timestamp < :end_ms
                          and m.user_id = cp.user_id and m.agent_id = cp.agent_id and m.role = 'user'
                        union all
                        select
                        from chat_messages as m
                        where m.chat_id = cp.chat_id and m.timestamp <= 100000000000
                          and m.timestamp >= :start_ms / 1000 and m.timestamp <= :end_ms / 1000
                          and m.timestamp * 1000 >= :start_ms and m.timestamp * 1000 < :end_ms
                          and m.user_id = cp.user_id and m.agent_id = cp.agent_id and m.role = 'user'
                    )
                )
            )
      )
),

-- Everyone who wrote to the chosen agents in the range: the agents' user maps (linear counting, as
-- agent_usage), the hours at the range's ends and the rows above the watermark.
user_maps as (
    select bit_or(d.users) as users
    from period as p
    inner join lillo_dash.activity_daily as d
        on d.day_start >= p.days_from and d.day_start < p.days_to
        and d.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
),

extra_user_bits as (
    select b.bit
    from period as p
    cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
    inner join lillo_dash.activity_hourly as h
        on h.hour_start >= piece.piece_start and h.hour_start < piece.piece_end
        and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
    cross join unnest(h.user_bits) as b (bit)
    union
    select lillo_dash.sketch_bit(t.user_id)
    from tail as t
    where t.role = 'user' and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
),

all_people as (
    select lillo_dash.distinct_from_zero_bits(
        131072 - coalesce(bit_count(m.users), 0)
        - (select count(*) from extra_user_bits as x where m.users is null or get_bit(m.users, x.bit) = 0)
    ) as n_people
    from user_maps as m
),

-- OPENAI's new couples: every couple of the chosen agents first seen in the range (by first_ms, its
-- own index) less those of the pairs on other models (counted in couples_in_range).
all_new_couples as (
    select count(*) as n_new, count(*) filter (where n.came_back) as n_returned
    from (
        select cp.last_ms >= cp.first_ms + 86400000 as came_back
        from settings as s
        inner join lillo_dash.chat_people as cp on s.all_agents or cp.agent_id = any(s.agent_ids)
        where cp.first_ms >= :start_ms and cp.first_ms < :end_ms
          and not exists (
              select from tail_couples as t
              where t.chat_id = cp.chat_id and t.user_id = cp.user_id and t.agent_id = cp.agent_id
          )
        union all
        select greatest(t.last_ms, cp.last_ms) >= least(t.first_ms, cp.first_ms) + 86400000
        from tail_couples as t
        left join lillo_dash.chat_people as cp
            on cp.chat_id = t.chat_id and cp.user_id = t.user_id and cp.agent_id = t.agent_id
        where least(t.first_ms, cp.first_ms) >= :start_ms and least(t.first_ms, cp.first_ms) < :end_ms
    ) as n
),

default_new_couples as (
    select a.n_new - c.n_new as n_new, a.n_returned - c.n_returned as n_returned
    from all_new_couples as a
    cross join (
        select count(*) filter (where is_new) as n_new, count(*) filter (where is_new and came_back) as n_returned
        from couples_in_range
    ) as c
),

people as (
    select
        model_type,
        count(distinct user_id) filter (where wrote) as n_people,
        count(*) filter (where is_new) as n_new_people,
        count(*) filter (where is_new and came_back) as n_returned
    from couple_writes
    group by model_type
    union all
    select
        'OPENAI',
        greatest(a.n_people - o.n_people, 0)::bigint,
        d.n_new,
        d.n_returned
    from all_people as a
    cross join chosen_only_people as o
    cross join default_new_couples as d
),

-- --- The range in days: for all time, the first and last message in the data ---------------------

first_hour as (
    select min(h.hour_start) as hour_start from lillo_dash.message_hourly as h where :start_ms < 86400000
),

data_span as (
    select (max(last_ms) - min(first_ms))::float8 / 86400000 as n_days
    from (
        select
            least(
                (select min(m.timestamp) from chat_messages as m
                 where m.chat_id = a.chat_id and m.timestamp > 100000000000
                   and m.timestamp >= extract(epoch from f.hour_start)::bigint * 1000),
                (select min(m.timestamp) * 1000 from chat_messages as m
                 where m.chat_id = a.chat_id and m.timestamp <= 100000000000
                   and m.timestamp >= extract(epoch from f.hour_start)::bigint)
            ) as first_ms,
            null::bigint as last_ms
        from first_hour as f
        inner join lillo_dash.chat_activity as a on a.grain = 'hour' and a.period_start = f.hour_start
        union all
        select null, max(h.last_ms)
        from lillo_dash.message_hourly as h
        where h.hour_start = (select max(x.hour_start) from lillo_dash.message_hourly as x) and :start_ms < 86400000
        union all
        select min(epoch_ms(m.timestamp)), max(epoch_ms(m.timestamp))
        from chat_messages as m
        where m.id > :messages_watermark and :start_ms < 86400000
    ) as ends
),

range_days as (
    select
        case
            when :start_ms < 86400000 then (select d.n_days from data_span as d)
            else (:end_ms - :start_ms)::float8 / 86400000
        end as n_days
),

-- --- One row per model ----------------------------------------------------------------------------

chat_figures as (
    select model_type, count(*) as n_chats, sum(n_messages)::bigint as n_messages
    from chosen_pairs
    group by model_type
    union all
    select
        'OPENAI',
        greatest(a.n_chats - (select count(*) from chosen_pairs), 0),
        coalesce(m.n_messages, 0) - coalesce((select sum(n_messages) from chosen_pairs), 0)::bigint
    from active_pairs as a
    cross join messages_in_range as m
),

reply_figures as (
    select
        model_type,
        max(n_samples)::bigint as n_replies,
        max(low_ms + fraction * (high_ms - low_ms)) filter (where quantile = 0.5)::float8 as median_ms,
        max(low_ms + fraction * (high_ms - low_ms)) filter (where quantile = 0.9)::float8 as p90_ms
    from percentiles
    where figure = 'reply'
    group by model_type
),

command_figures as (
    select
        c.model_type,
        c.n_commands,
        c.n_command_failures,
        (p.low_ms + p.fraction * (p.high_ms - p.low_ms))::float8 as command_p95_ms
    from (
        select model_type, sum(n_calls)::bigint as n_commands, sum(n_failures)::bigint as n_command_failures
        from chosen_command_histogram
        group by model_type
        union all
        select 'OPENAI', n_commands, n_command_failures
        from default_command_counts
    ) as c
    left join percentiles as p on p.model_type = c.model_type and p.figure = 'command'
),

models as (
    select model_type, position from known_models
    union
    select model_type, 5 from chosen_pairs
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
    left join chat_figures as c on c.model_type = m.model_type and c.n_chats > 0
    left join reply_figures as r on r.model_type = m.model_type and r.n_replies > 0
    left join command_figures as k on k.model_type = m.model_type and k.n_commands > 0
    left join people as p on p.model_type = m.model_type
)

select
    model_type, n_chats, n_messages, messages_per_chat, range_days, messages_per_chat_per_day, n_replies,
    median_ms, p90_ms, n_commands, n_command_failures, command_success_rate, command_p95_ms, n_people,
    n_new_people, n_returned, returning_share
from final
order by position, model_type
