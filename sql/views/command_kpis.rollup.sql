-- name: command_kpis
-- Rollup variant of command_kpis.sql (same rows): counts from the hourly command rollup, p95 from
-- the duration histograms (whole UTC days from the daily grain, the hours at the ends from the
-- hourly one; within 1% of exact), commands above the refresh watermark added live.
-- params: :start_ms, :end_ms, :previous_start_ms, :agent_ids, :commands_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.command_hourly, lillo_dash.command_duration_histogram, command_metrics(id, timestamp, chat_id, success, duration), chat_messages(chat_id, agent_id)
with settings as (
    select
        cast(:agent_ids as text[]) as agent_ids,
        cardinality(cast(:agent_ids as text[])) = 0 as all_agents
),

periods as (
    select * from lillo_dash.kpi_periods(:start_ms, :end_ms, :previous_start_ms)
),

live as (
    select
        p.period,
        c.success,
        lillo_dash.duration_bucket(c.duration) as bucket,
        case when s.all_agents then '' else last_speaker(c) end as agent_id
    from settings as s
    inner join command_metrics as c on c.id > :commands_watermark
    inner join periods as p on epoch_ms(c.timestamp) >= p.from_ms and epoch_ms(c.timestamp) < p.to_ms
),

counts as (
    select period, sum(n_calls) as n_commands, sum(n_failures) as n_failures
    from (
        select p.period, h.n_calls, h.n_failures
        from settings as s
        cross join periods as p
        inner join lillo_dash.command_hourly as h
            on h.hour_start >= p.period_start and h.hour_start < p.period_end
        where h.command = '*' and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select l.period, 1, case when l.success then 0 else 1 end
        from settings as s
        cross join live as l
        where s.all_agents or l.agent_id = any(s.agent_ids)
    ) as rows
    group by period
),

histogram as (
    select period, bucket, sum(n_calls) as n_calls
    from (
        select p.period, h.bucket, h.n_calls
        from settings as s
        cross join periods as p
        inner join lillo_dash.command_duration_histogram as h
            on h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        where h.command = '*' and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select p.period, h.bucket, h.n_calls
        from settings as s
        cross join periods as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.command_duration_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where h.command = '*' and h.agent_id = any(lillo_dash.rollup_agents(cast(:agent_ids as text[])))
        union all
        select l.period, l.bucket, 1
        from settings as s
        cross join live as l
        where s.all_agents or l.agent_id = any(s.agent_ids)
    ) as rows
    group by period, bucket
),

-- percentile_cont(0.95): the value at zero-based rank 0.95 * (n - 1), interpolated between the
-- two closest ranks; each rank's value is its bucket's middle (0 for bucket 0).
ranked as (
    select
        period,
        lillo_dash.bucket_ms(bucket) as value_ms,
        sum(n_calls) over (partition by period order by bucket) - n_calls as first_rank,
        sum(n_calls) over (partition by period order by bucket) - 1 as last_rank,
        0.95 * (sum(n_calls) over (partition by period) - 1) as target_rank
    from histogram
),

p95 as (
    select
        period,
        min(value_ms) filter (where floor(target_rank) between first_rank and last_rank) as low_ms,
        min(value_ms) filter (where ceil(target_rank) between first_rank and last_rank) as high_ms,
        max(target_rank - floor(target_rank)) as fraction
    from ranked
    group by period
),

final as (
    select
        c.period,
        c.n_commands::bigint as n_commands,
        c.n_failures::bigint as n_failures,
        (1 - c.n_failures::float8 / c.n_commands)::float8 as success_rate,
        (p.low_ms + p.fraction * (p.high_ms - p.low_ms))::float8 as p95_duration_ms
    from counts as c
    inner join p95 as p on p.period = c.period
    where c.n_commands > 0
)

select * from final
order by period
