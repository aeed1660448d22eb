-- name: token_holder_bands
-- One row per band of token holders (user_data; a holder is a wallet counted once, as in
-- token_holders.sql) in two dimensions. 'balance': the balance of the holder's most recently
-- verified row, in decades ('1–10', '10–100', '100–1k', … '1e15–1e16' …) with 'zero' and
-- 'under 1', then 'too large' (10^36 or more, or past 100 characters), 'negative', 'not a number',
-- 'empty' and 'missing' for text that is no usable balance. 'verified': the time since any of
-- its rows was last verified ('under 1 day', '1–7 days', '7–30 days', '30–90 days',
-- '90–365 days', 'over a year', 'never': no valid time). Per band: its order within the
-- dimension, holders, user_data rows behind them, and holders whose Telegram ids wrote at least
-- one user message to any agent.
-- params:
-- requires: user_data(id, telegram_id, wallet_address, token_balance, last_verified), chat_messages(user_id, role)
-- Each step read once (materialized): the balance rule's pattern match and cast run once per row,
-- not once per use.
with linked as materialized (
    select
        u.id,
        u.telegram_id as user_id,
        wallet_key(u.wallet_address) as wallet_key,
        btrim(cast(u.token_balance as text)) as balance_text,
        -- Epochs past 10^14 (the year 5138 in ms) are no moment a table could mean.
        case when u.last_verified > 0 and u.last_verified < 100000000000000
            then epoch_ms(u.last_verified) end as verified_ms
    from user_data as u
),

chatters as (
    select distinct m.user_id
    from chat_messages as m
    where m.role = 'user'
      and m.user_id in (select l.user_id from linked as l)
),

holders as materialized (
    select
        count(*) as n_rows,
        bool_or(c.user_id is not null) as also_chats,
        max(l.verified_ms) as verified_ms,
        (array_agg(l.balance_text order by l.verified_ms desc nulls last, l.id desc))[1] as balance_text
    from linked as l
    left join chatters as c on c.user_id = l.user_id
    group by l.wallet_key, case when l.wallet_key is null then l.id end
),

shaped as materialized (
    select
        h.*,
        balance_shape(h.balance_text) as shape
    from holders as h
),

-- Only text of the bounded number shape above is cast, so no balance can stop the query.
valued as materialized (
    select
        s.*,
        case when s.shape = 'number' then cast(s.balance_text as numeric) end as value
    from shaped as s
),

balance_bands as materialized (
    select
        v.*,
        case
            when v.shape <> 'number' then v.shape
            when abs(v.value) >= 1e36 then 'too large'
            when v.value < 0 then 'negative'
            when v.value = 0 then 'zero'
            when v.value < 1 then 'under 1'
        end as band,
        -- Decades from the integer part's digits: exact, where log() would round.
        case when v.value >= 1 and v.value < 1e36 then length(cast(trunc(v.value) as text)) - 1 end as decade
    from valued as v
),

-- '1', '10', '100', '1k' … '100T', then '1e15' …: the lower bound of each decade up to 10^36.
decades as (
    select
        n as decade,
        case when n >= 15 then '1e' || n
            else cast(cast(10 ^ (n % 3) as integer) as text) || (array['', 'k', 'M', 'B', 'T'])[n / 3 + 1]
        end as label
    from generate_series(0, 36) as n
),

labelled as (
    select
        b.*,
        coalesce(b.band, lo.label || '–' || hi.label) as band_label,
        case
            when b.band = 'zero' then 0
            when b.band = 'under 1' then 1
            when b.band is null then 2 + b.decade
            else 100 + array_position(array['too large', 'negative', 'not a number', 'empty', 'missing'], b.band)
        end as band_order
    from balance_bands as b
    left join decades as lo on lo.decade = b.decade
    left join decades as hi on hi.decade = b.decade + 1
),

-- Now, in ms, once.
clock as materialized (
    select cast(extract(epoch from now()) * 1000 as bigint) as now_ms
),

verified_bands as (
    select
        h.*,
        case
            when h.verified_ms is null then 7
            when c.now_ms - h.verified_ms < 86400000 then 1
            when c.now_ms - h.verified_ms < 7 * 86400000::bigint then 2
            when c.now_ms - h.verified_ms < 30 * 86400000::bigint then 3
            when c.now_ms - h.verified_ms < 90 * 86400000::bigint then 4
            when c.now_ms - h.verified_ms < 365 * 86400000::bigint then 5
            else 6
        end as band_order
    from holders as h
    cross join clock as c
),

final as (
    select
        'balance' as dimension,
        l.band_order,
        l.band_label as band,
        count(*) as n_holders,
        cast(sum(l.n_rows) as bigint) as n_rows,
        count(*) filter (where l.also_chats) as n_also_chat
    from labelled as l
    group by l.band_order, l.band_label
    union all
    select
        'verified',
        v.band_order,
        (array['under 1 day', '1–7 days', '7–30 days', '30–90 days', '90–365 days', 'over a year', 'never'])[v.band_order],
        count(*),
        cast(sum(v.n_rows) as bigint),
        count(*) filter (where v.also_chats)
    from verified_bands as v
    group by v.band_order
)

select * from final
order by dimension, band_order
