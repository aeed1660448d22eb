-- name: model_preferences_of_pairs
-- The preference rows of the (agent, chat) pairs given as two arrays of equal length (the i-th
-- agent with the i-th chat), as they are now.
-- params: :agent_ids, :chat_ids
select p.agent_id, p.chat_id::bigint as chat_id, p.model_type, p.updated_at
from unnest(cast(:agent_ids as text[]), cast(:chat_ids as bigint[])) as wanted (agent_id, chat_id)
inner join model_preferences as p on p.agent_id = wanted.agent_id and p.chat_id = wanted.chat_id
