-- The messages in the range of the pairs in the view's `chosen` (agent_id, chat_id, model_type,
-- is_filed: in lillo_dash.model_pairs), for the rollup variants of the model views (`-- include:
-- model_chosen_activity`). Needs the view's `period` and `tail` (rows above :messages_watermark
-- with chat_id, agent_id and sent_ms) CTEs, and its header to name :start_ms, :end_ms and
-- :model_activity_watermark.

-- Filed pairs: their rows of lillo_dash.model_pair_activity in the range (whole days, and hours at
-- its ends; summed per pair before they meet `chosen`, a row per pair instead of one per day) and
-- their rows above its watermark. Pairs not filed: chat_activity pair by pair.
chosen_activity as (
    select c.agent_id, c.chat_id, c.model_type, a.n_messages
    from (
        select a.chat_id, a.agent_id, sum(a.n_messages)::bigint as n_messages
        from (
            select a.chat_id, a.agent_id, a.n_messages
            from period as p
            inner join lillo_dash.model_pair_activity as a
                on a.grain = 'day' and a.period_start >= p.days_from and a.period_start < p.days_to
            union all
            select a.chat_id, a.agent_id, a.n_messages
            from period as p
            cross join lateral lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
            inner join lillo_dash.model_pair_activity as a
                on a.grain = 'hour' and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
        ) as a
        group by a.chat_id, a.agent_id
    ) as a
    inner join chosen as c on c.chat_id = a.chat_id and c.agent_id = a.agent_id and c.is_filed
    union all
    select c.agent_id, c.chat_id, c.model_type, t.n_messages
    from (
        select m.agent_id, m.chat_id, count(*) as n_messages
        from chat_messages as m
        where m.id > :model_activity_watermark
          and epoch_ms(m.timestamp) >= :start_ms and epoch_ms(m.timestamp) < :end_ms
        group by m.agent_id, m.chat_id
    ) as t
    inner join chosen as c on c.agent_id = t.agent_id and c.chat_id = t.chat_id and c.is_filed
    union all
    select c.agent_id, c.chat_id, c.model_type, r.n_messages
    from chosen as c
    cross join period as p
    cross join lateral (
        select a.n_messages
        from lillo_dash.chat_activity as a
        where a.chat_id = c.chat_id and a.grain = 'day'
          and a.period_start >= p.days_from and a.period_start < p.days_to and a.agent_id = c.agent_id
        union all
        select a.n_messages
        from lillo_dash.hour_pieces(p.period_start, p.period_end) as piece
        inner join lillo_dash.chat_activity as a
            on a.chat_id = c.chat_id and a.grain = 'hour'
            and a.period_start >= piece.piece_start and a.period_start < piece.piece_end
        where a.agent_id = c.agent_id
    ) as r
    where not c.is_filed
    union all
    select c.agent_id, c.chat_id, c.model_type, t.n_messages
    from (
        select agent_id, chat_id, count(*) as n_messages
        from tail
        where sent_ms >= :start_ms and sent_ms < :end_ms
        group by agent_id, chat_id
    ) as t
    inner join chosen as c on c.agent_id = t.agent_id and c.chat_id = t.chat_id and not c.is_filed
),
