-- name: reply_latency
-- Rollup variant of reply_latency.sql (same rows): replies counted exactly and percentiles read
-- from the latency histograms (whole UTC days from the daily grain, the hours at the ends from the
-- hourly one; within 1% of exact). Rows above the rollup's watermark change the histograms live,
-- exactly as the next refresh will (dashboard/rollups.py): each chat and agent history with new
-- rows is recomputed from its last row before the earliest new one, its samples with the new rows
-- added and those of the old rows alone taken away (a late user message can split a stored pair).
-- params: :start_ms, :end_ms, :agent_ids, :replies_watermark
-- requires: lillo_dash.refresh_state, lillo_dash.reply_latency_histogram, chat_messages(id, timestamp, chat_id, agent_id, role), agents(id, name)
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

new_histories as (
    select m.chat_id, m.agent_id, min(epoch_ms(m.timestamp)) as first_new_ms
    from settings as s
    inner join chat_messages as m on m.id > :replies_watermark
    where m.role in ('user', 'assistant') and (s.all_agents or m.agent_id = any(s.agent_ids))
    group by m.chat_id, m.agent_id
),

-- Two probes per history on Lillo's (chat_id, timestamp desc) index, one per epoch unit.
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
    -- Only second rows later than the row found in ms can be later still: a short range, usually empty.
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
        agent_id, role, sent_ms, 1 as change,
        lag(role) over history as previous_role,
        sent_ms - lag(sent_ms) over history as latency_ms
    from tail_rows
    window history as (partition by chat_id, agent_id order by sent_ms, id)
    union all
    select
        agent_id, role, sent_ms, -1,
        lag(role) over history,
        sent_ms - lag(sent_ms) over history
    from tail_rows
    where id <= :replies_watermark
    window history as (partition by chat_id, agent_id order by sent_ms, id)
),

live as (
    select agent_id, lillo_dash.latency_bucket(latency_ms) as bucket, change
    from tail_turns
    where role = 'assistant' and previous_role = 'user' and sent_ms >= :start_ms and sent_ms < :end_ms
),

-- Counts as integer (one cell never nears 2^31): bigint sums would be numeric, several times slower.
histogram as (
    select agent_id, bucket, sum(n_replies)::integer as n_replies
    from (
        select h.agent_id, h.bucket, h.n_replies::integer as n_replies
        from settings as s
        cross join period as p
        inner join lillo_dash.reply_latency_histogram as h
            on h.grain = 'day' and h.period_start >= p.days_from and h.period_start < p.days_to
        where h.agent_id <> '*' and (s.all_agents or h.agent_id = any(s.agent_ids))
        union all
        select h.agent_id, h.bucket, h.n_replies::integer
        from settings as s
        cross join period as p
        cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.reply_latency_histogram as h
            on h.grain = 'hour' and h.period_start >= piece.piece_start and h.period_start < piece.piece_end
        where h.agent_id <> '*' and (s.all_agents or h.agent_id = any(s.agent_ids))
        union all
        select agent_id, bucket, change from live
    ) as rows
    group by agent_id, bucket
    having sum(n_replies) > 0
),

-- percentile_cont(q): the value at zero-based rank q * (n - 1), interpolated between the two
-- nearest ranks; each rank's value is its bucket's middle (0 for bucket 0), looked up only for the
-- four buckets per agent that hold those ranks.
ranked as (
    select
        agent_id,
        bucket,
        sum(n_replies) over (partition by agent_id order by bucket) - n_replies as first_rank,
        sum(n_replies) over (partition by agent_id order by bucket) - 1 as last_rank,
        sum(n_replies) over (partition by agent_id) as n_replies
    from histogram
),

targets as (
    select
        agent_id, bucket, first_rank, last_rank, n_replies,
        0.5::float8 * (n_replies - 1) as median_rank,
        0.9::float8 * (n_replies - 1) as p90_rank
    from ranked
),

per_agent as (
    select
        agent_id,
        max(n_replies) as n_replies,
        lillo_dash.bucket_ms(min(bucket) filter (where floor(median_rank) between first_rank and last_rank))
            as median_low_ms,
        lillo_dash.bucket_ms(min(bucket) filter (where ceil(median_rank) between first_rank and last_rank))
            as median_high_ms,
        max(median_rank - floor(median_rank)) as median_fraction,
        lillo_dash.bucket_ms(min(bucket) filter (where floor(p90_rank) between first_rank and last_rank))
            as p90_low_ms,
        lillo_dash.bucket_ms(min(bucket) filter (where ceil(p90_rank) between first_rank and last_rank))
            as p90_high_ms,
        max(p90_rank - floor(p90_rank)) as p90_fraction
    from targets
    group by agent_id
),

final as (
    select
        p.agent_id,
        coalesce(a.name, p.agent_id) as agent_name,
        p.n_replies::bigint as n_replies,
        (p.median_low_ms + p.median_fraction * (p.median_high_ms - p.median_low_ms))::float8 as median_ms,
        (p.p90_low_ms + p.p90_fraction * (p.p90_high_ms - p.p90_low_ms))::float8 as p90_ms
    from per_agent as p
    left join agents as a on a.id::text = p.agent_id
)

select * from final
order by n_replies desc, lower(agent_name), agent_id
