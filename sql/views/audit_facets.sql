-- name: audit_facets
-- One row per (actor, table) that has audit entries, with their number: the audit page's filters.
-- params:
-- requires: lillo_dash.audit_log(actor, table_name)
with final as (
    select l.actor, l.table_name, count(*) as n_entries
    from lillo_dash.audit_log as l
    group by l.actor, l.table_name
)

select * from final
order by actor, table_name
