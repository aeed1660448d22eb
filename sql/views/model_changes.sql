-- name: model_changes
-- One row per change of an (agent, chat) pair's model, newest first, at most :limit, among the
-- chosen agents (all when :agent_ids is empty): every audit row the dashboard wrote for
-- model_preferences (source 'audit': who changed it, why, and the model before and after; a pair
-- without a row runs on OPENAI, so an insert starts from OPENAI and a delete returns to it), and
-- every model_preferences row changed after it was first set (updated_at later than created_at;
-- source 'updated_at': a change made outside the dashboard, e.g. with /settings in Telegram, whose
-- earlier model, actor and reason are unknown). A row's updated_at within 5 seconds of an audit row
-- of the same pair is that audit row's change and is not shown twice.
-- params: :agent_ids, :limit
-- requires: model_preferences(agent_id, chat_id, model_type, created_at, updated_at), lillo_dash.audit_log(at, actor, action, table_name, row_key, before, after, reason)
with audited as (
    select
        a.row_key ->> 'agent_id' as agent_id,
        -- row_key is written by dashboard/store.py; a malformed one is shown without a chat.
        case when a.row_key ->> 'chat_id' ~ '^-?[0-9]{1,18}$' then (a.row_key ->> 'chat_id')::bigint end
            as chat_id,
        a.at as changed_at,
        case when a.action = 'insert' then coalesce(a.before ->> 'model_type', 'OPENAI')
             else a.before ->> 'model_type' end as model_before,
        case when a.action = 'delete' then coalesce(a.after ->> 'model_type', 'OPENAI')
             else a.after ->> 'model_type' end as model_after,
        'audit' as source,
        a.actor,
        a.reason
    from lillo_dash.audit_log as a
    where a.table_name = 'model_preferences'
      and a.action <> 'view'
      and (
          cardinality(cast(:agent_ids as text[])) = 0
          or a.row_key ->> 'agent_id' = any(cast(:agent_ids as text[]))
      )
),

updated as (
    select
        p.agent_id,
        p.chat_id::bigint as chat_id,
        p.updated_at as changed_at,
        null::text as model_before,
        p.model_type as model_after,
        'updated_at' as source,
        null::text as actor,
        null::text as reason
    from model_preferences as p
    where p.updated_at > p.created_at
      and (cardinality(cast(:agent_ids as text[])) = 0 or p.agent_id = any(cast(:agent_ids as text[])))
      and not exists (
          select from audited as a
          where a.agent_id = p.agent_id and a.chat_id = p.chat_id
            and a.changed_at between p.updated_at - interval '5 seconds' and p.updated_at + interval '5 seconds'
      )
),

final as (
    select * from audited
    union all
    select * from updated
)

select * from final
order by changed_at desc, source, agent_id, chat_id
limit :limit
