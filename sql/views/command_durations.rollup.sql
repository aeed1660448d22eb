-- name: command_durations
-- Rollup variant of command_durations.sql (same rows): the duration histograms (whole UTC days
-- from the daily grain, the hours at the ends from the hourly one) plus the commands above the
-- refresh watermark, counted live.
-- params: :start_ms, :end_ms, :agent_ids, :command, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_duration_histogram, command_metrics(id, command, timestamp, chat_id, duration), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        -- The '*' level holds every command; a name reads its own rows.
        case when cast(:command as text) = '' then '*' else cast(:command as text) end as command_level,
        to_timestamp(:start_ms / 1000.0) as range_start,
        to_timestamp(:end_ms / 1000.0) as range_end
),

rows as (
    select h.bucket, h.n_calls
    from settings as s
    cross join lateral lillo_dash.whole_days(s.range_start, s.range_end) as d
    inner join lillo_dash.command_duration_histogram as h
        on h.grain = 'day' and h.period_start >= d.days_from and h.period_start < d.days_to
    where h.command = s.command_level and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
    union all
    select h.bucket, h.n_calls
    from settings as s
    cross join lateral lillo_dash.hour_pieces(s.range_start, s.range_end) as piece
    inner join lillo_dash.command_duration_histogram as h
        on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
    where h.command = s.command_level and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
    union all
    select lillo_dash.duration_bucket(c.duration), 1
    from settings as s
    inner join command_metrics as c on c.id > :commands_watermark
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (cast(:command as text) = '' or command_name(c.command) = cast(:command as text))
      and (s.all_agents or last_speaker(c) = any(s.agent_ids))
),

final as (
    select
        bucket::integer as bucket,
        (case when bucket = 0 then 0 else power(1.02, bucket - 1) end)::float8 as from_ms,
        (case when bucket = 0 then 0 else power(1.02, bucket) end)::float8 as to_ms,
        sum(n_calls)::bigint as n_calls
    from rows
    group by bucket
)

select * from final
order by bucket
