-- name: update_model_preference
-- A pair's new model, written only while its row still holds the model and updated_at it was
-- read with (optimistic concurrency): no row updated means someone else changed it first.
-- params: :agent_id, :chat_id, :model_type, :before_model_type, :before_updated_at
update model_preferences
set model_type = :model_type, updated_at = now()
where agent_id = :agent_id
  and chat_id = cast(:chat_id as bigint)
  and model_type = :before_model_type
  and updated_at is not distinct from cast(:before_updated_at as timestamptz)
