-- name: command_slowest_calls
-- Rollup variant of command_slowest_calls.sql (same rows). With an agent filter, only the calls in
-- the hours where a chosen agent had calls are looked up (see their_hours); when those hours hold
-- few calls, they are read by time and sorted instead of walking the duration index.
-- params: :start_ms, :end_ms, :agent_ids, :command, :limit, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, command_metrics(id, command, user_id, chat_id, timestamp, duration, success, error), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

-- The hours (epoch ms / 3,600,000) in which a chosen agent had calls, from lillo_dash.command_hourly
-- (which attributes calls by the same rule): a call in another hour below the watermark cannot be
-- theirs, so a rarely heard agent does not send the scan through every call of the range.
their_hours as (
    select distinct (extract(epoch from h.hour_start) * 1000)::bigint / 3600000 as hour
    from settings as s
    inner join lillo_dash.command_hourly as h
        on h.command = '*' and h.agent_id = any(s.agent_ids)
        and h.hour_start >= to_timestamp(:start_ms / 1000.0) - interval '1 hour'
        and h.hour_start < to_timestamp(:end_ms / 1000.0)
),

-- Every agent's calls in those hours (the hourly rollup's all-agents level): up to 20,000 they are
-- read by time (Lillo's timestamp index) and sorted, which costs about as much as looking up the agent
-- of each; beyond, the duration index is walked, which stops after :limit of theirs - quickly unless
-- they are rare among many slower calls.
hour_load as (
    select coalesce(sum(h.n_calls), 0) > 20000 as is_many
    from their_hours as t
    inner join lillo_dash.command_hourly as h
        on h.command = '*' and h.agent_id = '*' and h.hour_start = to_timestamp(t.hour * 3600)
),

-- One branch per case, each ordered like a dashboard index (by duration, or by command name then
-- duration) so that it stops after :limit rows; the bound :command prunes the other branch.
-- Without an agent filter the agent is looked up for the rows shown only. The third reads the
-- chosen agents' hours by time (hour_load) and sorts their calls.
slowest as (
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from settings as s
     cross join command_metrics as c
     where cast(:command as text) = ''
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
       and (s.all_agents or (
           (c.id > :commands_watermark or epoch_ms(c.timestamp) / 3600000 in (select hour from their_hours))
           and last_speaker(c) = any(s.agent_ids)
       ))
       -- Checked once before the scan (agents whose hours hold few calls take the third branch).
       and (cardinality(cast(:agent_ids as text[])) = 0 or (select is_many from hour_load))
     order by c.duration desc, c.id desc
     limit :limit)
    union all
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from settings as s
     cross join command_metrics as c
     where command_name(c.command) = cast(:command as text)
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
       and (s.all_agents or (
           (c.id > :commands_watermark or epoch_ms(c.timestamp) / 3600000 in (select hour from their_hours))
           and last_speaker(c) = any(s.agent_ids)
       ))
       -- Checked once before the scan (agents whose hours hold few calls take the third branch).
       and (cardinality(cast(:agent_ids as text[])) = 0 or (select is_many from hour_load))
     order by c.duration desc, c.id desc
     limit :limit)
    union all
    (select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
     from settings as s
     cross join (
         select x.id, x.command, x.user_id, x.chat_id, x.timestamp, x.duration, x.success, x.error
         from their_hours as h
         cross join lateral (
             select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
             from command_metrics as c
             where c.timestamp > 100000000000
               and c.timestamp >= h.hour * 3600000 and c.timestamp < (h.hour + 1) * 3600000
             union all
             select c.id, c.command, c.user_id, c.chat_id, c.timestamp, c.duration, c.success, c.error
             from command_metrics as c
             where c.timestamp <= 100000000000
               and c.timestamp >= h.hour * 3600 and c.timestamp < (h.hour + 1) * 3600
         ) as x
         where x.id <= :commands_watermark
         union all
         select n.id, n.command, n.user_id, n.chat_id, n.timestamp, n.duration, n.success, n.error
         from command_metrics as n
         where n.id > :commands_watermark
     ) as c
     -- Checked once before the read, like the checks above.
     where cardinality(cast(:agent_ids as text[])) > 0 and not (select is_many from hour_load)
       and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
       and epoch_ms(c.timestamp) >= :start_ms
       and epoch_ms(c.timestamp) < :end_ms
       and last_speaker(c) = any(s.agent_ids)
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
