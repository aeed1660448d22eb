-- name: lock_model_preferences
-- model_preferences_of_pairs for a write: the rows are locked until the transaction ends, so
-- none of them changes between this check and the write.
-- params: :agent_ids, :chat_ids
select p.agent_id, p.chat_id::bigint as chat_id, p.model_type, p.updated_at
from unnest(cast(:agent_ids as text[]), cast(:chat_ids as bigint[])) as wanted (agent_id, chat_id)
inner join model_preferences as p on p.agent_id = wanted.agent_id and p.chat_id = wanted.chat_id
for update of p
