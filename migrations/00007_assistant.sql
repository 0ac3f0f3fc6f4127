-- +goose Up
-- The virtual assistant: which entes let it answer first, how a handoff is
-- routed and what the citizen is told when nobody is on duty, the assistant's
-- progress through each conversation, and a trace of every answer it gave.

ALTER TABLE tenants
    ADD COLUMN assistant_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN office_hours text NOT NULL DEFAULT '' CHECK (length(office_hours) <= 500),
    ADD COLUMN contact_alternatives text NOT NULL DEFAULT '' CHECK (length(contact_alternatives) <= 1000);
COMMENT ON COLUMN tenants.assistant_enabled IS 'New conversations start with the virtual assistant (status assistant) rather than in a queue.';
COMMENT ON COLUMN tenants.office_hours IS 'When the contact centre is staffed, as told to citizens (e.g. "dal lunedì al venerdì, 9:00-17:00").';
COMMENT ON COLUMN tenants.contact_alternatives IS 'Other ways to reach the ente, told to citizens when nobody is on duty (phone, e-mail, sportello).';

ALTER TABLE teams ADD COLUMN topics text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN teams.topics IS 'Words of the subjects the team handles (tari, residenza, ...): a handoff goes to the team whose topics the conversation mentions most.';

ALTER TABLE conversations
    ADD COLUMN assistant_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN assistant_lease timestamptz,
    ADD COLUMN assistant_failures smallint NOT NULL DEFAULT 0,
    ADD COLUMN handoff_reason text NOT NULL DEFAULT ''
        CHECK (handoff_reason IN ('', 'requested', 'failures', 'distress', 'personal')),
    ADD COLUMN handoff_at timestamptz,
    ADD COLUMN handoff_summary text NOT NULL DEFAULT '' CHECK (length(handoff_summary) <= 4000);
COMMENT ON COLUMN conversations.assistant_seq IS 'The assistant has read the conversation up to this sequence number: it has work while the conversation is with it and last_seq is beyond.';
COMMENT ON COLUMN conversations.assistant_lease IS 'An assistant worker is answering until then; another may take the work over after it.';
COMMENT ON COLUMN conversations.assistant_failures IS 'Consecutive questions the assistant could not answer; repeated failure hands the conversation to an operator.';
COMMENT ON COLUMN conversations.handoff_summary IS 'What the citizen asked and the assistant answered, for the operator who takes over.';
CREATE INDEX conversations_assistant_work ON conversations (assistant_lease NULLS FIRST)
    WHERE status = 'assistant' AND last_seq > assistant_seq;
-- Conversations already open are up to date: the assistant starts from now.
UPDATE conversations SET assistant_seq = last_seq;

ALTER TABLE messages ADD COLUMN automated boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN messages.automated IS 'An auto-reply, out-of-office notice or bounce, as its channel recognised it: shown to staff, never answered by the assistant.';

CREATE TABLE assistant_answers (
    tenant_id        bigint NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id  bigint NOT NULL,
    message_id       bigint NOT NULL,
    seq              bigint NOT NULL,
    question         text NOT NULL CHECK (length(question) <= 100000),
    language         text NOT NULL CHECK (language IN ('it', 'en')),
    kind             text NOT NULL CHECK (kind IN ('answer', 'unknown', 'personal', 'login', 'handoff', 'greeting', 'thanks')),
    confidence       real NOT NULL DEFAULT 0,
    model            text NOT NULL DEFAULT '',
    retrieved        jsonb NOT NULL DEFAULT '[]',
    feedback         smallint CHECK (feedback IN (-1, 1)),
    feedback_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
);
COMMENT ON TABLE assistant_answers IS 'Every message the assistant wrote, with why: the question, the chunks retrieved with their scores, the model (empty: extractive) and the citizen''s feedback.';
COMMENT ON COLUMN assistant_answers.retrieved IS 'The passages retrieved, best first: [{"chunk_id", "tenant_id", "score", "source", "title", "url", "cited"}].';
COMMENT ON COLUMN assistant_answers.feedback IS 'The citizen''s thumbs: 1 up, -1 down; the last one given counts.';
CREATE INDEX assistant_answers_recent ON assistant_answers (tenant_id, created_at DESC);

ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check
    CHECK (actor_kind IN ('staff', 'token', 'system', 'assistant'));

-- +goose Down
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('staff', 'token', 'system'));
DROP TABLE assistant_answers;
ALTER TABLE messages DROP COLUMN automated;
ALTER TABLE conversations DROP COLUMN assistant_seq, DROP COLUMN assistant_lease, DROP COLUMN assistant_failures,
    DROP COLUMN handoff_reason, DROP COLUMN handoff_at, DROP COLUMN handoff_summary;
ALTER TABLE teams DROP COLUMN topics;
ALTER TABLE tenants DROP COLUMN assistant_enabled, DROP COLUMN office_hours, DROP COLUMN contact_alternatives;
