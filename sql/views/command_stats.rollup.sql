-- name: command_stats
-- Rollup variant of command_stats.sql (same rows): counts from the hourly command rollup,
-- percentiles from the duration histograms (whole UTC days from the daily grain, the hours at the
-- ends from the hourly one; within 1% of exact), commands above the refresh watermark added live.
-- params: :start_ms, :end_ms, :agent_ids, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, lillo_dash.command_duration_histogram, command_metrics(id, command, timestamp, chat_id, success, duration), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents,
        to_timestamp(:start_ms / 1000.0) as range_start,
        to_timestamp(:end_ms / 1000.0) as range_end
),

live as (
    select
        command_name(c.command) as command,
        c.success,
        lillo_dash.duration_bucket(c.duration) as bucket
    from settings as s
    inner join command_metrics as c on c.id > :commands_watermark
    where epoch_ms(c.timestamp) >= :start_ms
      and epoch_ms(c.timestamp) < :end_ms
      and (s.all_agents or last_speaker(c) = any(s.agent_ids))
),

counts as (
    select command, sum(n_calls) as n_calls, sum(n_failures) as n_failures
    from (
        select h.command, h.n_calls, h.n_failures
        from settings as s
        inner join lillo_dash.command_hourly as h
            on h.hour_start >= s.range_start and h.hour_start < s.range_end
        where h.command <> '*' and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
        union all
        select command, 1, case when success then 0 else 1 end
        from live
    ) as rows
    group by command
),

histogram as (
    select command, bucket, sum(n_calls) as n_calls
    from (
        select h.command, h.bucket, h.n_calls
        from settings as s
        cross join lateral lillo_dash.whole_days(s.range_start, s.range_end) as d
        inner join lillo_dash.command_duration_histogram as h
            on h.grain = 'day' and h.period_start >= d.days_from and h.period_start < d.days_to
        where h.command <> '*' and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
        union all
        select h.command, h.bucket, h.n_calls
        from settings as s
        cross join lateral lillo_dash.hour_pieces(s.range_start, s.range_end) as piece
        inner join lillo_dash.command_duration_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where h.command <> '*' and h.agent_id = any(lillo_dash.rollup_agents(s.agent_ids))
        union all
        select command, bucket, 1
        from live
    ) as rows
    group by command, bucket
),

-- percentile_cont(q): the value at zero-based rank q * (n - 1), interpolated between the two
-- closest ranks; each rank's value is its bucket's middle (0 for bucket 0).
ranked as (
    select
        command,
        lillo_dash.bucket_ms(bucket) as value_ms,
        sum(n_calls) over (partition by command order by bucket) - n_calls as first_rank,
        sum(n_calls) over (partition by command order by bucket) - 1 as last_rank,
        sum(n_calls) over (partition by command) - 1 as top_rank
    from histogram
),

percentiles as (
    select
        r.command,
        q.quantile,
        min(r.value_ms) filter (where floor(q.quantile * r.top_rank) between r.first_rank and r.last_rank)
            as low_ms,
        min(r.value_ms) filter (where ceil(q.quantile * r.top_rank) between r.first_rank and r.last_rank)
            as high_ms,
        max(q.quantile * r.top_rank - floor(q.quantile * r.top_rank)) as fraction
    from ranked as r
    cross join (values (0.5), (0.95), (0.99)) as q (quantile)
    group by r.command, q.quantile
),

final as (
    select
        c.command,
        c.n_calls::bigint as n_calls,
        c.n_failures::bigint as n_failures,
        (1 - c.n_failures::float8 / c.n_calls)::float8 as success_rate,
        max(p.low_ms + p.fraction * (p.high_ms - p.low_ms)) filter (where p.quantile = 0.5)::float8
            as p50_duration_ms,
        max(p.low_ms + p.fraction * (p.high_ms - p.low_ms)) filter (where p.quantile = 0.95)::float8
            as p95_duration_ms,
        max(p.low_ms + p.fraction * (p.high_ms - p.low_ms)) filter (where p.quantile = 0.99)::float8
            as p99_duration_ms
    from counts as c
    inner join percentiles as p on p.command = c.command
    where c.n_calls > 0
    group by c.command, c.n_calls, c.n_failures
)

select * from final
order by n_calls desc, command
