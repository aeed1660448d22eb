-- `command_figures` and `final`, the two rows of model_change_effect (sql/views/
-- model_change_effect.sql and its rollup variant: `-- include: model_change_effect_final`), from
-- the CTEs both compute their own way: periods, message_figures, reply_figures and commands.

command_figures as (
    select
        p.period,
        count(*) as n_commands,
        count(*) filter (where not c.success) as n_command_failures,
        percentile_cont(0.95) within group (order by c.duration_ms)::float8 as command_p95_ms
    from periods as p
    inner join commands as c on c.sent_ms >= p.from_ms and c.sent_ms < p.to_ms
    group by p.period
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
