-- Every agent id in lillo_dash.message_hourly (`rollup_agents`) and its last message
-- (`last_seen`: agent_id, last_sent_ms), for the Agents page's rollup variants (`-- include:
-- agent_last_seen`). Needs the view's `tail` (rows above :messages_watermark with agent_id and
-- sent_ms) and a `with recursive` at its top.

-- Every agent id in the hourly rollup, by a loose index scan (one probe per agent), and its
-- newest hour's last message: a few index probes instead of reading every hourly row.
rollup_agents as (
    (select h.agent_id from lillo_dash.message_hourly as h order by h.agent_id limit 1)
    union all
    select (
        select h.agent_id from lillo_dash.message_hourly as h
        where h.agent_id > previous.agent_id
        order by h.agent_id
        limit 1
    )
    from rollup_agents as previous
    where previous.agent_id is not null
),

last_seen as (
    select agent_id, max(last_ms) as last_sent_ms
    from (
        select
            r.agent_id,
            (select max(h.last_ms)
             from lillo_dash.message_hourly as h
             where h.agent_id = r.agent_id
               and h.hour_start = (
                   select max(x.hour_start) from lillo_dash.message_hourly as x where x.agent_id = r.agent_id
               )) as last_ms
        from rollup_agents as r
        where r.agent_id is not null
        union all
        select t.agent_id, t.sent_ms from tail as t
    ) as rows
    group by agent_id
),
