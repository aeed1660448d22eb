-- `command_totals`, `command_figures` and `final`, the two rows of model_change_effect (sql/views/
-- model_change_effect.sql and its rollup variant: `-- include: model_change_effect_final`), from
-- the CTEs both compute their own way: periods, message_figures, reply_figures and commands.

-- Both periods in one pass over the commands, as filtered aggregates (a join to the periods would
-- read them once per period).
command_totals as (
    select
        count(*) filter (where c.sent_ms < b.changed_ms) as n_before,
        count(*) filter (where c.sent_ms >= b.changed_ms) as n_after,
        count(*) filter (where c.sent_ms < b.changed_ms and not c.success) as failures_before,
        count(*) filter (where c.sent_ms >= b.changed_ms and not c.success) as failures_after,
        percentile_cont(0.95) within group (order by c.duration_ms) filter (where c.sent_ms < b.changed_ms)
            as p95_before,
        percentile_cont(0.95) within group (order by c.duration_ms) filter (where c.sent_ms >= b.changed_ms)
            as p95_after
    from (select min(from_ms) as from_ms, min(to_ms) as changed_ms, max(to_ms) as to_ms from periods) as b
    inner join commands as c on c.sent_ms >= b.from_ms and c.sent_ms < b.to_ms
),

command_figures as (
    select
        p.period,
        case p.position when 1 then r.n_before else r.n_after end as n_commands,
        case p.position when 1 then r.failures_before else r.failures_after end as n_command_failures,
        (case p.position when 1 then r.p95_before else r.p95_after end)::float8 as command_p95_ms
    from periods as p
    cross join command_totals as r
),

final as (
    select
        p.period,
        to_timestamp(p.from_ms / 1000.0) as period_start,
        to_timestamp(p.to_ms / 1000.0) as period_end,
        p.from_ms as period_start_ms,
        p.to_ms as period_end_ms,
        p.n_days,
        m.n_messages,
        m.n_messages / nullif(p.n_days, 0) as messages_per_day,
        coalesce(r.n_replies, 0) as n_replies,
        r.median_ms,
        r.p90_ms,
        coalesce(c.n_commands, 0) as n_commands,
        coalesce(c.n_command_failures, 0) as n_command_failures,
        1 - c.n_command_failures::float8 / nullif(c.n_commands, 0) as command_success_rate,
        c.command_p95_ms,
        m.n_people,
        p.position
    from periods as p
    inner join message_figures as m on m.period = p.period
    left join reply_figures as r on r.period = p.period
    left join command_figures as c on c.period = p.period
)
