-- The pairs of the chosen agents set to a model other than OPENAI (`chosen`: agent_id, chat_id,
-- model_type, is_filed), for the rollup variants of the model views (`-- include:
-- model_chosen_pairs`). Needs the view's `settings` and `tail` (rows above :messages_watermark with
-- chat_id and agent_id) CTEs and `preferences_filed` (`-- include: model_preferences_filed` before
-- it), and its header to name :messages_watermark and :model_replies_watermark.

-- Filed: their replies and commands are in lillo_dash.model_pair_replies / model_pair_commands
-- (dashboard/rollups_models.py). A pair set to another model since the last refresh is read raw.
-- Preferences as filed: the filed pairs with the model they were filed by (model_preferences
-- names the same), and the pairs first seen since. Changed:
-- every row other than OPENAI with messages, in one semi-join (model_preferences may hold a row
-- for most pairs).
chosen as (
    select f.agent_id, f.chat_id, f.model_type, true as is_filed
    from settings as s
    inner join lillo_dash.model_pairs as f on s.all_agents or f.agent_id = any(s.agent_ids)
    where (select is_current from preferences_filed) and f.model_type is not null
    union all
    -- Filed before model_pairs kept their model (until the next refresh).
    select p.agent_id, p.chat_id::bigint, p.model_type, true
    from settings as s
    inner join lillo_dash.model_pairs as f on s.all_agents or f.agent_id = any(s.agent_ids)
    inner join model_preferences as p on p.agent_id = f.agent_id and p.chat_id = f.chat_id
    where (select is_current from preferences_filed) and f.model_type is null and p.model_type <> 'OPENAI'
    union all
    select p.agent_id, p.chat_id::bigint, p.model_type, false
    from (
        select distinct m.chat_id, m.agent_id
        from settings as s
        inner join chat_messages as m on m.id > least(:messages_watermark, :model_replies_watermark)
        where s.all_agents or m.agent_id = any(s.agent_ids)
    ) as n
    inner join model_preferences as p on p.agent_id = n.agent_id and p.chat_id = n.chat_id
    where (select is_current from preferences_filed) and p.model_type <> 'OPENAI'
      and not exists (
          select from lillo_dash.model_pairs as f where f.chat_id = n.chat_id and f.agent_id = n.agent_id
      )
    union all
    select p.agent_id, p.chat_id::bigint, p.model_type, f.chat_id is not null
    from settings as s
    inner join model_preferences as p on s.all_agents or p.agent_id = any(s.agent_ids)
    left join lillo_dash.model_pairs as f on f.chat_id = p.chat_id and f.agent_id = p.agent_id
    where not (select is_current from preferences_filed) and p.model_type <> 'OPENAI'
      and (p.chat_id, p.agent_id) in (
          select t.chat_id, t.agent_id from lillo_dash.chat_totals as t
          union all
          select t.chat_id, t.agent_id from tail as t
      )
),
