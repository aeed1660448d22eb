-- name: illustration_gallery
-- One row per illustration, newest id first: its id and the whole row as a JSON object (`item`),
-- whatever columns the live table has (they are not documented), and its moment in ms: from
-- `timestamp` (seconds or ms) when the row has one, else from `created_at`, else null. Only
-- illustrations of [start, end) — rows without any moment are kept in every range — and of the
-- chosen agents (all when :agent_ids is empty; a table without agent_id ignores the filter).
-- The :limit rows after the first :offset.
-- params: :start_ms, :end_ms, :agent_ids, :limit, :offset
-- requires: illustrations(id)
with items as (
    select
        t.id as item_id,
        to_jsonb(t) as item
    from illustrations as t
),

timed as (
    select
        i.item_id,
        i.item,
        case when i.item ->> 'timestamp' ~ '^[0-9]{1,15}$'
            then cast(i.item ->> 'timestamp' as bigint) end as stamp,
        -- Only text shaped like an ISO time is cast: anything else would stop the query.
        case when i.item ->> 'created_at' ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3]):[0-5][0-9]'
            then cast(i.item ->> 'created_at' as timestamptz) end as created_at
    from items as i
),

final as (
    select
        t.item_id,
        t.item,
        coalesce(epoch_ms(t.stamp), cast(extract(epoch from t.created_at) * 1000 as bigint)) as moment_ms
    from timed as t
)

select * from final as f
where (f.moment_ms is null or (f.moment_ms >= :start_ms and f.moment_ms < :end_ms))
  and (
      cardinality(cast(:agent_ids as text[])) = 0
      or not jsonb_exists(f.item, 'agent_id')
      or f.item ->> 'agent_id' = any(cast(:agent_ids as text[]))
  )
order by f.item_id desc
limit :limit offset :offset
