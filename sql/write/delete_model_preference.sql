-- name: delete_model_preference
-- A pair back to the default model (no row), only while its row still holds the model and
-- updated_at it was read with (optimistic concurrency).
-- params: :agent_id, :chat_id, :before_model_type, :before_updated_at
delete from model_preferences
where agent_id = :agent_id
  and chat_id = cast(:chat_id as bigint)
  and model_type = :before_model_type
  and updated_at is not distinct from cast(:before_updated_at as timestamptz)
