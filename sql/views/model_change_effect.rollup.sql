-- name: model_change_effect
-- Rollup variant of model_change_effect.sql (same rows), reading the pair's samples instead of
-- every row of its chat in the two periods: messages from the hourly chat rollup and people from
-- the hours each wrote in (lillo_dash.chat_activity, chat_people_hours; Lillo's rows for the parts
-- of an hour at the periods' ends), replies from lillo_dash.reply_samples, commands with their
-- agent from lillo_dash.command_calls. Rows above each watermark are read live; the pair's replies
-- from its last turn before its earliest new row on, as the next refresh will recompute them.
-- params: :agent_id, :chat_id, :changed_at_ms, :window_days, :messages_watermark, :replies_watermark, :calls_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.chat_activity, lillo_dash.chat_people_hours, lillo_dash.reply_samples, lillo_dash.command_calls, chat_messages(id, chat_id, user_id, role, agent_id, timestamp), command_metrics(id, timestamp, chat_id, success, duration)
with periods as (
    select
        v.period,
        v.position,
        v.from_ms,
        v.to_ms,
        w.window_ms,
        greatest(least(v.to_ms, (extract(epoch from now()) * 1000)::bigint) - v.from_ms, 0)::float8 / 86400000
            as n_days,
        -- The period's whole UTC hours, [hours_from_ms, hours_to_ms) (empty when it has none), are
        -- read from the rollups; the rest of it from Lillo's rows.
        case when h.first_hour_ms < h.last_hour_ms then h.first_hour_ms else v.to_ms end as hours_from_ms,
        case when h.first_hour_ms < h.last_hour_ms then h.last_hour_ms else v.to_ms end as hours_to_ms
    from (
        select cast(:changed_at_ms as bigint) as changed_ms,
               round(cast(:window_days as numeric) * 86400000)::bigint as window_ms
    ) as w
    cross join lateral (
        values
            ('before', 1, w.changed_ms - w.window_ms, w.changed_ms),
            ('after', 2, w.changed_ms, w.changed_ms + w.window_ms)
    ) as v (period, position, from_ms, to_ms)
    cross join lateral (
        select
            (ceil(v.from_ms / 3600000.0) * 3600000)::bigint as first_hour_ms,
            (floor(v.to_ms / 3600000.0) * 3600000)::bigint as last_hour_ms
    ) as h
),

-- The parts of the periods outside their whole hours: under an hour at each end.
pieces as (
    select p.period, x.from_ms, x.to_ms
    from periods as p
    cross join lateral (values (p.from_ms, p.hours_from_ms), (p.hours_to_ms, p.to_ms)) as x (from_ms, to_ms)
    where x.from_ms < x.to_ms
),

-- The pair's messages the rollups do not hold: those of the pieces, and those above the watermark.
live_messages as (
    select pc.period, m.user_id, m.role
    from pieces as pc
    cross join lateral (
        select m.user_id, m.role
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000
          and m.timestamp >= pc.from_ms and m.timestamp < pc.to_ms
          and coalesce(m.agent_id, '') = cast(:agent_id as text) and m.id <= :messages_watermark
        union all
        select m.user_id, m.role
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
          and m.timestamp >= pc.from_ms / 1000 and m.timestamp <= pc.to_ms / 1000
          and m.timestamp * 1000 >= pc.from_ms and m.timestamp * 1000 < pc.to_ms
          and coalesce(m.agent_id, '') = cast(:agent_id as text) and m.id <= :messages_watermark
    ) as m
    union all
    select p.period, m.user_id, m.role
    from chat_messages as m
    inner join periods as p on epoch_ms(m.timestamp) >= p.from_ms and epoch_ms(m.timestamp) < p.to_ms
    where m.id > :messages_watermark
      and m.chat_id = cast(:chat_id as bigint) and coalesce(m.agent_id, '') = cast(:agent_id as text)
),

hour_messages as (
    select p.period, sum(a.n_messages) as n_messages
    from periods as p
    inner join lillo_dash.chat_activity as a
        on a.chat_id = cast(:chat_id as bigint) and a.grain = 'hour'
        and a.period_start >= to_timestamp(p.hours_from_ms / 1000.0)
        and a.period_start < to_timestamp(p.hours_to_ms / 1000.0)
    where a.agent_id = cast(:agent_id as text)
    group by p.period
),

-- The people who wrote to the agent in the chat in a period: in one of its whole hours, or in the
-- rows read live.
writers as (
    select p.period, h.user_id
    from periods as p
    inner join lillo_dash.chat_people_hours as h
        on h.chat_id = cast(:chat_id as bigint) and h.agent_id = cast(:agent_id as text)
    where exists (
        select from unnest(h.hours) as x (hour)
        where x.hour >= p.hours_from_ms / 3600000 and x.hour < p.hours_to_ms / 3600000
    )
    union
    select period, user_id
    from live_messages
    where role = 'user' and user_id is not null
),

message_figures as (
    select
        p.period,
        (coalesce((select h.n_messages from hour_messages as h where h.period = p.period), 0)
            + (select count(*) from live_messages as l where l.period = p.period))::bigint as n_messages,
        (select count(*) from writers as w where w.period = p.period) as n_people
    from periods as p
),

-- Replies: the pair's history is recomputed live from its last turn before its earliest row above
-- the watermark (dashboard/rollups_replies.py does the same at the next refresh); the stored
-- samples hold the replies before that row.
new_history as (
    select min(epoch_ms(m.timestamp)) as first_new_ms
    from chat_messages as m
    where m.id > :replies_watermark
      and m.chat_id = cast(:chat_id as bigint) and m.agent_id = cast(:agent_id as text)
      and m.role in ('user', 'assistant')
),

-- Two probes on Lillo's (chat_id, timestamp desc) index, one per epoch unit.
tail as (
    select coalesce(greatest(in_ms.sent_ms, in_s.sent_ms), n.first_new_ms) as from_ms, n.first_new_ms
    from new_history as n
    left join lateral (
        select m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000
          and m.timestamp < n.first_new_ms
          and m.agent_id = cast(:agent_id as text) and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_ms on true
    left join lateral (
        select m.timestamp * 1000 as sent_ms
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
          and m.timestamp >= coalesce(in_ms.sent_ms, 0) / 1000 and m.timestamp <= n.first_new_ms / 1000
          and m.timestamp * 1000 < n.first_new_ms
          and m.agent_id = cast(:agent_id as text) and m.role in ('user', 'assistant')
        order by m.timestamp desc limit 1
    ) as in_s on true
    where n.first_new_ms is not null
),

tail_turns as (
    select
        r.role,
        r.sent_ms,
        lag(r.role) over history as previous_role,
        r.sent_ms - lag(r.sent_ms) over history as latency_ms
    from tail as t
    cross join lateral (
        select m.id, m.role, m.timestamp as sent_ms
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp > 100000000000 and m.timestamp >= t.from_ms
          and m.agent_id = cast(:agent_id as text) and m.role in ('user', 'assistant')
        union all
        select m.id, m.role, m.timestamp * 1000
        from chat_messages as m
        where m.chat_id = cast(:chat_id as bigint) and m.timestamp <= 100000000000
          and m.timestamp >= t.from_ms / 1000 and m.timestamp * 1000 >= t.from_ms
          and m.agent_id = cast(:agent_id as text) and m.role in ('user', 'assistant')
    ) as r
    window history as (order by r.sent_ms, r.id)
),

-- A reply counts when the turn it answers is in the periods or at most one window before them
-- (the raw view reads no further back).
samples as (
    select s.sent_ms, s.latency_ms
    from lillo_dash.reply_samples as s
    where s.chat_id = cast(:chat_id as bigint) and s.agent_id = cast(:agent_id as text)
      and s.sent_ms >= (select min(from_ms) from periods) and s.sent_ms < (select max(to_ms) from periods)
      and s.sent_ms < coalesce((select first_new_ms from new_history), 9223372036854775807)
    union all
    select t.sent_ms, t.latency_ms
    from tail_turns as t
    where t.role = 'assistant' and t.previous_role = 'user'
      and t.sent_ms >= (select first_new_ms from tail)
),

-- Both periods in one pass over the samples (a join to the periods would read them once per
-- period): the figures of each are filtered aggregates, the percentiles sharing one sort.
reply_totals as (
    select
        count(*) filter (where s.sent_ms < b.changed_ms) as n_before,
        count(*) filter (where s.sent_ms >= b.changed_ms) as n_after,
        percentile_cont(0.5) within group (order by s.latency_ms) filter (where s.sent_ms < b.changed_ms)
            as median_before,
        percentile_cont(0.9) within group (order by s.latency_ms) filter (where s.sent_ms < b.changed_ms)
            as p90_before,
        percentile_cont(0.5) within group (order by s.latency_ms) filter (where s.sent_ms >= b.changed_ms)
            as median_after,
        percentile_cont(0.9) within group (order by s.latency_ms) filter (where s.sent_ms >= b.changed_ms)
            as p90_after
    from (
        select min(from_ms) as from_ms, min(to_ms) as changed_ms, max(to_ms) as to_ms,
               min(from_ms - window_ms) as answered_from_ms
        from periods
    ) as b
    inner join samples as s
        on s.sent_ms >= b.from_ms and s.sent_ms < b.to_ms and s.sent_ms - s.latency_ms >= b.answered_from_ms
),

reply_figures as (
    select
        p.period,
        case p.position when 1 then r.n_before else r.n_after end as n_replies,
        (case p.position when 1 then r.median_before else r.median_after end)::float8 as median_ms,
        (case p.position when 1 then r.p90_before else r.p90_after end)::float8 as p90_ms
    from periods as p
    cross join reply_totals as r
),

-- The pair's commands: stored with their agent up to the watermark, looked up above it.
commands as (
    select c.sent_ms, c.success, greatest(c.duration, 0) as duration_ms
    from lillo_dash.command_calls as c
    where c.chat_id = cast(:chat_id as bigint) and c.agent_id = cast(:agent_id as text)
      and c.sent_ms >= (select min(from_ms) from periods) and c.sent_ms < (select max(to_ms) from periods)
    union all
    select epoch_ms(c.timestamp), c.success, greatest(c.duration, 0)
    from command_metrics as c
    where c.id > :calls_watermark and c.chat_id = cast(:chat_id as bigint)
      and epoch_ms(c.timestamp) >= (select min(from_ms) from periods)
      and epoch_ms(c.timestamp) < (select max(to_ms) from periods)
      and last_speaker(c) = cast(:agent_id as text)
),

-- include: model_change_effect_final

select
    period, period_start, period_end, period_start_ms, period_end_ms, n_days, n_messages, messages_per_day,
    n_replies, median_ms, p90_ms, n_commands, n_command_failures, command_success_rate, command_p95_ms,
    n_people
from final
order by position
