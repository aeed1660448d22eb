-- `preferences_filed` (is_current, is_counted), for the rollup variants of the model views
-- (`-- include: model_preferences_filed`): whether dashboard/rollups_models.py's filing of the
-- pairs still holds.

-- Whether model_preferences' rows are as the last refresh filed them (their count and checksum, as
-- dashboard/rollups_models.py sums them): then the filed pairs are exactly the rows other than
-- OPENAI with messages, but for pairs whose first message came after the refresh; and, once
-- counted (n_pairs), lillo_dash.model_pair_counts holds chat_totals' pairs per agent and model.
preferences_filed as (
    select
        coalesce(f.is_current, false) as is_current,
        coalesce(f.is_current and f.n_pairs is not null, false) as is_counted
    from (select) as one
    left join (
        select
            (s.n_preferences, s.checksum) = (
                select count(*), preferences_checksum(p) from model_preferences as p
            ) as is_current,
            s.n_pairs
        from lillo_dash.model_pairs_state as s
    ) as f on true
),
