-- Rules the rollup views and the refresh share, kept in one place. Plain SQL functions, which
-- PostgreSQL inlines into the queries that call them.

-- The whole UTC days inside [range_start, range_end): days_from and days_to, or both equal to
-- range_end when there are none. Daily rollups answer the whole days; hourly ones the rest.
create or replace function lillo_dash.whole_days(
    range_start timestamptz, range_end timestamptz, out days_from timestamptz, out days_to timestamptz
)
language sql stable parallel safe
as $$
    select
        case when d.first_day < d.last_day then d.first_day else range_end end,
        case when d.first_day < d.last_day then d.last_day else range_end end
    from (
        select
            date_trunc('day', range_start - interval '1 microsecond', 'UTC') + interval '24 hours' as first_day,
            date_trunc('day', range_end, 'UTC') as last_day
    ) as d
$$;

-- The two periods KPI tiles compare, 'current' = [start, end) and 'previous' = [previous_start,
-- start), in epoch ms and as timestamps, with the whole UTC days inside each.
create or replace function lillo_dash.kpi_periods(start_ms bigint, end_ms bigint, previous_start_ms bigint)
returns table (
    period text, from_ms bigint, to_ms bigint, period_start timestamptz, period_end timestamptz,
    days_from timestamptz, days_to timestamptz
)
language sql stable parallel safe
as $$
    select v.period, v.from_ms, v.to_ms, b.period_start, b.period_end, d.days_from, d.days_to
    from (values ('current', start_ms, end_ms), ('previous', previous_start_ms, start_ms)) as v (period, from_ms, to_ms)
    cross join lateral (
        select to_timestamp(v.from_ms / 1000.0) as period_start, to_timestamp(v.to_ms / 1000.0) as period_end
    ) as b
    cross join lateral lillo_dash.whole_days(b.period_start, b.period_end) as d
$$;

-- The parts of [range_start, range_end) outside its whole UTC days (none, one or two), for the
-- hourly rollups; written as rows so that each part is one index range scan.
create or replace function lillo_dash.hour_pieces(range_start timestamptz, range_end timestamptz)
returns table (piece_start timestamptz, piece_end timestamptz)
language sql stable parallel safe
as $$
    select p.piece_start, p.piece_end
    from lillo_dash.whole_days(range_start, range_end) as d
    cross join lateral (values (range_start, d.days_from), (d.days_to, range_end)) as p (piece_start, piece_end)
    where p.piece_start < p.piece_end
$$;

-- One chat's rollup rows in [range_start, range_end), per agent: daily rows for the whole UTC
-- days, hourly rows for the rest.
create or replace function lillo_dash.chat_range_rows(
    chat bigint, range_start timestamptz, range_end timestamptz
)
returns table (agent_id text, n_messages bigint, last_ms bigint)
language sql stable parallel safe
as $$
    select a.agent_id, a.n_messages, a.last_ms
    from lillo_dash.whole_days(range_start, range_end) as d
    inner join lillo_dash.chat_activity as a
        on a.chat_id = chat and a.grain = 'day' and a.period_start >= d.days_from and a.period_start < d.days_to
    union all
    select a.agent_id, a.n_messages, a.last_ms
    from lillo_dash.hour_pieces(range_start, range_end) as piece
    inner join lillo_dash.chat_activity as a
        on a.chat_id = chat and a.grain = 'hour'
        and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
$$;

-- chat_range_rows with the user messages among them: the chat list's split by role.
create or replace function lillo_dash.chat_range_split(
    chat bigint, range_start timestamptz, range_end timestamptz
)
returns table (agent_id text, n_messages bigint, n_user_messages bigint, last_ms bigint)
language sql stable parallel safe
as $$
    select a.agent_id, a.n_messages, a.n_user_messages, a.last_ms
    from lillo_dash.whole_days(range_start, range_end) as d
    inner join lillo_dash.chat_activity as a
        on a.chat_id = chat and a.grain = 'day' and a.period_start >= d.days_from and a.period_start < d.days_to
    union all
    select a.agent_id, a.n_messages, a.n_user_messages, a.last_ms
    from lillo_dash.hour_pieces(range_start, range_end) as piece
    inner join lillo_dash.chat_activity as a
        on a.chat_id = chat and a.grain = 'hour'
        and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
$$;

-- Duration histogram bucket of a duration in ms: b > 0 holds [1.02^(b-1), 1.02^b), 0 holds zero and
-- negative durations.
create or replace function lillo_dash.duration_bucket(duration_ms integer)
returns integer
language sql immutable parallel safe
as $$
    select case when duration_ms <= 0 then 0 else floor(ln(duration_ms) / ln(1.02))::integer + 1 end
$$;

-- The duration a bucket stands for: its geometric middle (0 for bucket 0).
create or replace function lillo_dash.bucket_ms(bucket integer)
returns double precision
language sql immutable parallel safe
as $$
    select case when bucket = 0 then 0 else power(1.02, bucket - 0.5) end
$$;

-- Two sets of numbers as one, sorted: lillo_dash.chat_people_hours.
create or replace function lillo_dash.sorted_union(a integer[], b integer[])
returns integer[]
language sql immutable parallel safe
as $$
    select array(select distinct d from unnest(a || b) as d order by d)
$$;

-- The agent ids of the rollup rows to read: the chosen agents, or '*' (all agents) for none.
-- Immutable, so with the ids bound as a value the planner sees the result and uses an index.
create or replace function lillo_dash.rollup_agents(agent_ids text[])
returns text[]
language sql immutable parallel safe
as $$
    select case when cardinality(agent_ids) = 0 then array['*'] else agent_ids end
$$;

-- Position of an id in the 2^17-bit activity maps.
create or replace function lillo_dash.sketch_bit(id bigint)
returns integer
language sql immutable parallel safe
as $$
    select hashint8(id) & 131071
$$;

-- Linear counting: distinct ids estimated from the number of zero bits of a 2^17-bit map (null
-- when the map is full).
create or replace function lillo_dash.distinct_from_zero_bits(zero_bits bigint)
returns bigint
language sql immutable parallel safe
as $$
    select case when zero_bits > 0 then round(-131072 * ln(zero_bits / 131072.0))::bigint end
$$;

insert into lillo_dash.installed_files (file_name)
values ('003_rollup_functions.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;

-- duration_bucket for bigint latencies (a reply can come more than 24.8 days, 2^31 ms, later):
-- the same buckets, so bucket_ms reads both.
create or replace function lillo_dash.latency_bucket(latency_ms bigint)
returns integer
language sql immutable parallel safe
as $$
    select case when latency_ms <= 0 then 0 else floor(ln(latency_ms) / ln(1.02))::integer + 1 end
$$;
