-- name: token_holders
-- One row per token holder (user_data): a wallet counts once however many rows link it, an EVM
-- address (0x and 40 hex digits) once whatever the letter case of its digits; rows without a
-- wallet are holders of their own. Each holder shows its most recently verified row (ties by
-- id): that row's id, Telegram id (as user_id), names, wallet as stored, balance as stored, the
-- balance read safely ('ok', 'negative', 'too large' at 10^36 or more or past 100 characters,
-- 'not a number', 'empty', 'missing') and as a number when it is one, last verification as
-- local time in :tz and in whole days ago (none when the stored epoch is no moment); with how
-- many rows it merges and how many user messages its Telegram ids wrote to any agent (0: the
-- holder does not chat). Sorted by :sort ('verified': latest verification first; anything else:
-- largest balance first), ties by id; the :limit rows after the first :offset.
-- params: :tz, :sort, :limit, :offset
-- requires: user_data(id, telegram_id, first_name, username, wallet_address, token_balance, last_verified), chat_messages(user_id, role)
-- Each step read once (materialized): the balance rule's pattern match and cast run once per row,
-- not once per use.
with linked as materialized (
    select
        u.id,
        u.telegram_id as user_id,
        u.first_name,
        u.username,
        u.wallet_address,
        wallet_key(u.wallet_address) as wallet_key,
        cast(u.token_balance as text) as token_balance,
        btrim(cast(u.token_balance as text)) as balance_text,
        -- Epochs past 10^14 (the year 5138 in ms) are no moment a table could mean.
        case when u.last_verified > 0 and u.last_verified < 100000000000000
            then epoch_ms(u.last_verified) end as verified_ms
    from user_data as u
),

holders as (
    select
        count(*) as n_rows,
        array_agg(l.user_id) filter (where l.user_id is not null) as user_ids,
        (array_agg(l.id order by l.verified_ms desc nulls last, l.id desc))[1] as holder_id
    from linked as l
    group by l.wallet_key, case when l.wallet_key is null then l.id end
),

shaped as materialized (
    select
        h.holder_id,
        h.n_rows,
        h.user_ids,
        l.user_id,
        l.first_name,
        l.username,
        l.wallet_address,
        l.token_balance,
        l.verified_ms,
        l.balance_text,
        balance_shape(l.balance_text) as shape
    from holders as h
    inner join linked as l on l.id = h.holder_id
),

-- Only text of the bounded number shape above is cast, so no balance can stop the query.
valued as materialized (
    select
        s.*,
        case when s.shape = 'number' then cast(s.balance_text as numeric) end as value
    from shaped as s
),

classified as materialized (
    select
        v.*,
        case
            when v.shape <> 'number' then v.shape
            when abs(v.value) >= 1e36 then 'too large'
            when v.value < 0 then 'negative'
            else 'ok'
        end as balance_status
    from valued as v
),

page as (
    select *
    from classified as c
    order by
        case when :sort = 'verified' then c.verified_ms end desc nulls last,
        case when c.balance_status in ('ok', 'negative') then c.value end desc nulls last,
        c.holder_id
    limit :limit offset :offset
),

-- Once for the whole page, not once per holder.
chatting as materialized (
    select m.user_id, count(*) as n_messages
    from chat_messages as m
    where m.role = 'user'
      and m.user_id in (select unnest(p.user_ids) from page as p)
    group by m.user_id
),

final as (
    select
        p.holder_id,
        p.user_id,
        p.first_name,
        p.username,
        p.wallet_address,
        p.n_rows,
        p.token_balance,
        p.balance_status,
        -- As a float: a balance under 1e-300 (1e-400, say) would underflow it and stop the query.
        case
            when p.balance_status not in ('ok', 'negative') then null
            when abs(p.value) < 1e-300 then 0
            else cast(p.value as double precision)
        end as balance,
        to_timestamp(p.verified_ms / 1000.0) at time zone :tz as last_verified_at,
        cast(floor((extract(epoch from now()) * 1000 - p.verified_ms) / 86400000.0) as integer)
            as verified_days_ago,
        coalesce((select sum(c.n_messages) from chatting as c where c.user_id = any(p.user_ids)), 0)
            as n_messages,
        p.verified_ms,
        p.value
    from page as p
)

select
    holder_id, user_id, first_name, username, wallet_address, n_rows, token_balance, balance_status,
    balance, last_verified_at, verified_days_ago, n_messages
from final as f
order by
    case when :sort = 'verified' then f.verified_ms end desc nulls last,
    case when f.balance_status in ('ok', 'negative') then f.value end desc nulls last,
    f.holder_id
