-- +goose Up
-- Delivery of outbound messages: the dispatcher hands each pending message to its
-- channel, retrying with back-off when the channel fails.

ALTER TABLE messages ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at timestamptz;
COMMENT ON COLUMN messages.next_attempt_at IS 'When a pending outbound message may be tried again after a failed delivery; null: at once.';
CREATE INDEX messages_pending_outbound ON messages (id)
    WHERE delivery_status = 'pending' AND direction = 'out';

-- +goose Down
DROP INDEX messages_pending_outbound;
ALTER TABLE messages DROP COLUMN next_attempt_at, DROP COLUMN delivery_attempts;
