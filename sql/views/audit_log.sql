-- name: audit_log
-- One row per audit entry in [start, end), newest first, optionally of one actor and one table
-- ('' = any), its time in time zone :tz: who did what to which row, the changed fields before and after (JSON text), and why.
-- At most :limit rows.
-- params: :start_ms, :end_ms, :tz, :actor, :table_name, :limit
-- requires: lillo_dash.audit_log(id, at, actor, actor_role, action, table_name, row_key, before, after, reason)
with final as (
    select
        l.id as audit_id,
        l.at at time zone :tz as at,
        l.actor,
        l.actor_role,
        l.action,
        l.table_name,
        l.row_key::text as row_key,
        l.before::text as before,
        l.after::text as after,
        l.reason
    from lillo_dash.audit_log as l
    where l.at >= to_timestamp(:start_ms / 1000.0)
      and l.at < to_timestamp(:end_ms / 1000.0)
      and (:actor = '' or l.actor = :actor)
      and (:table_name = '' or l.table_name = :table_name)
    order by l.at desc, l.id desc
    limit :limit
)

select * from final
order by at desc, audit_id desc
