-- name: insert_model_preference
-- A preference for a pair that had none when it was read. When one appeared since, nothing is
-- inserted (optimistic concurrency: the caller reports the pair as changed by someone else).
-- params: :agent_id, :chat_id, :model_type
insert into model_preferences (agent_id, chat_id, model_type)
values (:agent_id, :chat_id, :model_type)
on conflict do nothing
