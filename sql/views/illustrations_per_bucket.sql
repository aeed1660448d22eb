-- name: illustrations_per_bucket
-- One row per (bucket, agent) with illustrations in [start, end) made by the chosen agents (all
-- when :agent_ids is empty): the bucket's start as local time in :tz, the agent's id ('' when the
-- row names none) and name (the raw id when no agent matches), and how many illustrations. The
-- table's columns are not documented: counting needs its timestamp (seconds or ms) and agent_id,
-- and a table without them gets a notice here while its gallery still shows.
-- params: :start_ms, :end_ms, :tz, :bucket, :agent_ids
-- requires: illustrations(timestamp, agent_id), agents(id, name)
with scoped as (
    select
        date_trunc(:bucket, to_timestamp(epoch_ms(i.timestamp) / 1000.0) at time zone :tz) as bucket_start,
        coalesce(cast(i.agent_id as text), '') as agent_id
    from illustrations as i
    where epoch_ms(i.timestamp) >= :start_ms
      and epoch_ms(i.timestamp) < :end_ms
      and (
          cardinality(cast(:agent_ids as text[])) = 0
          or cast(i.agent_id as text) = any(cast(:agent_ids as text[]))
      )
),

final as (
    select
        s.bucket_start,
        s.agent_id,
        coalesce(min(a.name), nullif(s.agent_id, ''), '(no agent)') as agent_name,
        count(*) as n_items
    from scoped as s
    left join agents as a on a.id::text = s.agent_id
    group by s.bucket_start, s.agent_id
)

select * from final
order by bucket_start, agent_id
