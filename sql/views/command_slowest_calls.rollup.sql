-- name: command_slowest_calls
-- Rollup variant of command_slowest_calls.sql (same rows). Without an agent filter, Lillo's
-- duration indexes are walked and the agent is looked up for the rows shown only. With one, the
-- chosen agents' calls come from lillo_dash.command_calls (each call's agent stored), per agent:
-- slowest first through its duration index when the range holds many of their calls, or all of
-- them by time and sorted when it holds few; the calls above its watermark are looked up live.
-- params: :start_ms, :end_ms, :agent_ids, :command, :limit, :calls_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, lillo_dash.command_calls, command_metrics(id, command, user_id, chat_id, timestamp, duration, success, error), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

-- How many calls of the chosen agents the range holds, from the hourly rollup (which attributes
-- calls by the same rule; the hours around the range count whole). Up to 20,000 they are read by
-- time and sorted; beyond, each agent's duration index is walked, which stops after :limit calls
-- in the range - after about :limit x (their calls) / (those in the range) entries.
their_load as (
    select coalesce(sum(h.n_calls), 0) > 20000 as is_many
    from settings as s
    inner join lillo_dash.command_hourly as h
        on h.command = '*' and h.agent_id = any(s.agent_ids)
        and h.hour_start >= to_timestamp(:start_ms / 1000.0) - interval '1 hour'
        and h.hour_start < to_timestamp(:end_ms / 1000.0)
),

-- The chosen agents' calls up to the watermark of command_calls: the slowest :limit of each agent.
their_calls as (
    select x.command_id, x.duration
    from settings as s
    cross join unnest(s.agent_ids) as a (agent_id)
    cross join lateral (
        (select t.command_id, t.duration
         from lillo_dash.command_calls as t
         where t.agent_id = a.agent_id
           and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
           and (cast(:command as text) = '' or t.command = cast(:command as text))
           -- Checked once before the walk, like the check of the branch below.
           and (select is_many from their_load)
         order by t.duration desc, t.command_id desc
         limit :limit)
        union all
        (select t.command_id, t.duration
         from lillo_dash.command_calls as t
         where t.agent_id = a.agent_id
           and t.sent_ms >= :start_ms and t.sent_ms < :end_ms
           and (cast(:command as text) = '' or t.command = cast(:command as text))
           and not (select is_many from their_load)
         -- Sorted here, not read in the duration index's order: by time through the other index.
         order by t.duration + 0 desc, t.command_id desc
         limit :limit)
    ) as x
    union all
    select c.id, c.duration
    from settings as s
    cross join command_metrics as c
    where c.id > :calls_watermark
      and epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
      and last_speaker(c) = any(s.agent_ids)
),

-- One branch per case, each ordered like a dashboard index (by duration, or by command name then
-- duration) so that it stops after :limit rows; the bound :command prunes the other branch, the
-- agent filter the first two.
slowest as (
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from command_metrics as c
     where cast(:command as text) = '' and cardinality(cast(:agent_ids as text[])) = 0
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
     order by c.duration desc, c.id desc
     limit :limit)
    union all
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from command_metrics as c
     where command_name(c.command) = cast(:command as text) and cardinality(cast(:agent_ids as text[])) = 0
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
     order by c.duration desc, c.id desc
     limit :limit)
    union all
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from (
         select t.command_id
         from their_calls as t
         order by t.duration desc, t.command_id desc
         limit :limit
     ) as t
     inner join command_metrics as c on c.id = t.command_id)
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
